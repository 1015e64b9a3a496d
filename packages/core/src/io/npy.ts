import { ErrorCode, NeurodissectError } from '../errors';
import type { DType, DTypeArray, Tensor } from '../tensor';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR_TO_DTYPE: Record<string, 'float32' | 'float64' | 'int64'> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '<i8': 'int64',
};
const DTYPE_TO_DESCR: Partial<Record<DType, string>> = { float32: '<f4', float64: '<f8', int64: '<i8' };
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int64: 8, int32: 4, uint8: 1 };

function npyError(message: string, source?: string): NeurodissectError {
  return new NeurodissectError(ErrorCode.InvalidFormat, `${source ? `${source}: ` : ''}${message}`, {
    details: { source },
  });
}

/** Options of {@link parseNpy}. */
export interface ParseNpyOptions {
  /**
   * Return a view of `bytes` instead of a copy when the data is aligned (it is in files written by
   * numpy and by {@link serializeNpy}): no second copy of a large array. The tensor then shares
   * memory with `bytes`. @defaultValue false
   */
  shareMemory?: boolean;
}

/** What a `.npy` header says: the dtype, the shape, and where the data starts. */
export interface NpyHeader {
  readonly dtype: 'float32' | 'float64' | 'int64';
  readonly dims: readonly number[];
  /** Byte offset of the data from the start of the file. */
  readonly dataOffset: number;
}

/**
 * Reads the header of a `.npy` file from its first bytes (the whole header must be in `bytes`:
 * 64 KiB always suffice for files numpy writes), so large arrays can be read in pieces. Same
 * checks and messages as {@link parseNpy}.
 */
export function parseNpyHeader(bytes: Uint8Array, source?: string): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw npyError(
      'not a .npy file (the \\x93NUMPY signature is missing). Save arrays with numpy.save.',
      source,
    );
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw npyError(`unsupported .npy format version ${major}.${bytes[7]}.`, source);
  }
  if (bytes.length < headerStart + headerLength)
    throw npyError('the file is truncated inside its header.', source);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(headerStart, headerStart + headerLength),
  );
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw npyError(`malformed .npy header: ${header.trim()}`, source);
  }
  const dtype = DESCR_TO_DTYPE[descr];
  if (dtype === undefined) {
    throw new NeurodissectError(
      ErrorCode.UnsupportedDtype,
      `${source ? `${source}: ` : ''}dtype '${descr}' is not supported; save as float32, float64 or int64 (little-endian), e.g. numpy.save(path, a.astype('float32')).`,
      { details: { source, descr } },
    );
  }
  if (fortran === 'True') {
    throw npyError(
      'the array is in Fortran order; save it with numpy.save(path, numpy.ascontiguousarray(a)).',
      source,
    );
  }
  const dims = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw npyError(`bad shape (${shapeText}).`, source);
  return { dtype, dims, dataOffset: headerStart + headerLength };
}

/**
 * Reads a NumPy `.npy` file (format 1.0–3.0). Supports little-endian float32, float64 and int64 in
 * C order; anything else gets an {@link ErrorCode.UnsupportedDtype} error saying how to convert.
 * @param source a name for the file, used in messages.
 */
export function parseNpy(
  bytes: Uint8Array,
  source?: string,
  options: ParseNpyOptions = {},
): Tensor<'float32' | 'float64' | 'int64'> {
  const { dtype, dims: headerDims, dataOffset: dataStart } = parseNpyHeader(bytes, source);
  const dims = [...headerDims];
  const count = dims.reduce((a, b) => a * b, 1);
  const byteLength = count * BYTES[dtype];
  if (bytes.length - dataStart < byteLength) {
    throw npyError(
      `the file is truncated: shape (${dims.join(', ')}) needs ${byteLength} bytes of data, found ${bytes.length - dataStart}.`,
      source,
    );
  }
  const offset = bytes.byteOffset + dataStart;
  let buffer: ArrayBufferLike;
  let start = 0;
  if (options.shareMemory && offset % BYTES[dtype] === 0) {
    buffer = bytes.buffer;
    start = offset;
  } else {
    // Copy into a fresh, aligned buffer (Node's Buffer#slice would return a view of a shared pool).
    const copy = new Uint8Array(byteLength);
    copy.set(bytes.subarray(dataStart, dataStart + byteLength));
    buffer = copy.buffer;
  }
  const data =
    dtype === 'float32'
      ? new Float32Array(buffer, start, count)
      : dtype === 'float64'
        ? new Float64Array(buffer, start, count)
        : new BigInt64Array(buffer, start, count);
  return { dtype, dims, data } as Tensor<'float32' | 'float64' | 'int64'>;
}

/** Writes a tensor as a `.npy` (format 1.0, C order, little-endian). */
export function serializeNpy<D extends 'float32' | 'float64' | 'int64'>(tensor: Tensor<D>): Uint8Array {
  const descr = DTYPE_TO_DESCR[tensor.dtype];
  if (descr === undefined) throw new TypeError(`Cannot write dtype ${tensor.dtype} as .npy.`);
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad so that the data starts on a 64-byte boundary, ending the header with a newline.
  const unpadded = 10 + header.length + 1;
  header += `${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const data = tensor.data as DTypeArray[D];
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
