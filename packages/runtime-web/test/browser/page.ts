// The test page: runs the real web runtime in Chromium and exposes it to the Node-side tests as
// `window.harness` (see protocol.ts). Bundled by esbuild in the test.
import type { ClipModel, RgbImage, TargetModel } from '@neurodissect/core';
import { preprocessImage } from '@neurodissect/model-io';
import {
  createFileDataset,
  createIndexedDbFeatureStore,
  createUrlDataset,
  createWebRuntime,
  decodeImage,
  type WebRuntime,
} from '../../src/index';
import {
  floatsFromWire,
  floatsToWire,
  fromBase64,
  type PageHarness,
  toBase64,
  type WireError,
  type WireResult,
} from './protocol';

const runtimes = new Map<number, WebRuntime>();
const models = new Map<number, TargetModel | ClipModel>();
let nextId = 1;

function toWireError(error: unknown): WireError {
  const code = (error as { code?: unknown }).code;
  return {
    ...(typeof code === 'string' ? { code } : {}),
    message: error instanceof Error ? error.message : String(error),
  };
}

async function wrap<T>(work: () => Promise<T>): Promise<WireResult<T>> {
  try {
    return { ok: await work() };
  } catch (error) {
    return { error: toWireError(error) };
  }
}

function signal(aborted: boolean): AbortSignal | undefined {
  if (!aborted) return undefined;
  const controller = new AbortController();
  controller.abort();
  return controller.signal;
}

function runtime(id: number): WebRuntime {
  const found = runtimes.get(id);
  if (!found) throw new Error(`no runtime ${id}`);
  return found;
}

function model<T extends TargetModel | ClipModel>(id: number): T {
  const found = models.get(id);
  if (!found) throw new Error(`no model ${id}`);
  return found as T;
}

function imageFromWire(image: { width: number; height: number; base64: string }): RgbImage {
  return { width: image.width, height: image.height, data: fromBase64(image.base64) };
}

function randomBatch(n: number, size: number): Float32Array {
  const data = new Float32Array(n * 3 * size * size);
  for (let i = 0; i < data.length; i++) data[i] = Math.random() * 4 - 2;
  return data;
}

