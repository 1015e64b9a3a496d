import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import {
  type ConceptSet,
  ErrorCode,
  NeurodissectError,
  type ParseConceptSetOptions,
  parseConceptSetBytes,
  parseNpy,
  serializeNpy,
  type Tensor,
} from '@neurodissect/core';

async function read(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EISDIR') {
      throw new NeurodissectError(ErrorCode.FileNotFound, `The ${what} ${path} is a folder; give the file.`, {
        cause,
        details: { path },
      });
    }
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NeurodissectError(
        ErrorCode.FileNotFound,
        `The ${what} ${path} does not exist; check the path.`,
        {
          cause,
          details: { path },
        },
      );
    }
    throw cause;
  }
}

/** Reads a `.npy` file (float32, float64 or int64, C order). */
export async function readNpyFile(path: string): Promise<Tensor<'float32' | 'float64' | 'int64'>> {
  return parseNpy(await read(path, '.npy file'), path);
}

/** Writes a tensor as `.npy`, atomically (temporary file, then rename). */
export async function writeNpyFile(
  path: string,
  tensor: Tensor<'float32' | 'float64' | 'int64'>,
): Promise<void> {
  await writeFileAtomic(path, serializeNpy(tensor));
}

/**
 * Reads and normalises a concept list (one concept per line), named after its file (as
 * `neurodissect dissect` names it in the Results), so it can be given to `createDissection` as is.
 */
export async function readConceptSetFile(
  path: string,
  options: ParseConceptSetOptions = {},
): Promise<ConceptSet & { name: string }> {
  const set = parseConceptSetBytes(await read(path, 'concept file'), { source: path, ...options });
  return { ...set, name: basename(path) };
}

/** Writes a file atomically (a temporary file in the same directory, then rename), creating the directory. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  // Unique per call, so concurrent writers of one path never share a temporary file.
  const temporary = `${path}.${randomUUID()}.tmp`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
