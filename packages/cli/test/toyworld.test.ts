import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv } from '@neurodissect/core';
import { toyWorldBrodenFiles } from '@neurodissect/toyworld';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers';

describe('neurodissect toyworld generate', () => {
  it('writes a Broden-format toy world identical to the library’s', async () => {
    const out = join(tempDir(), 'world');
    const { code, stdout, stderr } = await cli(
      'toyworld',
      'generate',
      '--out',
      out,
      '--seed',
      '4',
      '--count',
      '5',
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^Wrote 5 toy-world image\(s\) \(seed 4, 64×64\) in Broden's layout to .*: 22 files in/,
    );
    const expected = new Map([...toyWorldBrodenFiles({ seed: 4, count: 5 })].map((f) => [f.path, f.data]));
    expect(readFileSync(join(out, 'index.csv'), 'utf8')).toBe(expected.get('index.csv'));
    expect(parseCsv(readFileSync(join(out, 'label.csv'), 'utf8'))).toHaveLength(26);
    const png = readFileSync(join(out, 'images', 'toyworld', '000002_color.png'));
    expect(png.equals(Buffer.from(expected.get('images/toyworld/000002_color.png') as Uint8Array))).toBe(
      true,
    );
  });

  it('rejects out-of-range options with exit code 2 and a message naming the option', async () => {
    const out = join(tempDir(), 'world');
    const small = await cli('toyworld', 'generate', '--out', out, '--size', '8');
    expect(small.code).toBe(2);
    expect(small.stderr).toContain('--size: must be from 32 to 1024 pixels, got 8');
    const count = await cli('toyworld', 'generate', '--out', out, '--count', '0');
    expect(count.code).toBe(2);
    expect(count.stderr).toContain('--count: must be at least 1');
    const missing = await cli('toyworld', 'generate');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--out <dir>'");
  });
});