const harness: PageHarness = {
  createRuntime: (options) =>
    wrap(async () => {
      const created = await createWebRuntime({
        executionProviders: options.executionProviders as ('webgpu' | 'wasm')[],
        strict: options.strict ?? false,
        wasmPaths: options.wasmPaths,
      });
      const id = nextId++;
      runtimes.set(id, created);
      return {
        id,
        name: created.name,
        gpu: created.capabilities.gpu,
        executionProviders: [...created.capabilities.executionProviders],
      };
    }),
  disposeRuntime: (id) =>
    wrap(async () => {
      await runtimes.get(id)?.dispose();
      runtimes.delete(id);
      return null;
    }),
  loadTargetModel: (id, uri) =>
    wrap(async () => {
      const loaded = await runtime(id).loadTargetModel({ uri });
      const modelId = nextId++;
      models.set(modelId, loaded);
      return {
        id: modelId,
        layers: loaded.layers.map((l) => ({
          name: l.name,
          tensor: l.tensor,
          ...(l.shape ? { shape: [...l.shape] } : {}),
        })),
        executionProvider: loaded.executionProvider,
      };
    }),
  runTargetModel: (id, batch, layers, aborted) =>
    wrap(async () => {
      const data = floatsFromWire(batch);
      const out = await model<TargetModel>(id).run({ dtype: 'float32', dims: batch.dims, data }, layers, {
        ...(aborted ? { signal: signal(true) } : {}),
      });
      return [...out].map(([layer, tensor]) => ({ layer, tensor: floatsToWire(tensor.dims, tensor.data) }));
    }),
  loadClipModel: (id, uri) =>
    wrap(async () => {
      const loaded = await runtime(id).loadClipModel({ uri });
      const modelId = nextId++;
      models.set(modelId, loaded);
      return { id: modelId, dim: loaded.dim, executionProvider: loaded.executionProvider };
    }),
  embedImages: (id, images, aborted) =>
    wrap(async () => {
      const out = await model<ClipModel>(id).embedImages(images.map(imageFromWire), {
        ...(aborted ? { signal: signal(true) } : {}),
      });
      return floatsToWire([out.rows, out.cols], out.data);
    }),
  embedTexts: (id, texts, aborted) =>
    wrap(async () => {
      const out = await model<ClipModel>(id).embedTexts(texts, {
        ...(aborted ? { signal: signal(true) } : {}),
      });
      return floatsToWire([out.rows, out.cols], out.data);
    }),
  disposeModel: (id) =>
    wrap(async () => {
      await models.get(id)?.dispose();
      return null;
    }),
  preprocessUrl: (url, preset) =>
    wrap(async () => {
      const tensor = preprocessImage(await decodeImage(url), preset);
      return floatsToWire(tensor.dims, tensor.data);
    }),
  decodeUrl: (url) =>
    wrap(async () => {
      const image = await decodeImage(url);
      return { width: image.width, height: image.height, base64: toBase64(image.data) };
    }),
  datasetsAndStore: (imageUrls) =>
    wrap(async () => {
      const urls = createUrlDataset(imageUrls);
      const firstUrl = await urls.read(0);
      const files = await Promise.all(
        imageUrls.map(async (u) => new File([await (await fetch(u)).blob()], u.split('/').pop()!)),
      );
      // Reversed and with a non-image: the dataset orders by path and skips it.
      const picked = createFileDataset([...files.reverse(), new File(['notes'], 'notes.txt')]);
      const firstFile = await picked.read(0);
      const store = await createIndexedDbFeatureStore({ database: `neurodissect-test-${Date.now()}` });
      const data = Float32Array.from([1.5, -2, 3.25, 0, 7, 8]);
      await store.put('sha256:abc', { dtype: 'float32', dims: [2, 3], data }, { layer: 'layer4' });
      data[0] = 99; // the store keeps a copy
      const again = await store.get('sha256:abc');
      await store.dispose();
      await store.dispose();
      return {
        url: {
          size: urls.size,
          ids: urls.items.map((i) => i.id),
          firstSize: [firstUrl.width, firstUrl.height],
        },
        file: {
          name: picked.name,
          size: picked.size,
          ids: picked.items.map((i) => i.id),
          skipped: [...picked.skipped],
          firstSize: [firstFile.width, firstFile.height],
        },
        store: {
          backing: store.backing,
          roundTrip: [...(again?.tensor.data ?? [])],
          dims: [...(again?.tensor.dims ?? [])],
          meta: again?.meta,
        },
      };
    }),
  benchmark: (id, options) =>
    wrap(async () => {
      const rt = runtime(id);
      const target = await rt.loadTargetModel({ uri: options.targetUri });
      const clip = await rt.loadClipModelFrom(options.clipUri);
      const crop = clip.preprocess.crop;
      const batch = randomBatch(options.batch, options.size);
      const pixels = randomBatch(options.batch, crop);
      // One warm-up run each (shader compilation, first allocation), then timed rounds.
      const runTarget = () =>
        target.run(
          { dtype: 'float32', dims: [options.batch, 3, options.size, options.size], data: batch },
          options.layers,
        );
      const runClip = () =>
        clip.embedPixels({ dtype: 'float32', dims: [options.batch, 3, crop, crop], data: pixels });
      let start = performance.now();
      await runTarget();
      const targetWarmup = (performance.now() - start) / 1000;
      start = performance.now();
      await runClip();
      const clipWarmup = (performance.now() - start) / 1000;
      start = performance.now();
      for (let r = 0; r < options.rounds; r++) await runTarget();
      const targetSeconds = (performance.now() - start) / 1000;
      start = performance.now();
      for (let r = 0; r < options.rounds; r++) await runClip();
      const clipSeconds = (performance.now() - start) / 1000;
      await Promise.all([target.dispose(), clip.dispose()]);
      const images = options.batch * options.rounds;
      return {
        targetImagesPerSecond: images / targetSeconds,
        clipImagesPerSecond: images / clipSeconds,
        provider: target.executionProvider,
        targetWarmupSeconds: targetWarmup,
        clipWarmupSeconds: clipWarmup,
      };
    }),
};

(globalThis as unknown as { harness: PageHarness }).harness = harness;
