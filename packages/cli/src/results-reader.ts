import {
  ErrorCode,
  isNeurodissectError,
  NeurodissectError,
  parseResults,
  type Results,
} from '@neurodissect/core';
import { CliError } from './cli-error';
import { readInput } from './files';

/** Reads and validates a Results document; problems become one-line CLI errors naming `option`. */
export async function readResultsFile(path: string, option: string): Promise<Results> {
  const raw = (await readInput(path, option)).toString('utf8');
  // A byte-order mark (some editors save one) is no part of the JSON.
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  try {
    return parseResults(text, path);
  } catch (error) {
    if (!isNeurodissectError(error)) throw error;
    const issues =
      error.code === ErrorCode.InvalidResults || error.code === ErrorCode.UnsupportedVersion
        ? error.details.issues
        : undefined;
    if (issues === undefined || issues.length === 0)
      throw new CliError(`${option}: ${error.message.split('\n')[0]}`);
    throw new CliError(
      `${option}: ${path} is not a valid Results document (${issues.length} problem(s), first: ${issues[0].path}: ${issues[0].message}); run "neurodissect validate ${path}" to list them`,
    );
  }
}

/** Runs a library call, turning its coded errors and argument errors into one-line CLI errors. */
export function asCliError<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (error instanceof NeurodissectError || error instanceof RangeError) throw new CliError(error.message);
    throw error;
  }
}
