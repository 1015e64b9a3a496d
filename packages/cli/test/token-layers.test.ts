import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseResults } from '@neurodissect/core';
import {
  createTargetModel,
  decodeImage,
  preprocessBatch,
  preprocessConfigFor,
} from '@neurodissect/runtime-node';
import { writeToyWorld } from '@neurodissect/toyworld/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { cli, tempDir } from './helpers';

// torchvision's VisionTransformer with ViT-B/16's geometry (224², 16² patches: [N, 197, D] encoder
// layers), 2 layers of width 8, random weights, exported by runtime-node's export-fixture-vit.py.
const model = join(fixturePath('runtime-node'), 'vit/tiny-vit.onnx');
const layer = 'encoder.layers.encoder_layer_1';

/** A 24-bit bottom-up BMP's width, height and the (row, column) of its reddest pixel (least blue). */
function bmpPeak(uri: string): { width: number; height: number; row: number; column: number } {
  const bytes = Buffer.from(uri.split(',')[1], 'base64');
  const width = bytes.readInt32LE(18);
  const height = bytes.readInt32LE(22);
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  let best = { blue: 256, row: -1, column: -1 };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const blue = bytes[54 + (height - 1 - y) * rowBytes + 3 * x];
      if (blue < best.blue) best = { blue, row: y, column: x };
    }
  }
  return { width, height, row: best.row, column: best.column };
}

describe('dissect on a ViT token layer', () => {
  const work = tempDir();
  const probe = join(work, 'world');
  const concepts = join(work, 'concepts.txt');
  const out = join(work, 'results.json');
  let run: Awaited<ReturnType<typeof cli>>;

  beforeAll(async () => {
    await writeToyWorld(probe, { seed: 0, count: 12 });
    writeFileSync(concepts, 'red\ngreen\nblue\ncircle\nstripes\n');
    run = await cli(
      'dissect',
      '--model',
      model,
      '--layers',
      `${layer},conv_proj`,
      '--probe',
      `broden:${probe}`,
      '--concepts',
      concepts,
      '--labelers',
      'netdissect',
      '--heatmaps',
      '--top-images',
      '3',
      '--input-size',
      '224',
      '--no-cache',
      '--out',
      out,
    );
  }, 120_000);

  it('records and prints the summary each layer used (auto: the class token, mean over H×W)', () => {
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`  ${layer} (8 units, cls summary): netdissect:`);
    expect(run.stdout).toContain('  conv_proj (8 units, mean summary): netdissect:');
    expect(run.stdout).toMatch(
      / {2}time: features \d+\.\d s; labelling .*; heatmaps \d+\.\d s; \d+\.\d s in all/,
    );
    const results = parseResults(readFileSync(out, 'utf8'));
    expect(results.layers.map((l) => [l.name, l.summary])).toEqual([
      [layer, 'cls'],
      ['conv_proj', 'mean'],
    ]);
  });

  it('labels every unit of the token layer with NetDissect and draws its 14×14 patch grid over every top image', async () => {
    const results = parseResults(readFileSync(out, 'utf8'));
    expect(results.failures).toEqual([]);
    const tokens = results.layers[0];
    for (const neuron of tokens.neurons) {
      expect(neuron.labels.netdissect).toBeDefined();
      expect(neuron.topImages).toHaveLength(3);
      for (const top of neuron.topImages)
        expect(bmpPeak(top.heatmap!)).toMatchObject({ width: 14, height: 14 });
    }
    // The brightest cell of unit k's map is its strongest patch token (token 1 + 14·row + column,
    // after the class token), read from the model's raw [1, 197, 8] output.
    const target = await createTargetModel({ model });
    try {
      for (const neuron of tokens.neurons.slice(0, 3)) {
        const top = neuron.topImages[0];
        const image = await decodeImage(join(probe, results.probe.images[top.image].uri));
        const raw = (
          await target.run(preprocessBatch([image], preprocessConfigFor('imagenet', 224)), [layer])
        ).get(layer)!;
        expect(raw.dims).toEqual([1, 197, 8]);
        let best = 1;
        for (let t = 1; t < 197; t++)
          if (raw.data[t * 8 + neuron.unit] > raw.data[best * 8 + neuron.unit]) best = t;
        const peak = bmpPeak(top.heatmap!);
        expect([peak.row, peak.column]).toEqual([Math.floor((best - 1) / 14), (best - 1) % 14]);
      }
    } finally {
      await target.dispose();
    }
  });

  it('refuses, before any work and with the reason, a token count that leaves no square grid', async () => {
    const refused = join(work, 'refused.json');
    const result = await cli(
      'dissect',
      '--model',
      model,
      '--layers',
      layer,
      '--probe',
      `broden:${probe}`,
      '--concepts',
      concepts,
      '--labelers',
      'netdissect',
      '--heatmaps',
      '--prefix-tokens',
      '2',
      '--input-size',
      '224',
      '--no-cache',
      '--out',
      refused,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /heatmaps and netdissect need activation maps, but the token layer encoder.layers.encoder_layer_1 has none: its 197 tokens less 2 class\/register token\(s\) leave 195, not a square patch grid/,
    );
    expect(existsSync(refused)).toBe(false);
  });
});
