import {
  type ProviderFallback as ModelIoProviderFallback,
  openOnProvider,
  type ProviderSession,
} from '@neurodissect/model-io';
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
export type ProviderFallback = ModelIoProviderFallback<WebExecutionProvider>;

/** An open session and the provider it runs on. */
export type OpenedWebSession = ProviderSession<WebExecutionProvider>;

export const DEFAULT_WEB_PROVIDERS: readonly WebExecutionProvider[] = ['webgpu', 'wasm'];

/**
 * Opens a session on the first provider that works.
 * @throws `ND_MODEL_LOAD_FAILED` for a model onnxruntime cannot read;
 * `ND_EXECUTION_PROVIDER_UNAVAILABLE` when no provider works, or the first fails and `strict` is set.
 */
export function openWebSession(
  bytes: Uint8Array,
  name: string,
  options: WebSessionOptions = {},
): Promise<OpenedWebSession> {
  return openOnProvider<WebExecutionProvider>({
    providers: options.executionProviders?.length ? options.executionProviders : DEFAULT_WEB_PROVIDERS,
    strict: options.strict,
    name,
    runtime: 'onnxruntime-web',
    unavailableHint: 'use a browser with it enabled',
    lastResort: 'wasm',
    create: async (provider) => {
      if (provider === 'webgpu' && !(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) {
        throw new Error('this page has no WebGPU (navigator.gpu is missing; it needs a secure context)');
      }
      return ort.InferenceSession.create(bytes, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        // A missing provider is reported through our error or `fallbacks`, not printed.
        logSeverityLevel: 4,
      });
    },
  });
}
