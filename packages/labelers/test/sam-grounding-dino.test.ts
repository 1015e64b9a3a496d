import { rm } from 'node:fs/promises';
import { matrixFromRows, type RgbImage } from '@neurodissect/core';
import { createLabelerFixtureWorld } from '@neurodissect/core/testing';
import { loadGroundingDino, loadSam } from '@neurodissect/runtime-node';
import { describe, expect, it } from 'vitest';
// Stand-in ONNX models (test fixtures, not real weights) with Grounding DINO's and SAM's signatures.
import { writeStandInModels } from '../../../scripts/test-setup/stand-in-models';
import { chunkPrompts, samGroundingDino } from '../src/index';

describe('chunkPrompts', () => {
  it('fills each prompt up to the detector’s text length, in order', () => {
    const { detector, concepts } = createLabelerFixtureWorld();
    // The stand-in counts 2 special tokens plus word + "." per concept, at most 10: 4 concepts a prompt.
    expect(chunkPrompts(concepts, detector)).toEqual([
      ['red', 'green', 'blue', 'yellow'],
      ['circle', 'square', 'striped', 'dotted'],
      ['sky', 'grass', 'water', 'wood'],
    ]);
    expect(() => chunkPrompts(['a b c d e f g h'], detector)).toThrow(/alone takes more than/);
  });
});

describe('samGroundingDino on the fixture world’s stand-in detector', () => {
  it('scores each detected concept by IoU with the thresholded activation maps, as computed by hand', async () => {
    const world = createLabelerFixtureWorld();
    const labels = await samGroundingDino({
      detector: world.detector,
      segmenter: world.segmenter,
      read: world.probe.read,
      quantile: 0.1,
    }).label(world.context());
    // Per unit, 440 of 480 map values are 0, so the threshold is 0; a 2×2 block of cells upsampled
    // 4→8 is > 0 on 5×5 pixels that hold the 4×4 patch (the box mask): I = 10·16, U = 10·25.
    expect(labels).toEqual(
      ['red', 'green', 'blue'].map((label, concept) => [{ label, concept, score: 160 / 250, votes: 10 }]),
    );
  });
});

// Six 8×8 images: image i has a 4×4 patch of colour i % 3 in quadrant i % 3 (red top-left, green
// top-right, blue bottom-left), where the stand-in detector's query boxes are. Unit k fires on its
// colour's quadrant cells in its images.
const RGB = [
  [230, 25, 25],
  [25, 200, 25],
  [25, 25, 230],
];
const corner = (c: number) => [c === 1 ? 4 : 0, c === 2 ? 4 : 0];
function image(i: number): RgbImage {
  const data = new Uint8Array(8 * 8 * 3).fill(128);
  const [x0, y0] = corner(i % 3);
  for (let y = y0; y < y0 + 4; y++) for (let x = x0; x < x0 + 4; x++) data.set(RGB[i % 3], (y * 8 + x) * 3);
  return { width: 8, height: 8, data };
}
const maps = new Float32Array(6 * 3 * 16);
for (let i = 0; i < 6; i++) {
  const k = i % 3;
  const [x0, y0] = corner(k);
  for (let y = y0 / 2; y < y0 / 2 + 2; y++)
    for (let x = x0 / 2; x < x0 / 2 + 2; x++) maps[(i * 3 + k) * 16 + y * 4 + x] = 1;
}
const activations = matrixFromRows(
  Array.from({ length: 6 }, (_, i) => [0, 1, 2].map((k) => (i % 3 === k ? 0.25 + i / 100 : 0))),
);

describe('samGroundingDino end to end with ONNX stand-ins of Grounding DINO and SAM', () => {
  it('labels each unit with the colour whose boxes overlap where it fires', async () => {
    const paths = await writeStandInModels();
    const detector = await loadGroundingDino(paths.groundingDino);
    const segmenter = await loadSam(paths.samEncoder, paths.samDecoder);
    try {
      const labels = await samGroundingDino({
        detector,
        segmenter,
        read: async (i) => image(i),
        topImages: 2,
        quantile: 0.1,
      }).label({
        layer: 'patches',
        activations,
        activationMaps: { dtype: 'float32', dims: [6, 3, 4, 4], data: maps },
        concepts: ['red', 'light blue', 'green', 'yellow', 'blue'],
      });
      // Threshold 0 (88 of 96 values per unit are 0); the upsampled block covers 5×5 pixels holding
      // the 4×4 box mask SAM returns: IoU = 2·16 / 2·25 in each unit's 2 images.
      expect(labels).toEqual([
        [{ label: 'red', concept: 0, score: 32 / 50, votes: 2 }],
        [{ label: 'green', concept: 2, score: 32 / 50, votes: 2 }],
        // "light blue" and "blue" share the token blue; "blue" has the higher mean over its tokens.
        [{ label: 'blue', concept: 4, score: 32 / 50, votes: 2 }],
      ]);
    } finally {
      await detector.dispose();
      await segmenter.dispose();
      await rm(paths.dir, { recursive: true, force: true });
    }
  });
});
