import { describe, expect, it } from 'vitest';
import {
  COMMON_ENGLISH_WORDS,
  TOYWORLD_NEAR_WORDS,
  toyWorldConceptList,
  toyWorldVocabulary,
} from '../src/index';

describe('the toy world vocabulary', () => {
  it('holds the world’s words first, their near-words, then over 10,000 common English words, each once', () => {
    const vocabulary = toyWorldVocabulary();
    const concepts = toyWorldConceptList();
    expect(vocabulary.slice(0, concepts.length)).toEqual(concepts);
    expect(new Set(vocabulary).size).toBe(vocabulary.length);
    expect(COMMON_ENGLISH_WORDS.length).toBe(10679);
    expect(vocabulary.length).toBeGreaterThan(10_000);
    for (const words of Object.values(TOYWORLD_NEAR_WORDS))
      for (const w of words) expect(vocabulary).toContain(w);
    expect(Object.keys(TOYWORLD_NEAR_WORDS).sort()).toEqual(concepts.slice(0, 25).sort());
    // SCOWL's lists, lower-case words of three letters or more, sorted.
    expect(COMMON_ENGLISH_WORDS.every((w) => /^[a-z]{3,}$/.test(w))).toBe(true);
    expect([...COMMON_ENGLISH_WORDS].sort()).toEqual(COMMON_ENGLISH_WORDS);
  });
});
