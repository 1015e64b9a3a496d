import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ErrorCode, isNeurodissectError } from '@neurodissect/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bundledClipVocabPath,
  CLIP_END_OF_TEXT,
  CLIP_START_OF_TEXT,
  type ClipTokenizer,
  clipTokenizerJsonFromBpe,
  loadClipTokenizer,
} from '../src/index';

interface GoldenCase {
  text: string;
  ids: number[];
}

const golden = JSON.parse(
  gunzipSync(await readFile(join(import.meta.dirname, 'fixtures/tokenizer/clip-tokens.json.gz'))).toString(
    'utf8',
  ),
) as { cases: GoldenCase[] };

function mismatches(tokenizer: ClipTokenizer): GoldenCase[] {
  return golden.cases.filter(({ text, ids }) => {
    const actual = tokenizer.encode(text);
    return actual.length !== ids.length || actual.some((id, i) => id !== ids[i]);
  });
}

describe('CLIP tokenizer parity with OpenAI simple_tokenizer', () => {
  let tokenizer: ClipTokenizer;
  beforeAll(async () => {
    tokenizer = await loadClipTokenizer();
  });

  it('reproduces every golden case from the bundled BPE vocabulary', () => {
    expect(golden.cases.length).toBeGreaterThan(14_000);
    expect(mismatches(tokenizer)).toEqual([]);
  });

  it('uses CLIP special ids and context length', () => {
    expect(tokenizer.startOfTextId).toBe(49406);
    expect(tokenizer.endOfTextId).toBe(49407);
    expect(tokenizer.contextLength).toBe(77);
    expect(tokenizer.encode('')).toEqual([CLIP_START_OF_TEXT, CLIP_END_OF_TEXT]);
    // simple_tokenizer's basic_clean unescapes HTML twice: "&amp;lt;html&amp;gt;" is "<html>".
    expect(tokenizer.encode('&amp;lt;html&amp;gt;')).toEqual([49406, 283, 18231, 285, 49407]);
  });

  it('pads with 0 and truncates keeping <|endoftext|> last, as clip.tokenize(truncate=True)', () => {
    const short = tokenizer.encodePadded("don't stop");
    expect(short).toEqual([49406, 847, 713, 1691, 49407, ...new Array(72).fill(0)]);
    const long = 'the quick brown fox jumps over the lazy dog '.repeat(10);
    const full = tokenizer.encode(long);
    expect(full.length).toBeGreaterThan(77);
    const padded = tokenizer.encodePadded(long);
    expect(padded).toEqual([...full.slice(0, 76), 49407]);
    const batch = tokenizer.encodeBatch(["don't stop", long]);
    expect(batch.ids.dims).toEqual([2, 77]);
    expect(Array.from(batch.ids.data.subarray(0, 77), Number)).toEqual(short);
    expect(Array.from(batch.ids.data.subarray(77), Number)).toEqual(padded);
    expect(Array.from(batch.attentionMask.data.subarray(0, 7), Number)).toEqual([1, 1, 1, 1, 1, 0, 0]);
    expect(batch.attentionMask.data.subarray(77).every((m) => m === 1n)).toBe(true);
  });

  it('loads the same tokenizer from a tokenizer.json and from the decompressed vocabulary', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nd-tok-'));
    const text = gunzipSync(await readFile(bundledClipVocabPath())).toString('utf8');
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(clipTokenizerJsonFromBpe(text)));
    await writeFile(join(dir, 'vocab.txt'), text);
    const sample = golden.cases.filter((_, i) => i % 20 === 0);
    for (const file of ['tokenizer.json', 'vocab.txt']) {
      const other = await loadClipTokenizer(join(dir, file));
      expect(sample.map(({ text }) => other.encode(text))).toEqual(sample.map(({ ids }) => ids));
    }
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
