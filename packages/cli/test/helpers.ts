import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Matrix, matrixToTensor, serializeNpy } from '@neurodissect/core';
import { runCli } from '../src/program';

/** Runs the CLI in-process, capturing its output. */
export async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
}

/** A fresh temporary directory. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'neurodissect-cli-'));
}

/** Writes a matrix as .npy and returns its path. */
export function writeMatrix(dir: string, name: string, matrix: Matrix): string {
  const path = join(dir, name);
  writeFileSync(path, serializeNpy(matrixToTensor(matrix)));
  return path;
}
