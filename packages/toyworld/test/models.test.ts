import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Matrix } from '@neurodissect/core';
import { parseGroundTruth } from '@neurodissect/eval';
import {
  createTargetModel,
  loadClipModel,
  loadClipTokenizer,
  type NodeClipModel,
  type NodeTargetModel,
  preprocessBatch,
} from '@neurodissect/runtime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToyWorld, generateToyWorldImage, TOYWORLD_LABELS, type ToyWorldImage } from '../src/index';
import { toyWorldModelPaths } from '../src/node';

const paths = toyWorldModelPaths();
interface TrainingReport {
  target: Record<string, number>;
  clipZeroShot: Record<string, { top1Accuracy: number; chance: number }>;
  groundTruth: { perLayer: Record<string, { units: number; interpretable: number }> };
  reference: {
    targetLogits: number[][];
    imageEmbeds: number[][];
    texts: string[];
    textIds: number[][];
    textEmbeds: number[][];
  };
}
const report = JSON.parse(readFileSync(paths.trainingReport, 'utf8')) as TrainingReport;
const NAMES = TOYWORLD_LABELS.map((l) => l.name);
const TEXTURE_START = 19;
/** Floors for 64 unseen images, below the held-out figures of models/MODEL_CARD.md. */
const SHAPE_AUC_FLOOR = 0.8;
// Images no model saw in training (train used seed 1, held-out figures seed 2, the probe set seed 0).
const fresh = generateToyWorld({ seed: 3, count: 64 }).images;
const referenceImages = Array.from({ length: 8 }, (_, i) => generateToyWorldImage(i, { seed: 2 }).image);
const IMAGENET = {
  resizeShorter: 64,
  crop: 64,
  interpolation: 'bicubic',
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
} as const;

function row(m: Matrix, i: number): Float32Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

function maxAbsDiff(actual: ArrayLike<number>, expected: readonly number[]): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return worst;
}

function argmax(values: ArrayLike<number>, from: number, to: number): number {
  let best = from;
  for (let i = from; i < to; i++) if (values[i] > values[best]) best = i;
  return best;
}

const textureIndex = (im: ToyWorldImage) => NAMES.indexOf(im.texture);

