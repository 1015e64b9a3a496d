// The runtime conformance suite, published as `@neurodissect/core/testing`. It registers vitest
// tests, so vitest is an optional peer dependency of core used by this entry only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors';
import type { ClipModel, RgbImage, Runtime, TargetModel } from '../interfaces';
import { matmulTransposed } from '../math/matmul';
import { createRandom } from '../math/random';
import { createMatrix, type Matrix, type Tensor } from '../tensor';

/** The models the suite loads; runtimes pass fixtures they can read. */
export interface RuntimeConformanceFixtures {
  /** A target model taking a float32 batch `[N, 3, inputSize, inputSize]`. */
  readonly targetModel: {
    readonly uri: string;
    /** @defaultValue 224 */
    readonly inputSize?: number;
    /** Layers to run (at least one); names as the runtime selects them. */
    readonly layers: readonly string[];
  };
  /** A CLIP model; the CLIP tests are skipped without one. */
  readonly clipModel?: { readonly uri: string };
  /**
   * Largest absolute difference allowed between an input run alone and in a batch.
   * @defaultValue 1e-4
   */
  readonly tolerance?: number;
}

function syntheticBatch(n: number, size: number, seed: number): Tensor<'float32'> {
  const random = createRandom(seed);
  const data = new Float32Array(n * 3 * size * size);
  for (let i = 0; i < data.length; i++) data[i] = random() * 4 - 2;
  return { dtype: 'float32', dims: [n, 3, size, size], data };
}

function syntheticImage(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = (x * 7 + seed * 40) % 256;
      data[o + 1] = (y * 5 + seed * 90) % 256;
      data[o + 2] = ((x ^ y) * 3 + seed * 13) % 256;
    }
  }
  return { width, height, data };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function expectFinite(values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) expect.fail(`value ${i} is ${values[i]}`);
  }
}

function row(matrix: Matrix, r: number): Float32Array {
  return matrix.data.subarray(r * matrix.cols, (r + 1) * matrix.cols);
}

// A real AbortSignal (runtimes may hand it to platform APIs); core declares no AbortController type.
function abortedSignal(): AbortSignal {
  const { AbortController } = globalThis as unknown as {
    AbortController: new () => { signal: AbortSignal; abort(reason?: unknown): void };
  };
  const controller = new AbortController();
  controller.abort();
  return controller.signal;
}

// By code, not instanceof: the runtime under test may hold another copy of core (ESM vs CJS, or
// this entry's bundled one), whose NeurodissectError is a different class.
function hasCode(error: unknown, code: ErrorCode): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === code;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

/**
 * Registers vitest tests that check a {@link Runtime} keeps core's contracts: capabilities,
 * target models (layers, batch shapes, batch independence, unknown layers, cancellation,
 * idempotent dispose), CLIP models (dimensions, batch independence, cancellation) and the matmul
 * kernel against core's portable one. A runtime runs it in one line:
 * `describeRuntimeConformance('node', () => createNodeRuntime(), fixtures)`.
 */
