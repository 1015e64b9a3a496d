import { describe, expect, it } from 'vitest';
import {
  createLabelMatcher,
  evaluateFinalLayer,
  evaluateResults,
  histogram,
  interpretabilityCounts,
  parseGroundTruth,
  parseSynonyms,
  rocAuc,
} from '../src/index';
import { HAND_MADE_GROUND_TRUTH_CSV, handMadeResults } from './hand-made-results';

// Expected values below are worked out by hand from hand-made-results.ts:
// labeler a, max scores u0 .5, u1 .35, u2 .25, u3 .15, u4 .05, u5 .22.
// Truth: u0 cat (rank 1), u1 cat (rank 2: "Cat"), u2 road sign (rank 5: "road_sign"), u3 boat (absent),
// u4 non-interpretable, u5 cat ("kitten": rank 1 only with the synonym group "cat, kitten"); u9 missing.
describe('Tables 1-3 on a hand-made ground truth', () => {
  const groundTruth = parseGroundTruth(HAND_MADE_GROUND_TRUTH_CSV, { source: 'gt.csv' });

  it('computes Table 1, Table 2 and the ROC-AUC with a synonym file', () => {
    const matcher = createLabelMatcher({ synonyms: parseSynonyms('# groups\ncat, kitten\n') });
    const report = evaluateResults(handMadeResults(), { groundTruth, matcher });
    const a = report.labelers.find((l) => l.id === 'a')!.layers[0];
    expect(a.accuracy).toEqual({
      top1: 2,
      top3: 3,
      top5: 4,
      incorrect: 1,
      nonInterpretable: 1,
      total: 6,
      interpretable: 5,
      top5AccuracyInterpretable: 0.8,
      missing: 1,
    });
    // top-1 {.5,.22}, top-3 {.5,.35,.22}, top-5 {+.25}, rest {.15,.05}, all six.
    expect(a.scoreByCorrectness!.top1).toBeCloseTo(0.36, 12);
    expect(a.scoreByCorrectness!.top3).toBeCloseTo(1.07 / 3, 12);
    expect(a.scoreByCorrectness!.top5).toBeCloseTo(0.33, 12);
    expect(a.scoreByCorrectness!.incorrectOrNonInterpretable).toBeCloseTo(0.1, 12);
    expect(a.scoreByCorrectness!.all).toBeCloseTo(1.52 / 6, 12);
    // Positives .5 and .22 against negatives .35 .25 .15 .05: 4 + 2 of 8 pairs.
    expect(a.rocAuc).toBeCloseTo(0.75, 12);
  });

  it('computes Table 1 without synonyms and the score-only tables', () => {
    const report = evaluateResults(handMadeResults(), { groundTruth });
    const a = report.labelers[0].layers[0];
    expect(a.accuracy).toMatchObject({
      top1: 1,
      top3: 2,
      top5: 3,
      incorrect: 2,
      nonInterpretable: 1,
      total: 6,
    });
    expect(a.accuracy!.top5AccuracyInterpretable).toBeCloseTo(0.6, 12);
    // Labeler "a" publishes no thresholds: no Table 3 on another scale's, its quantiles instead.
    // Sorted max scores .05 .15 .22 .25 .35 .5.
    expect(a.interpretability).toBeNull();
    expect(a.quantiles!.p10).toBeCloseTo(0.1, 12);
    expect(a.quantiles!.p50).toBeCloseTo(0.235, 12);
    expect(a.quantiles!.p90).toBeCloseTo(0.425, 12);
    expect(report.labelers[0].scale).toEqual({ name: 'a score', levels: [], source: null });
    expect(a.meanMaxScore).toBeCloseTo(1.52 / 6, 12);
    expect(report.layers).toEqual([
      {
        layer: 'L',
        neurons: 6,
        meanMaxScore: a.meanMaxScore,
        interpretability: null,
        quantiles: a.quantiles,
        labeler: 'a',
      },
    ]);
    expect(report.groundTruth).toEqual({ source: 'gt.csv', neurons: 7, nonInterpretable: 1 });
  });

  it('judges an unscored labeler on Table 1 only', () => {
    const b = evaluateResults(handMadeResults(), { groundTruth }).labelers[1];
    expect(b.scored).toBe(false);
    const layer = b.layers[0];
    expect(layer.meanMaxScore).toBeNull();
    expect(layer.interpretability).toBeNull();
    expect(layer.scoreByCorrectness).toBeUndefined();
    // b's labels: cat cat sea boat wall dog → u0, u1, u3 correct; u2, u5 incorrect; u4 non-interpretable.
    expect(layer.accuracy).toMatchObject({ top1: 3, top5: 3, incorrect: 2, nonInterpretable: 1 });
    expect(layer.topLabels).toEqual([
      { label: 'cat', count: 2 },
      { label: 'boat', count: 1 },
      { label: 'dog', count: 1 },
      { label: 'sea', count: 1 },
      { label: 'wall', count: 1 },
    ]);
  });

  it('counts soft-WPMI and IoU on their own published thresholds', () => {
    const results = handMadeResults();
    results.labelers[0] = {
      ...results.labelers[0],
      id: 'clip-dissect',
      options: { similarity: 'soft_wpmi' },
    };
    for (const neuron of results.layers[0].neurons) {
      neuron.labels['clip-dissect'] = neuron.labels.a;
      delete neuron.labels.a;
    }
    const soft = evaluateResults(results).labelers[0];
    expect(soft.scale.levels.map((l) => l.threshold)).toEqual([0.3, 0.2, 0.1]);
    expect(soft.scale.source).toMatch(/CLIP-Dissect/);
    expect(soft.layers[0].interpretability).toEqual({ levels: [2, 2, 1], none: 1 });
    results.labelers[0] = { ...results.labelers[0], id: 'netdissect', options: { threshold: 0.04 } };
    for (const neuron of results.layers[0].neurons) {
      neuron.labels.netdissect = neuron.labels['clip-dissect'];
      delete neuron.labels['clip-dissect'];
    }
    const iou = evaluateResults(results).labelers[0];
    expect(iou.scale).toMatchObject({ name: 'IoU', levels: [{ name: 'detector', threshold: 0.04 }] });
    expect(iou.layers[0].interpretability).toEqual({ levels: [6], none: 0 });
  });

  it('uses configurable thresholds', () => {
    const report = evaluateResults(handMadeResults(), { thresholds: { high: 0.4, medium: 0.3, low: 0.2 } });
    expect(report.layers[0].interpretability).toEqual({ levels: [1, 1, 2], none: 2 });
    expect(report.thresholds).toEqual({ high: 0.4, medium: 0.3, low: 0.2 });
    expect(report.labelers[0].layers[0].accuracy).toBeUndefined();
    expect(() => evaluateResults(handMadeResults(), { thresholds: { high: 0.1, medium: 0.2 } })).toThrow(
      RangeError,
    );
  });
});

