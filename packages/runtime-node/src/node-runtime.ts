import { fileURLToPath } from 'node:url';
import {
  disposedError,
  ErrorCode,
  NeurodissectError,
  type PmiProcessorFactory,
  type Runtime,
  type RuntimeCapabilities,
} from '@neurodissect/core';
import { onnx } from '@neurodissect/model-io';
import * as ort from 'onnxruntime-node';
import { type ClipModelOptions, loadClipModel, type NodeClipModel } from './clip-model';
import { createOrtMatmulKernel, type OrtMatmulKernel } from './matmul-kernel';
import {
  createTargetModel,
  type ExecutionProvider,
  type NodeTargetModel,
  openSession,
  type SessionOptions,
} from './target-model';
import { createThreadedPmiProcessor } from './threaded-pmi-processor';

/** Options for {@link createNodeRuntime}. */
export interface NodeRuntimeOptions extends SessionOptions {
  /** Options for every CLIP model the runtime loads (batch size, preprocessing override, …). */
  clip?: Omit<ClipModelOptions, keyof SessionOptions>;
  /** Threads for the matrix-product kernel. @defaultValue onnxruntime's default */
  matmulThreads?: number;
  /** Worker threads for soft-WPMI's softmax and log-accumulate. @defaultValue the machine's available parallelism */
  scoringThreads?: number;
  /**
   * Open a tiny session on each GPU provider at creation, so `capabilities.gpu` says whether one
   * actually works rather than whether onnxruntime-node ships it. Costs up to a few seconds, and
   * onnxruntime may log to stderr about the libraries it cannot find.
   * @defaultValue false
   */
  probe?: boolean;
  /**
   * What onnxruntime's own native logger prints to stderr. Provider failures reach you through
   * this runtime's errors and each model's `fallbacks`, so by default the native logger prints
   * only fatal messages. The setting is onnxruntime's, for the whole process, and takes effect
   * only before the process's first session.
   * @defaultValue 'fatal'
   */
  nativeLogLevel?: 'verbose' | 'info' | 'warning' | 'error' | 'fatal';
}

/** {@link RuntimeCapabilities} with what onnxruntime-node offers on this platform. */
export interface NodeRuntimeCapabilities extends RuntimeCapabilities {
  readonly executionProviders: readonly ExecutionProvider[];
  /** Providers onnxruntime-node lists for this platform (`bundled`: shipped in the package). */
  readonly offered: readonly { readonly name: string; readonly bundled: boolean }[];
  /** Whether `gpu` was established by opening sessions (`probe: true`). */
  readonly probed: boolean;
}

/** A {@link Runtime} on onnxruntime-node. */
export interface NodeRuntime extends Runtime {
  readonly capabilities: NodeRuntimeCapabilities;
  loadTargetModel(spec: { uri: string }): Promise<NodeTargetModel>;
  /** `cropRounding` as {@link ClipModelOptions.cropRounding}. */
  loadClipModel(spec: {
    uri: string;
    cropRounding?: ClipModelOptions['cropRounding'];
  }): Promise<NodeClipModel>;
  /** `A·Bᵀ` on onnxruntime's CPU provider. */
  readonly matmul: OrtMatmulKernel;
  /** Soft-WPMI's block work in worker threads over shared memory ({@link createThreadedPmiProcessor}). */
  readonly pmiProcessor: PmiProcessorFactory;
  /** Releases the kernel's sessions (models are the caller's to dispose); idempotent. */
  dispose(): Promise<void>;
}

const GPU_PROVIDERS: readonly ExecutionProvider[] = ['cuda', 'tensorrt', 'webgpu'];

/** Resolves a model `uri`: a path or a `file:` URL. Nothing is downloaded. */
function pathFromUri(uri: string): string {
  if (uri.startsWith('file:')) return fileURLToPath(uri);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
    throw new NeurodissectError(
      ErrorCode.InvalidOption,
      `The model location ${uri} is remote; runtime-node only reads local files. Download it first (neurodissect models fetch).`,
      { details: { uri } },
    );
  }
  return uri;
}

// The smallest valid model (one Identity node), to check that a provider opens sessions.
function identityModelBytes(): Uint8Array {
  const info = (name: string) => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 1 }] } } },
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'probe',
      node: [{ opType: 'Identity', input: ['x'], output: ['y'] }],
      input: [info('x')],
      output: [info('y')],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Creates a runtime on onnxruntime-node. Each model it loads opens on the first of
 * `executionProviders` that works (recorded on the model as `executionProvider`; `strict` makes a
 * fallback an error). Nothing global is configured but onnxruntime's native log level
 * ({@link NodeRuntimeOptions.nativeLogLevel}): two runtimes with different options coexist.
 */
export async function createNodeRuntime(options: NodeRuntimeOptions = {}): Promise<NodeRuntime> {
  // onnxruntime prints a missing provider's library errors itself, raw and coloured; ours say it.
  ort.env.logLevel = options.nativeLogLevel ?? 'fatal';
  const offered = ort.listSupportedBackends().map(({ name, bundled }) => ({ name, bundled }));
  const requested = options.executionProviders?.length ? options.executionProviders : (['cpu'] as const);
  const offeredNames = new Set(offered.map((b) => b.name));
  const unavailable = requested.filter((p) => !offeredNames.has(p));
  if (unavailable.length && (options.strict || unavailable.length === requested.length)) {
    throw new NeurodissectError(
      ErrorCode.ExecutionProviderUnavailable,
      `onnxruntime-node offers no ${unavailable.join(', ')} provider on this platform (it offers ${[...offeredNames].join(', ')}); choose among those.`,
      { details: { unavailable, offered } },
    );
  }
  const executionProviders = requested.filter((p) => offeredNames.has(p));
  let gpu = executionProviders.some((p) => GPU_PROVIDERS.includes(p));
  if (options.probe && gpu) {
    gpu = false;
    for (const provider of executionProviders.filter((p) => GPU_PROVIDERS.includes(p))) {
      try {
        const { session } = await openSession(identityModelBytes(), `${provider} probe`, {
          executionProviders: [provider],
          strict: true,
        });
        await session.release();
        gpu = true;
        break;
      } catch {
        // This provider does not work here; the next one may.
      }
    }
  }
  const sessionOptions: SessionOptions = { executionProviders, strict: options.strict ?? false };
  const matmul = createOrtMatmulKernel(options.matmulThreads ? { threads: options.matmulThreads } : {});
  let disposed = false;
  const assertOpen = () => {
    if (disposed) throw disposedError('runtime', 'create another');
  };
  return {
    name: 'onnxruntime-node',
    capabilities: { gpu, executionProviders, offered, probed: options.probe ?? false },
    matmul,
    pmiProcessor: createThreadedPmiProcessor(
      options.scoringThreads === undefined ? {} : { threads: options.scoringThreads },
    ),
    async loadTargetModel(spec) {
      assertOpen();
      return createTargetModel({ ...sessionOptions, model: pathFromUri(spec.uri) });
    },
    async loadClipModel(spec) {
      assertOpen();
      return loadClipModel(pathFromUri(spec.uri), {
        ...options.clip,
        ...sessionOptions,
        ...(spec.cropRounding ? { cropRounding: spec.cropRounding } : {}),
      });
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await matmul.dispose();
    },
  };
}
