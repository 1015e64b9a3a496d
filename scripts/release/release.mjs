#!/usr/bin/env node
// The release check: what `changeset version` would bump, then every published package packed as
// `npm publish` would upload it, each tarball's contents checked and listed with its size.
//
//   pnpm release:check            (after `pnpm build`)
//
// Exits 1 when a changeset cannot be read or a tarball lacks what its package.json promises (README,
// LICENSE, every file its `exports`, `main`, `types` and `bin` name) or ships what it must not
// (tests, fixtures, benchmarks).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The toyworld package carries its trained models; they must stay small. */
export const MODEL_BUDGET_BYTES = 20 * 1024 * 1024;

/** How to run pnpm: the pnpm running this script (npm_execpath), else pnpm on PATH, else npx. */
const pnpmInvocation = (() => {
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(execPath))
    return /\.c?js$/.test(execPath) ? [process.execPath, [execPath]] : [execPath, []];
  try {
    execFileSync('pnpm', ['--version'], { stdio: 'pipe' });
    return ['pnpm', []];
  } catch {
    return ['npx', ['-y', 'pnpm@10.34.8']];
  }
})();

function pnpm(args, options) {
  const [command, prefix] = pnpmInvocation;
  return execFileSync(command, [...prefix, ...args], { stdio: 'pipe', encoding: 'utf8', ...options });
}

/** The packages that are published: every `packages/*` without `"private": true`. */
export function publishablePackages() {
  return readdirSync(join(root, 'packages'))
    .map((folder) => ({ folder, dir: join(root, 'packages', folder) }))
    .filter(({ dir }) => existsSync(join(dir, 'package.json')))
    .map(({ folder, dir }) => ({
      folder,
      dir,
      manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')),
    }))
    .filter(({ manifest }) => manifest.private !== true)
    .map(({ folder, dir, manifest }) => ({ name: manifest.name, folder, dir, manifest }));
}

/**
 * Runs `changeset version` on a copy of the workspace's manifests and changesets (the repository is
 * left untouched) and returns each package's version before and after.
 */
