import { readFile } from 'node:fs/promises';
import {
  ErrorCode,
  type LayerInfo,
  type Matrix,
  NeurodissectError,
  type OperationOptions,
  type TargetModel,
  type Tensor,
  throwIfAborted,
} from '@neurodissect/core';
import { closestNames, type OnnxGraph, parseOnnxGraph, withExtraOutputs } from '@neurodissect/model-io';
import * as ort from 'onnxruntime-node';
import { type ActivationSummary, summarizeActivations } from './activation-summary';

/** Execution providers runtime-node can ask onnxruntime-node for. */
export type ExecutionProvider = 'cpu' | 'cuda' | 'tensorrt' | 'webgpu';

/** Options shared by everything that opens an ONNX session. */
export interface SessionOptions {
  /**
   * Providers to try, in order of preference; the first one whose session opens is used and
   * recorded in {@link NodeTargetModel.executionProvider}.
   * @defaultValue `['cpu']`
   */
  executionProviders?: readonly ExecutionProvider[];
  /**
   * Fail with `ND_EXECUTION_PROVIDER_UNAVAILABLE` instead of falling back to a later provider.
   * @defaultValue false
   */
  strict?: boolean;
}

/** Options for {@link createTargetModel}. */
export interface TargetModelOptions extends SessionOptions {
  /** Path of the `.onnx` file (or its bytes, with `name` for messages). */
  model: string | Uint8Array;
  /** Name used in messages when `model` is bytes. */
  name?: string;
}

/** A {@link TargetModel} on onnxruntime-node. */
export interface NodeTargetModel extends TargetModel {
  /** The provider that actually ran (after any fallback). */
  readonly executionProvider: ExecutionProvider;
  /** Providers that were tried before it and failed, with the reason. */
  readonly fallbacks: readonly { provider: ExecutionProvider; reason: string }[];
  /** The layers that can be selected (module paths), with shapes where the graph records them. */
  listLayers(): readonly LayerInfo[];
  /** Resolves a layer name (module path or tensor name) to its tensor, or throws `ND_UNKNOWN_LAYER`. */
  resolveLayer(name: string): string;
  /** Runs the batch and summarises each layer into an N×K matrix. */
  runSummarized(
    batch: Tensor<'float32'>,
    layers: readonly string[],
    options?: OperationOptions & { summary?: ActivationSummary },
  ): Promise<Map<string, Matrix>>;
}

interface OpenedSession {
  readonly session: ort.InferenceSession;
  readonly provider: ExecutionProvider;
  readonly fallbacks: { provider: ExecutionProvider; reason: string }[];
}

/**
 * Opens a session on the first provider that works.
 * @throws `ND_EXECUTION_PROVIDER_UNAVAILABLE` when none works, or the first fails and `strict` is set.
 */
export async function openSession(
  bytes: Uint8Array,
  name: string,
  options: SessionOptions = {},
): Promise<OpenedSession> {
  const providers = options.executionProviders?.length ? options.executionProviders : (['cpu'] as const);
  const fallbacks: { provider: ExecutionProvider; reason: string }[] = [];
  for (const provider of providers) {
    try {
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        // A missing provider is reported through our error or `fallbacks`, not printed.
        logSeverityLevel: 4,
      });
      return { session, provider, fallbacks };
    } catch (cause) {
      const reason = (cause as Error).message ?? String(cause);
      if (isModelError(reason)) {
        throw new NeurodissectError(
          ErrorCode.ModelLoadFailed,
          `The model ${name} could not be loaded by onnxruntime (${reason}); check it is a valid ONNX file.`,
          { cause, details: { path: name } },
        );
      }
      fallbacks.push({ provider, reason });
      if (options.strict) {
        throw new NeurodissectError(
          ErrorCode.ExecutionProviderUnavailable,
          `The execution provider "${provider}" is not available (${reason}); install its libraries or drop strict to fall back to ${providers.slice(1).join(', ') || 'another provider'}.`,
          { cause, details: { provider } },
        );
      }
    }
  }
  throw new NeurodissectError(
    ErrorCode.ExecutionProviderUnavailable,
    `None of the execution providers ${providers.join(', ')} could run ${name}: ${fallbacks.map((f) => `${f.provider}: ${f.reason}`).join('; ')}. Add "cpu" to the list.`,
    { details: { fallbacks } },
  );
}

// onnxruntime reports a bad model and a missing provider through the same exception type.
function isModelError(message: string): boolean {
  return /protobuf parsing failed|Load model|INVALID_GRAPH|INVALID_PROTOBUF|ModelProto|No graph/i.test(
    message,
  );
}

