import {
  type ActivationSummary,
  ErrorCode,
  type LayerInfo,
  type Matrix,
  NeurodissectError,
  type OperationOptions,
  summarizeActivations,
  type TargetModel,
  type Tensor,
  throwIfAborted,
} from '@neurodissect/core';
import { closestNames, type OnnxGraph, parseOnnxGraph, withExtraOutputs } from '@neurodissect/model-io';
import * as ort from 'onnxruntime-web';
import { describeSource, type ModelSource, readSourceBytes } from './model-source';
import {
  type OpenedWebSession,
  openWebSession,
  type ProviderFallback,
  type WebExecutionProvider,
  type WebSessionOptions,
} from './web-session';

/** Options for {@link createWebTargetModel}. */
export interface WebTargetModelOptions extends WebSessionOptions {
  /** The `.onnx` model: a URL, a picked `File`, or its bytes. */
  model: ModelSource;
  /** Name used in messages. @defaultValue the URL or file name */
  name?: string;
  signal?: AbortSignal;
}

/** A {@link TargetModel} on onnxruntime-web. */
export interface WebTargetModel extends TargetModel {
  /** The provider that actually ran (after any fallback). */
  readonly executionProvider: WebExecutionProvider;
  /** Providers that were tried before it and failed, with the reason. */
  readonly fallbacks: readonly ProviderFallback[];
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

/**
 * Loads an ONNX image model in the page and exposes its intermediate layers, as runtime-node
 * does (the same graph editing, from `@neurodissect/model-io`): selected layers
 * become extra graph outputs of one in-memory copy of the model, rebuilt only when a run asks for
 * a layer the current session lacks.
 * @throws `ND_FILE_NOT_FOUND`, `ND_MODEL_LOAD_FAILED`, `ND_EXECUTION_PROVIDER_UNAVAILABLE`.
 */
export async function createWebTargetModel(options: WebTargetModelOptions): Promise<WebTargetModel> {
  const name = options.name ?? describeSource(options.model);
  const bytes = await readSourceBytes(options.model, {
    name,
    ...(options.signal ? { signal: options.signal } : {}),
  });
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
  let opened: OpenedWebSession = await openWebSession(bytes, name, options);
  let exposed = new Set<string>(opened.session.outputNames);
  const provider = opened.provider;
  const fallbacks = opened.fallbacks;
  let disposed = false;
  // onnxruntime-web runs one call per session at a time; runs are queued so callers need not care.
  let queue: Promise<unknown> = Promise.resolve();

  const resolveLayer = (layer: string): string => {
    const tensor = byName.get(layer) ?? (graph.tensors.has(layer) ? layer : undefined);
    if (tensor) return tensor;
    const closest = closestNames(layer, [...byName.keys(), ...graph.tensors], 5);
    throw new NeurodissectError(
      ErrorCode.UnknownLayer,
      `The model ${name} has no layer "${layer}"; closest: ${closest.join(', ')}. List them with listLayers().`,
      { details: { layer, closest } },
    );
  };

  const ensureExposed = async (tensors: readonly string[]): Promise<void> => {
    if (tensors.every((t) => exposed.has(t))) return;
    const wanted = [...new Set([...exposed, ...tensors])];
    const next = await openWebSession(withExtraOutputs(graph, wanted), name, {
      executionProviders: [provider],
      strict: true,
    });
    await opened.session.release();
    opened = next;
    exposed = new Set(next.session.outputNames);
  };

  const runNow = async (
    batch: Tensor<'float32'>,
    layers: readonly string[],
    runOptions: OperationOptions,
  ): Promise<Map<string, Tensor<'float32'>>> => {
    if (disposed) throw new Error('The target model was disposed; load it again.');
    throwIfAborted(runOptions.signal);
    const tensors = layers.map(resolveLayer);
    await ensureExposed(tensors);
    const feed = new ort.Tensor('float32', batch.data, [...batch.dims]);
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

  const run: WebTargetModel['run'] = (batch, layers, runOptions = {}) => {
    const next = queue.then(() => runNow(batch, layers, runOptions));
    queue = next.catch(() => undefined);
    return next;
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
      await queue;
      await opened.session.release();
    },
  };
}
