import { ErrorCode, NeurodissectError } from '@neurodissect/core';
import * as ort from 'onnxruntime-web';

/** Execution providers runtime-web can ask onnxruntime-web for. */
export type WebExecutionProvider = 'webgpu' | 'wasm';

/** Options shared by everything that opens an onnxruntime-web session. */
export interface WebSessionOptions {
  /**
   * Providers to try, in order of preference; the first one whose session opens is used and
   * recorded as `executionProvider`.
   * @defaultValue `['webgpu', 'wasm']`
   */
  executionProviders?: readonly WebExecutionProvider[];
  /**
   * Fail with `ND_EXECUTION_PROVIDER_UNAVAILABLE` instead of falling back to a later provider.
   * @defaultValue false
   */
  strict?: boolean;
}

/** A provider that was tried and failed, with the reason. */
export interface ProviderFallback {
  readonly provider: WebExecutionProvider;
  readonly reason: string;
}

/** An open session and the provider it runs on. */
export interface OpenedWebSession {
  readonly session: ort.InferenceSession;
  readonly provider: WebExecutionProvider;
  readonly fallbacks: ProviderFallback[];
}

export const DEFAULT_WEB_PROVIDERS: readonly WebExecutionProvider[] = ['webgpu', 'wasm'];

// onnxruntime reports a bad model and a missing provider through the same exception type.
function isModelError(message: string): boolean {
  return /protobuf parsing failed|Load model|INVALID_GRAPH|INVALID_PROTOBUF|ModelProto|No graph|failed to load model/i.test(
    message,
  );
}

/**
 * Opens a session on the first provider that works.
 * @throws `ND_MODEL_LOAD_FAILED` for a model onnxruntime cannot read;
 * `ND_EXECUTION_PROVIDER_UNAVAILABLE` when no provider works, or the first fails and `strict` is set.
 */
export async function openWebSession(
  bytes: Uint8Array,
  name: string,
  options: WebSessionOptions = {},
): Promise<OpenedWebSession> {
  const providers = options.executionProviders?.length ? options.executionProviders : DEFAULT_WEB_PROVIDERS;
  const fallbacks: ProviderFallback[] = [];
  for (const provider of providers) {
    try {
      if (provider === 'webgpu' && !(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) {
        throw new Error('this page has no WebGPU (navigator.gpu is missing; it needs a secure context)');
      }
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
          `The model ${name} could not be loaded by onnxruntime-web (${reason}); check it is a valid ONNX file.`,
          { cause, details: { path: name } },
        );
      }
      fallbacks.push({ provider, reason });
      if (options.strict) {
        throw new NeurodissectError(
          ErrorCode.ExecutionProviderUnavailable,
          `The execution provider "${provider}" is not available in this browser (${reason}); use a browser with it enabled, or drop strict to fall back to ${providers.slice(1).join(', ') || 'another provider'}.`,
          { cause, details: { provider } },
        );
      }
    }
  }
  throw new NeurodissectError(
    ErrorCode.ExecutionProviderUnavailable,
    `None of the execution providers ${providers.join(', ')} could run ${name}: ${fallbacks.map((f) => `${f.provider}: ${f.reason}`).join('; ')}. Add "wasm" to the list.`,
    { details: { fallbacks } },
  );
}
