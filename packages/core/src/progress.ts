import { ErrorCode, NeurodissectError } from './errors';

/** A progress report from a long operation. */
export interface ProgressEvent {
  /** What is being done, e.g. `'score'`, `'embed-images'`. */
  stage: string;
  /** Units done so far. */
  done: number;
  /** Units in all, when known. */
  total?: number;
  /** A short human-readable note. */
  message?: string;
}

/** Receives {@link ProgressEvent}s. Must not throw; it is called on the hot path. */
export type ProgressCallback = (event: ProgressEvent) => void;

/** Options every long operation accepts. */
export interface OperationOptions {
  /** Cancels the operation; it then rejects with code {@link ErrorCode.Aborted}. */
  signal?: AbortSignal;
  /** Receives progress. */
  onProgress?: ProgressCallback;
}

/** Throws a coded `Aborted` error when `signal` has been aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new NeurodissectError(ErrorCode.Aborted, 'The operation was cancelled.', {
      cause: signal.reason,
    });
  }
}
