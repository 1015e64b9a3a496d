import { describe, expect, it } from 'vitest';
import {
  conceptSetFromList,
  createDissection,
  type DissectionOptions,
  ErrorCode,
  isNeurodissectError,
  type Labeler,
  type ProbeDataset,
  type TargetModel,
} from '../src/index';

// A model and a probe set that count their use: a refused option must not read or run anything.
function counted() {
  const used = { runs: 0, reads: 0 };
  const model: TargetModel = {
    layers: [{ name: 'tokens', tensor: 'tokens', shape: ['batch', 60, 4] }],
    async run(batch) {
      used.runs++;
      return new Map([
        [
          'tokens',
          { dtype: 'float32', dims: [batch.dims[0], 60, 4], data: new Float32Array(batch.dims[0] * 240) },
        ],
      ]);
    },
    async dispose() {},
  };
  const probe: ProbeDataset = {
    name: 'four',
    size: 4,
    item: (i) => ({ id: `img-${i}`, uri: `img-${i}.png` }),
    async read() {
      used.reads++;
      return { width: 1, height: 1, data: new Uint8Array(3) };
    },
  };
  const labeler: Labeler = {
    id: 'first-concept',
    version: '1',
    requires: ['activations'],
    options: {},
    async label(context) {
      return Array.from({ length: context.activations.cols }, () => [
        { label: context.concepts[0], score: 1 },
      ]);
    },
  };
  const options: DissectionOptions = {
    target: {
      model,
      name: 'counted',
      hash: 'sha256:0a',
      preprocessing: 'none',
      prepare: (images) => ({
        dtype: 'float32',
        dims: [images.length, 3, 1, 1],
        data: new Float32Array(images.length * 3),
      }),
    },
    layers: ['tokens'],
    probe,
    concepts: { ...conceptSetFromList(['stripes']), name: 'one' },
    labelers: [labeler],
  };
  return { used, options };
}

function refusal(make: () => unknown): { code?: string; field?: unknown; message: string } {
  try {
    make();
  } catch (error) {
    if (!isNeurodissectError(error)) throw error;
    return { code: error.code, field: (error.details as { field?: string }).field, message: error.message };
  }
  throw new Error('not refused');
}

describe('createDissection checks every option before any work', () => {
  it('refuses a bare hex hash (as hashFile gives it) and says how to write it', () => {
    const { used, options } = counted();
    const bare = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    const error = refusal(() => createDissection({ ...options, target: { ...options.target, hash: bare } }));
    expect(error).toMatchObject({ code: ErrorCode.InvalidOption, field: 'target.hash' });
    expect(error.message).toMatch(/is not a content hash .*written "sha256:e3b0c442…"/);
    expect(used).toEqual({ runs: 0, reads: 0 });
  });

  it('refuses a concept set without the name the Results record', () => {
    const { used, options } = counted();
    const error = refusal(() =>
      createDissection({
        ...options,
        concepts: conceptSetFromList(['stripes']) as DissectionOptions['concepts'],
      }),
    );
    expect(error).toMatchObject({ code: ErrorCode.InvalidOption, field: 'concepts.name' });
    expect(error.message).toMatch(/readConceptSetFile names it after its file/);
    expect(used).toEqual({ runs: 0, reads: 0 });
  });

  it('refuses a missing preprocessing, a CLIP hash and two labelers with one id', () => {
    const { options } = counted();
    expect(
      refusal(() => createDissection({ ...options, target: { ...options.target, preprocessing: '' } })),
    ).toMatchObject({
      field: 'target.preprocessing',
    });
    const clip = {
      model: {
        dim: 1,
        embedImages: async () => ({ rows: 0, cols: 0, data: new Float32Array() }),
        embedTexts: async () => ({ rows: 0, cols: 0, data: new Float32Array() }),
        dispose: async () => {},
      },
      name: 'clip',
      hash: 'abc',
    };
    expect(refusal(() => createDissection({ ...options, clip }))).toMatchObject({ field: 'clip.hash' });
    expect(
      refusal(() => createDissection({ ...options, labelers: [options.labelers[0], options.labelers[0]] })),
    ).toMatchObject({
      field: 'labelers',
    });
  });

  it('refuses a token layer without a square patch grid for heatmaps before the first batch', async () => {
    const { used, options } = counted();
    const run = createDissection({ ...options, heatmaps: true }).run();
    await expect(run).rejects.toThrow(
      /heatmaps need activation maps, but the token layer tokens has none: its 60 tokens/,
    );
    expect(used).toEqual({ runs: 0, reads: 0 });
    // Given its class and register tokens, the same layer maps (60 − 11 = 7 × 7).
    const results = await createDissection({
      ...options,
      heatmaps: true,
      target: { ...options.target, prefixTokens: 11 },
      topImages: 2,
    }).run();
    expect(results.layers[0]).toMatchObject({ name: 'tokens', units: 4, summary: 'cls' });
    expect(
      results.layers[0].neurons[0].topImages.every((top) => top.heatmap?.startsWith('data:image/bmp')),
    ).toBe(true);
  });
});
