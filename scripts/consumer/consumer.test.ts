import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without declarations
import {
  checkPackage,
  formatListing,
  MODEL_BUDGET_BYTES,
  packPackages,
  planVersions,
} from '../release/release.mjs';

// Packs every published package the way `npm publish` would, checks each tarball's contents, plans
// the next versions with `changeset version`, then installs tarballs into fresh projects with npm
// and uses them as a library user would (ESM, CommonJS, and the TypeScript example
// examples/library-node, type-checked against the published declarations).
const root = new URL('../../', import.meta.url).pathname;

interface Packed {
  name: string;
  version: string;
  tarball: string;
  files: { path: string; size: number }[];
  manifest: Record<string, unknown>;
  packedManifest: Record<string, unknown>;
  packedBytes: number;
  unpackedBytes: number;
}
let packed: Packed[];
let tarballs: Record<string, string>;

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'neurodissect-packed-'));
  packed = packPackages(dir);
  tarballs = Object.fromEntries(packed.map((p) => [p.name, `file:${p.tarball}`]));
}, 180_000);

/** A fresh npm project in a temporary folder whose @neurodissect packages are the tarballs. */
function install(dir: string, dependencies: string[], extra: Record<string, unknown> = {}): void {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  manifest.dependencies = Object.fromEntries(dependencies.map((name) => [name, tarballs[name]]));
  manifest.overrides = tarballs;
  Object.assign(manifest, extra);
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: dir,
    stdio: 'pipe',
    // onnxruntime-node's install script would fetch GPU libraries; the CPU provider is inside it.
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
}

describe('the packed packages', () => {
  it('hold what their package.json promises and nothing of the tests, listed with their sizes', () => {
    const listing = formatListing(packed);
    expect(listing.split('\n')[0]).toMatch(/^package\s+version\s+files\s+packed\s+unpacked\s+tarball$/);
    const published = packed.map((p) => p.name);
    expect(published).toEqual(
      expect.arrayContaining(['@neurodissect/core', '@neurodissect/cli', '@neurodissect/toyworld']),
    );
    expect(published).toHaveLength(11);
    for (const entry of packed) {
      expect(checkPackage(entry), entry.name).toEqual([]);
      expect(listing).toContain(entry.name);
    }
    // The toy world's trained models travel inside its tarball, within the budget.
    const toyworld = packed.find((p) => p.name === '@neurodissect/toyworld')!;
    const models = toyworld.files.filter((f) => f.path.startsWith('models/'));
    expect(models.map((f) => f.path)).toEqual(
      expect.arrayContaining(['models/target/toy-resnet.onnx', 'models/clip/onnx/vision_model.onnx']),
    );
    expect(models.reduce((sum, f) => sum + f.size, 0)).toBeLessThan(MODEL_BUDGET_BYTES);
  });

  it('are refused when a file they promise is missing or a test ships', () => {
    const core = packed.find((p) => p.name === '@neurodissect/core')!;
    const broken = {
      ...core,
      files: [
        ...core.files.filter((f) => f.path !== 'LICENSE' && f.path !== 'dist/index.cjs'),
        { path: 'test/fixtures/x.json', size: 1 },
      ],
      packedManifest: { ...core.packedManifest, dependencies: { zod: 'catalog:' } },
    };
    expect(checkPackage(broken)).toEqual(
      expect.arrayContaining([
        'LICENSE is missing',
        'package.json names dist/index.cjs, which is not in the tarball',
        'ships test/fixtures/x.json',
        'dependency zod is still "catalog:"',
      ]),
    );
  });

  it('get their next versions and changelogs from the changesets (`changeset version` on a copy)', () => {
    const plan = planVersions() as { name: string; from: string; to: string; changelog: string }[];
    expect(plan.map((p) => p.name).sort()).toEqual(packed.map((p) => p.name).sort());
    for (const release of plan) {
      expect(release.to, release.name).not.toBe(release.from);
      expect(release.changelog, release.name).toContain(`## ${release.to}`);
    }
    // core and the runtimes version together.
    const version = (name: string) => plan.find((p) => p.name === name)!.to;
    expect(version('@neurodissect/runtime-node')).toBe(version('@neurodissect/core'));
    expect(version('@neurodissect/runtime-web')).toBe(version('@neurodissect/core'));
  }, 60_000);
});

