import {
  type AnnotationMask,
  activationMapSourceFromTensor,
  createRandom,
  matrixFromRows,
  type ProbeAnnotations,
} from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import { quantileThresholds, upsampleBilinear } from '../src/annotations';
import { brodenLabel, netDissect } from '../src/index';

// Four images with 4×4 object masks: 1 = circle (top-left 2×2), 2 = square (bottom-right 2×2);
// texture 3 = striped is an image-level label of images 0 and 3.
function objectMask(label: number, corner: 'tl' | 'br' | 'none'): AnnotationMask {
  const labels = new Uint16Array(16);
  if (corner !== 'none') {
    const offset = corner === 'tl' ? 0 : 2;
    for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) labels[(y + offset) * 4 + x + offset] = label;
  }
  return { category: 'object', width: 4, height: 4, labels };
}
const masks = [objectMask(1, 'tl'), objectMask(2, 'br'), objectMask(1, 'tl'), objectMask(0, 'none')];
const annotations: ProbeAnnotations = {
  labels: new Map([
    [1, { name: 'circle', category: 'object' }],
    [2, { name: 'square', category: 'object' }],
    [3, { name: 'striped', category: 'texture' }],
  ]),
  imageLabels: (i): Record<string, number[]> => (i === 0 || i === 3 ? { texture: [3] } : {}),
  masks: async (i) => [masks[i]],
};

// Unit 0 fires at the top-left of images 0 and 2, unit 1 at the bottom-right of image 1, unit 2 never.
const maps = new Float32Array(4 * 3 * 4);
maps[(0 * 3 + 0) * 4 + 0] = 1;
maps[(2 * 3 + 0) * 4 + 0] = 1;
maps[(1 * 3 + 1) * 4 + 3] = 1;
const activationMaps = { dtype: 'float32' as const, dims: [4, 3, 2, 2], data: maps };
const activations = matrixFromRows([
  [0.25, 0, 0],
  [0, 0.25, 0],
  [0.25, 0, 0],
  [0, 0, 0],
]);

describe('netDissect', () => {
  it('ranks concepts by IoU as computed by hand', async () => {
    const labels = await netDissect({ quantile: 0.1 }).label({
      layer: 'l',
      activations,
      activationMaps,
      concepts: [],
      annotations,
    });
    // Unit 0: threshold 0; the upsampled map is > 0 on a 3×3 top-left block (9 px) in images 0, 2.
    // circle: I = 4 + 4, U = Σ|M| over object-annotated images (18) + |L| (8) − I = 18 → 8/18.
    // striped: texture-annotated images 0, 3: I = 9, U = 9 + 32 − 9 = 32 → 9/32.
    expect(labels[0]).toEqual([
      { label: 'circle', score: 8 / 18 },
      { label: 'striped', score: 9 / 32 },
    ]);
    // Unit 1: 3×3 bottom-right block in image 1; square: I = 4, U = 9 + 4 − 4 → 4/9.
    expect(labels[1]).toEqual([{ label: 'square', score: 4 / 9 }]);
    // Unit 2 never fires: it overlaps no label.
    expect(labels[2]).toEqual([]);
  });

  it('gives units below the detector threshold their best labels too, as Network Dissection reports', async () => {
    const labels = await netDissect({ quantile: 0.1, threshold: 0.5 }).label({
      layer: 'l',
      activations,
      activationMaps,
      concepts: [],
      annotations,
    });
    // The same IoUs; none reaches 0.5, so no unit is a detector (the report's level says so).
    expect(labels[0]).toEqual([
      { label: 'circle', score: 8 / 18 },
      { label: 'striped', score: 9 / 32 },
    ]);
    expect(labels[1]).toEqual([{ label: 'square', score: 4 / 9 }]);
  });

  it('counts the active area toward a category only where it touches a label of it', async () => {
    // Unit 0 fires at the top-left (3×3 px once upsampled) of images 0 and 1. Image 0 has a circle
    // there; image 1 only a square pixel at the far corner, which the active area misses.
    const corner: AnnotationMask = { category: 'object', width: 4, height: 4, labels: new Uint16Array(16) };
    corner.labels[15] = 2;
    const layout = [objectMask(1, 'tl'), corner, objectMask(1, 'tl'), objectMask(1, 'tl')];
    const apart: ProbeAnnotations = {
      ...annotations,
      imageLabels: () => ({}),
      masks: async (i) => [layout[i]],
    };
    const fires = new Float32Array(4 * 1 * 4);
    fires[0] = 1;
    fires[4] = 1;
    const labels = await netDissect({ quantile: 0.1 }).label({
      layer: 'l',
      activations: matrixFromRows([[0.25], [0.25], [0], [0]]),
      activationMaps: { dtype: 'float32', dims: [4, 1, 2, 2], data: fires },
      concepts: [],
      annotations: apart,
    });
    // circle: I = 4 (image 0); the union counts image 0's 9 active px only (image 1's touch no
    // object label) plus the circle's 12 px: U = 9 + 12 − 4 = 17. Counting every image annotated
    // with an object would give U = 18 + 12 − 4 = 26.
    expect(labels[0]).toEqual([{ label: 'circle', score: 4 / 17 }]);
    const annotated = await netDissect({ quantile: 0.1, union: 'annotated' }).label({
      layer: 'l',
      activations: matrixFromRows([[0.25], [0.25], [0], [0]]),
      activationMaps: { dtype: 'float32', dims: [4, 1, 2, 2], data: fires },
      concepts: [],
      annotations: apart,
    });
    expect(annotated[0]).toEqual([{ label: 'circle', score: 4 / 26 }]);
    expect(() => netDissect({ union: 'everywhere' as 'touched' })).toThrow(
      /union must be 'touched' or 'annotated'/,
    );
  });

  it('says what is missing', async () => {
    await expect(netDissect().label({ layer: 'fc', activations, concepts: [], annotations })).rejects.toThrow(
      /needs the layer's activation maps/,
    );
    const vectors = { dtype: 'float32' as const, dims: [4, 3], data: new Float32Array(12) };
    await expect(
      netDissect().label({ layer: 'fc', activations, activationMaps: vectors, concepts: [], annotations }),
    ).rejects.toThrow(/needs spatial activation maps/);
    await expect(
      netDissect().label({ layer: 'l', activations, activationMaps, concepts: [] }),
    ).rejects.toThrow(/needs a probe set with concept annotations/);
  });
});

