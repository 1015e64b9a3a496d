import {
  type ActivationSummary,
  closestNames,
  disposedError,
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
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { type OnnxGraph, parseOnnxGraph, withExtraOutputs } from './onnx-graph';
import {
  failureReason,
  isShapeFailure,
  type ProviderFallback,
  type ProviderSession,
} from './open-on-provider';

/** A {@link TargetModel} on an onnxruntime session (Node or web), with its layers exposed. */
export interface SessionTargetModel<P extends string = string> extends TargetModel {
  /** The provider that actually ran (after any fallback). */
  readonly executionProvider: P;
  /** Providers that were tried before it and failed, with the reason. */
  readonly fallbacks: readonly ProviderFallback<P>[];
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

/** What {@link createSessionTargetModel} needs from a runtime. */
export interface SessionTargetModelOptions<P extends string> {
  /** The `.onnx` bytes. */
  bytes: Uint8Array;
  /** Name used in messages. */
  name: string;
  /**
   * Opens a session on model bytes: on the runtime's configured providers, or, when `provider` is
   * given, on that provider only (strict), as when layers are added to a working model.
   */
  open(bytes: Uint8Array, provider?: P): Promise<ProviderSession<P>>;
  /** The runtime's own tensor for the input batch. */
  createTensor(data: Float32Array, dims: readonly number[]): OrtTensor;
  /** Run one call at a time (onnxruntime-web sessions take no concurrent runs). @defaultValue false */
  serialize?: boolean;
}

/**
 * Loads an ONNX image model on a runtime's sessions and exposes its intermediate layers: selected
 * layers become extra graph outputs of one in-memory copy of the model, rebuilt only when a run
 * asks for a layer the current session lacks. Shared by runtime-node and runtime-web.
 * @throws `ND_MODEL_LOAD_FAILED` for bytes that are not a readable ONNX image model.
 */
export async function createSessionTargetModel<P extends string>(
  options: SessionTargetModelOptions<P>,
): Promise<SessionTargetModel<P>> {
  const { bytes, name } = options;
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
  let opened = await options.open(bytes);
  let exposed = new Set<string>(opened.session.outputNames);
  const { provider, fallbacks } = opened;
  let disposed = false;
  let queue: Promise<unknown> = Promise.resolve();

  const resolveLayer = (layer: string): string => {
    const tensor = byName.get(layer) ?? (graph.tensors.has(layer) ? layer : undefined);
    if (tensor) return tensor;
    const closest = closestNames(layer, [...byName.keys(), ...graph.tensors], 5);
    throw new NeurodissectError(
      ErrorCode.UnknownLayer,
      `The model ${name} has no layer "${layer}"; closest: ${closest.join(', ')}. List them with \`neurodissect layers --model FILE\` (listLayers() in code).`,
      { details: { layer, closest } },
    );
  };

  const ensureExposed = async (tensors: readonly string[]): Promise<void> => {
    if (tensors.every((t) => exposed.has(t))) return;
    const wanted = [...new Set([...exposed, ...tensors])];
    const next = await options.open(withExtraOutputs(graph, wanted), provider);
    await opened.session.release();
    opened = next;
    exposed = new Set(next.session.outputNames);
  };

  const runNow = async (
    batch: Tensor<'float32'>,
    layers: readonly string[],
    runOptions: OperationOptions,
  ): Promise<Map<string, Tensor<'float32'>>> => {
    if (disposed) throw disposedError('target model', 'load it again');
    throwIfAborted(runOptions.signal);
    const tensors = layers.map(resolveLayer);
    await ensureExposed(tensors);
    let results: InferenceSession.OnnxValueMapType;
    try {
      results = await opened.session.run({ [input.name]: options.createTensor(batch.data, batch.dims) }, [
        ...new Set(tensors),
      ]);
    } catch (cause) {
      const reason = failureReason(cause);
      // A graph exported with a fixed batch of 1 (no dynamic_axes) often lists a dynamic input but
      // bakes the batch into a Reshape inside: onnxruntime then says "Got: 16 Expected: 1".
      const n = batch.dims[0] ?? 0;
      const fixedBatch =
        n > 1 && (input.shape[0] === 1 || new RegExp(`Got: ${n} Expected: 1\\b`).test(reason))
          ? ` It looks exported with a fixed batch of 1: export it again with dynamic_axes={"${input.name}": {0: "batch"}, …} (docs/your-model.md), or run with a batch size of 1.`
          : '';
      throw isShapeFailure(reason)
        ? new NeurodissectError(
            ErrorCode.ShapeMismatch,
            `Running ${name} on a batch of shape [${batch.dims.join(', ')}] failed (${reason}); the model expects ${input.name} [${input.shape.join(', ')}].${fixedBatch}`,
            { cause, details: { path: name, dims: [...batch.dims] } },
          )
        : new NeurodissectError(
            ErrorCode.RunFailed,
            `Running ${name} on a batch of ${n} image(s) failed (${reason}); ${fixedBatch ? fixedBatch.trim() : 'if it ran out of memory, lower the batch size.'}`,
            { cause, details: { path: name, dims: [...batch.dims] } },
          );
    }
    throwIfAborted(runOptions.signal);
    const out = new Map<string, Tensor<'float32'>>();
    layers.forEach((layer, i) => {
      const value = results[tensors[i]] as OrtTensor;
      out.set(layer, { dtype: 'float32', dims: [...value.dims], data: value.data as Float32Array });
    });
    runOptions.onProgress?.({ stage: 'target-activations', done: batch.dims[0] ?? 0 });
    return out;
  };

  const run: SessionTargetModel<P>['run'] = (batch, layers, runOptions = {}) => {
    if (!options.serialize) return runNow(batch, layers, runOptions);
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
