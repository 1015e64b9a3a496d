import { createResults, type Results } from '@neurodissect/core';

const label = (text: string, score: number) => ({ label: text, score });

/**
 * A small Results document whose answers can be worked out by hand:
 * layer `conv` (5 neurons) and layer `fc` (1 neuron), one labeler `a`, six probe images.
 */
export function handMadeResults(): Results {
  return createResults({
    run: {
      tool: { name: 'neurodissect', version: '0.0.0' },
      createdAt: '2024-01-01T00:00:00Z',
      kind: 'test',
      parameters: {},
    },
    model: { name: 'hand-made' },
    probe: {
      name: 'six',
      images: [0, 1, 2, 3, 4, 5].map((i) => ({ id: `img${i}`, uri: `images/${i}.jpg` })),
    },
    concepts: { name: 'tiny', size: 4 },
    labelers: [{ id: 'a', version: '1', options: {} }],
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
          { unit: 5, topImages: [], labels: { a: [label('stripes', 0.4), label('zebra', 0.2)] } },
        ],
      },
      {
        name: 'fc',
        units: 1,
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
