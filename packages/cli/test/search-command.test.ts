import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeNpy } from '@neurodissect/core';
import { resultsFixture } from '@neurodissect/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClipSearch } from '../../../scripts/test-setup/clip-search';
import type { CliIo } from '../src/io';
import { runCli } from '../src/program';

// Expected values were obtained independently with Python's csv module over
// packages/core/test/fixtures/clip-search/layer{1..4}.csv (labels in columns 1-10, scores in
// 11-20), keeping each neuron's best-ranked matching label (then its best score), sorted by score
// (or with --order rank by rank, then score), then unit.

let dir: string;
let resultsPath: string;
// The same document cut to the first 3 neurons of each layer: quicker to load for error paths.
let smallPath: string;

function capture(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    out: () => out,
    err: () => err,
  };
}

async function cli(...argv: string[]) {
  const io = capture();
  const code = await runCli(argv, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nd-search-'));
  const results = loadClipSearch();
  resultsPath = join(dir, 'results.json');
  writeFileSync(resultsPath, JSON.stringify(results));
  smallPath = join(dir, 'small.json');
  const small = { ...results, layers: results.layers.map((l) => ({ ...l, neurons: l.neurons.slice(0, 3) })) };
  writeFileSync(smallPath, JSON.stringify(small));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('neurodissect search', () => {
  it('reproduces Figures 16 and 18 of the CLIP-Dissect report by default', async () => {
    const units = async (concept: string, layers: string) => {
      const { code, stdout } = await cli(
        'search',
        '--results',
        resultsPath,
        '--concept',
        concept,
        '--layers',
        layers,
        '--json',
      );
      expect(code).toBe(0);
      const json = JSON.parse(stdout);
      expect(json.order).toBe('score');
      return json.layers.map((l: { hits: { unit: number }[] }) => l.hits.map((h) => h.unit));
    };
    const [stripes] = await units('stripes', 'layer4');
    expect(stripes.slice(0, 11)).toEqual([1330, 761, 769, 610, 1069, 779, 1173, 853, 1989, 1872, 582]);
    const [layer3, layer4] = await units('dog', 'layer3,layer4');
    expect(layer3).toEqual([144, 120, 837, 427]);
    expect(layer4.slice(0, 3)).toEqual([1802, 1702, 1709]);
  });

  it('offers the closest labels when nothing matches', async () => {
    const { code, stdout } = await cli('search', '--results', resultsPath, '--concept', 'zebar');
    expect(code).toBe(0);
    expect(stdout.split('\n')[1]).toBe(
      'no label is "zebar"; closest: zebra (223 neuron(s)); search one of them, or add --match fuzzy',
    );
    const json = JSON.parse(
      (await cli('search', '--results', resultsPath, '--concept', 'stirped', '--json')).stdout,
    );
    expect(json.closest[0]).toEqual({ label: 'striped', occurrences: 250, distance: 1 });
  });

  it('says when the concept is in the concept set but no neuron has it among its labels', async () => {
    const doc = resultsFixture({
      layers: [
        {
          name: 'layer1',
          neurons: [
            {
              unit: 0,
              topImages: [],
              labels: { 'clip-dissect': [{ label: 'dog', score: 0.3, concept: 0 }] },
            },
          ],
        },
      ],
      concepts: { name: 'words', size: 3, items: ['dog', 'stripes', 'cat'] },
    });
    const file = join(dir, 'unlabelled.json');
    writeFileSync(file, JSON.stringify(doc));
    const { code, stderr } = await cli('search', '--results', file, '--concept', 'Stripes');
    expect(code).toBe(0);
    expect(stderr).toBe(
      'note: "stripes" is in the concept set (3 concepts) but in no neuron\'s top 1 labels; dissect keeps more with --top-labels N\n',
    );
    // A concept outside the set, or one some neuron has, gets no such note.
    expect((await cli('search', '--results', file, '--concept', 'zebra')).stderr).toBe('');
    expect((await cli('search', '--results', file, '--concept', 'dog')).stderr).toBe('');
  });

  it('cuts a label of megabytes to 200 characters in the text report, and keeps it whole in --json', async () => {
    const huge = `dog${'g'.repeat(5_000_000)}`;
    const doc = resultsFixture({
      layers: [
        { name: 'layer1', neurons: [{ unit: 0, topImages: [], labels: { x: [{ label: huge, score: 1 }] } }] },
      ],
    });
    const file = join(dir, 'huge-label.json');
    writeFileSync(file, JSON.stringify(doc));
    const text = await cli(
      'search',
      '--results',
      file,
      '--concept',
      huge.slice(0, 3),
      '--match',
      'fuzzy',
      '--max-distance',
      '0',
    );
    const exact = await cli('search', '--results', file, '--concept', huge);
    expect(exact.code).toBe(0);
    const longest = Math.max(...`${text.stdout}${exact.stdout}`.split('\n').map((line) => line.length));
    expect(longest).toBeLessThan(500);
    expect(exact.stdout).toMatch(/unit 0 {2}dogg+… \(5000003 characters\) {2}rank 1/);
    const json = JSON.parse((await cli('search', '--results', file, '--concept', huge, '--json')).stdout);
    expect(json.layers[0].hits[0].label).toBe(huge);
  });

  it('prints per layer each matching neuron, best rank first with --order rank', async () => {
    const { code, stdout, stderr } = await cli(
      'search',
      '--results',
      resultsPath,
      '--concept',
      'striped',
      '--layers',
      'layer3,layer4',
      '--top',
      '2',
      '--order',
      'rank',
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        '"striped" (exact match, clip-dissect): 122 neuron(s) in 2 of 2 layer(s)',
        'layer3: 70 neuron(s)',
        '  unit 963  striped  rank 1  score 0.2237',
        '  unit 884  striped  rank 2  score 0.2281',
        '  … 68 more (raise --top to see them)',
        'layer4: 52 neuron(s)',
        '  unit 853  striped  rank 1  score 0.3714',
        '  unit  72  striped  rank 1  score 0.1639',
        '  … 50 more (raise --top to see them)',
        '',
      ].join('\n'),
    );
  });

  it('prints the JSON shape of the issue, in the same order', async () => {
    const { code, stdout } = await cli(
      'search',
      '--results',
      resultsPath,
      '--concept',
      'Stripes',
      '--match',
      'stem',
      '--layers',
      'layer4',
      '--top',
      '3',
      '--order',
      'rank',
      '--json',
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      query: 'Stripes',
      match: 'stem',
      order: 'rank',
      layers: [
        {
          layer: 'layer4',
          count: 59,
          hits: [
            { unit: 779, label: 'stripes', rank: 1, score: 0.383758544921875 },
            { unit: 1173, label: 'stripes', rank: 1, score: 0.371429443359375 },
            { unit: 853, label: 'striped', rank: 1, score: 0.371368408203125 },
          ],
        },
      ],
    });
  });

  it('finds a typo with --match fuzzy and lists the matched labels', async () => {
    const { code, stdout } = await cli(
      'search',
      '--results',
      resultsPath,
      '--concept',
      'zebar',
      '--match',
      'fuzzy',
      '--layers',
      'layer4',
      '--top',
      '1',
    );
    expect(code).toBe(0);
    expect(stdout.split('\n').slice(0, 4)).toEqual([
      '"zebar" (fuzzy match, clip-dissect): 42 neuron(s) in 1 of 1 layer(s)',
      'matched labels: zebra (distance 1)',
      'layer4: 42 neuron(s)',
      '  unit 1330  zebra  rank 1  score 0.7256',
    ]);
  });

  /** `search --match semantic` for `concept` in `results`, with `more` options. */
  const semantic = (results: string, concept: string, ...more: string[]) =>
    cli('search', '--results', results, '--concept', concept, '--match', 'semantic', ...more);

  /** Three concepts in 2-D: "zebra" and "striped" point the same way, "dog" is orthogonal. */
  const writeEmbeddings = () => {
    const concepts = join(dir, 'concepts.txt');
    const textEmb = join(dir, 'text.npy');
    writeFileSync(concepts, 'zebra\nstriped\ndog\n');
    writeFileSync(
      textEmb,
      serializeNpy({ dtype: 'float32', dims: [3, 2], data: new Float32Array([1, 0, 0.9, 0.1, 0, 1]) }),
    );
    return { concepts, textEmb };
  };

  it('answers --match semantic from --text-emb and --concepts', async () => {
    const { concepts, textEmb } = writeEmbeddings();
    const { code, stdout, stderr } = await semantic(
      resultsPath,
      'zebra',
      '--layers',
      'layer4',
      '--text-emb',
      textEmb,
      '--concepts',
      concepts,
      '--json',
      '--top',
      '1',
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // Nearest concepts are zebra, striped, dog (all ≥ 0): the union of their layer4 neurons.
    const json = JSON.parse(stdout);
    expect(json.layers[0].hits[0]).toEqual({ unit: 1330, label: 'zebra', rank: 1, score: 0.725616455078125 });
  });

  it('says in CLI terms when the semantic query is not one of the embedded concepts', async () => {
    const { concepts, textEmb } = writeEmbeddings();
    const { code, stderr } = await semantic(
      resultsPath,
      'zebras',
      '--text-emb',
      textEmb,
      '--concepts',
      concepts,
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /^neurodissect: --concept: "zebras" is not among the concepts of \S+concepts\.txt \(the rows of \S+text\.npy\), so it has no embedding to search from; use one of zebra, striped, dog \(closest: zebra\), or embed it \(neurodissect embed --concepts\) and add it to both files\n$/,
    );
    // No API names (embedText, queryEmbedding) reach a command-line user.
    expect(stderr).not.toMatch(/embedText|queryEmbedding|createSearchIndex/);
  });

  it('names a --text-emb row that holds NaN or only zeros, with its concept', async () => {
    const concepts = join(dir, 'broken-concepts.txt');
    writeFileSync(concepts, 'zebra\nstriped\n');
    const run = async (data: number[]) => {
      const textEmb = join(dir, 'broken.npy');
      writeFileSync(textEmb, serializeNpy({ dtype: 'float32', dims: [2, 2], data: new Float32Array(data) }));
      return semantic(smallPath, 'zebra', '--text-emb', textEmb, '--concepts', concepts);
    };
    expect(await run([1, 0, Number.NaN, 1])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(
        /^neurodissect: --text-emb: row 1 of \S+broken\.npy \("striped"\) holds NaN or ±Infinity; embed that concept again\n$/,
      ),
    });
    expect(await run([0, 0, 1, 1])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(
        /^neurodissect: --text-emb: row 0 of \S+broken\.npy \("zebra"\) is all zeros/,
      ),
    });
  });

  it('explains how to enable semantic search', async () => {
    const { code, stderr } = await semantic(smallPath, 'zebra');
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /^neurodissect: --match semantic needs concept embeddings: add --text-emb T\.npy .* and --concepts FILE/,
    );
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names the existing layers and labelers on a typo', async () => {
    const layer = await cli('search', '--results', smallPath, '--concept', 'zebra', '--layers', 'layer9');
    expect(layer.code).toBe(2);
    expect(layer.stderr).toBe(
      'neurodissect: Unknown layer "layer9"; use one of layer1, layer2, layer3, layer4 (closest: layer4).\n',
    );
    const labeler = await cli(
      'search',
      '--results',
      smallPath,
      '--concept',
      'zebra',
      '--labeler',
      'clipdissect',
    );
    expect(labeler.code).toBe(2);
    expect(labeler.stderr).toBe(
      'neurodissect: Unknown labeler "clipdissect"; use one of clip-dissect (closest: clip-dissect).\n',
    );
  });

  it('reports a missing or invalid Results file in one line', async () => {
    const missing = await cli('search', '--results', join(dir, 'nope.json'), '--concept', 'zebra');
    expect(missing).toMatchObject({
      code: 2,
      stderr: `neurodissect: --results: file not found: ${join(dir, 'nope.json')}\n`,
    });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'neurodissect.results', version: 1 }));
    const invalid = await cli('search', '--results', bad, '--concept', 'zebra');
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(
      /^neurodissect: --results: .*bad\.json is not a valid Results document \(\d+ problem\(s\), first: .*\); run "neurodissect validate .*bad\.json" to list them\n$/,
    );
  });
});

