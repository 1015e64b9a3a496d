import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The API reference in docs/api is TypeDoc's Markdown of every package's public surface
// (typedoc.json). It is checked in, so that the READMEs can link to it: this test generates it
// afresh, fails on any TypeDoc warning (a `{@link}` that resolves to nothing, above all), and fails
// when the checked-in pages differ from what the sources produce.
const root = new URL('../../', import.meta.url).pathname;
const apiDir = join(root, 'docs', 'api');
const config = JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8')) as { entryPoints: string[] };
const packages = readdirSync(join(root, 'packages')).filter((name) =>
  existsSync(join(root, 'packages', name, 'package.json')),
);

const work = mkdtempSync(join(tmpdir(), 'neurodissect-api-docs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => statSync(join(dir, file)).isFile())
    .sort();
}

/** Each export of a package (`.`, `./testing`) whose source TypeScript file is documented. */
function sourceExports(name: string): { importPath: string; source: string }[] {
  const manifest = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'));
  return Object.entries(manifest.exports as Record<string, unknown>).flatMap(([subpath, target]) => {
    const source = (target as Record<string, string>)?.['@neurodissect/source'];
    if (typeof source !== 'string') return [];
    return [
      {
        importPath: subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`,
        source: `packages/${name}/${source.slice(2)}`,
      },
    ];
  });
}

describe('the API reference (docs/api)', () => {
  it('documents every public entry point of every package', () => {
    const sources = packages.flatMap((name) => sourceExports(name).map((e) => e.source)).sort();
    expect([...config.entryPoints].sort()).toEqual(sources);
  });

  it('generates without a warning and matches the checked-in pages', { timeout: 180_000 }, () => {
    const out = join(work, 'api');
    const typedoc = spawnSync(
      process.execPath,
      [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out, '--logLevel', 'Warn'],
      { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
    );
    const log = `${typedoc.stdout}${typedoc.stderr}`.trim();
    expect(log, 'TypeDoc reported problems (a broken {@link}?)').toBe('');
    expect(typedoc.status, log).toBe(0);

    const generated = files(out);
    const checkedIn = existsSync(apiDir) ? files(apiDir) : [];
    const differences = [
      ...generated.filter((f) => !checkedIn.includes(f)).map((f) => `missing: docs/api/${f}`),
      ...checkedIn.filter((f) => !generated.includes(f)).map((f) => `not generated: docs/api/${f}`),
      ...generated
        .filter((f) => checkedIn.includes(f))
        .filter((f) => readFileSync(join(out, f), 'utf8') !== readFileSync(join(apiDir, f), 'utf8'))
        .map((f) => `differs: docs/api/${f}`),
    ];
    expect(differences, 'docs/api is out of date: run pnpm docs:api').toEqual([]);
  });

  it.each(packages)("%s's README links to its API pages", (name) => {
    const readme = readFileSync(join(root, 'packages', name, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\((\.\.\/\.\.\/docs\/api\/[^)#\s]+)\)/g)].map((m) => m[1]);
    const titles = links.map((link) => {
      const page = join(root, 'packages', name, link);
      expect(existsSync(page), `${link} (from packages/${name}/README.md) does not exist`).toBe(true);
      return readFileSync(page, 'utf8').match(/^# (.+)$/m)?.[1];
    });
    for (const { importPath } of sourceExports(name)) expect(titles).toContain(importPath);
  });
});
