import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCode, isNeurodissectError } from '@neurodissect/core';
import { describeRuntimeConformance } from '@neurodissect/core/testing';
import { describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../src/index';

const fixtures = join(import.meta.dirname, 'fixtures');
const resnet = join(fixtures, 'resnet/narrow-resnet.onnx');
const openclip = join(fixtures, 'clip/clip-openclip');

describeRuntimeConformance('onnxruntime-node', () => createNodeRuntime(), {
  targetModel: { uri: resnet, layers: ['layer1', 'layer4', 'fc'] },
  clipModel: { uri: openclip },
});

describe('createNodeRuntime', () => {
  it('reports what onnxruntime-node offers and loads models from paths and file URLs', async () => {
    const runtime = await createNodeRuntime({ executionProviders: ['cpu'], clip: { batchSize: 4 } });
    expect(runtime.capabilities.executionProviders).toEqual(['cpu']);
    expect(runtime.capabilities.gpu).toBe(false);
    expect(runtime.capabilities.offered.map((b) => b.name)).toContain('cpu');
    const model = await runtime.loadTargetModel({ uri: pathToFileURL(resnet).href });
    expect(model.executionProvider).toBe('cpu');
    expect(model.listLayers().map((l) => l.name)).toContain('layer4');
    const clip = await runtime.loadClipModel({ uri: openclip });
    expect([clip.layout, clip.dim, clip.executionProvider]).toEqual(['openclip', 16, 'cpu']);
    await Promise.all([model.dispose(), clip.dispose()]);
    await runtime.dispose();
    await runtime.dispose();
    await expect(runtime.loadTargetModel({ uri: resnet })).rejects.toThrow(/disposed/);
  });

  it('refuses remote URIs and providers onnxruntime-node does not offer', async () => {
    const runtime = await createNodeRuntime();
    const remote = await runtime
      .loadTargetModel({ uri: 'https://example.com/m.onnx' })
      .catch((e: unknown) => e);
    expect(isNeurodissectError(remote, ErrorCode.InvalidOption)).toBe(true);
    await runtime.dispose();
    const error = await createNodeRuntime({
      executionProviders: ['coreml' as 'cpu', 'cpu'],
      strict: true,
    }).catch((e: unknown) => e);
    expect(isNeurodissectError(error, ErrorCode.ExecutionProviderUnavailable)).toBe(true);
    const lenient = await createNodeRuntime({ executionProviders: ['coreml' as 'cpu', 'cpu'] });
    expect(lenient.capabilities.executionProviders).toEqual(['cpu']);
    await lenient.dispose();
  });
});
