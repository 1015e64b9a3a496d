import {
  disposedError,
  ErrorCode,
  NeurodissectError,
  type Runtime,
  type RuntimeCapabilities,
} from '@neurodissect/core';
import * as ort from 'onnxruntime-web';
import { loadWebClipModel, type WebClipModel, type WebClipModelOptions } from './clip-model';
import { createWebTargetModel, type WebTargetModel } from './target-model';
import { DEFAULT_WEB_PROVIDERS, type WebExecutionProvider, type WebSessionOptions } from './web-session';

/** Options for {@link createWebRuntime}. */
export interface WebRuntimeOptions extends WebSessionOptions {
  /**
   * Where onnxruntime-web's `.wasm` (and `.mjs`) files are served: a URL prefix ending in `/`.
   * Bundlers do not copy them; serve `node_modules/onnxruntime-web/dist/`. Without it,
   * onnxruntime-web looks next to its own script.
   */
  wasmPaths?: string;
  /**
   * WebAssembly threads. Threads need a cross-origin isolated page; onnxruntime-web uses one
   * thread otherwise.
   * @defaultValue onnxruntime-web's choice (half the cores, at most 4, when isolated)
   */
  numThreads?: number;
  /** Options for every CLIP model the runtime loads. */
  clip?: Omit<WebClipModelOptions, keyof WebSessionOptions | 'model' | 'signal'>;
}

/** {@link RuntimeCapabilities} of a page. */
export interface WebRuntimeCapabilities extends RuntimeCapabilities {
  readonly executionProviders: readonly WebExecutionProvider[];
  /** Whether the page is cross-origin isolated (WebAssembly threads possible). */
  readonly threads: boolean;
}

/** A {@link Runtime} on onnxruntime-web. */
export interface WebRuntime extends Runtime {
  readonly capabilities: WebRuntimeCapabilities;
  /** `uri`: a URL of an `.onnx` file (relative URLs resolve against the page). */
  loadTargetModel(spec: { uri: string }): Promise<WebTargetModel>;
  /** `uri`: a URL of a directory in the Hugging Face CLIP layout. */
  loadClipModel(spec: { uri: string }): Promise<WebClipModel>;
  /** Loads a target model from a picked `File`, a URL or bytes. */
  loadTargetModelFrom(source: WebTargetModelSource): Promise<WebTargetModel>;
  /** Loads a CLIP model from a directory URL or from its files (`File`s, URLs or bytes). */
  loadClipModelFrom(model: WebClipModelOptions['model']): Promise<WebClipModel>;
  /** Marks the runtime closed (models are the caller's to dispose); idempotent. */
  dispose(): Promise<void>;
}

/** A target model's source for {@link WebRuntime.loadTargetModelFrom}. */
export type WebTargetModelSource = Parameters<typeof createWebTargetModel>[0]['model'];

async function hasWebGpuAdapter(): Promise<boolean> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown | null> } } })
    .navigator?.gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/**
 * Creates a runtime on onnxruntime-web. Each model it loads opens on the first of
 * `executionProviders` that works (recorded on the model as `executionProvider`; `strict` makes
 * a fallback an error). WebGPU is checked at creation: without an adapter it is dropped from the
 * list, or with `strict` creation fails. onnxruntime-web keeps its settings (`ort.env`) per page,
 * so `wasmPaths` and `numThreads` apply to every runtime in the page.
 * @throws `ND_EXECUTION_PROVIDER_UNAVAILABLE` when `strict` is set and WebGPU is requested but
 * missing, or no requested provider is available.
 */
export async function createWebRuntime(options: WebRuntimeOptions = {}): Promise<WebRuntime> {
  if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
  if (options.numThreads !== undefined) ort.env.wasm.numThreads = options.numThreads;
  const requested = options.executionProviders?.length ? options.executionProviders : DEFAULT_WEB_PROVIDERS;
  const webgpu = requested.includes('webgpu') ? await hasWebGpuAdapter() : false;
  const unavailable = requested.filter((p) => p === 'webgpu' && !webgpu);
  if (unavailable.length && (options.strict || unavailable.length === requested.length)) {
    throw new NeurodissectError(
      ErrorCode.ExecutionProviderUnavailable,
      'This browser offers no WebGPU adapter (navigator.gpu is missing or has no adapter); use a browser with WebGPU enabled, or add "wasm" and drop strict.',
      { details: { unavailable } },
    );
  }
  const executionProviders = requested.filter((p) => !unavailable.includes(p));
  const sessionOptions: WebSessionOptions = { executionProviders, strict: options.strict ?? false };
  let disposed = false;
  const assertOpen = () => {
    if (disposed) throw disposedError('runtime', 'create another');
  };
  const loadTargetModelFrom = async (model: WebTargetModelSource) => {
    assertOpen();
    return createWebTargetModel({ ...sessionOptions, model });
  };
  const loadClipModelFrom = async (model: WebClipModelOptions['model']) => {
    assertOpen();
    return loadWebClipModel({ ...options.clip, ...sessionOptions, model });
  };
  return {
    name: 'onnxruntime-web',
    capabilities: {
      gpu: executionProviders.includes('webgpu'),
      executionProviders,
      threads: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    },
    loadTargetModel: (spec) => loadTargetModelFrom(spec.uri),
    loadClipModel: (spec) => loadClipModelFrom(spec.uri),
    loadTargetModelFrom,
    loadClipModelFrom,
    async dispose() {
      disposed = true;
    },
  };
}
