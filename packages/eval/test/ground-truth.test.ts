import { isNeurodissectError } from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import { createLabelMatcher, parseGroundTruth } from '../src/index';

describe('parseGroundTruth', () => {
  it('reads CSV with empty labels and markers as non-interpretable', () => {
    const gt = parseGroundTruth('layer,unit,label\nL,0,cat\nL,1,\nL,2,Non-Interpretable\nL,3,"dog, big"\n', {
      source: 'gt.csv',
    });
    expect(gt.entries).toEqual([
      { layer: 'L', unit: 0, label: 'cat' },
      { layer: 'L', unit: 1, label: null },
      { layer: 'L', unit: 2, label: null },
      { layer: 'L', unit: 3, label: 'dog, big' },
    ]);
    const custom = parseGroundTruth('layer,unit,label\nL,0,-\nL,1,non-interpretable\n', {
      nonInterpretableMarkers: ['-'],
    });
    expect(custom.entries.map((e) => e.label)).toEqual([null, 'non-interpretable']);
  });

  it('reads JSON in both shapes', () => {
    const list = parseGroundTruth(
      '[{"layer":"L","unit":0,"label":"cat"},{"layer":"L","unit":1,"label":null}]',
    );
    expect(list.entries).toEqual([
      { layer: 'L', unit: 0, label: 'cat' },
      { layer: 'L', unit: 1, label: null },
    ]);
    const wrapped = parseGroundTruth('{"neurons":[{"layer":"L","unit":4,"label":""}]}');
    expect(wrapped.entries).toEqual([{ layer: 'L', unit: 4, label: null }]);
  });

  it('names file and line of a malformed row, or skips it when lenient', () => {
    const text = 'layer,unit,label\nL,0,cat\nL,x,dog\n';
    expect(() => parseGroundTruth(text, { source: 'gt.csv' })).toThrow(
      'gt.csv:3: unit "x" is not a non-negative integer.',
    );
    const skipped: string[] = [];
    const gt = parseGroundTruth(text, { source: 'gt.csv', lenient: true, onSkip: (m) => skipped.push(m) });
    expect(gt.entries).toHaveLength(1);
    expect(skipped).toEqual(['gt.csv:3: unit "x" is not a non-negative integer.']);
  });

  it('rejects a bad header, bad JSON and repeated neurons with coded errors', () => {
    const attempts = [
      () => parseGroundTruth('layer,neuron,label\n', { source: 'gt.csv' }),
      () => parseGroundTruth('[{"layer":"L","unit":-1,"label":"x"}]', { source: 'gt.json' }),
      () => parseGroundTruth('{"neurons": [', { source: 'gt.json' }),
      () => parseGroundTruth('layer,unit,label\nL,0,a\nL,0,b\n', { source: 'gt.csv' }),
    ];
    const messages = attempts.map((attempt) => {
      try {
        attempt();
      } catch (error) {
        expect(isNeurodissectError(error, 'ND_INVALID_FORMAT')).toBe(true);
        return (error as Error).message;
      }
      return 'no error';
    });
    expect(messages[0]).toMatch(/^gt\.csv:1: expected the header "layer,unit,label"/);
    expect(messages[1]).toMatch(/^gt\.json: 0\.unit: /);
    expect(messages[2]).toMatch(/^gt\.json: not valid JSON/);
    expect(messages[3]).toBe('gt.csv: L unit 0 is listed twice; give each neuron one ground-truth label.');
  });
});

describe('createLabelMatcher', () => {
  it('matches after normalisation and through merged synonym groups', () => {
    const plain = createLabelMatcher();
    expect(plain.matches('Road_Sign', ' road  sign ')).toBe(true);
    expect(plain.matches('kitten', 'cat')).toBe(false);
    const matcher = createLabelMatcher({ synonyms: [['cat', 'kitten'], ['kitty', 'Kitten'], ['dog']] });
    expect(matcher.matches('kitty', 'cat')).toBe(true);
    expect(matcher.canonical('KITTY')).toBe(matcher.canonical('cat'));
    expect(matcher.matches('dog', 'cat')).toBe(false);
  });
});