const esm = `
import { softWpmi, matrixFromRows, parseResults, createResults, rankLabels } from '@neurodissect/core';
import { clipDissect } from '@neurodissect/labelers';
const clip = matrixFromRows([[0.9, 0.1], [0.2, 0.8], [0.85, 0.15]]);
const activations = matrixFromRows([[3, 0], [0, 3], [2, 1]]);
const scores = softWpmi(clip, activations, { topK: 2 });
const labels = rankLabels(scores, ['sky', 'grass'], 2);
const doc = parseResults(JSON.stringify(createResults({
  run: { tool: { name: 'neurodissect', version: '0.1.0' }, createdAt: '2026-11-26T00:00:00Z', kind: 'score', parameters: {} },
  model: { name: 'm' }, probe: { name: 'p', images: [] }, concepts: { name: 'c', size: 2 }, layers: [],
})));
console.log(JSON.stringify({ best: labels.map((l) => l[0].label), version: doc.version, labeler: clipDissect().id }));
`;

const cjs = `
const { softWpmi, matrixFromRows, parseResults } = require('@neurodissect/core');
const scores = softWpmi(matrixFromRows([[0.9, 0.1], [0.2, 0.8], [0.85, 0.15]]), matrixFromRows([[3, 0], [0, 3], [2, 1]]), { topK: 2 });
let invalid = '';
try { parseResults('{"format":"neurodissect.results","version":1}'); } catch (e) { invalid = e.code; }
console.log(JSON.stringify({ prefersSky: scores.data[0] > scores.data[1], invalid }));
`;

describe('the packed packages in a fresh project', () => {
  it('install with npm and work from ESM and CommonJS', { timeout: 240_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'neurodissect-consumer-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    install(dir, ['@neurodissect/core', '@neurodissect/labelers']);
    writeFileSync(join(dir, 'use.mjs'), esm);
    writeFileSync(join(dir, 'use.cjs'), cjs);
    const fromEsm = JSON.parse(execFileSync('node', ['use.mjs'], { cwd: dir, encoding: 'utf8' }));
    expect(fromEsm).toEqual({ best: ['sky', 'grass'], version: 2, labeler: 'clip-dissect' });
    const fromCjs = JSON.parse(execFileSync('node', ['use.cjs'], { cwd: dir, encoding: 'utf8' }));
    expect(fromCjs).toEqual({ prefersSky: true, invalid: 'ND_INVALID_RESULTS' });
  });

  it('run examples/library-node (the README quick start) type-checked against the published declarations', {
    timeout: 300_000,
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'neurodissect-library-node-'));
    for (const file of ['package.json', 'tsconfig.json', 'src'])
      cpSync(join(root, 'examples/library-node', file), join(dir, file), { recursive: true });
    const catalog = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
    const pinned = (name: string) => new RegExp(`^\\s+"?${name}"?: (.+)$`, 'm').exec(catalog)![1].trim();
    install(
      dir,
      [
        '@neurodissect/core',
        '@neurodissect/labelers',
        '@neurodissect/runtime-node',
        '@neurodissect/toyworld',
      ],
      { devDependencies: { typescript: pinned('typescript'), '@types/node': pinned('@types/node') } },
    );
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: dir, stdio: 'pipe' });
    const printed = execFileSync('node', ['dist/dissect-toy-world.js', 'out'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(printed).toMatch(/^wrote out\/results\.json: layer4, 128 units$/m);
    expect(printed).toMatch(/^unit 0 {2}clip-dissect: \S+ {2}netdissect: \S+$/m);
    const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8'));
    expect(results.labelers.map((l: { id: string }) => l.id)).toEqual(['clip-dissect', 'netdissect']);
  });
});
