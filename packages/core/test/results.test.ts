import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createResults,
  ErrorCode,
  importClipSearchCsv,
  parseResults,
  RESULTS_VERSION,
  type Results,
  resultsJsonSchema,
  validateResults,
} from '../src/index';

function sample(): Results {
  return createResults({
    run: {
      tool: { name: 'neurodissect', version: '0.1.0' },
      createdAt: '2026-11-26T06:00:00.000Z',
      kind: 'score',
      runtime: { name: 'node', executionProvider: 'cpu' },
      parameters: { similarity: 'soft_wpmi' },
    },
    model: { name: 'resnet18', hash: 'sha256:ab12' },
    probe: {
      name: 'probe',
      images: [
        { id: 'a', uri: 'a.jpg' },
        { id: 'b', uri: 'b.jpg' },
      ],
    },
    concepts: { name: 'tiny', size: 2, items: ['dog', 'cat'] },
    labelers: [{ id: 'clip-dissect', version: '1', options: { topK: 100 } }],
    layers: [
      {
        name: 'layer4',
        units: 2,
        summary: 'mean',
        neurons: [
          {
            unit: 0,
            topImages: [{ image: 1, activation: 2.5 }],
            labels: { 'clip-dissect': [{ label: 'dog', score: 3.1, concept: 0 }] },
          },
          {
            unit: 1,
            topImages: [{ image: 0, activation: 1 }],
            labels: { 'clip-dissect': [{ label: 'cat', score: 1.2, concept: 1 }] },
          },
        ],
      },
    ],
  });
}

describe('the Results document', () => {
  it('accepts a valid document and reports its version', () => {
    const doc = sample();
    expect(parseResults(JSON.stringify(doc))).toEqual(doc);
    expect(validateResults(doc)).toMatchObject({ ok: true, version: RESULTS_VERSION });
  });

  it('lists every problem with its JSON path', () => {
    const doc = sample() as unknown as {
      layers: {
        neurons: { unit: number; topImages: { image: number }[]; labels: Record<string, unknown> }[];
      }[];
    };
    doc.layers[0].neurons[0].topImages[0].image = 9;
    doc.layers[0].neurons[1].unit = 0;
    (doc.layers[0].neurons[1].labels as Record<string, unknown>).other = [];
    (doc.layers[0].neurons[0].labels['clip-dissect'] as { score: unknown }[])[0].score = 'high';
    const result = validateResults(doc);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual(
      expect.arrayContaining([
        {
          path: 'layers[0].neurons[0].labels.clip-dissect[0].score',
          message: expect.stringMatching(/expected number/),
        },
      ]),
    );
    // Cross-field checks run once the shapes are right.
    (doc.layers[0].neurons[0].labels['clip-dissect'] as { score: unknown }[])[0].score = 1;
    const again = validateResults(doc);
    expect(again.ok ? [] : again.issues).toEqual([
      {
        path: 'layers[0].neurons[0].topImages[0].image',
        message: 'image index 9 is outside probe.images (2 images)',
      },
      { path: 'layers[0].neurons[1].unit', message: 'unit 0 appears twice' },
      { path: 'layers[0].neurons[1].labels.other', message: 'labeler "other" is not listed in labelers' },
    ]);
    expect(() => parseResults(doc, 'r.json')).toThrow(
      /r.json is not a valid Results document:\n {2}layers\[0\]/,
    );
  });

  it('rejects documents whose parts disagree: concept indices, duplicate layers, the concept list', () => {
    const doc = sample();
    doc.layers.push(structuredClone(doc.layers[0]));
    doc.layers[0].neurons[0].labels['clip-dissect'][0].concept = 7;
    doc.layers[0].neurons[1].labels['clip-dissect'][0].concept = 0;
    doc.concepts.items = ['dog', 'cat', 'bird'];
    const result = validateResults(doc);
    expect(result.ok ? [] : result.issues).toEqual([
      { path: 'concepts.items', message: 'lists 3 concepts but concepts.size is 2' },
      {
        path: 'layers[0].neurons[0].labels.clip-dissect[0].concept',
        message: 'concept index 7 is outside the concept set (2 concepts)',
      },
      {
        path: 'layers[0].neurons[1].labels.clip-dissect[0].concept',
        message: 'concept index 0 is "dog" in the concept set, but the label says "cat"',
      },
      { path: 'layers[1].name', message: 'layer "layer4" appears twice' },
    ]);
  });

  it('reads version 1 through its migration and checks it as version 1', () => {
    const v1 = { ...sample(), version: 1 };
    const read = validateResults(v1);
    expect(read).toMatchObject({ ok: true, version: 2, migratedFrom: 1 });
    expect(read.ok && read.results).toEqual({ ...v1, version: 2 });
    // Trust figures belong to version 2: a version-1 file that claims them is refused, by path.
    const claims = structuredClone(v1) as Results;
    claims.layers[0].neurons[0].trust = { 'clip-dissect': { significance: { p: 0.01, q: 0.02 } } };
    expect(validateResults(claims)).toEqual({
      ok: false,
      version: 1,
      issues: [{ path: 'version', message: 'a version-1 document has no "trust" figures; write version 2' }],
    });
    const broken = { ...v1, layers: [{ ...v1.layers[0], units: -1 }] };
    const refused = validateResults(broken);
    expect(refused).toMatchObject({ ok: false, version: 1 });
    expect(!refused.ok && refused.issues[0]).toEqual({
      path: 'layers[0].units',
      message: 'Too small: expected number to be >=0',
    });
  });

  it('carries trust per neuron and layer in version 2, for listed labelers only', () => {
    const doc = sample();
    doc.layers[0].neurons[0].trust = {
      'clip-dissect': {
        significance: { p: 0.001, q: 0.002 },
        stability: { top1: 0.9, top5: 1, resamples: 10 },
      },
    };
    doc.layers[0].trust = {
      'clip-dissect': {
        significant: 1,
        tested: 2,
        heldOut: { correlation: 0.3, baseline: 0.1, folds: 2, neurons: 2 },
      },
    };
    expect(parseResults(doc)).toEqual(doc);
    doc.layers[0].neurons[1].trust = { 'clip-avg': { heldOut: { correlation: 0.2 } } };
    expect(validateResults(doc)).toMatchObject({
      ok: false,
      issues: [
        {
          path: 'layers[0].neurons[1].trust.clip-avg',
          message: 'labeler "clip-avg" is not listed in labelers',
        },
      ],
    });
  });

  it('gives coded errors for other formats, bad JSON and newer versions', () => {
    expect(validateResults({ format: 'other' })).toEqual({
      ok: false,
      issues: [{ path: 'format', message: 'expected "neurodissect.results", found "other"' }],
    });
    expect(() => parseResults('{ nope', 'x.json')).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidResults }),
    );
    expect(() => parseResults({ ...sample(), version: RESULTS_VERSION + 1 })).toThrow(
      expect.objectContaining({
        code: ErrorCode.UnsupportedVersion,
        message: expect.stringMatching(/upgrade @neurodissect\/core/),
      }),
    );
  });

  it('exports a JSON Schema', () => {
    const schema = resultsJsonSchema();
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect((schema.required as string[]).sort()).toEqual(
      ['concepts', 'failures', 'format', 'labelers', 'layers', 'model', 'probe', 'run', 'version'].sort(),
    );
    expect(schema.$id).toBe('urn:neurodissect:schema:results-v2');
    // The published file is this schema (regenerate it with `pnpm --filter @neurodissect/core schema`).
    const published = JSON.parse(readFileSync(new URL('../schema/results-v2.json', import.meta.url), 'utf8'));
    expect(published).toEqual(resultsJsonSchema());
  });
});

