/**
 * How to run pnpm from a test: the pnpm that runs the tests (npm_execpath, set by `pnpm test`),
 * else `pnpm` on PATH. A fresh machine may have pnpm only through npx.
 */
export function pnpmCommand(args: string[]): [string, string[]] {
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(execPath)) {
    return execPath.endsWith('.js') || execPath.endsWith('.cjs')
      ? [process.execPath, [execPath, ...args]]
      : [execPath, args];
  }
  return ['pnpm', args];
}
