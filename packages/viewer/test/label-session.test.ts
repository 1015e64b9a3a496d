import { resultsFixture } from '@neurodissect/core/testing';
import { formatGroundTruthCsv, parseGroundTruth } from '@neurodissect/eval';
import { describe, expect, it } from 'vitest';
import {
  createLabelSession,
  decide,
  drawSample,
  exportRows,
  importGroundTruth,
  type LabelSession,
  labelledCount,
  labelOrder,
  nextUnlabelled,
  primaryLabeler,
  resultsIdentity,
  undo,
} from '../src/app/label-session';
import { siteContentFromResults } from '../src/site-content';
import type { SiteManifest } from '../src/site-data';

/** Layers a (units 0-9) and b (units 0-3), labeler `votes` without scores listed first, then `x`. */
async function manifest(createdAt = '2024-01-01T00:00:00Z'): Promise<SiteManifest> {
  const neurons = (n: number) =>
    Array.from({ length: n }, (_, unit) => ({ unit, labels: { x: [{ label: `w${unit}`, score: 0.5 }] } }));
  const results = resultsFixture({
    labelers: [{ id: 'votes', version: '1', options: { scores: false } }, 'x'],
    concepts: { name: 'words', size: 3, items: ['red', 'striped', 'dog'] },
    run: { createdAt },
    layers: [
      { name: 'a', neurons: neurons(10) },
      { name: 'b', neurons: neurons(4) },
    ],
  });
  const content = await siteContentFromResults(results, { image: () => ({ uri: 'x.png' }) });
  expect(content.manifest.conceptList).toBe('concepts');
  expect(content.concepts?.concepts).toEqual(['red', 'striped', 'dog']);
  return content.manifest;
}

const offered = (label: string) => ({ label, how: 'offered' as const, blind: false });
const none = { label: null, how: 'non-interpretable' as const, blind: true };

describe('label mode sessions', () => {
  it("identifies a Results document by its content, and offers the first scored labeler's labels", async () => {
    const m = await manifest();
    expect(resultsIdentity(m)).toMatch(/^[0-9a-f]{16}$/);
    expect(resultsIdentity(await manifest())).toBe(resultsIdentity(m));
    expect(resultsIdentity(await manifest('2024-01-02T00:00:00Z'))).not.toBe(resultsIdentity(m));
    expect(primaryLabeler(m)).toBe('x');
  });

  it('draws the same seeded sample every time, within each layer, smaller layers whole', async () => {
    const m = await manifest();
    const sample = drawSample(m.layers, 3, 42);
    expect(drawSample(m.layers, 3, 42)).toEqual(sample);
    expect(drawSample(m.layers, 3, 43)).not.toEqual(sample);
    expect(sample.units.a).toHaveLength(3);
    expect(new Set(sample.units.a).size).toBe(3);
    for (const unit of sample.units.a) expect(m.layers[0].unitList).toContain(unit);
    expect(drawSample(m.layers, 5, 42).units.b.sort()).toEqual([0, 1, 2, 3]);
    expect(() => drawSample(m.layers, 0, 1)).toThrow(RangeError);
  });

  it('moves on to the next unlabelled neuron, and undo restores what a decision replaced', async () => {
    const m = await manifest();
    let s = createLabelSession(resultsIdentity(m), 'ann');
    const order = labelOrder(s, m.layers[0]);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    s = decide(s, 'a', 0, offered('w0'));
    s = decide(s, 'a', 2, offered('w2'));
    expect(nextUnlabelled(s, 'a', order, 0)).toBe(1);
    expect(nextUnlabelled(s, 'a', order, 1)).toBe(3);
    s = decide(s, 'a', 2, none);
    expect(labelledCount(s, 'a', order)).toBe(2);
    const first = undo(s)!;
    expect(first).toMatchObject({ layer: 'a', unit: 2 });
    expect(first.session.decisions['a\u00002']).toEqual(offered('w2'));
    const second = undo(first.session)!;
    expect(second.session.decisions['a\u00002']).toBeUndefined();
    expect(labelledCount(second.session, 'a', order)).toBe(1);
    expect(undo(undo(second.session)!.session)).toBeUndefined();
  });

  it('exports what eval reads, a sample recorded in the header, and imports it back', async () => {
    const m = await manifest();
    const sample = drawSample(m.layers, 2, 7);
    let s: LabelSession = { ...createLabelSession(resultsIdentity(m), 'ann'), sample };
    const [a1, a2] = sample.units.a;
    s = decide(s, 'a', a2, offered(`w${a2}`));
    s = decide(s, 'a', a1, none);
    // A neuron outside the sample is not exported.
    const outside = m.layers[0].unitList.find((u) => !sample.units.a.includes(u))!;
    s = decide(s, 'a', outside, offered('cat'));
    const { rows, annotation } = exportRows(s, m);
    expect(rows).toEqual(
      [
        { layer: 'a', unit: a1, label: null },
        { layer: 'a', unit: a2, label: `w${a2}` },
      ].sort((x, y) => x.unit - y.unit),
    );
    expect(annotation).toEqual({
      annotator: 'ann',
      blindNeurons: 1,
      shownLabeler: 'x',
      sample: {
        seed: 7,
        perLayer: 2,
        layers: [
          { layer: 'a', drawn: 2, of: 10 },
          { layer: 'b', drawn: 2, of: 4 },
        ],
      },
      results: { model: 'fixture', createdAt: '2024-01-01T00:00:00Z' },
    });
    const truth = parseGroundTruth(formatGroundTruthCsv(rows, annotation), { source: 'gt.csv' });
    expect(truth.annotation).toEqual(annotation);

    const fresh = createLabelSession(resultsIdentity(m), 'bob');
    const imported = importGroundTruth(
      fresh,
      { ...truth, entries: [...truth.entries, { layer: 'zz', unit: 0, label: 'x' }] },
      m,
    );
    expect(imported).toMatchObject({ imported: 2, unknown: 1 });
    expect(imported.session.sample).toEqual(sample);
    expect(exportRows(imported.session, m).rows).toEqual(rows);
  });
});
