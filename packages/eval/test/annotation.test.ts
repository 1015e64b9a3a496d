import type { ScoredLabel } from '@neurodissect/core';
import { resultsFixture } from '@neurodissect/core/testing';
import { describe, expect, it } from 'vitest';
import {
  agreedGroundTruth,
  annotatorAgreement,
  evaluateResults,
  formatGroundTruthCsv,
  formatMarkdownReport,
  type GroundTruthAnnotation,
  parseGroundTruth,
  wilsonInterval,
} from '../src/index';

// Every expected number below was worked out by hand (and checked with Python's decimal module at
// 30 digits), never by the code under test: for the Wilson interval of x/n at z = 1.96,
// centre = (x + 1.9208)/(n + 3.8416), half-width = 1.96·sqrt(x(n−x)/n + 0.9604)/(n + 3.8416).

describe('wilsonInterval', () => {
  it('equals the hand computation', () => {
    const three = wilsonInterval(3, 8)!;
    expect(three.estimate).toBe(0.375);
    expect(three.low).toBeCloseTo(0.136841759461521, 12);
    expect(three.high).toBeCloseTo(0.694262145416198, 12);
    const seven = wilsonInterval(7, 12)!;
    expect(seven.low).toBeCloseTo(0.319507335655373, 12);
    expect(seven.high).toBeCloseTo(0.806742538094753, 12);
  });

  it('stays inside [0, 1] at the ends and is null for no trials', () => {
    const none = wilsonInterval(0, 5)!;
    expect(none.low).toBe(0);
    expect(none.high).toBeCloseTo(0.434491494752081, 12);
    const all = wilsonInterval(5, 5)!;
    expect(all.low).toBeCloseTo(0.565508505247919, 12);
    expect(all.high).toBeCloseTo(1, 12);
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(() => wilsonInterval(6, 5)).toThrow(RangeError);
  });
});