export function planVersions() {
  const copy = mkdtempSync(join(tmpdir(), 'neurodissect-version-'));
  try {
    for (const file of ['package.json', 'pnpm-workspace.yaml']) cpSync(join(root, file), join(copy, file));
    cpSync(join(root, '.changeset'), join(copy, '.changeset'), { recursive: true });
    const before = {};
    for (const group of ['packages', 'examples']) {
      for (const folder of readdirSync(join(root, group))) {
        const manifest = join(root, group, folder, 'package.json');
        if (!existsSync(manifest)) continue;
        mkdirSync(join(copy, group, folder), { recursive: true });
        cpSync(manifest, join(copy, group, folder, 'package.json'));
        const changelog = join(root, group, folder, 'CHANGELOG.md');
        if (existsSync(changelog)) cpSync(changelog, join(copy, group, folder, 'CHANGELOG.md'));
        const { name, version } = JSON.parse(readFileSync(manifest, 'utf8'));
        before[name] = version;
      }
    }
    const changesets = join(root, 'node_modules', '@changesets', 'cli', 'bin.js');
    try {
      execFileSync(process.execPath, [changesets, 'version'], { cwd: copy, stdio: 'pipe', encoding: 'utf8' });
    } catch (error) {
      const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim();
      throw new Error(`changeset version failed:\n${output}`);
    }
    return publishablePackages().map(({ name, folder }) => {
      const after = JSON.parse(readFileSync(join(copy, 'packages', folder, 'package.json'), 'utf8'));
      const changelog = join(copy, 'packages', folder, 'CHANGELOG.md');
      return {
        name,
        from: before[name],
        to: after.version,
        changelog: existsSync(changelog) ? readFileSync(changelog, 'utf8') : '',
      };
    });
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/** Packs each package as `npm publish` would (workspace versions resolved) into `dest`. */
export function packPackages(dest, names) {
  const chosen = publishablePackages().filter(({ name }) => !names || names.includes(name));
  return chosen.map(({ name, folder, dir, manifest }) => {
    const packed = JSON.parse(pnpm(['pack', '--pack-destination', dest, '--json'], { cwd: dir }));
    const listing = execFileSync('tar', ['-tzvf', packed.filename], { encoding: 'utf8' });
    const files = listing
      .trim()
      .split('\n')
      .map((line) => {
        const fields = line.trim().split(/\s+/);
        return {
          path: fields
            .slice(5)
            .join(' ')
            .replace(/^package\//, ''),
          size: Number(fields[2]),
        };
      })
      .filter((f) => f.path && !f.path.endsWith('/'));
    const tarball = packed.filename;
    const packedManifest = JSON.parse(
      execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
    );
    return {
      name,
      folder,
      version: packed.version,
      tarball,
      packedBytes: readFileSync(tarball).byteLength,
      unpackedBytes: files.reduce((sum, f) => sum + f.size, 0),
      files,
      manifest,
      packedManifest,
    };
  });
}

/** Every file path a manifest's `exports`, `main`, `types`, `module` and `bin` name. */
function promisedFiles(manifest) {
  const paths = new Set();
  const walk = (value, condition) => {
    if (typeof value === 'string') {
      // The source condition points into src/, which ships too; check it like the others.
      if (value.startsWith('./') && !value.includes('*') && condition !== undefined)
        paths.add(value.slice(2));
    } else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) walk(inner, key);
    }
  };
  walk(manifest.exports ?? {}, '');
  for (const key of ['main', 'types', 'module'])
    if (typeof manifest[key] === 'string') walk(manifest[key], key);
  const bin = typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : (manifest.bin ?? {});
  for (const file of Object.values(bin)) walk(file, 'bin');
  return [...paths].map((p) => p.replace(/^\.\//, ''));
}

const FORBIDDEN = [
  /^test\//,
  /(^|\/)fixtures\//,
  /^bench\//,
  /\.test\.[cm]?[jt]s$/,
  /(^|\/)node_modules\//,
  /\.tsbuildinfo$/,
];

/** What is wrong with a packed package (empty when nothing is). */
export function checkPackage(entry) {
  const problems = [];
  const paths = new Set(entry.files.map((f) => f.path));
  for (const required of ['README.md', 'LICENSE', 'package.json'])
    if (!paths.has(required)) problems.push(`${required} is missing`);
  for (const file of promisedFiles(entry.manifest))
    if (!paths.has(file)) problems.push(`package.json names ${file}, which is not in the tarball`);
  if (![...paths].some((p) => /^dist\/.*\.d\.ts$/.test(p)))
    problems.push('no type declarations (dist/*.d.ts)');
  for (const path of paths) if (FORBIDDEN.some((re) => re.test(path))) problems.push(`ships ${path}`);
  const internal = { ...entry.packedManifest.dependencies, ...entry.packedManifest.peerDependencies };
  for (const [dep, range] of Object.entries(internal))
    if (String(range).startsWith('workspace:') || String(range).startsWith('catalog:'))
      problems.push(`dependency ${dep} is still "${range}"`);
  const models = entry.files.filter((f) => f.path.startsWith('models/')).reduce((sum, f) => sum + f.size, 0);
  if (models > MODEL_BUDGET_BYTES)
    problems.push(
      `models/ is ${(models / 2 ** 20).toFixed(1)} MiB, over the ${MODEL_BUDGET_BYTES / 2 ** 20} MiB budget`,
    );
  return problems;
}

function size(bytes) {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** The listing `pnpm release:check` prints: one row per tarball. */
export function formatListing(entries, plan) {
  const to = new Map((plan ?? []).map((p) => [p.name, p]));
  const rows = entries.map((e) => [
    e.name,
    to.has(e.name) && to.get(e.name).to !== e.version ? `${e.version} → ${to.get(e.name).to}` : e.version,
    String(e.files.length),
    size(e.packedBytes),
    size(e.unpackedBytes),
    relative(process.cwd(), e.tarball),
  ]);
  const header = ['package', 'version', 'files', 'packed', 'unpacked', 'tarball'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function main() {
  const dest = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'neurodissect-release-'));
  mkdirSync(dest, { recursive: true });
  const plan = planVersions();
  const entries = packPackages(dest);
  console.log(formatListing(entries, plan));
  let failed = false;
  for (const entry of entries) {
    for (const problem of checkPackage(entry)) {
      failed = true;
      console.error(`${entry.name}: ${problem}`);
    }
  }
  console.log(
    failed
      ? '\nrelease check failed (see above)'
      : `\n${entries.length} tarballs in ${dest}; publish with \`pnpm changeset version\`, commit, then \`pnpm -r publish\``,
  );
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
