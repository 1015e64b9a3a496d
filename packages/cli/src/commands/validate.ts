import { validateResults } from '@neurodissect/core';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { readInput } from '../files';
import type { CliIo } from '../io';

/** `neurodissect validate FILE`: checks a Results document of any version. Exit 1 when invalid. */
export async function validateCommand(file: string, io: CliIo): Promise<number> {
  const raw = (await readInput(file, 'FILE')).toString('utf8');
  // A byte-order mark (some editors save one) is no part of the JSON: read past it, and say so.
  const bom = raw.charCodeAt(0) === 0xfeff;
  const text = bom ? raw.slice(1) : raw;
  if (bom) io.stderr.write(`note: ${file} starts with a byte-order mark (U+FEFF); it was read past\n`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const result = validateResults(value);
  if (result.ok) {
    const migrated =
      result.migratedFrom !== undefined
        ? ` (read as version ${result.migratedFrom}, migrates to ${result.version})`
        : '';
    io.stdout.write(
      `valid: ${file} is a Results document, version ${result.migratedFrom ?? result.version}${migrated}\n`,
    );
    return 0;
  }
  io.stdout.write(`invalid: ${file} has ${result.issues.length} problem(s):\n`);
  for (const issue of result.issues) io.stdout.write(`  ${issue.path}: ${issue.message}\n`);
  return 1;
}

/** Adds `validate` to the program. */
export function registerValidateCommand(
  program: Command,
  io: CliIo,
  setExitCode: (code: number) => void,
): void {
  program
    .command('validate')
    .description(
      'Check a Results document (any version): prints "valid" and its version, or each problem with its JSON path.',
    )
    .argument('<file>', 'the Results document (.json)')
    .action(async (file: string) => {
      setExitCode(await validateCommand(file, io));
    });
}
