import type { Results } from '@neurodissect/core';
import { resultsFixture } from '@neurodissect/core/testing';

const label = (text: string, score: number) => ({ label: text, score });

/**
 * A version 2 Results document with significance figures: layer `conv` (5 neurons, all carrying
 * "stripes", two labelers `a` and `b`) and layer `fc` (one neuron, "dog", no figures).
 *
 * | conv unit | a's labels        | a's q       | b's q |
 * |-----------|-------------------|-------------|-------|
 * | 0         | stripes, zebra    | 0.01        | 0.5   |
 * | 1         | stripes           | 0.05 (not)  | –     |
 * | 2         | stripes           | 0.6         | 0.001 |
 * | 3         | zebra, stripes    | 0.02        | –     |
 * | 4         | stripes           | –           | –     |
 */
export function trustedResults(): Results {
  const both = (a: string[], b: string[]) => ({
    a: a.map((l, i) => label(l, 0.5 - i * 0.1)),
    b: b.map((l, i) => label(l, 0.9 - i * 0.1)),
  });
  return resultsFixture({
    concepts: { name: 'tiny', size: 3 },
    layers: [
      {
        name: 'conv',
        neurons: [
          {
            unit: 0,
            labels: both(['stripes', 'zebra'], ['zebra']),
            trust: {
              a: { significance: { p: 2 / 1001, q: 0.01 } },
              b: { significance: { p: 0.2, q: 0.5 } },
            },
          },
          { unit: 1, labels: both(['stripes'], []), trust: { a: { significance: { p: 0.04, q: 0.05 } } } },
          {
            unit: 2,
            labels: both(['stripes'], ['stripes']),
            trust: {
              a: { significance: { p: 0.3, q: 0.6 } },
              b: { significance: { p: 1 / 1001, q: 0.001 } },
            },
          },
          {
            unit: 3,
            labels: both(['zebra', 'stripes'], []),
            trust: { a: { significance: { p: 3 / 1001, q: 0.02 } } },
          },
          { unit: 4, labels: both(['stripes'], []) },
        ],
      },
      { name: 'fc', neurons: [{ unit: 0, labels: { a: [label('dog', 0.5)] } }] },
    ],
  });
}
