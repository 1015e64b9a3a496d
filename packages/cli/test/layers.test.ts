import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { cli } from './helpers';

const fixtures = fixturePath('runtime-node');
const model = join(fixtures, 'resnet/narrow-resnet.onnx');
// The layers torch's forward hooks recorded: each must be selectable, with torch's shape.
const reference = JSON.parse(readFileSync(join(fixtures, 'resnet/activations.json'), 'utf8')) as {
  layers: Record<string, { shape: number[] }>;
};

describe('neurodissect layers', () => {
  it('lists the module paths with their shapes and tensors as JSON', async () => {
    const result = await cli('layers', '--model', model, '--json');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const layers = JSON.parse(result.stdout) as {
      name: string;
      tensor: string;
      shape?: (number | string)[];
    }[];
    expect(layers.slice(0, 4).map((l) => l.name)).toEqual(['conv1', 'relu', 'maxpool', 'layer1']);
    expect(layers.find((l) => l.name === 'fc')).toEqual({
      name: 'fc',
      tensor: 'logits',
      shape: ['batch', 10],
    });
    for (const [name, { shape }] of Object.entries(reference.layers)) {
      const layer = layers.find((l) => l.name === name);
      expect(layer, name).toBeDefined();
      // Recorded by the graph or measured on a blank 224×224 image: torch's shape.
      expect(layer?.shape, name).toEqual(['batch', ...shape.slice(1)]);
    }
  });

  it('with --no-run, gives only the shapes the graph records', async () => {
    const result = await cli('layers', '--model', model, '--json', '--no-run');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const layers = JSON.parse(result.stdout) as { name: string; shape?: unknown }[];
    expect(layers.find((l) => l.name === 'fc')?.shape).toEqual(['batch', 10]);
    expect(layers.find((l) => l.name === 'layer1')?.shape).toBeUndefined();
  });

  it('notes when a blank image of --input-size does not run, keeping the recorded shapes', async () => {
    const result = await cli('layers', '--model', model, '--json', '--input-size', '1');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^note: .*\[1, 3, 1, 1\] input failed; pass --input-size N[^\n]*\n$/);
    const layers = JSON.parse(result.stdout) as { name: string; shape?: unknown }[];
    expect(layers.find((l) => l.name === 'fc')?.shape).toEqual(['batch', 10]);
  });

  it('prints a table: layer, shape, tensor', async () => {
    const result = await cli('layers', '--model', model);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^layer\s+shape\s+tensor$/);
    expect(lines).toContainEqual(expect.stringMatching(/^fc\s+\[batch, 10\]\s+logits$/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^layer3\s+\[batch, 32, 14, 14\]\s+\/layer3\/layer3\.1\/relu_1\/Relu_output_0$/),
    );
  });

  it('reports a missing model and a file that is not ONNX, one line each, exit code 2', async () => {
    const missing = await cli('layers', '--model', join(fixtures, 'nope.onnx'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`neurodissect: --model: file not found: ${join(fixtures, 'nope.onnx')}\n`);
    const notOnnx = await cli('layers', '--model', join(fixtures, 'preprocess/manifest.json'));
    expect(notOnnx.code).toBe(2);
    expect(notOnnx.stderr).toMatch(/^neurodissect: --model: .*manifest\.json[^\n]*\n$/);
  });
});
