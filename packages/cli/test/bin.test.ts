import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNpy, tensorToMatrix } from '@neurodissect/core';
import { compareScores } from '@neurodissect/core/testing';
import { describe, expect, it } from 'vitest';
import { loadGolden } from '../../../scripts/test-setup/golden';
import { pnpmCommand } from '../../../scripts/test-setup/pnpm-command';
import { tempDir, writeMatrix } from './helpers';

const root = new URL('../../../', import.meta.url).pathname;

describe('the built neurodissect binary', () => {
  it('runs through `pnpm exec neurodissect` and reproduces a golden case', () => {
    expect(existsSync(join(root, 'packages/cli/dist/bin.js')), 'build first: pnpm build').toBe(true);
    const golden = loadGolden('case-3');
    const dir = tempDir();
    const out = join(dir, 'S.npy');
    const [command, args] = pnpmCommand([
      'exec',
      'neurodissect',
      'score',
      '--activations',
      writeMatrix(dir, 'A.npy', golden.activations),
      '--clip-sim',
      writeMatrix(dir, 'P.npy', golden.clip),
      '--out',
      out,
    ]);
    const stdout = execFileSync(command, args, { cwd: root, encoding: 'utf8' });
    expect(stdout).toMatch(/30×40 soft_wpmi scores/);
    const { worstExcess, argmaxMismatches } = compareScores(
      tensorToMatrix(parseNpy(readFileSync(out))),
      golden.outputs.soft_wpmi,
    );
    expect(worstExcess).toBeLessThanOrEqual(0);
    expect(argmaxMismatches).toEqual([]);
  });

  it('exits 2 with a one-line message on bad input', () => {
    try {
      execFileSync(
        'node',
        [
          join(root, 'packages/cli/dist/bin.js'),
          'score',
          '--activations',
          'nope.npy',
          '--clip-sim',
          'x',
          '--out',
          'y',
        ],
        {
          encoding: 'utf8',
          stdio: 'pipe',
        },
      );
      expect.unreachable('the command should fail');
    } catch (error) {
      const failure = error as { status: number; stderr: string };
      expect(failure.status).toBe(2);
      expect(failure.stderr).toBe('neurodissect: --activations: file not found: nope.npy\n');
    }
  });
});