describe('import of the report website CSVs (clip-search)', () => {
  const layers = [1, 2, 3, 4].map((i) => ({
    layer: `layer${i}`,
    text: readFileSync(new URL(`./fixtures/clip-search/layer${i}.csv`, import.meta.url), 'utf8'),
  }));

  it('builds one valid document with every neuron, its labels and its top images', () => {
    const doc = parseResults(importClipSearchCsv(layers, { createdAt: '2026-11-26T00:00:00Z' }));
    // Counts from Python's csv module over the fixtures: rows per file, distinct image paths overall.
    expect(doc.layers.map((l) => [l.name, l.units, l.neurons.length])).toEqual([
      ['layer1', 256, 256],
      ['layer2', 512, 512],
      ['layer3', 1024, 1024],
      ['layer4', 2048, 2048],
    ]);
    expect(doc.probe.images).toHaveLength(20875);
    const n1802 = doc.layers[3].neurons[1802];
    expect(n1802.labels['clip-dissect'].slice(0, 3)).toEqual([
      { label: 'bloodhound', score: 0.324188232421875 },
      { label: 'retriever', score: 0.323944091796875 },
      { label: 'dog', score: 0.3106689453125 },
    ]);
    expect(doc.probe.images[doc.layers[0].neurons[0].topImages[0].image].uri).toBe(
      'data/broden1_224/images/dtd/woven_0005.jpg',
    );
    expect(doc.layers[0].neurons[0].topImages).toHaveLength(20);
  });

  it('names file and line of a malformed row, or skips it when lenient', () => {
    const header = `,${Array.from({ length: 40 }, (_, i) => i).join(',')}`;
    const good = layers[0].text.split('\n')[1];
    const bad = good.replace(',0.433563232421875,', ',high,');
    const text = `${header}\n${good}\n${bad.replace(/^0,/, '1,')}\n`;
    expect(() => importClipSearchCsv([{ layer: 'layer1', text, source: 'l1.csv' }])).toThrow(
      'l1.csv:3: score 1 "high" is not a number',
    );
    const skipped: string[] = [];
    const doc = importClipSearchCsv([{ layer: 'layer1', text, source: 'l1.csv' }], {
      lenient: true,
      onSkip: (m) => skipped.push(m),
    });
    expect(doc.layers[0].neurons.map((n) => n.unit)).toEqual([0]);
    expect(skipped).toEqual(['l1.csv:3: score 1 "high" is not a number']);
  });
});
