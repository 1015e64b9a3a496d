import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseResults, type Results } from '@neurodissect/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import type { CliIo } from '../src/io';
import { runCli } from '../src/program';

const CLIP_SEARCH = fixturePath('core', 'clip-search');
const REFERENCE = fixturePath('eval', 'clip-dissect');

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

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nd-import-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function runImport(
  args: string[],
): Promise<{ code: number; io: ReturnType<typeof capture>; results?: Results }> {
  const io = capture();
  const out = join(dir, `${args[0]}-${Math.random().toString(36).slice(2)}.json`);
  const code = await runCli(['import', ...args, '--out', out], io);
  const results = code === 0 ? parseResults(await readFile(out, 'utf8')) : undefined;
  return { code, io, results };
}

// Expected counts and values were read from the CSVs with Python's csv module (not with this code):
// e.g. `collections.Counter(row[0] for row in csv.reader(open(F))[1:])` per layer.
describe('neurodissect import', () => {
  it('imports the clip-search CSVs with top-10 labels and top images', async () => {
    const { code, io, results } = await runImport(['clip-search', CLIP_SEARCH]);
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    expect(results!.layers.map((l) => [l.name, l.units, l.neurons.length])).toEqual([
      ['layer1', 256, 256],
      ['layer2', 512, 512],
      ['layer3', 1024, 1024],
      ['layer4', 2048, 2048],
    ]);
    // layer1.csv row 2 (neuron 0): purple 0.433563232421875, …, first image dtd/woven_0005.jpg.
    const n0 = results!.layers[0].neurons[0];
    expect(n0.labels['clip-dissect'][0]).toEqual({ label: 'purple', score: 0.433563232421875 });
    expect(n0.labels['clip-dissect']).toHaveLength(10);
    expect(results!.probe.images[n0.topImages[0].image].uri).toBe(
      'data/broden1_224/images/dtd/woven_0005.jpg',
    );
    expect(io.out()).toMatch(/4 layer\(s\), 3840 neurons/);
    // The Broden paths are kept, and the output says how to show the images.
    expect(io.out()).toContain(
      `image paths are kept as the files give them (e.g. ${results!.probe.images[0].uri}): neurodissect site --image-base URL`,
    );
    expect(results!.probe.images[0].uri).toMatch(/^data\/broden1_224\/images\//);
  });

  it("imports CLIP-Dissect's descriptions.csv", async () => {
    const { code, results } = await runImport([
      'clip-dissect',
      join(REFERENCE, 'resnet50_imagenet_broden.csv'),
    ]);
    expect(code).toBe(0);
    expect(results!.layers.map((l) => [l.name, l.neurons.length])).toEqual([
      ['conv1', 64],
      ['layer1', 256],
      ['layer2', 512],
      ['layer3', 1024],
      ['layer4', 2048],
    ]);
    // Row 2: conv1,0,red,0.25616455
    expect(results!.layers[0].neurons[0].labels['clip-dissect']).toEqual([
      { label: 'red', score: 0.25616455 },
    ]);
  });

  it('imports a Network Dissection tally with 1-based units as 0-based, layer from the file name', async () => {
    const { code, results } = await runImport([
      'netdissect',
      join(REFERENCE, 'netdissect_resnet50_imagenet_layer4.head100.csv'),
    ]);
    expect(code).toBe(0);
    expect(results!.layers.map((l) => [l.name, l.units, l.neurons.length])).toEqual([['layer4', 100, 100]]);
    // Tally unit 1: label body (score 0.042096571), then the category labels by IoU, body not repeated,
    // `-s`/`-c` suffixes dropped: bottle .03599721, metal .011334, grooved .009855927, game_room .008650713, grey .005453371.
    expect(results!.layers[0].neurons[0].labels.netdissect).toEqual([
      { label: 'body', score: 0.042096571 },
      { label: 'bottle', score: 0.03599721 },
      { label: 'metal', score: 0.011334 },
      { label: 'grooved', score: 0.009855927 },
      { label: 'game_room', score: 0.008650713 },
      { label: 'grey', score: 0.005453371 },
    ]);
  });

  it('imports MILAN descriptions as an unscored labeler', async () => {
    const { code, results } = await runImport(['milan', join(REFERENCE, 'milan_base_resnet50_imagenet.csv')]);
    expect(code).toBe(0);
    expect(results!.layers.map((l) => [l.name, l.neurons.length])).toEqual([
      ['conv1', 64],
      ['fc', 1000],
      ['layer1', 256],
      ['layer2', 512],
      ['layer3', 1024],
      ['layer4', 2048],
    ]);
    expect(results!.labelers).toEqual([{ id: 'milan', version: 'imported', options: { scores: false } }]);
    expect(results!.layers[1].neurons[35].labels.milan[0].label).toBe('Animals');
  });

  it('names file and line of a malformed row, and skips it under --lenient', async () => {
    const file = join(dir, 'bad.csv');
    await writeFile(
      file,
      'layer,unit,description,similarity\nconv1,0,red,0.25\nconv1,x,blue,0.2\nconv1,2,"green",oops\nconv1,3,grey,0.1\n',
    );
    const strict = await runImport(['clip-dissect', file]);
    expect(strict.code).toBe(2);
    expect(strict.io.err()).toBe(
      `neurodissect: ${file}:3: unit "x" is not a non-negative integer. (use --lenient to skip malformed rows)\n`,
    );
    const lenient = await runImport(['clip-dissect', file, '--lenient']);
    expect(lenient.code).toBe(0);
    expect(lenient.io.err()).toBe(
      `skipped: ${file}:3: unit "x" is not a non-negative integer.\nskipped: ${file}:4: similarity "oops" is not a number.\n`,
    );
    expect(lenient.results!.layers[0].neurons.map((n) => n.unit)).toEqual([0, 3]);
    expect(lenient.io.out()).toMatch(/skipped 2 malformed row\(s\)/);
  });

  it('reports a repeated neuron, a bad header and missing inputs in one line', async () => {
    const dup = join(dir, 'dup.csv');
    await writeFile(dup, 'layer,unit,description\nfc,1,a\nfc,1,b\n');
    const repeated = await runImport(['milan', dup]);
    expect(repeated.code).toBe(2);
    expect(repeated.io.err()).toContain(`${dup}:3: fc unit 1 appears twice.`);
    const broden = join(REFERENCE, 'resnet50_imagenet_broden.csv');
    const header = await runImport(['milan', broden]);
    expect(header.code).toBe(2);
    expect(header.io.err()).toBe(
      `neurodissect: ${broden}:1: expected the header "layer,unit,description", found "layer,unit,description,similarity"; is this the right import format? (use --lenient to skip malformed rows)\n`,
    );
    const missing = await runImport(['clip-dissect', join(dir, 'nope.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.io.err()).toBe(`neurodissect: FILE: file not found: ${join(dir, 'nope.csv')}\n`);
    const noDir = await runImport(['clip-search', join(dir, 'nope')]);
    expect(noDir.io.err()).toBe(`neurodissect: DIR: directory not found: ${join(dir, 'nope')}\n`);
    const noLayer = await runImport(['netdissect', dup]);
    expect(noLayer.code).toBe(2);
    expect(noLayer.io.err()).toContain('give --layer NAME');
  });
});