export function describeRuntimeConformance(
  name: string,
  createRuntime: () => Runtime | Promise<Runtime>,
  fixtures: RuntimeConformanceFixtures,
): void {
  const tolerance = fixtures.tolerance ?? 1e-4;
  const size = fixtures.targetModel.inputSize ?? 224;

  describe(`runtime conformance: ${name}`, () => {
    let runtime: Runtime;
    beforeAll(async () => {
      runtime = await createRuntime();
    });
    afterAll(async () => {
      await (runtime as { dispose?: () => Promise<void> } | undefined)?.dispose?.();
    });

    it('describes itself by capabilities', () => {
      expect(typeof runtime.name).toBe('string');
      expect(runtime.name.length).toBeGreaterThan(0);
      expect(typeof runtime.capabilities.gpu).toBe('boolean');
      expect(runtime.capabilities.executionProviders.length).toBeGreaterThan(0);
      for (const provider of runtime.capabilities.executionProviders) expect(typeof provider).toBe('string');
    });

    describe('target model', () => {
      let model: TargetModel;
      beforeAll(async () => {
        model = await runtime.loadTargetModel({ uri: fixtures.targetModel.uri });
      });
      afterAll(async () => {
        await model?.dispose();
      });

      it('lists layers with names and tensors', () => {
        expect(model.layers.length).toBeGreaterThan(0);
        for (const layer of model.layers) {
          expect(typeof layer.name).toBe('string');
          expect(typeof layer.tensor).toBe('string');
        }
      });

      it('returns each requested layer for the whole batch, the same as one image at a time', async () => {
        const batch = syntheticBatch(2, size, 1);
        const { layers } = fixtures.targetModel;
        const out = await model.run(batch, layers);
        expect([...out.keys()]).toEqual([...layers]);
        const plane = 3 * size * size;
        const second: Tensor<'float32'> = {
          dtype: 'float32',
          dims: [1, 3, size, size],
          data: batch.data.slice(plane),
        };
        const alone = await model.run(second, layers);
        for (const layer of layers) {
          const tensor = out.get(layer)!;
          expect(tensor.dims[0]).toBe(2);
          expect(tensor.data.length).toBe(tensor.dims.reduce((a, b) => a * b, 1));
          expectFinite(tensor.data);
          const per = tensor.data.length / 2;
          expect(maxAbsDiff(tensor.data.subarray(per), alone.get(layer)!.data)).toBeLessThanOrEqual(
            tolerance,
          );
        }
        const repeat = await model.run(batch, layers);
        for (const layer of layers) expect(repeat.get(layer)!.data).toEqual(out.get(layer)!.data);
      });

      it('rejects an unknown layer with ND_UNKNOWN_LAYER', async () => {
        const error = await rejection(model.run(syntheticBatch(1, size, 2), ['no-such-layer-xyz']));
        expect(hasCode(error, ErrorCode.UnknownLayer)).toBe(true);
      });

      it('rejects with ND_ABORTED when cancelled', async () => {
        const error = await rejection(
          model.run(syntheticBatch(1, size, 3), fixtures.targetModel.layers, { signal: abortedSignal() }),
        );
        expect(hasCode(error, ErrorCode.Aborted)).toBe(true);
      });

      it('disposes idempotently', async () => {
        const extra = await runtime.loadTargetModel({ uri: fixtures.targetModel.uri });
        await extra.dispose();
        await extra.dispose();
      });
    });

    describe('CLIP model', () => {
      const withClip = it.skipIf(!fixtures.clipModel);
      let clip: ClipModel;
      beforeAll(async () => {
        if (fixtures.clipModel) clip = await runtime.loadClipModel({ uri: fixtures.clipModel.uri });
      });
      afterAll(async () => {
        await clip?.dispose();
      });

      withClip('embeds images into dim columns, each image independently of its batch', async () => {
        expect(Number.isInteger(clip.dim) && clip.dim > 0).toBe(true);
        const images = [
          syntheticImage(320, 240, 1),
          syntheticImage(200, 260, 2),
          syntheticImage(224, 224, 3),
        ];
        const embeds = await clip.embedImages(images);
        expect([embeds.rows, embeds.cols]).toEqual([3, clip.dim]);
        expectFinite(embeds.data);
        const alone = await clip.embedImages([images[1]]);
        expect(maxAbsDiff(row(embeds, 1), row(alone, 0))).toBeLessThanOrEqual(tolerance);
        expect(maxAbsDiff(row(embeds, 0), row(embeds, 1))).toBeGreaterThan(0);
        expect((await clip.embedImages([])).rows).toBe(0);
      });

      withClip('embeds texts into dim columns, each text independently of its batch', async () => {
        const texts = ['a photo of a dog', 'red', 'a photo of a dog'];
        const embeds = await clip.embedTexts(texts);
        expect([embeds.rows, embeds.cols]).toEqual([3, clip.dim]);
        expectFinite(embeds.data);
        expect(maxAbsDiff(row(embeds, 0), row(embeds, 2))).toBeLessThanOrEqual(tolerance);
        expect(maxAbsDiff(row(embeds, 0), row(embeds, 1))).toBeGreaterThan(0);
        expect((await clip.embedTexts([])).rows).toBe(0);
      });

      withClip('rejects with ND_ABORTED when cancelled', async () => {
        const error = await rejection(clip.embedTexts(['dog'], { signal: abortedSignal() }));
        expect(hasCode(error, ErrorCode.Aborted)).toBe(true);
      });
    });

    describe('matmul kernel', () => {
      it('computes A·Bᵀ as core’s portable kernel does', async () => {
        if (!runtime.matmul) {
          expect(runtime.matmul).toBeUndefined();
          return;
        }
        const random = createRandom(7);
        const fill = (rows: number, cols: number) => {
          const m = createMatrix(rows, cols);
          for (let i = 0; i < m.data.length; i++) m.data[i] = random() * 2 - 1;
          return m;
        };
        const a = fill(37, 64);
        const b = fill(53, 64);
        const expected = matmulTransposed(a, b);
        const actual = await runtime.matmul(a, b);
        expect([actual.rows, actual.cols]).toEqual([37, 53]);
        expect(maxAbsDiff(actual.data, expected.data)).toBeLessThanOrEqual(1e-4);
      });
    });
  });
}
