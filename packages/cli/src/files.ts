import { existsSync, statSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import {
  createMatrix,
  isNeurodissectError,
  type Matrix,
  type NpyHeader,
  parseNpy,
  parseNpyHeader,
  type Tensor,
  tensorToMatrix,
} from '@neurodissect/core';
import { CliError } from './cli-error';

/** Reads a file, turning "not found" into a one-line CLI error that names the option. */
export async function readInput(path: string, option: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`${option}: file not found: ${path}`);
    if (code === 'EISDIR') throw new CliError(`${option}: ${path} is a directory; give a file`);
    throw new CliError(`${option}: cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Reads a 2-D `.npy` as a float32 matrix; format problems become one-line CLI errors. */
export async function readNpyMatrix(path: string, option: string): Promise<Matrix> {
  const bytes = await readInput(path, option);
  let tensor: Tensor<'float32' | 'float64' | 'int64'>;
  try {
    // The file's buffer is ours alone: no second copy of a large array.
    tensor = parseNpy(bytes, path, { shareMemory: true });
    return tensorToMatrix(tensor, `array in ${path}`);
  } catch (error) {
    if (isNeurodissectError(error)) throw new CliError(`${option}: ${error.message}`);
    throw error;
  }
}

/**
 * Refuses an embedding matrix with a row of zeros (it has no direction: its cosine with anything
 * is undefined), as `search` does, naming the first such row.
 */
export function requireNonZeroRows(matrix: Matrix, path: string, option: string): void {
  for (let r = 0; r < matrix.rows; r++) {
    let zero = true;
    for (let c = 0, at = r * matrix.cols; c < matrix.cols; c++, at++) {
      if (matrix.data[at] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) {
      throw new CliError(
        `${option}: row ${r} of ${path} is all zeros, so it has no direction; embed it again or leave it out`,
      );
    }
  }
}

/** A block of rows of a 2-D `.npy` file (see {@link npyRowBlocks}). */
export interface NpyRowBlock {
  /** Rows `firstRow .. firstRow + block.rows` as float32 (a view valid until the next block). */
  readonly block: Matrix;
  readonly firstRow: number;
  /** The whole array's shape. */
  readonly rows: number;
  readonly cols: number;
}

/**
 * Reads a 2-D float32 or float64 `.npy` file in blocks of rows through one reused buffer, so a
 * large array is never held whole (nor its pages faulted in twice). Non-finite values, a wrong
 * dtype or rank and truncation are one-line CLI errors naming the option; `check(rows, cols)` runs
 * on the header, before any data is read.
 */
export async function* npyRowBlocks(
  path: string,
  option: string,
  check: (rows: number, cols: number) => void = () => {},
  blockBytes = 16 * 2 ** 20,
): AsyncGenerator<NpyRowBlock> {
  const file = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new CliError(`${option}: file not found: ${path}`);
    if (error.code === 'EISDIR') throw new CliError(`${option}: ${path} is a directory; give a file`);
    throw new CliError(`${option}: cannot read ${path}: ${error.message}`);
  });
  try {
    const info = await file.stat();
    // A folder opens for reading on Linux; only its reads fail.
    if (info.isDirectory()) throw new CliError(`${option}: ${path} is a directory; give a file`);
    const { size } = info;
    if (size === 0) throw new CliError(`${option}: ${path} is empty; give a .npy file`);
    const head = new Uint8Array(Math.min(size, 65536));
    await file.read(head, 0, head.length, 0);
    let header: NpyHeader;
    try {
      header = parseNpyHeader(head, path);
    } catch (error) {
      if (isNeurodissectError(error)) throw new CliError(`${option}: ${error.message}`);
      throw error;
    }
    if (header.dims.length !== 2 || header.dtype === 'int64') {
      throw new CliError(
        `${option}: the array in ${path} must be a 2-D float32 or float64 matrix, got ${header.dtype} of shape [${header.dims.join(', ')}]`,
      );
    }
    const [rows, cols] = header.dims as [number, number];
    const itemBytes = header.dtype === 'float64' ? 8 : 4;
    const dataBytes = rows * cols * itemBytes;
    if (size - header.dataOffset < dataBytes) {
      throw new CliError(
        `${option}: ${path}: the file is truncated: shape (${rows}, ${cols}) needs ${dataBytes} bytes of data, found ${size - header.dataOffset}.`,
      );
    }
    check(rows, cols);
    const rowBytes = Math.max(1, cols * itemBytes);
    const perBlock = Math.max(1, Math.floor(blockBytes / rowBytes));
    const raw = new Uint8Array(perBlock * rowBytes);
    const floats = header.dtype === 'float32' ? undefined : createMatrix(perBlock, cols);
    for (let firstRow = 0; firstRow < rows; firstRow += perBlock) {
      const n = Math.min(perBlock, rows - firstRow);
      const want = n * rowBytes;
      let got = 0;
      while (got < want) {
        const { bytesRead } = await file.read(
          raw,
          got,
          want - got,
          header.dataOffset + firstRow * rowBytes + got,
        );
        if (bytesRead === 0)
          throw new CliError(`${option}: ${path} ended early (the file changed while it was read)`);
        got += bytesRead;
      }
      let data: Float32Array;
      if (floats) {
        const wide = new Float64Array(raw.buffer, 0, n * cols);
        for (let i = 0; i < wide.length; i++) floats.data[i] = wide[i];
        data = floats.data.subarray(0, n * cols);
      } else {
        data = new Float32Array(raw.buffer, 0, n * cols);
      }
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i])) {
          const r = Math.floor(i / cols);
          throw new CliError(
            `${option}: The array in ${path} holds ${data[i]} at row ${firstRow + r}, column ${i - r * cols}; remove or replace non-finite values.`,
          );
        }
      }
      yield { block: createMatrix(n, cols, data), firstRow, rows, cols };
    }
  } finally {
    await file.close();
  }
}

/** Writes a file atomically (temporary file, then rename), creating its directory. */
export async function writeOutput(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }); // nothing half-written stays behind
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new CliError(`${path} is a folder; give the file to write`);
    if (code === 'ENOSPC')
      throw new CliError(`no space left to write ${path}; free some space and run again`);
    throw error;
  }
}

/**
 * Takes `path.lock` for this process (created exclusively, holding the pid), so two runs never
 * write one output; a lock left by a process that no longer runs is taken over. Returns the
 * release function.
 */
export async function lockOutput(path: string, option: string): Promise<() => Promise<void>> {
  const lock = `${path}.lock`;
  await mkdir(dirname(lock), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
      return () => rm(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isRunning(pid)) {
        throw new CliError(
          `${option}: another run (pid ${pid}) is writing ${path}; wait for it, or choose another ${option}`,
        );
      }
      await rm(lock, { force: true }); // stale: its process is gone
    }
  }
  throw new CliError(`${option}: could not lock ${path} (${lock} keeps coming back)`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Refuses, before any work, an output folder that is an existing file; `hint` says what to give. */
export function requireOutputFolder(
  path: string,
  option: string,
  hint = 'give a folder (it is created if missing)',
): void {
  if (existsSync(path) && !statSync(path).isDirectory())
    throw new CliError(`${option}: ${path} is a file; ${hint}`);
}

/** Refuses, before any work, an output file that is an existing folder; `hint` says what to give. */
/** A one-line error when an input `path` is missing or is a folder. */
export function requireInputFile(path: string, option: string, what = 'file'): void {
  if (!existsSync(path)) throw new CliError(`${option}: file not found: ${path}`);
  if (statSync(path).isDirectory()) throw new CliError(`${option}: ${path} is a folder; give the ${what}`);
}

export function requireOutputFile(path: string, option: string, hint = 'give the file to write'): void {
  if (existsSync(path) && statSync(path).isDirectory())
    throw new CliError(`${option}: ${path} is a folder; ${hint}`);
}

/**
 * `path` as a document written at `document` records it: relative to the document's folder, with
 * forward slashes, so the document names no absolute path of the machine that made it. When the
 * two share no folder but the root, the relative path would spell out the machine's layout: then
 * only the file's name is recorded.
 */
export function pathForDocument(path: string, document: string): string {
  const folder = dirname(resolve(document));
  const rel = relative(folder, resolve(path));
  const parts = rel.split(sep);
  const climbs = parts.findIndex((part) => part !== '..');
  const depth = folder.split(sep).filter(Boolean).length;
  if (rel === '' || (climbs === -1 ? parts.length : climbs) >= depth) return basename(path);
  return parts.join('/');
}
