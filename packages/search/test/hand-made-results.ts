import type { Results } from '@neurodissect/core';
import { resultsFixture } from '@neurodissect/core/testing';

const label = (text: string, score: number) => ({ label: text, score });

/**
 * A small Results document whose answers can be worked out by hand:
 * layer `conv` (5 neurons) and layer `fc` (1 neuron), one labeler `a`, six probe images.
 */
export function handMadeResults(): Results {
  return resultsFixture({
    images: [0, 1, 2, 3, 4, 5].map((i) => `images/${i}.jpg`),
    concepts: { name: 'tiny', size: 4 },
    layers: [
      {
        name: 'conv',
        units: 6,
        neurons: [
          {
            unit: 0,
            topImages: [{ image: 0 }, { image: 1 }, { image: 2 }],
            labels: { a: [label('stripes', 0.4), label('zebra', 0.2)] },
          },
          {
            unit: 1,
            topImages: [{ image: 0 }, { image: 1 }, { image: 3 }],
            labels: { a: [label('stripes', 0.2), label('zebra', 0.2)] },
          },
          { unit: 2, topImages: [{ image: 2 }, { image: 4 }], labels: { a: [label('dog', 0.5)] } },
          { unit: 3, topImages: [{ image: 5 }], labels: { a: [label('cat', 0.3)] } },
          // Unit 4 is absent: the layer has a gap.
          { unit: 5, labels: { a: [label('stripes', 0.4), label('zebra', 0.2)] } },
        ],
      },
      {
        name: 'fc',
        neurons: [
          {
            unit: 0,
            topImages: [{ image: 0 }, { image: 1 }, { image: 2 }],
            labels: { a: [label('Stripes', 0.4), label('zebra', 0.2)] },
          },
        ],
      },
    ],
  });
}
