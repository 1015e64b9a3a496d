import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { cli, tempDir, writeMatrix } from './helpers';

// The catalogue's message cases (7 of the issue): a closed pipe ends quietly, a folder where a
// file is expected is one line with exit 2.
const root = new URL('../../../', import.meta.url).pathname;
const bin = join(root, 'packages/cli/dist/bin.js');
const clip = join(fixturePath('runtime-node'), 'clip/clip-openclip');

describe('messages', () => {
  it('a reader that closes the pipe early (| head) ends the command quietly, with exit 0', () => {
    expect(existsSync(bin), 'build first: pnpm build').toBe(true);
    const dir = tempDir();
    writeFileSync(
      join(dir, 'lines.txt'),
      Array.from({ length: 20_000 }, (_, i) => `concept ${i}`).join('\n'),
    );
    const run = spawnSync(
      'bash',
      ['-c', `node ${JSON.stringify(bin)} tokenize < lines.txt | head -1; echo "exit \${PIPESTATUS[0]}" >&2`],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(run.stdout.split('\n')[0]).toMatch(/^\[49406,/);
    expect(run.stderr).toBe('exit 0\n');
    // validate writes one line per problem: a Results document with thousands of them.
    const problems = {
      format: 'neurodissect.results',
      version: 2,
      layers: Array.from({ length: 5000 }, () => ({})),
    };
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(problems));
    const validate = spawnSync(
      'bash',
      ['-c', `node ${JSON.stringify(bin)} validate bad.json | head -1; echo "exit \${PIPESTATUS[0]}" >&2`],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(validate.stdout).toMatch(/^invalid: bad\.json has \d+ problem\(s\):\n$/);
    expect(validate.stderr).toBe('exit 0\n');
  });

  it('a folder given where a file is read is one line with exit 2 (score --activations, embed --concepts)', async () => {
    const dir = tempDir();
    const folder = join(dir, 'A.npy');
    mkdirSync(folder);
    const clipSim = writeMatrix(dir, 'P.npy', { rows: 2, cols: 2, data: Float32Array.from([1, 0, 0, 1]) });
    const score = await cli(
      'score',
      '--activations',
      folder,
      '--clip-sim',
      clipSim,
      '--out',
      join(dir, 'S.npy'),
    );
    expect(score).toMatchObject({
      code: 2,
      stderr: `neurodissect: --activations: ${folder} is a directory; give a file\n`,
    });
    const concepts = join(dir, 'concepts');
    mkdirSync(concepts);
    const embed = await cli('embed', '--clip', clip, '--concepts', concepts, '--out', join(dir, 'T.npy'));
    expect(embed.code).toBe(2);
    expect(embed.stderr).toMatch(
      new RegExp(`^neurodissect: --concepts: .*${concepts} is a folder; give the file\\.?\\n$`),
    );
  });
});
