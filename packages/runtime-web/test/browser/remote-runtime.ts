// A core `Runtime` whose every call runs the real web runtime in the Chromium page: core's
// conformance suite (which registers vitest tests, so it runs in Node) and the parity tests drive
// runtime-web through it. Nothing is computed on the Node side.
import {
  type ClipModel,
  createMatrix,
  type ErrorCode,
  type LayerInfo,
  NeurodissectError,
  type RgbImage,
  type Runtime,
  type TargetModel,
  type Tensor,
} from '@neurodissect/core';
import type { Page } from 'playwright-core';
import {
  floatsFromWire,
  floatsToWire,
  type PageHarness,
  toBase64,
  type WireResult,
  type WireTensor,
} from './protocol';

type Method = keyof PageHarness;

async function call<M extends Method>(
  page: Page,
  method: M,
  ...args: Parameters<PageHarness[M]>
): Promise<Awaited<ReturnType<PageHarness[M]>> extends WireResult<infer T> ? T : never> {
  const result = (await page.evaluate(
    ([name, list]) =>
      (
        (globalThis as unknown as { harness: Record<string, (...a: unknown[]) => Promise<unknown>> }).harness[
          name
        ] as (...a: unknown[]) => Promise<unknown>
      )(...list),
    [method, args] as [string, unknown[]],
  )) as WireResult<unknown>;
  if ('error' in result) {
    const { code, message } = result.error;
    if (code) throw new NeurodissectError(code as ErrorCode, message);
    throw new Error(message);
  }
  return result.ok as never;
}

function tensorFromWire(tensor: WireTensor): Tensor<'float32'> {
  return { dtype: 'float32', dims: tensor.dims, data: floatsFromWire(tensor) };
}

/** A remote target model, with the provider it ran on in the page. */
export interface RemoteTargetModel extends TargetModel {
  readonly executionProvider: string;
}

/** A remote CLIP model, with the provider it ran on in the page. */
export interface RemoteClipModel extends ClipModel {
  readonly executionProvider: string;
}

/** The web runtime in the page, seen from Node. */
export interface RemoteRuntime extends Runtime {
  readonly id: number;
  loadTargetModel(spec: { uri: string }): Promise<RemoteTargetModel>;
  loadClipModel(spec: { uri: string }): Promise<RemoteClipModel>;
  dispose(): Promise<void>;
}

/** Creates a web runtime in the page (`createWebRuntime` with these options) and returns its proxy. */
export async function createRemoteRuntime(
  page: Page,
  options: { executionProviders: ('webgpu' | 'wasm')[]; strict?: boolean; origin: string },
): Promise<RemoteRuntime> {
  const created = await call(page, 'createRuntime', {
    executionProviders: options.executionProviders,
    strict: options.strict ?? false,
    wasmPaths: `${options.origin}/ort/`,
  });
  let disposed = false;
  return {
    id: created.id,
    name: created.name,
    capabilities: { gpu: created.gpu, executionProviders: created.executionProviders },
    async loadTargetModel(spec) {
      const loaded = await call(page, 'loadTargetModel', created.id, spec.uri);
      return {
        layers: loaded.layers as LayerInfo[],
        executionProvider: loaded.executionProvider,
        async run(batch, layers, runOptions = {}) {
          const out = await call(
            page,
            'runTargetModel',
            loaded.id,
            floatsToWire(batch.dims, batch.data),
            [...layers],
            runOptions.signal?.aborted ?? false,
          );
          return new Map(out.map(({ layer, tensor }) => [layer, tensorFromWire(tensor)]));
        },
        dispose: () => call(page, 'disposeModel', loaded.id).then(() => undefined),
      };
    },
    async loadClipModel(spec) {
      const loaded = await call(page, 'loadClipModel', created.id, spec.uri);
      const toMatrix = (t: WireTensor) => createMatrix(t.dims[0], t.dims[1], floatsFromWire(t).slice());
      return {
        dim: loaded.dim,
        executionProvider: loaded.executionProvider,
        async embedImages(images: readonly RgbImage[], runOptions = {}) {
          const wire = images.map((i) => ({ width: i.width, height: i.height, base64: toBase64(i.data) }));
          return toMatrix(
            await call(page, 'embedImages', loaded.id, wire, runOptions.signal?.aborted ?? false),
          );
        },
        async embedTexts(texts: readonly string[], runOptions = {}) {
          return toMatrix(
            await call(page, 'embedTexts', loaded.id, [...texts], runOptions.signal?.aborted ?? false),
          );
        },
        dispose: () => call(page, 'disposeModel', loaded.id).then(() => undefined),
      };
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await call(page, 'disposeRuntime', created.id);
    },
  };
}

/** Calls a page function directly (decoding, preprocessing, benchmarks). */
export { call as callPage };