describe('ground truth files with an annotation comment', () => {
  const annotation: GroundTruthAnnotation = {
    annotator: 'alice',
    blindNeurons: 2,
    shownLabeler: 'a',
    sample: { seed: 7, perLayer: 2, layers: [{ layer: 'L', drawn: 2, of: 20 }] },
    results: { model: 'fixture', createdAt: '2024-01-01T00:00:00Z' },
  };

  it('round-trips through the CSV eval reads, labels with commas and quotes included', () => {
    const text = formatGroundTruthCsv(
      [
        { layer: 'L', unit: 3, label: 'dog, "big"' },
        { layer: 'L', unit: 5, label: null },
      ],
      annotation,
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe(
      "# ground truth by alice: 2 neurons, labelled blind (no labeler's labels shown), a random sample of 2 per layer (seed 7), of fixture dissected 2024-01-01T00:00:00Z",
    );
    expect(lines[1]).toMatch(/^# neurodissect-annotation: \{/);
    expect(lines.slice(2)).toEqual(['layer,unit,label', 'L,3,"dog, ""big"""', 'L,5,', '']);
    const parsed = parseGroundTruth(text, { source: 'gt.csv' });
    expect(parsed.entries).toEqual([
      { layer: 'L', unit: 3, label: 'dog, "big"' },
      { layer: 'L', unit: 5, label: null },
    ]);
    expect(parsed.annotation).toEqual(annotation);
  });

  it('names the file and line of a broken annotation and of a row after the comments', () => {
    expect(() =>
      parseGroundTruth('# neurodissect-annotation: {oops\nlayer,unit,label\n', { source: 'gt.csv' }),
    ).toThrow(/^gt\.csv: line 1: the annotation comment is not valid JSON/);
    expect(() =>
      parseGroundTruth(
        '# neurodissect-annotation: {"sample":{"seed":1,"perLayer":0,"layers":[]}}\nlayer,unit,label\n',
        {
          source: 'gt.csv',
        },
      ),
    ).toThrow('gt.csv: line 1: the annotation comment has a sample perLayer that is not a positive count.');
    expect(() => parseGroundTruth('# a note\nlayer,unit,label\nL,x,cat\n', { source: 'gt.csv' })).toThrow(
      'gt.csv:3: unit "x" is not a non-negative integer.',
    );
    expect(() => parseGroundTruth('# a note\nlayers,unit,label\n', { source: 'gt.csv' })).toThrow(
      'gt.csv:2: expected the header "layer,unit,label"',
    );
  });
});

const l = (label: string, score: number): ScoredLabel => ({ label, score });

/** Layer L with 20 neurons; labeler a gives unit i the labels c<i>, d<i>, e<i>. */
function twentyNeurons() {
  return resultsFixture({
    labelers: ['a'],
    layers: [
      {
        name: 'L',
        neurons: Array.from({ length: 20 }, (_, unit) => ({
          unit,
          labels: { a: [l(`c${unit}`, 0.5), l(`d${unit}`, 0.4), l(`e${unit}`, 0.3)] },
        })),
      },
    ],
  });
}

describe('a sampled ground truth', () => {
  // 8 of the 20 neurons: 0-2 top-1 correct, 3 correct at rank 2, 4 wrong, 5-7 non-interpretable.
  const csv = formatGroundTruthCsv(
    [
      ...[0, 1, 2].map((unit) => ({ layer: 'L', unit, label: `c${unit}` })),
      { layer: 'L', unit: 3, label: 'd3' },
      { layer: 'L', unit: 4, label: 'zebra' },
      ...[5, 6, 7].map((unit) => ({ layer: 'L', unit, label: null })),
    ],
    {
      annotator: 'alice',
      blindNeurons: 8,
      sample: { seed: 3, perLayer: 8, layers: [{ layer: 'L', drawn: 8, of: 20 }] },
    },
  );

  it('gives Table 1 with Wilson intervals equal to the hand computation, as a sample of 8 of 20', () => {
    const report = evaluateResults(twentyNeurons(), {
      groundTruth: parseGroundTruth(csv, { source: 'gt.csv' }),
    });
    expect(report.labelers[0].layers[0].accuracy).toMatchObject({
      top1: 3,
      top3: 4,
      top5: 4,
      incorrect: 1,
      nonInterpretable: 3,
      total: 8,
    });
    const intervals = report.annotation!.intervals;
    expect(intervals).toHaveLength(1);
    const i = intervals[0];
    expect(i).toMatchObject({ labeler: 'a', layer: 'L', sample: { judged: 8, of: 20 } });
    expect(i.top1!.low).toBeCloseTo(0.136841759461521, 12);
    expect(i.top1!.high).toBeCloseTo(0.694262145416198, 12);
    expect(i.top3!.low).toBeCloseTo(0.215212526824442, 12);
    expect(i.top3!.high).toBeCloseTo(0.784787473175558, 12);
    expect(i.nonInterpretable!.low).toBeCloseTo(0.136841759461521, 12);
    expect(i.top5Interpretable!.low).toBeCloseTo(0.375528264118539, 12);
    expect(i.top5Interpretable!.high).toBeCloseTo(0.963776839030213, 12);
    expect(report.annotation!.blind).toBe(true);

    const markdown = formatMarkdownReport(report);
    expect(markdown).toContain('| a | L | 8 of 20 | 0.375 \\[0.137, 0.694\\] | 0.500 \\[0.215, 0.785\\] |');
    expect(markdown).toContain(
      "labelled blind: no labeler's labels or scores were shown, so every labeler is judged against labels none of them suggested",
    );
    expect(markdown).toContain('alice labelled a random sample of 8 neurons per layer (seed 3; L 8 of 20)');
  });
});

describe('two annotators', () => {
  // Planted: units 0-9 labelled by both. A calls 0-6 interpretable, B 0-4 and 7. Of 0-4 (both
  // interpretable) 0, 1 and 3 get the same label up to word forms, 2 and 4 do not. B also labels
  // unit 10, which A did not: it is outside the agreement.
  // Counted by hand: both interpretable 5, A only 2 (5, 6), B only 1 (7), both non 2 (8, 9).
  // p_o = 7/10; p_e = 0.7·0.6 + 0.3·0.4 = 0.54; κ = 0.16/0.46 = 0.347826…; label agreement 3/5.
  const a = parseGroundTruth(
    '# neurodissect-annotation: {"annotator":"ann"}\nlayer,unit,label\nL,0,c0\nL,1,striped\nL,2,dog\nL,3,Red\nL,4,sky\nL,5,c5\nL,6,c6\nL,7,\nL,8,\nL,9,\n',
    { source: 'a.csv' },
  );
  const b = parseGroundTruth(
    'layer,unit,label\nL,0,c0\nL,1,stripes\nL,2,car\nL,3,red\nL,4,sea\nL,5,\nL,6,\nL,7,d7\nL,8,\nL,9,\nL,10,c10\n',
    { source: 'b.csv' },
  );

  it("gives Cohen's κ and the label agreement computed by hand", () => {
    const [agreement] = annotatorAgreement(a, b);
    expect(agreement).toMatchObject({
      layer: 'L',
      annotators: ['ann', 'b.csv'],
      neurons: 10,
      bothInterpretable: 5,
      bothNonInterpretable: 2,
      onlyFirst: 2,
      onlySecond: 1,
      sameLabel: 3,
      labelAgreement: 0.6,
    });
    expect(agreement.observed).toBeCloseTo(0.7, 12);
    expect(agreement.expected).toBeCloseTo(0.54, 12);
    expect(agreement.kappa).toBeCloseTo(0.347826086956522, 12);
  });

  it('judges the agreed neurons in the tables, and each annotator alone beside them', () => {
    expect(agreedGroundTruth([a, b]).entries.map((e) => e.unit)).toEqual([0, 1, 3, 8, 9]);
    const report = evaluateResults(twentyNeurons(), { groundTruth: [a, b] });
    // Agreed: 0 (c0, top-1), 1, 3 (not among a's labels), 8, 9 non-interpretable.
    expect(report.labelers[0].layers[0].accuracy).toMatchObject({
      top1: 1,
      incorrect: 2,
      nonInterpretable: 2,
      total: 5,
    });
    expect(report.groundTruth).toMatchObject({ neurons: 5, nonInterpretable: 2 });
    const annotation = report.annotation!;
    expect(annotation.basis).toBe('agreed');
    expect(annotation.agreement.map((g) => g.kappa)).toHaveLength(1);
    // Against A alone: 0, 5, 6 top-1 (c0, c5, c6); against B alone: 0, 7 (d7 at rank 2), 10.
    const [first, second] = annotation.perAnnotator;
    expect(first.annotator).toBe('ann');
    expect(first.labelers[0].layers[0].accuracy).toMatchObject({ top1: 3, top3: 3, total: 10 });
    expect(second.labelers[0].layers[0].accuracy).toMatchObject({ top1: 2, top3: 3, total: 11 });
    const markdown = formatMarkdownReport(report);
    expect(markdown).toContain(
      '| L | ann / b.csv | 10 | 5 | 2 | 2 | 1 | 0.700 | 0.540 | 0.348 | 3 | 0.600 |',
    );
    expect(markdown).toContain('#### Table 1 against ann alone');
  });

  it('leaves κ undefined when both annotators give one answer throughout', () => {
    const all = parseGroundTruth('layer,unit,label\nL,0,c0\nL,1,c1\n');
    const [agreement] = annotatorAgreement(all, all);
    expect(agreement.kappa).toBeNull();
    expect(agreement.labelAgreement).toBe(1);
  });
});
