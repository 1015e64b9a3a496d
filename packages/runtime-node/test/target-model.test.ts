import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, isNeurodissectError } from '@neurodissect/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetModel, type NodeTargetModel } from '../src/index';

const fixtures = join(import.meta.dirname, 'fixtures');
const modelPath = join(fixtures, 'resnet/narrow-resnet.onnx');

interface Reference {
  images: string[];
  layers: Record<string, { shape: number[]; mean?: number[][]; max?: number[][]; identity?: number[][] }>;
}

const reference = JSON.parse(await readFile(join(fixtures, 'resnet/activations.json'), 'utf8')) as Reference;

async function loadBatch() {
  const data = new Float32Array(reference.images.length * 3 * 224 * 224);
  for (const [i, file] of reference.images.entries()) {
    const bytes = await readFile(join(fixtures, 'preprocess', file));
    data.set(
      new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
      i * 3 * 224 * 224,
    );
  }
  return { dtype: 'float32' as const, dims: [reference.images.length, 3, 224, 224], data };
}

function maxAbsDiff(actual: Float32Array, expected: number[][]): number {
  const flat = expected.flat();
  expect(actual.length).toBe(flat.length);
  return flat.reduce((m, v, i) => Math.max(m, Math.abs(actual[i] - v)), 0);
}

describe('ONNX target model against torch forward hooks', () => {
  let model: NodeTargetModel;
  beforeAll(async () => {
    model = await createTargetModel({ model: modelPath });
  });
  afterAll(async () => {
    await model.dispose();
    await model.dispose();
  });

  it('lists module paths as PyTorch names them, in graph order', () => {
    const names = model.listLayers().map((l) => l.name);
    expect(names.slice(0, 6)).toEqual(['conv1', 'relu', 'maxpool', 'layer1', 'layer1.0', 'layer1.0.conv1']);
    // conv1 is there, but as the exporter folded bn1 into it, it holds bn1's output (see DEVELOPERS.md).
    for (const layer of Object.keys(reference.layers)) expect(names).toContain(layer);
    expect(model.listLayers().find((l) => l.name === 'fc')).toEqual({
      name: 'fc',
      tensor: 'logits',
      shape: ['batch', 10],
    });
    expect(model.listLayers().find((l) => l.name === 'layer3')?.tensor).toBe(
      '/layer3/layer3.1/relu_1/Relu_output_0',
    );
    expect(model.executionProvider).toBe('cpu');
  });

  it('matches spatial-mean and spatial-max activations of every hooked layer within 1e-4', async () => {
    const batch = await loadBatch();
    const layers = Object.keys(reference.layers);
    const means = await model.runSummarized(batch, layers);
    const maxima = await model.runSummarized(batch, layers, { summary: 'max' });
    for (const layer of layers) {
      const ref = reference.layers[layer];
      const expected = ref.mean ?? ref.identity!;
      expect(maxAbsDiff(means.get(layer)!.data, expected), layer).toBeLessThan(1e-4);
      if (ref.max) expect(maxAbsDiff(maxima.get(layer)!.data, ref.max), layer).toBeLessThan(1e-4);
    }
    const raw = await model.run(batch, ['layer2', '/layer2/layer2.0/relu_1/Relu_output_0']);
    expect(raw.get('layer2')!.dims).toEqual(reference.layers.layer2.shape);
    expect(raw.get('/layer2/layer2.0/relu_1/Relu_output_0')!.data).toEqual(raw.get('layer2')!.data);
  });

  it('names the closest layers for an unknown one', async () => {
    const batch = await loadBatch();
    const error = await model.run(batch, ['layer5']).catch((e: unknown) => e);
    expect(isNeurodissectError(error, ErrorCode.UnknownLayer)).toBe(true);
    expect((error as Error).message).toMatch(/closest: layer\d/);
    expect((error as { details: { closest: string[] } }).details.closest).toContain('layer1');
  });

  it('says a batch of the wrong shape is one, with the shape it was given', async () => {
    const batch = {
      dtype: 'float32' as const,
      dims: [1, 2, 224, 224],
      data: new Float32Array(2 * 224 * 224),
    };
    const error = await model.run(batch, ['layer4']).catch((e: unknown) => e);
    expect(isNeurodissectError(error, ErrorCode.ShapeMismatch) && error.details.dims).toEqual([
      1, 2, 224, 224,
    ]);
    expect((error as Error).message).toMatch(
      /^Running \S+narrow-resnet\.onnx on a batch of shape \[1, 2, 224, 224\] failed \(Got invalid dimensions for input: input for the following indices index: 1 Got: 2 Expected: 3 .*\); the model expects input \[/,
    );
  });
});

describe('model loading errors and providers', () => {
  it('reports a missing model file', async () => {
    const error = await createTargetModel({ model: join(fixtures, 'nope.onnx') }).catch((e: unknown) => e);
    expect(isNeurodissectError(error, ErrorCode.FileNotFound)).toBe(true);
    expect((error as Error).message).toContain('nope.onnx');
  });

  it('reports a file that is not ONNX', async () => {
    const error = await createTargetModel({ model: join(fixtures, 'preprocess/manifest.json') }).catch(
      (e: unknown) => e,
    );
    expect(isNeurodissectError(error, ErrorCode.ModelLoadFailed)).toBe(true);
  });

  it('records a fallback from an unavailable provider, and refuses it when strict', async () => {
    const available = await createTargetModel({ model: modelPath, executionProviders: ['tensorrt', 'cpu'] });
    // onnxruntime-node's npm package ships no TensorRT libraries, so this falls back to CPU.
    expect(available.executionProvider).toBe('cpu');
    expect(available.fallbacks.map((f) => f.provider)).toEqual(['tensorrt']);
    await available.dispose();
    const error = await createTargetModel({
      model: modelPath,
      executionProviders: ['tensorrt', 'cpu'],
      strict: true,
    }).catch((e: unknown) => e);
    expect(isNeurodissectError(error, ErrorCode.ExecutionProviderUnavailable)).toBe(true);
  });
});
