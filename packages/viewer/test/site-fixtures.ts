import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Results } from '@neurodissect/core';
import { resultsFixture } from '@neurodissect/core/testing';
import { loadClipSearch } from '../../../scripts/test-setup/clip-search';

/** A 1×1 PNG, for images and heatmaps that must exist. */
export const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
export const PNG_DATA_URI = `data:image/png;base64,${PNG_1X1.toString('base64')}`;

/** A label that would run script if it were ever treated as markup. */
export const XSS_LABEL = '<img src=x onerror=alert(1)>';

/**
 * The clip-search Results with three changes for the browser tests: layer4 unit 7's top label is
 * {@link XSS_LABEL}; layer1 unit 0's first top image gets an activation and a data-URI heatmap.
 */
export function clipSearchForSite(): Results {
  const results = loadClipSearch();
  const layer4 = results.layers.find((l) => l.name === 'layer4')!;
  const neuron = layer4.neurons.find((n) => n.unit === 7)!;
  neuron.labels['clip-dissect'][0] = { label: XSS_LABEL, score: 0.5 };
  const layer1 = results.layers.find((l) => l.name === 'layer1')!;
  const first = layer1.neurons.find((n) => n.unit === 0)!;
  first.topImages[0] = { ...first.topImages[0], activation: 3.25, heatmap: PNG_DATA_URI };
  return results;
}

/** Writes a 1×1 PNG at each path under `root`. */
export function writeImages(root: string, paths: readonly string[]): void {
  for (const path of paths) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), PNG_1X1);
  }
}

/**
 * A small Results document: layer `conv` (3 neurons), layer `fc` (1 neuron), one labeler,
 * five images (`img/0.png` … `img/4.png`), activations, a data-URI heatmap, a file heatmap
 * (`heat/0.png`, relative to the Results) and one image path that leaves the image root.
 */
export function smallResults(): Results {
  return resultsFixture({
    model: 'small <model>',
    images: [
      ...[0, 1, 2, 3].map((i) => `img/${i}.png`),
      { id: 'outside', uri: '../secret.png' },
      { id: 'never-shown', uri: 'img/9.png' },
    ],
    concepts: { name: 'tiny', size: 3 },
    layers: [
      {
        name: 'conv',
        units: 4,
        neurons: [
          {
            unit: 0,
            topImages: [
              { image: 0, activation: 2.5, heatmap: PNG_DATA_URI },
              { image: 1, activation: 1.5, heatmap: 'heat/0.png' },
            ],
            labels: {
              a: [
                { label: 'stripes', score: 0.4 },
                { label: XSS_LABEL, score: 0.1 },
              ],
            },
          },
          {
            unit: 1,
            topImages: [{ image: 2, heatmap: 'heat/missing.png' }],
            labels: { a: [{ label: 'dog', score: 0.25 }] },
          },
          { unit: 3, topImages: [{ image: 4 }], labels: { a: [{ label: 'sky', score: 0.05 }] } },
        ],
      },
      {
        name: 'fc',
        neurons: [{ unit: 0, topImages: [{ image: 3 }], labels: { a: [{ label: 'dog', score: 0.5 }] } }],
      },
    ],
  });
}
