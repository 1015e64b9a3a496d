import { ErrorCode, NeurodissectError } from '@neurodissect/core';
import type { InferenceSession } from 'onnxruntime-common';

/** A provider that was tried before the one that ran, and why it failed. */
export interface ProviderFallback<P extends string = string> {
  readonly provider: P;
  readonly reason: string;
}

/** An onnxruntime session opened on some execution provider. */
export interface ProviderSession<P extends string = string> {
  readonly session: InferenceSession;
  readonly provider: P;
  readonly fallbacks: readonly ProviderFallback<P>[];
}

/** What {@link openOnProvider} needs from a runtime. */
export interface OpenOnProviderOptions<P extends string> {
  /** Providers to try, in order. */
  providers: readonly P[];
  /** Fail at the first provider that does not work instead of falling back. */
  strict?: boolean;
  /** The model's name, for messages. */
  name: string;
  /** The runtime, for messages (`onnxruntime-node`, `onnxruntime-web`). */
  runtime: string;
  /** What to tell the user when a provider is unavailable (e.g. "install its libraries"). */
  unavailableHint: string;
  /** The provider that always works, suggested when none did (`cpu`, `wasm`). */
  lastResort: P;
  /** Opens a session on one provider; throws when the provider cannot run the model. */
  create(provider: P): Promise<InferenceSession>;
}

// onnxruntime reports a bad model and a missing provider through the same exception type.
const MODEL_ERROR =
  /protobuf parsing failed|Load model|INVALID_GRAPH|INVALID_PROTOBUF|ModelProto|No graph|failed to load model/i;

/**
 * Opens a session on the first provider that works, recording the ones that failed.
 * @throws `ND_MODEL_LOAD_FAILED` for a model onnxruntime cannot read;
 * `ND_EXECUTION_PROVIDER_UNAVAILABLE` when no provider works, or the first fails and `strict` is set.
 */
export async function openOnProvider<P extends string>(
  options: OpenOnProviderOptions<P>,
): Promise<ProviderSession<P>> {
  const { providers, name } = options;
  const fallbacks: ProviderFallback<P>[] = [];
  for (const provider of providers) {
    try {
      return { session: await options.create(provider), provider, fallbacks };
    } catch (cause) {
      const reason = failureReason(cause);
      if (MODEL_ERROR.test(reason)) {
        throw new NeurodissectError(
          ErrorCode.ModelLoadFailed,
          `The model ${name} could not be loaded by ${options.runtime} (${reason}); check it is a valid ONNX file.`,
          { cause, details: { path: name } },
        );
      }
      fallbacks.push({ provider, reason });
      if (options.strict) {
        throw new NeurodissectError(
          ErrorCode.ExecutionProviderUnavailable,
          `The execution provider "${provider}" is not available (${reason}); ${options.unavailableHint}, or drop strict to fall back to ${providers.slice(1).join(', ') || 'another provider'}.`,
          { cause, details: { provider, reason, fallsBackTo: providers.slice(1) } },
        );
      }
    }
  }
  throw new NeurodissectError(
    ErrorCode.ExecutionProviderUnavailable,
    `None of the execution providers ${providers.join(', ')} could run ${name}: ${fallbacks.map((f) => `${f.provider}: ${f.reason}`).join('; ')}. Add "${options.lastResort}" to the list.`,
    { details: { fallbacks } },
  );
}

/** onnxruntime's message for a failure, on one line. */
export function failureReason(cause: unknown): string {
  return (cause instanceof Error ? cause.message : String(cause)).replace(/\s+/g, ' ').trim();
}

/**
 * Whether onnxruntime's message for a failed run is about the input's shape (rank, dimensions),
 * rather than memory or the provider: `ND_SHAPE_MISMATCH` then, else `ND_RUN_FAILED`.
 */
export function isShapeFailure(reason: string): boolean {
  return /\b(shape|dimensions?|rank|dims)\b|Got invalid dimensions|Invalid rank/i.test(reason);
}
