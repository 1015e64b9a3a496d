import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { bundledClipVocabPath, clipTokenizerJsonFromBpe } from '@neurodissect/runtime-node';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { runCli } from '../src/program';
import { tempDir } from './helpers';

const fixtures = fixturePath('runtime-node');

interface GoldenCase {
  text: string;
  ids: number[];
}
const golden = JSON.parse(
  gunzipSync(readFileSync(join(fixtures, 'tokenizer/clip-tokens.json.gz'))).toString('utf8'),
) as { cases: GoldenCase[] };

/** Runs the CLI in-process with `input` as standard input (given in chunks, to split lines across them). */
async function tokenize(input: string[], ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['tokenize', ...argv], {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    stdin: Readable.from(input.map((chunk) => Buffer.from(chunk, 'utf8'))),
  });
  return {
    code,
    stdout,
    stderr,
    lines: stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as number[]),
  };
}

// A few golden cases: plain words, the edge cases (digits, markup, quotes, runs of whitespace),
// and the longest one.
const cases = [
  ...golden.cases.slice(0, 3),
  ...golden.cases.filter((c) => /[^\p{L} _-]/u.test(c.text)),
  golden.cases.reduce((a, b) => (b.ids.length > a.ids.length ? b : a)),
];

describe('neurodissect tokenize', () => {
  it('reproduces golden CLIP ids with --raw, one JSON array per line (bundled vocabulary)', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(8);
    expect(cases.some((c) => c.ids.length > 60)).toBe(true);
    const text = cases.map((c) => c.text).join('\r\n');
    // Chunks that split lines (and a multi-byte character, if any) at arbitrary points.
    const chunks = [text.slice(0, 7), text.slice(7, 40), text.slice(40)];
    const result = await tokenize(chunks, '--raw');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.lines).toEqual(cases.map((c) => c.ids));
  });

  it('pads to 77 and truncates as CLIP does by default, from tokenizer.json or bpe.txt.gz', async () => {
    // Torch's padded ids of the CLIP fixtures' texts, one of them longer than 77 tokens.
    const reference = JSON.parse(readFileSync(join(fixtures, 'clip/reference.json'), 'utf8')) as {
      texts: string[];
      inputIds: number[][];
    };
    expect(reference.texts.some((t) => t.split(' ').length > 77)).toBe(true);
    const dir = tempDir();
    const bpe = gunzipSync(readFileSync(bundledClipVocabPath())).toString('utf8');
    const tokenizerJson = join(dir, 'tokenizer.json');
    writeFileSync(tokenizerJson, JSON.stringify(clipTokenizerJsonFromBpe(bpe)));
    for (const vocab of [tokenizerJson, bundledClipVocabPath()]) {
      const result = await tokenize([`${reference.texts.join('\n')}\n`], '--vocab', vocab);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.lines).toEqual(reference.inputIds);
    }
  });

  it('reports a missing vocabulary file as one line with exit code 2', async () => {
    const result = await tokenize(['dog\n'], '--vocab', '/nonexistent/bpe.txt.gz');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^neurodissect: --vocab: .*\/nonexistent\/bpe\.txt\.gz.*\n$/);
  });
});