describe('neurodissect neuron', () => {
  it('prints the labels and top images of layer4 unit 1802', async () => {
    const { code, stdout } = await cli(
      'neuron',
      '--results',
      resultsPath,
      '--layer',
      'layer4',
      '--unit',
      '1802',
    );
    expect(code).toBe(0);
    // Row 1802 of layer4.csv.
    expect(stdout.split('\n').slice(0, 5)).toEqual([
      'layer4 unit 1802',
      'labels (clip-dissect):',
      '   1. bloodhound  0.3242',
      '   2. retriever  0.3239',
      '   3. dog  0.3107',
    ]);
    expect(stdout).toContain('top images (20):\n   1. data/broden1_224/images/pascal/2010_003186.jpg\n');
  });

  it('prints JSON', async () => {
    const { code, stdout } = await cli(
      'neuron',
      '--results',
      smallPath,
      '--layer',
      'layer4',
      '--unit',
      '1',
      '--json',
    );
    expect(code).toBe(0);
    const neuron = JSON.parse(stdout);
    // Row 1 of layer4.csv (head -3 layer4.csv).
    expect(neuron).toMatchObject({ layer: 'layer4', unit: 1, issues: [] });
    expect(neuron.labels['clip-dissect'][0]).toEqual({ label: 'regard', score: 0.21240234375 });
    expect(neuron.topImages[0]).toMatchObject({ uri: 'data/broden1_224/images/dtd/freckled_0062.jpg' });
  });

  it('names what exists for an unknown layer or unit', async () => {
    const layer = await cli('neuron', '--results', smallPath, '--layer', 'layr4', '--unit', '3');
    expect(layer).toMatchObject({
      code: 2,
      stderr:
        'neurodissect: Unknown layer "layr4"; use one of layer1, layer2, layer3, layer4 (closest: layer4).\n',
    });
    const unit = await cli('neuron', '--results', smallPath, '--layer', 'layer1', '--unit', '256');
    expect(unit).toMatchObject({
      code: 2,
      stderr: 'neurodissect: Layer layer1 has no unit 256; its units are 0–2.\n',
    });
  });
});