describe('the committed models', () => {
  it('are all there, under 20 MB together', () => {
    const files = [
      paths.targetModel,
      join(paths.clipDir, 'onnx', 'vision_model.onnx'),
      join(paths.clipDir, 'onnx', 'text_model.onnx'),
      join(paths.clipDir, 'tokenizer.json'),
      join(paths.clipDir, 'preprocessor_config.json'),
      paths.groundTruth,
    ];
    for (const file of files) expect(existsSync(file), file).toBe(true);
    const bytes = files.reduce((sum, f) => sum + readFileSync(f).length, 0);
    expect(bytes).toBeLessThan(20 * 1024 * 1024);
  });

  describe('target CNN', () => {
    let model: NodeTargetModel;
    beforeAll(async () => {
      model = await createTargetModel({ model: paths.targetModel });
    });
    afterAll(() => model?.dispose());

    it('exposes layer1…layer4 with the documented shapes', async () => {
      const names = model.listLayers().map((l) => l.name);
      for (const layer of ['layer1', 'layer2', 'layer3', 'layer4']) expect(names).toContain(layer);
      const out = await model.run(preprocessBatch(referenceImages.slice(0, 2), IMAGENET), [
        'layer1',
        'layer4',
      ]);
      expect(out.get('layer1')?.dims).toEqual([2, 16, 32, 32]);
      expect(out.get('layer4')?.dims).toEqual([2, 128, 4, 4]);
    });

    it('reproduces torch’s logits on the regenerated held-out images', async () => {
      const out = await model.run(preprocessBatch(referenceImages, IMAGENET), ['fc']);
      const logits = out.get('fc')!;
      expect(logits.dims).toEqual([8, 25]);
      expect(maxAbsDiff(logits.data as Float32Array, report.reference.targetLogits.flat())).toBeLessThan(
        1e-3,
      );
    });

    it('classifies textures and colours of unseen images, and tells shapes apart', async () => {
      const logits = (
        await model.run(
          preprocessBatch(
            fresh.map((im) => im.image),
            IMAGENET,
          ),
          ['fc'],
        )
      ).get('fc')!;
      const data = logits.data as Float32Array;
      let textures = 0;
      let colorDecisions = 0;
      // Shapes: over every (image, shape) pair, how often a present shape's logit beats an absent
      // one's (the AUC, pooled over the 8 shapes; 0.5 = not learned).
      const present: number[] = [];
      const absent: number[] = [];
      fresh.forEach((im, i) => {
        const values = data.subarray(i * 25, (i + 1) * 25);
        if (argmax(values, TEXTURE_START, 25) === textureIndex(im)) textures++;
        // Training target: a colour is present from 2% of the pixels.
        for (let k = 0; k < 11; k++) {
          const share = im.colorMask.filter((v) => v === k + 1).length / im.colorMask.length;
          if (values[k] > 0 === share >= 0.02) colorDecisions++;
        }
        for (let k = 0; k < 8; k++) {
          const shown = im.objectMask.some((v) => v === 12 + k);
          (shown ? present : absent).push(values[11 + k]);
        }
      });
      let wins = 0;
      for (const p of present) for (const a of absent) wins += p > a ? 1 : p === a ? 0.5 : 0;
      expect(wins / (present.length * absent.length)).toBeGreaterThanOrEqual(SHAPE_AUC_FLOOR);
      // Held-out (1000 images, models/MODEL_CARD.md): texture 99.8% (chance 16.7%), colour presence
      // 99.8%, shape AUC 0.80–0.99 per shape. The floors leave room for the sampling error of 64 images.
      expect(textures / fresh.length).toBeGreaterThanOrEqual(0.9);
      expect(colorDecisions / (fresh.length * 11)).toBeGreaterThanOrEqual(0.97);
    });
  });

  describe('toy CLIP (Hugging Face layout)', () => {
    let clip: NodeClipModel;
    beforeAll(async () => {
      clip = await loadClipModel(paths.clipDir);
    });
    afterAll(() => clip?.dispose());

    it('ships CLIP’s own tokenizer, as the training script tokenised', async () => {
      const shipped = await loadClipTokenizer(join(paths.clipDir, 'tokenizer.json'));
      const bundled = await loadClipTokenizer();
      const texts = [...NAMES, ...fresh.slice(0, 4).map((im) => im.caption)];
      for (const text of texts) expect(shipped.encode(text)).toEqual(bundled.encode(text));
      report.reference.texts.forEach((text, i) => {
        expect(shipped.encode(text)).toEqual(report.reference.textIds[i]);
      });
    });

    it('reproduces torch’s embeddings through runtime-node’s CLIP loader', async () => {
      expect(clip.dim).toBe(64);
      const images = await clip.embedImages(referenceImages);
      expect(maxAbsDiff(images.data, report.reference.imageEmbeds.flat())).toBeLessThan(1e-3);
      const texts = await clip.embedTexts(report.reference.texts);
      expect(maxAbsDiff(texts.data, report.reference.textEmbeds.flat())).toBeLessThan(1e-3);
    });

    it('tells textures, colours and shapes apart zero-shot on unseen images', async () => {
      const images = await clip.embedImages(fresh.map((im) => im.image));
      const words = await clip.embedTexts(NAMES);
      const norm = (v: Float32Array) => Math.hypot(...v);
      let textures = 0;
      let colors = 0;
      let shapes = 0;
      let withShapes = 0;
      fresh.forEach((im, i) => {
        const image = row(images, i);
        const sims = NAMES.map((_, k) => {
          const w = row(words, k);
          let dot = 0;
          for (let d = 0; d < w.length; d++) dot += image[d] * w[d];
          return dot / norm(w) / norm(image);
        });
        if (argmax(sims, TEXTURE_START, 25) === textureIndex(im)) textures++;
        const color = NAMES[argmax(sims, 0, 11)];
        if (im.colorMask.some((v) => NAMES[v - 1] === color)) colors++;
        if (im.objects.length > 0) {
          withShapes++;
          const shape = NAMES[argmax(sims, 11, 19)];
          if (im.objects.some((o) => o.shape === shape && o.visiblePixels > 0)) shapes++;
        }
      });
      // Held-out zero-shot (1000 images): texture 99.7%, colour 99.9%, shape 92.9% (chance 23%).
      expect(textures / fresh.length).toBeGreaterThanOrEqual(0.9);
      expect(colors / fresh.length).toBeGreaterThanOrEqual(0.95);
      expect(shapes / withShapes).toBeGreaterThanOrEqual(0.85);
    });
  });

  it('ships a ground truth in the eval format, one row per unit of layer1…layer4', () => {
    const truth = parseGroundTruth(readFileSync(paths.groundTruth, 'utf8'), { source: paths.groundTruth });
    const perLayer = new Map<string, { units: number; interpretable: number }>();
    for (const e of truth.entries) {
      const entry = perLayer.get(e.layer) ?? { units: 0, interpretable: 0 };
      entry.units++;
      if (e.label !== null) {
        entry.interpretable++;
        expect(NAMES).toContain(e.label);
      }
      perLayer.set(e.layer, entry);
    }
    expect(Object.fromEntries(perLayer)).toEqual(
      Object.fromEntries(
        Object.entries(report.groundTruth.perLayer).map(([layer, v]) => [
          layer,
          { units: v.units, interpretable: v.interpretable },
        ]),
      ),
    );
    expect([...perLayer.values()].map((v) => v.units)).toEqual([16, 32, 64, 128]);
  });
});
