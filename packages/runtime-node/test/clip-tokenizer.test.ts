import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ErrorCode, isNeurodissectError } from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import { bundledClipVocabPath, clipTokenizerJsonFromBpe, loadClipTokenizer } from '../src/index';

// The tokenizer itself (parity with OpenAI's simple_tokenizer on every golden case, padding,
// truncation) is model-io's and tested there; here, loading it from files.

interface GoldenCase {
  text: string;
  ids: number[];
}

const golden = JSON.parse(
  gunzipSync(await readFile(join(import.meta.dirname, 'fixtures/tokenizer/clip-tokens.json.gz'))).toString(
    'utf8',
  ),
) as { cases: GoldenCase[] };
// Every 20th golden case: enough to tell a wrong or truncated vocabulary.
const sample = golden.cases.filter((_, i) => i % 20 === 0);

describe('loadClipTokenizer', () => {
  it('loads the bundled vocabulary, a tokenizer.json and the decompressed vocabulary alike', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nd-tok-'));
    const text = gunzipSync(await readFile(bundledClipVocabPath())).toString('utf8');
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(clipTokenizerJsonFromBpe(text)));
    await writeFile(join(dir, 'vocab.txt'), text);
    for (const file of [undefined, join(dir, 'tokenizer.json'), join(dir, 'vocab.txt')]) {
      const tokenizer = await loadClipTokenizer(file);
      expect(sample.map(({ text }) => tokenizer.encode(text))).toEqual(sample.map(({ ids }) => ids));
    }
  });

  it('passes the context length on', async () => {
    const tokenizer = await loadClipTokenizer(undefined, { contextLength: 8 });
    expect(tokenizer.contextLength).toBe(8);
    expect(tokenizer.encodePadded("don't stop")).toEqual([49406, 847, 713, 1691, 49407, 0, 0, 0]);
  });

  it('reports a missing or malformed vocabulary with a coded error', async () => {
    const missing = await loadClipTokenizer('/nonexistent/tokenizer.json').catch((e: unknown) => e);
    expect(isNeurodissectError(missing, ErrorCode.FileNotFound)).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'nd-tok-'));
    await writeFile(join(dir, 'bad.txt'), 'version\na b\n');
    const bad = await loadClipTokenizer(join(dir, 'bad.txt')).catch((e: unknown) => e);
    expect(isNeurodissectError(bad, ErrorCode.InvalidFormat)).toBe(true);
  });
});
