/**
 * Stable error codes. Tools may branch on `error.code`; the message is for people and says what
 * to do about the problem.
 */
export const ErrorCode = {
  /** A file or directory that was asked for does not exist. */
  FileNotFound: 'ND_FILE_NOT_FOUND',
  /** A file exists but its contents are not in the expected format. */
  InvalidFormat: 'ND_INVALID_FORMAT',
  /** An array has a dtype the reader does not support. */
  UnsupportedDtype: 'ND_UNSUPPORTED_DTYPE',
  /** Two inputs disagree in shape (e.g. different numbers of images). */
  ShapeMismatch: 'ND_SHAPE_MISMATCH',
  /** A numeric input holds NaN or Infinity. */
  NonFiniteValue: 'ND_NON_FINITE_VALUE',
  /** An option is outside its valid range. */
  InvalidOption: 'ND_INVALID_OPTION',
  /** A concept set has no concepts after normalisation. */
  EmptyConceptSet: 'ND_EMPTY_CONCEPT_SET',
  /** A Results document does not match its schema. */
  InvalidResults: 'ND_INVALID_RESULTS',
  /** A Results document has a version this reader does not know. */
  UnsupportedVersion: 'ND_UNSUPPORTED_VERSION',
  /** The operation was cancelled through its AbortSignal. */
  Aborted: 'ND_ABORTED',
  /** An image file could not be decoded (corrupt, truncated or not an image). */
  ImageDecodeFailed: 'ND_IMAGE_DECODE_FAILED',
  /** A model file could not be loaded or run (not ONNX, or an operator the runtime lacks). */
  ModelLoadFailed: 'ND_MODEL_LOAD_FAILED',
  /** A layer name that the model does not have was selected. */
  UnknownLayer: 'ND_UNKNOWN_LAYER',
  /** A requested execution provider is not available and `strict` forbids falling back. */
  ExecutionProviderUnavailable: 'ND_EXECUTION_PROVIDER_UNAVAILABLE',
  /** A model directory lacks a file its layout needs (e.g. `onnx/text_model.onnx`). */
  MissingModelFile: 'ND_MISSING_MODEL_FILE',
  /** A probe set has no images (an empty folder, or an index with no rows). */
  EmptyDataset: 'ND_EMPTY_DATASET',
  /** A cached feature file is truncated or corrupt; it is ignored and recomputed. */
  CorruptCacheEntry: 'ND_CORRUPT_CACHE_ENTRY',
  /** A shard of a distributed run failed every try. */
  ShardFailed: 'ND_SHARD_FAILED',
} as const;

/** One of the values of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Options for {@link NeurodissectError}. */
export interface NeurodissectErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Structured details for tools (e.g. the file, the JSON path). */
  details?: Record<string, unknown>;
}

/** The one error type the libraries throw for problems with input or state (not bad arguments). */
export class NeurodissectError extends Error {
  override readonly name = 'NeurodissectError';
  /** A stable code from {@link ErrorCode}. */
  readonly code: ErrorCode;
  /** Structured details for tools. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: NeurodissectErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** True when `error` is a {@link NeurodissectError}, optionally with the given code. */
export function isNeurodissectError(error: unknown, code?: ErrorCode): error is NeurodissectError {
  return error instanceof NeurodissectError && (code === undefined || error.code === code);
}
