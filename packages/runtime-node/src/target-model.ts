import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { ErrorCode, NeurodissectError, type TargetModel } from '@neurodissect/core';
import {
  createSessionTargetModel,
  openOnProvider,
  type ProviderSession,
  type SessionTargetModel,
} from '@neurodissect/model-io';
import * as ort from 'onnxruntime-node';

/** Execution providers runtime-node can ask onnxruntime-node for. */
export type ExecutionProvider = 'cpu' | 'cuda' | 'tensorrt' | 'webgpu';

/** Options shared by everything that opens an ONNX session. */
export interface SessionOptions {
  /**
   * Providers to try, in order of preference; the first one whose session opens is used and
   * recorded in the model's {@link SessionTargetModel.executionProvider | executionProvider}.
   * @defaultValue `['cpu']`
   */
  executionProviders?: readonly ExecutionProvider[];
  /**
   * Fail with `ND_EXECUTION_PROVIDER_UNAVAILABLE` instead of falling back to a later provider.
   * @defaultValue false
   */
  strict?: boolean;
  /**
   * Threads onnxruntime runs each operator on (intra-op; operators run one after another). Its
   * own default ran some models here at half the speed of an explicit count.
   * @defaultValue the machine's available parallelism
   */
  threads?: number;
}

/** Options for {@link createTargetModel}. */
export interface TargetModelOptions extends SessionOptions {
  /** Path of the `.onnx` file (or its bytes, with `name` for messages). */
  model: string | Uint8Array;
  /** Name used in messages when `model` is bytes. */
  name?: string;
}

/** A {@link TargetModel} on onnxruntime-node. */
export type NodeTargetModel = SessionTargetModel<ExecutionProvider>;

/**
 * Opens a session on the first provider that works.
 * @throws `ND_EXECUTION_PROVIDER_UNAVAILABLE` when none works, or the first fails and `strict` is set.
 */
export function openSession(
  bytes: Uint8Array,
  name: string,
  options: SessionOptions = {},
): Promise<ProviderSession<ExecutionProvider>> {
  return openOnProvider<ExecutionProvider>({
    providers: options.executionProviders?.length ? options.executionProviders : ['cpu'],
    strict: options.strict,
    name,
    runtime: 'onnxruntime',
    unavailableHint: 'install its libraries',
    lastResort: 'cpu',
    create: (provider) =>
      ort.InferenceSession.create(bytes, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        intraOpNumThreads: options.threads ?? availableParallelism(),
        interOpNumThreads: 1,
        // A missing provider is reported through our error or `fallbacks`, not printed.
        logSeverityLevel: 4,
      }),
  });
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
 * current session lacks (model-io's {@link createSessionTargetModel} on onnxruntime-node).
 */
export async function createTargetModel(options: TargetModelOptions): Promise<NodeTargetModel> {
  const name = options.name ?? (typeof options.model === 'string' ? options.model : 'model bytes');
  const bytes = await readModelBytes(options.model, name);
  return createSessionTargetModel<ExecutionProvider>({
    bytes,
    name,
    open: (model, provider) =>
      openSession(
        model,
        name,
        provider ? { executionProviders: [provider], strict: true, threads: options.threads } : options,
      ),
    createTensor: (data, dims) => new ort.Tensor('float32', data, [...dims]),
  });
}
