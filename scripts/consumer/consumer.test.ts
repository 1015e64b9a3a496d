import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pnpmCommand } from '../test-setup/pnpm-command';

// Packs the published packages the way `npm publish` would, installs the tarballs into a fresh
// project with npm, and uses them from ESM and CommonJS as a library user would.
const root = new URL('../../', import.meta.url).pathname;
const packages = ['core', 'labelers'];

function pack(dir: string): Record<string, string> {
  const tarballs: Record<string, string> = {};
  for (const name of packages) {
    const [command, args] = pnpmCommand(['pack', '--pack-destination', dir]);
    execFileSync(command, args, {
      cwd: join(root, 'packages', name),
      stdio: 'pipe',
    });
    const file = readdirSync(dir).find((f) => f.startsWith(`neurodissect-${name}-`) && f.endsWith('.tgz'));
    if (!file) throw new Error(`pnpm pack produced no tarball for ${name}`);
    tarballs[`@neurodissect/${name}`] = `file:${join(dir, file)}`;
  }
  return tarballs;
}

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
    const tarballs = pack(dir);
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify(
        { name: 'consumer', private: true, dependencies: tarballs, overrides: tarballs },
        null,
        2,
      ),
    );
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: dir,
      stdio: 'pipe',
    });
    writeFileSync(join(dir, 'use.mjs'), esm);
    writeFileSync(join(dir, 'use.cjs'), cjs);
    const fromEsm = JSON.parse(execFileSync('node', ['use.mjs'], { cwd: dir, encoding: 'utf8' }));
    expect(fromEsm).toEqual({ best: ['sky', 'grass'], version: 1, labeler: 'clip-dissect' });
    const fromCjs = JSON.parse(execFileSync('node', ['use.cjs'], { cwd: dir, encoding: 'utf8' }));
    expect(fromCjs).toEqual({ prefersSky: true, invalid: 'ND_INVALID_RESULTS' });
  });
});
