import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isNeurodissectError, type Matrix, parseNpy, type Tensor, tensorToMatrix } from '@neurodissect/core';
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

/** Writes a file atomically (temporary file, then rename), creating its directory. */
export async function writeOutput(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}
