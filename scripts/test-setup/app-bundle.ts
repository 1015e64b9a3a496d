import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The viewer package, whose build bundles the browser app that its tests and the CLI's `site` tests serve.
const root = fileURLToPath(new URL('../../packages/viewer/', import.meta.url));

function newest(dir: string): number {
  let time = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    time = Math.max(time, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return time;
}

/**
 * The viewer's bundled browser app (packages/viewer/dist/site), rebuilt when missing or older than
 * its sources, so the tests need no prior `pnpm build` (esbuild takes well under a second).
 */
export async function ensureAppBundle(): Promise<string> {
  const dir = join(root, 'dist', 'site');
  const built = join(dir, 'app.js');
  const sources = Math.max(
    newest(join(root, 'src')),
    statSync(join(root, 'scripts', 'bundle-app.mjs')).mtimeMs,
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return dir;
  const { bundleApp } = (await import(join(root, 'scripts', 'bundle-app.mjs'))) as {
    bundleApp: (outDir?: string) => Promise<string>;
  };
  try {
    await bundleApp(dir);
  } catch (error) {
    // Another test file may have bundled it at the same moment; that one is as good.
    if (!existsSync(built)) throw error;
  }
  return dir;
}
