import { bootstrapRows, type LabelerContext, labelWithTrust, restrictContext } from '@neurodissect/core';
import { createLabelerFixtureWorld } from '@neurodissect/core/testing';
import { describe, expect, it } from 'vitest';
import { brodenLabel, clipAvg, clipDissect } from '../src/index';

/** The same images as `restrictContext` gives, gathered by hand and with no link to their origin. */
function gatheredByHand(context: LabelerContext, rows: Int32Array): LabelerContext {
  const gather = (m: { rows: number; cols: number; data: Float32Array }) => {
    const data = new Float32Array(rows.length * m.cols);
    rows.forEach((r, i) => {
      data.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols);
    });
    return { rows: rows.length, cols: m.cols, data };
  };
  const annotations = context.annotations!;
  return {
    layer: context.layer,
    concepts: context.concepts,
    activations: gather(context.activations),
    imageEmbeddings: gather(context.imageEmbeddings!),
    textEmbeddings: context.textEmbeddings,
    annotations: {
      labels: annotations.labels,
      imageLabels: (i) => annotations.imageLabels(rows[i]),
      masks: (i, o) => annotations.masks(rows[i], o),
    },
  };
}

describe('labelling a restriction of the probe images', () => {
  const world = createLabelerFixtureWorld();
  for (const make of [clipAvg, brodenLabel, () => clipDissect({ similarity: 'cos' })]) {
    it(`${make().id}: reuses per-image work across resamples and labels as a fresh copy would`, async () => {
      const labeler = make();
      const context = world.context();
      await labeler.label(context); // fills the labeler's per-image cache from the full context
      for (const b of [0, 1, 2]) {
        const rows = bootstrapRows(context.activations.rows, 7, b);
        const restricted = await labeler.label(restrictContext(context, rows));
        // A new labeler, on hand-gathered rows: nothing cached, nothing shared.
        const fresh = await make().label(gatheredByHand(context, rows));
        expect(restricted).toEqual(fresh);
      }
    });
  }

  it('clip-dissect: soft-WPMI on a resample weights the original rows and equals scoring a gathered copy', async () => {
    const context = world.context();
    for (const similarity of ['soft_wpmi', 'wpmi'] as const) {
      const labeler = clipDissect({ similarity, similarityOptions: { topK: 8 } });
      for (const b of [0, 1]) {
        const rows = bootstrapRows(context.activations.rows, 3, b);
        const restricted = restrictContext(context, rows);
        const weighted = await labeler.label(restricted);
        const copied = await labeler.label(gatheredByHand(context, rows));
        expect(weighted.map((r) => r.map((l) => l.label))).toEqual(copied.map((r) => r.map((l) => l.label)));
        weighted.forEach((ranked, k) => {
          ranked.forEach((label, i) => {
            expect(label.score).toBeCloseTo(copied[k][i].score, 5);
          });
        });
      }
    }
  });

  it('gives every labeler that scores from summaries its trust figures on the fixture world', async () => {
    for (const labeler of [clipAvg(), brodenLabel(), clipDissect()]) {
      const { labels, trust } = await labelWithTrust(labeler, [world.context()], {
        permutations: 200,
        stability: 3,
        folds: 2,
        seed: 1,
      });
      expect(labels[0].map((ranked) => ranked[0].label)).toEqual(world.expected);
      const layer = trust![0];
      expect(layer.layer.null?.permutations).toBe(200);
      for (const neuron of layer.neurons) {
        expect(neuron!.significance!.p).toBeGreaterThanOrEqual(1 / 201);
        expect(neuron!.stability!.resamples).toBe(3);
      }
    }
  });
});
