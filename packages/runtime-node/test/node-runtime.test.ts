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
    // Each object used after dispose() says so with its own code, naming what was disposed.
    const used = await Promise.all([
      runtime.loadTargetModel({ uri: resnet }).catch((e: unknown) => e),
      model
        .run({ dtype: 'float32', dims: [1, 3, 64, 64], data: new Float32Array(3 * 64 * 64) }, ['layer4'])
        .catch((e: unknown) => e),
      clip.embedTexts(['a dog']).catch((e: unknown) => e),
    ]);
    expect(
      used.map((e) => isNeurodissectError(e, ErrorCode.Disposed) && [e.details.object, e.message]),
    ).toEqual([
      ['runtime', 'The runtime was disposed; create another.'],
      ['target model', 'The target model was disposed; load it again.'],
      ['CLIP model', 'The CLIP model was disposed; load it again.'],
    ]);
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