describe('netDissect categories', () => {
  // Images 0 and 2, where unit 0 fires, are also labelled "glass" (material) as a whole.
  const withMaterial: ProbeAnnotations = {
    ...annotations,
    labels: new Map([...annotations.labels, [4, { name: 'glass', category: 'material' }]]),
    imageLabels: (i) => ({ ...annotations.imageLabels(i), ...(i === 0 || i === 2 ? { material: [4] } : {}) }),
  };
  const run = (categories?: string[]) =>
    netDissect({ quantile: 0.1, ...(categories ? { categories } : {}) }).label({
      layer: 'l',
      activations,
      activationMaps,
      concepts: [],
      annotations: withMaterial,
    });

  it('uses every category of the probe set by default', async () => {
    const labels = await run();
    expect(labels[0].map((l) => l.label)).toEqual(['glass', 'circle', 'striped']);
  });

  it("leaves out material when asked, as Network Dissection's default does", async () => {
    const labels = await run(['color', 'object', 'part', 'scene', 'texture']);
    expect(labels[0].map((l) => l.label)).toEqual(['circle', 'striped']);
  });

  it('uses exactly the categories asked for', async () => {
    // glass: I = 9 + 9 (the 3×3 active block in images 0 and 2), U = 18 + 32 − 18 → 18/32.
    const all = await run(['object', 'texture', 'material']);
    expect(all[0]).toEqual([
      { label: 'glass', score: 18 / 32 },
      { label: 'circle', score: 8 / 18 },
      { label: 'striped', score: 9 / 32 },
    ]);
    const objects = await run(['object']);
    expect(objects[0]).toEqual([{ label: 'circle', score: 8 / 18 }]);
  });
});

describe('streamed activation maps', () => {
  it('netDissect gives the same labels from maps streamed one image at a time as from maps in memory', async () => {
    const inMemory = await netDissect({ quantile: 0.1 }).label({
      layer: 'l',
      activations,
      activationMaps,
      concepts: [],
      annotations,
    });
    const streamed = await netDissect({ quantile: 0.1 }).label({
      layer: 'l',
      activations,
      activationMapSource: activationMapSourceFromTensor(activationMaps, 1),
      concepts: [],
      annotations,
    });
    expect(streamed).toEqual(inMemory);
  });

  it('finds each unit’s exact top-quantile threshold in passes (negatives, ±0, ties, many values)', async () => {
    const random = createRandom(3);
    const [N, K, h, w] = [37, 5, 3, 4];
    const data = new Float32Array(N * K * h * w);
    for (let i = 0; i < data.length; i++) {
      const unit = Math.floor(i / (h * w)) % K;
      const r = random();
      // unit 0: signed values; 1: many ties; 2: mostly zeros (and −0); 3: tiny; 4: large
      data[i] =
        unit === 0
          ? r * 2 - 1
          : unit === 1
            ? Math.round(r * 4)
            : unit === 2
              ? r < 0.9
                ? r < 0.45
                  ? -0
                  : 0
                : r
              : unit === 3
                ? r * 1e-30
                : r * 1e6;
    }
    const maps = { dtype: 'float32' as const, dims: [N, K, h, w], data };
    for (const quantile of [0.005, 0.05, 0.5, 0.99]) {
      const thresholds = await quantileThresholds(
        { source: activationMapSourceFromTensor(maps, 7), units: K, height: h, width: w },
        quantile,
      );
      for (let k = 0; k < K; k++) {
        // The definition, by sorting every value of the unit.
        const values: number[] = [];
        for (let i = 0; i < N; i++)
          values.push(...data.subarray((i * K + k) * h * w, (i * K + k + 1) * h * w));
        const sorted = Float32Array.from(values).sort();
        expect(Object.is(thresholds[k], sorted[Math.floor((1 - quantile) * (sorted.length - 1))])).toBe(true);
      }
    }
  });
});

describe('brodenLabel', () => {
  it('votes with image-level labels (weight 1) and pixel labels (area fraction)', async () => {
    const labels = await brodenLabel({ topImages: 2 }).label({
      layer: 'l',
      activations,
      concepts: [],
      annotations,
    });
    // Unit 0's top images 0 and 2: striped 1; circle 4/16 + 4/16. Total 1.5.
    expect(labels[0]).toEqual([
      { label: 'striped', score: 1 / 1.5, votes: 1 },
      { label: 'circle', score: 0.5 / 1.5, votes: 2 },
    ]);
  });
});

describe('upsampleBilinear', () => {
  it('uses half-pixel centres with clamped edges', () => {
    // 2 → 4: source coordinates 0 (clamped), 0.25, 0.75, 1 (clamped).
    expect(Array.from(upsampleBilinear(Float32Array.from([0, 4]), 1, 2, 1, 4))).toEqual([0, 1, 3, 4]);
  });
});
