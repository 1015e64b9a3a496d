import { readFile } from 'node:fs/promises';
import { ErrorCode, NeurodissectError, type TargetModel } from '@neurodissect/core';
import { createSessionTargetModel, type SessionTargetModel } from '@neurodissect/model-io';
import * as ort from 'onnxruntime-node';

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
export type NodeTargetModel = SessionTargetModel<ExecutionProvider>;

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
 * current session lacks (model-io's {@link createSessionTargetModel} on onnxruntime-node).
 */
export async function createTargetModel(options: TargetModelOptions): Promise<NodeTargetModel> {
  const name = options.name ?? (typeof options.model === 'string' ? options.model : 'model bytes');
  const bytes = await readModelBytes(options.model, name);
  return createSessionTargetModel<ExecutionProvider>({
    bytes,
    name,
    open: (model, provider) =>
      openSession(model, name, provider ? { executionProviders: [provider], strict: true } : options),
    createTensor: (data, dims) => new ort.Tensor('float32', data, [...dims]),
  });
}
