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
  /** An object was used after its `dispose()` (a model, a runtime, a store, a processor). */
  Disposed: 'ND_DISPOSED',
  /** A model failed while running for a reason other than its input's shape (memory, provider). */
  RunFailed: 'ND_RUN_FAILED',
} as const;

/** One of the values of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Where a file or a source is: its path (Node) or name (a browser's file, a URL). */
interface WhereDetails {
  /** The file, folder or URL concerned. */
  path?: string;
  /** A named source (a file's name, `<stdin>`). */
  source?: string;
}

/**
 * The `details` of each {@link ErrorCode}, for tools that branch on them: every field is
 * optional, since a message may concern only part of them. `isNeurodissectError(error, code)`
 * narrows `error.details` to its code's entry, as zod narrows its issues by `code`.
 */
export interface ErrorDetailsByCode {
  ND_FILE_NOT_FOUND: WhereDetails & {
    /** An HTTP status (a URL that answered with an error). */
    status?: number;
    /** The site's app folder, when it was not built. */
    appDir?: string;
    /** An image root that does not exist. */
    imageRoot?: string;
  };
  ND_INVALID_FORMAT: WhereDetails & {
    /** 1-based line of the problem, and its column (by name or number). */
    line?: number;
    column?: number | string;
    /** Fields that a header or a record lacks. */
    missing?: readonly string[];
    /** Schema issues (zod's, or each with its JSON path). */
    issues?: readonly { path: string | readonly PropertyKey[]; message: string }[];
    /** A layer and the range of units or images concerned. */
    layer?: string;
    range?: { start: number; end: number };
  };
  ND_UNSUPPORTED_DTYPE: WhereDetails & {
    /** The array's dtype descriptor (e.g. `<f8`). */
    descr?: string;
  };
  ND_SHAPE_MISMATCH: WhereDetails & {
    /** The shape that was given. */
    dims?: readonly number[];
    /** The activation summary that was asked for. */
    summary?: string;
    /** Rows of activations against CLIP's images. */
    activations?: number;
    clip?: number;
    /** A concept whose embedding has another dimension, and the expected one. */
    concept?: string;
    dim?: number;
    expected?: number;
  };
  ND_NON_FINITE_VALUE: {
    /** Row and column of the first NaN or Infinity. */
    row?: number;
    column?: number;
    /** What holds it (a query, a concept). */
    what?: string;
  };
  ND_INVALID_OPTION: WhereDetails & {
    /** The dissection-spec field (or option) concerned. */
    field?: string;
    /** What a spec's hash says against what the file holds. */
    expected?: string;
    actual?: string;
    /** What differs between a Results file to resume and the current job. */
    differs?: readonly string[];
    /** The similarity function, labeler, layer, unit, query or URL concerned. */
    similarity?: string;
    labeler?: string;
    layer?: string;
    unit?: number;
    query?: string;
    url?: string;
    uri?: string;
    /** `topK` against the number of images. */
    topK?: number;
    images?: number;
    range?: { start: number; end: number };
    /** A site's output folder or image root. */
    outDir?: string;
    imageRoot?: string;
  };
  ND_EMPTY_CONCEPT_SET: WhereDetails;
  ND_INVALID_RESULTS: {
    /** Schema issues, each with its JSON path. */
    issues?: readonly { path: string; message: string }[];
    version?: unknown;
  };
  ND_UNSUPPORTED_VERSION: ErrorDetailsByCode['ND_INVALID_RESULTS'];
  // biome-ignore lint/complexity/noBannedTypes: an abort carries no details
  ND_ABORTED: {};
  ND_IMAGE_DECODE_FAILED: WhereDetails;
  ND_MODEL_LOAD_FAILED: WhereDetails & {
    /** The graph's input or output names. */
    inputs?: readonly string[];
    outputs?: readonly string[];
    /** SAM's encoder and decoder input names. */
    encoder?: readonly string[];
    decoder?: readonly string[];
  };
  ND_UNKNOWN_LAYER: {
    layer?: string;
    /** The closest layer names the model has. */
    closest?: readonly string[];
  };
  ND_EXECUTION_PROVIDER_UNAVAILABLE: {
    /** The provider that failed under `strict`, why, and those it would fall back to. */
    provider?: string;
    reason?: string;
    fallsBackTo?: readonly string[];
    /** Each provider tried and why it failed. */
    fallbacks?: readonly { provider: string; reason: string }[];
    /** Providers the runtime does not offer, and those it does. */
    unavailable?: readonly string[];
    offered?: readonly { name: string; bundled: boolean }[];
  };
  ND_MISSING_MODEL_FILE: WhereDetails & {
    /** The layout detected and the files it lacks. */
    layout?: string;
    missing?: readonly string[];
    /** Where a file was looked for. */
    candidates?: readonly string[];
    /** What the missing file is (e.g. `text tower`). */
    role?: string;
  };
  ND_EMPTY_DATASET: WhereDetails & {
    /** The files that were skipped (not images). */
    skipped?: readonly string[];
  };
  ND_CORRUPT_CACHE_ENTRY: WhereDetails & { key?: string };
  ND_SHARD_FAILED: {
    /** The queue's job id and the shard it names. */
    jobId?: string;
    shard?: unknown;
  };
  ND_DISPOSED: {
    /** What was disposed (e.g. `target model`). */
    object?: string;
  };
  ND_RUN_FAILED: WhereDetails & {
    /** The batch's shape. */
    dims?: readonly number[];
  };
}

/** The details of errors with code `C`. */
export type ErrorDetails<C extends ErrorCode = ErrorCode> = ErrorDetailsByCode[C];

/** Options for {@link NeurodissectError}. */
export interface NeurodissectErrorOptions<C extends ErrorCode = ErrorCode> {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Structured details for tools (e.g. the file, the JSON path): {@link ErrorDetailsByCode}. */
  details?: ErrorDetails<C>;
}

/** The one error type the libraries throw for problems with input or state (not bad arguments). */
export class NeurodissectError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = 'NeurodissectError';
  /** A stable code from {@link ErrorCode}. */
  readonly code: C;
  /** Structured details for tools: {@link ErrorDetailsByCode} of the code. */
  readonly details: ErrorDetails<C>;

  constructor(code: C, message: string, options: NeurodissectErrorOptions<C> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? ({} as ErrorDetails<C>);
  }
}

/**
 * A {@link NeurodissectError} of any code, as a union discriminated by `code`: after
 * `if (error.code === ErrorCode.UnknownLayer)`, `error.details` is that code's.
 */
export type AnyNeurodissectError = { [C in ErrorCode]: NeurodissectError<C> }[ErrorCode];

/**
 * True when `error` is a {@link NeurodissectError}, optionally with the given code (then its
 * `details` are that code's: `isNeurodissectError(e, ErrorCode.UnknownLayer) && e.details.closest`).
 */
export function isNeurodissectError(error: unknown): error is AnyNeurodissectError;
export function isNeurodissectError<C extends ErrorCode>(
  error: unknown,
  code: C | undefined,
): error is NeurodissectError<C>;
export function isNeurodissectError(error: unknown, code?: ErrorCode): boolean {
  return error instanceof NeurodissectError && (code === undefined || error.code === code);
}

/** The error for an object used after its `dispose()`: `The NAME was disposed; FIX.` */
export function disposedError(name: string, fix: string): NeurodissectError<'ND_DISPOSED'> {
  return new NeurodissectError(ErrorCode.Disposed, `The ${name} was disposed; ${fix}.`, {
    details: { object: name },
  });
}
