import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ErrorCode, isNeurodissectError } from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import { CLIP_BPE_VOCABULARY, fixturePath } from '../../../scripts/test-setup/fixtures';
import {
  CLIP_END_OF_TEXT,
  CLIP_START_OF_TEXT,
  type ClipTokenizer,
  clipTokenizerJsonFromBpe,
  createClipTokenizer,
} from '../src/index';

interface GoldenCase {
  text: string;
  ids: number[];
}

// Ids computed by OpenAI's simple_tokenizer.py (runtime-node's fixtures, made with its CLIP
// fixtures; see its THIRD_PARTY_NOTICES.md), and OpenAI's vocabulary as runtime-node ships it.
const golden = JSON.parse(
  gunzipSync(readFileSync(fixturePath('runtime-node', 'tokenizer', 'clip-tokens.json.gz'))).toString('utf8'),
) as { cases: GoldenCase[] };
const tokenizerJson = clipTokenizerJsonFromBpe(
  gunzipSync(readFileSync(CLIP_BPE_VOCABULARY)).toString('utf8'),
);

function mismatches(tokenizer: ClipTokenizer): GoldenCase[] {
  return golden.cases.filter(({ text, ids }) => {
    const actual = tokenizer.encode(text);
    return actual.length !== ids.length || actual.some((id, i) => id !== ids[i]);
  });
}

describe('CLIP tokenizer parity with OpenAI simple_tokenizer', () => {
  const tokenizer = createClipTokenizer({ tokenizerJson });

  it('reproduces every golden case from the BPE vocabulary', () => {
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

  it('takes another context length and pad id', () => {
    const eight = createClipTokenizer({ tokenizerJson, contextLength: 8, padId: 7 });
    expect(eight.encodePadded("don't stop")).toEqual([49406, 847, 713, 1691, 49407, 7, 7, 7]);
    expect(eight.encodePadded('a b c d e f g h')).toEqual([
      ...eight.encode('a b c d e f').slice(0, 7),
      49407,
    ]);
    expect(() => createClipTokenizer({ tokenizerJson, contextLength: 1 })).toThrow(RangeError);
  });

  it('refuses a tokenizer.json it cannot load with a coded error', () => {
    const error = (() => {
      try {
        return createClipTokenizer({ tokenizerJson: { model: { type: 'nonsense' } } });
      } catch (e) {
        return e;
      }
    })();
    expect(isNeurodissectError(error, ErrorCode.InvalidFormat)).toBe(true);
  });
});
