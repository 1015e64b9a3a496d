import { describe, expect, it } from 'vitest';
import {
  describeConceptSetChanges,
  ErrorCode,
  normalizeLabel,
  parseConceptSet,
  parseConceptSetBytes,
} from '../src/index';

describe('concept sets', () => {
  it('normalises once: BOM, trimming, blank lines, duplicates with their lines', () => {
    const set = parseConceptSet('\ufeffdog\r\n  cat \n\n\ndog\nbird\ncat\n', { source: 'c.txt' });
    expect(set.concepts).toEqual(['dog', 'cat', 'bird']);
    expect(set.lines).toEqual([1, 2, 6]);
    expect(set.blankLines).toEqual([3, 4]);
    expect(set.duplicates).toEqual([
      { concept: 'dog', line: 5, firstLine: 1 },
      { concept: 'cat', line: 7, firstLine: 2 },
    ]);
    expect(set.hadBom).toBe(true);
    expect(describeConceptSetChanges(set)).toBe(
      'c.txt: stripped a byte-order mark; dropped 2 blank line(s); dropped 2 duplicate(s): "dog" (line 5, first on line 1), "cat" (line 7, first on line 2)',
    );
  });

  it('keeps concept ids stable where the reference shifted them after a blank line', () => {
    // The reference dropped blanks before encoding but not when mapping ids back to words.
    const set = parseConceptSet('red\n\ngreen\nblue');
    expect(set.concepts.indexOf('green')).toBe(1);
    expect(set.concepts.indexOf('blue')).toBe(2);
  });

  it('says which lines were not valid UTF-8 instead of passing U+FFFD off as concepts', () => {
    const bytes = Uint8Array.from([...Buffer.from('dog\ncaf'), 0xe9, ...Buffer.from('\nbird\n')]);
    const set = parseConceptSetBytes(bytes, { source: 'latin1.txt' });
    expect(set.concepts).toEqual(['dog', 'caf\ufffd', 'bird']);
    expect(set.invalidUtf8Lines).toEqual([2]);
    expect(describeConceptSetChanges(set)).toBe(
      'latin1.txt: 1 line(s) are not valid UTF-8 (line 2): their bad bytes became U+FFFD; save the file as UTF-8',
    );
    const clean = parseConceptSetBytes(Buffer.from('caf\u00e9\n'), { source: 'utf8.txt' });
    expect(clean.concepts).toEqual(['caf\u00e9']);
    expect(describeConceptSetChanges(clean)).toBeUndefined();
  });

  it('reports nothing for a clean list', () => {
    expect(describeConceptSetChanges(parseConceptSet('a\nb'))).toBeUndefined();
  });

  it('rejects an empty set with a coded error that says what to do', () => {
    expect(() => parseConceptSet('\n  \n', { source: 'empty.txt' })).toThrow(
      expect.objectContaining({
        code: ErrorCode.EmptyConceptSet,
        message: expect.stringMatching(/empty.txt has no concepts; put one concept per line/),
      }),
    );
    expect(parseConceptSet('', { allowEmpty: true }).concepts).toEqual([]);
  });

  it('normalises labels for matching', () => {
    expect(normalizeLabel('  Striped_Shirt  ')).toBe('striped shirt');
    expect(normalizeLabel('ＲＥＤ')).toBe('red');
  });
});