async function readModelBytes(model: string | Uint8Array, name: string): Promise<Uint8Array> {
  if (typeof model !== 'string') return model;
  try {
    return await readFile(model);
  } catch (cause) {
    throw new NeurodissectError(
      ErrorCode.FileNotFound,
      `The model file ${name} could not be read (${(cause as NodeJS.ErrnoException).code ?? cause}); check the path.`,
      { cause, details: { path: name } },
    );
  }
}

/**
 * Loads an ONNX image model and exposes its intermediate layers: selected layers become extra
 * graph outputs of one in-memory copy of the model, rebuilt only when a run asks for a layer the
 * current session lacks.
 */
export async function createTargetModel(options: TargetModelOptions): Promise<NodeTargetModel> {
  const name = options.name ?? (typeof options.model === 'string' ? options.model : 'model bytes');
  const bytes = await readModelBytes(options.model, name);
  let graph: OnnxGraph;
  try {
    graph = parseOnnxGraph(bytes);
  } catch (cause) {
    throw new NeurodissectError(
      ErrorCode.ModelLoadFailed,
      `The model ${name} is not a readable ONNX file (${(cause as Error).message}); export it with torch.onnx.export.`,
      { cause, details: { path: name } },
    );
  }
  const input = graph.inputs[0];
  if (!input) {
    throw new NeurodissectError(ErrorCode.ModelLoadFailed, `The model ${name} has no input.`, {
      details: { path: name },
    });
  }
  const byName = new Map(graph.layers.map((l) => [l.name, l.tensor]));

  // The plain model first: it tells which provider works, and serves runs of its own outputs.
  let opened = await openSession(bytes, name, options);
  let exposed = new Set<string>(opened.session.outputNames);
  const provider = opened.provider;
  const fallbacks = opened.fallbacks;
  let disposed = false;

  const resolveLayer = (layer: string): string => {
    const tensor = byName.get(layer) ?? (graph.tensors.has(layer) ? layer : undefined);
    if (tensor) return tensor;
    const candidates = [...byName.keys(), ...graph.tensors];
    const closest = closestNames(layer, candidates, 5);
    throw new NeurodissectError(
      ErrorCode.UnknownLayer,
      `The model ${name} has no layer "${layer}"; closest: ${closest.join(', ')}. List them with listLayers().`,
      { details: { layer, closest } },
    );
  };

  const ensureExposed = async (tensors: readonly string[]): Promise<void> => {
    if (tensors.every((t) => exposed.has(t))) return;
    const wanted = [...new Set([...exposed, ...tensors])];
    const next = await openSession(withExtraOutputs(graph, wanted), name, {
      executionProviders: [provider],
      strict: true,
    });
    await opened.session.release();
    opened = next;
    exposed = new Set(next.session.outputNames);
  };

  const run: NodeTargetModel['run'] = async (batch, layers, runOptions = {}) => {
    if (disposed) throw new Error('The target model was disposed.');
    throwIfAborted(runOptions.signal);
    const tensors = layers.map(resolveLayer);
    await ensureExposed(tensors);
    const feed = new ort.Tensor('float32', batch.data, batch.dims as number[]);
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = await opened.session.run({ [input.name]: feed }, [...new Set(tensors)]);
    } catch (cause) {
      throw new NeurodissectError(
        ErrorCode.ShapeMismatch,
        `Running ${name} on a batch of shape [${batch.dims.join(', ')}] failed (${(cause as Error).message}); the model expects ${input.name} [${input.shape.join(', ')}].`,
        { cause },
      );
    }
    throwIfAborted(runOptions.signal);
    const out = new Map<string, Tensor<'float32'>>();
    layers.forEach((layer, i) => {
      const value = results[tensors[i]] as ort.Tensor;
      out.set(layer, { dtype: 'float32', dims: [...value.dims], data: value.data as Float32Array });
    });
    runOptions.onProgress?.({ stage: 'target-activations', done: batch.dims[0] ?? 0 });
    return out;
  };

  return {
    layers: graph.layers,
    executionProvider: provider,
    fallbacks,
    listLayers: () => graph.layers,
    resolveLayer,
    run,
    async runSummarized(batch, layers, runOptions = {}) {
      const raw = await run(batch, layers, runOptions);
      const out = new Map<string, Matrix>();
      for (const [layer, tensor] of raw) out.set(layer, summarizeActivations(tensor, runOptions.summary));
      return out;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await opened.session.release();
    },
  };
}