describe('building blocks', () => {
  it('rocAuc counts ties as half and is null for one class', () => {
    expect(rocAuc([1, 1], [true, false])).toBe(0.5);
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, true, false, true])).toBe(1);
    // sklearn.metrics.roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) = 0.75
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
    expect(rocAuc([0.3, 0.2], [true, true])).toBeNull();
  });

  it('interpretabilityCounts puts threshold values in the upper class', () => {
    expect(interpretabilityCounts([0.3, 0.2, 0.1, 0.0999, 1])).toEqual({ levels: [2, 1, 1], none: 1 });
    expect(interpretabilityCounts([0.05, 0.04, 0.01], [0.04])).toEqual({ levels: [2], none: 1 });
  });

  it('histogram uses a nice width and covers every value', () => {
    // range .45 over 30 bins → .015 → width .02, start .04; bins by hand: .05→0, .15→5, .25→10, .35→15, .5→23.
    const h = histogram([0.05, 0.15, 0.25, 0.35, 0.5])!;
    expect(h.width).toBe(0.02);
    expect(h.start).toBe(0.04);
    expect(h.counts).toHaveLength(24);
    expect([0, 5, 10, 15, 23].map((i) => h.counts[i])).toEqual([1, 1, 1, 1, 1]);
    expect(h.counts.reduce((s, c) => s + c, 0)).toBe(5);
    expect(histogram([])).toBeNull();
  });
});

describe('evaluateFinalLayer', () => {
  it("computes CLIP-Dissect's final-layer metrics with a text embedder", async () => {
    const layer = {
      name: 'fc',
      units: 3,
      neurons: [
        {
          unit: 0,
          topImages: [],
          labels: {
            a: [
              { label: 'Tinca_tinca', score: 0.9 },
              { label: 'fish', score: 0.5 },
            ],
          },
        },
        {
          unit: 1,
          topImages: [],
          labels: {
            a: [
              { label: 'fish', score: 0.4 },
              { label: 'goldfish', score: 0.3 },
            ],
          },
        },
        { unit: 2, topImages: [], labels: { a: [{ label: 'whale', score: 0.2 }] } },
      ],
    };
    // A test embedder with hand-picked vectors: cos(Tinca_tinca, tench…) = 1, cos(fish, goldfish) = 1/√2, cos(whale, shark) = 0.
    const vectors: Record<string, number[]> = {
      Tinca_tinca: [1, 0],
      'tench, Tinca tinca': [1, 0],
      fish: [1, 1],
      goldfish: [0, 1],
      whale: [0, 1],
      shark: [1, 0],
    };
    const embed = async (texts: readonly string[]) => ({
      rows: texts.length,
      cols: 2,
      data: Float32Array.from(texts.flatMap((t) => vectors[t])),
    });
    const metrics = await evaluateFinalLayer({
      layer,
      labeler: 'a',
      classNames: ['tench, Tinca tinca', 'goldfish', 'shark'],
      embedders: { clip: embed },
    });
    expect(metrics).toMatchObject({
      layer: 'fc',
      labeler: 'a',
      neurons: 3,
      meanRank: null,
      medianRank: 2,
      notRanked: 1,
      rocAuc: 1,
    });
    expect(metrics.top1Accuracy).toBeCloseTo(1 / 3, 12);
    expect(metrics.top5Accuracy).toBeCloseTo(2 / 3, 12);
    expect(metrics.textSimilarity.clip).toBeCloseTo((1 + Math.SQRT1_2) / 3, 6);
  });
});
