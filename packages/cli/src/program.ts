import { isNeurodissectError } from '@neurodissect/core';
import { Command, CommanderError } from 'commander';
import { CliError } from './cli-error';
import { registerActivationsCommand } from './commands/activations';
import { registerCompareCommand } from './commands/compare';
import { registerDemoCommand } from './commands/demo';
import { registerDissectCommand } from './commands/dissect';
import { registerEmbedCommand } from './commands/embed';
import { registerEvalCommand } from './commands/eval';
import { registerImportCommand } from './commands/import';
import { registerLayersCommand } from './commands/layers';
import { registerNeuronCommand } from './commands/neuron';
import { registerPreprocessCommand } from './commands/preprocess';
import { registerScoreCommand } from './commands/score';
import { registerSearchCommand } from './commands/search';
import { registerServeCommand } from './commands/serve';
import { registerSiteCommand } from './commands/site';
import { registerTokenizeCommand } from './commands/tokenize';
import { registerToyWorldCommand } from './commands/toyworld';
import { registerValidateCommand } from './commands/validate';
import { registerWorkerCommand } from './commands/worker';
import type { CliIo } from './io';
import { terminalSafe } from './terminal';
import { version } from './version';

/** Builds the `neurodissect` command; `setExitCode` receives the exit code of the action. */
export function createProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('neurodissect')
    .description('Describe, in words, what each neuron of a vision network responds to.')
    .version(version)
    .option('--debug', 'print the details of an unexpected error (anywhere on the command line)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  // Each command registers itself from its own module.
  registerScoreCommand(program, io);
  registerDissectCommand(program, io);
  registerDemoCommand(program, io);
  registerValidateCommand(program, io, setExitCode);
  registerImportCommand(program, io);
  registerEvalCommand(program, io);
  registerCompareCommand(program, io);
  registerSearchCommand(program, io);
  registerNeuronCommand(program, io);
  registerSiteCommand(program, io);
  registerServeCommand(program, io);
  registerToyWorldCommand(program, io);
  registerTokenizeCommand(program, io);
  registerPreprocessCommand(program, io);
  registerLayersCommand(program, io);
  registerActivationsCommand(program, io);
  registerEmbedCommand(program, io);
  registerWorkerCommand(program, io);

  return program;
}

/** A system error's code and the path it concerns, when the error is one (ENOSPC, EACCES…). */
function systemError(error: unknown): { code: string; path?: string } | undefined {
  const e = error as NodeJS.ErrnoException | undefined;
  return typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code) ? { code: e.code, path: e.path } : undefined;
}

/** One line for an error no command turned into a message of its own. */
function unexpectedErrorLine(error: unknown): { line: string; exitCode: number } {
  if (isNeurodissectError(error)) return { line: error.message.split('\n')[0], exitCode: 2 };
  const system = systemError(error);
  // The file meant, not the temporary name it was being written under.
  const path = system?.path?.replace(/\.[0-9a-f-]{36}\.tmp$|\.\d+\.tmp$/, '');
  const where = path ? ` (${path})` : '';
  if (system?.code === 'ENOSPC') {
    return {
      line: `no space left on the device${path ? ` to write ${path}` : ''}; free some space and run again`,
      exitCode: 2,
    };
  }
  if (system?.code === 'EISDIR') {
    return { line: `${path ?? 'a path given'} is a folder; give a file`, exitCode: 2 };
  }
  if (system?.code === 'EACCES' || system?.code === 'EPERM' || system?.code === 'EROFS') {
    return {
      line: `permission denied${where} (${system.code}); choose a place you can write to`,
      exitCode: 2,
    };
  }
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return { line: `unexpected error: ${message} (run with --debug for details)`, exitCode: 70 };
}

/** The longest line of a message or warning; a longer one (a quoted 10 MB label) is shortened. */
const MAX_MESSAGE_LINE = 1000;

/** `text` with every line longer than {@link MAX_MESSAGE_LINE} cut in the middle, saying how much. */
function boundLines(text: string): string {
  if (text.length <= MAX_MESSAGE_LINE) return text;
  return text
    .split('\n')
    .map((line) =>
      line.length <= MAX_MESSAGE_LINE
        ? line
        : `${line.slice(0, 600)}… (${line.length - 800} characters left out) …${line.slice(-200)}`,
    )
    .join('\n');
}

/**
 * Runs the CLI with `argv` (without the node and script entries). Never throws: returns the exit
 * code (0 ok, 1 a check failed, 2 bad input or usage, 130 interrupted, 70 an unexpected error, in
 * one line; `--debug` anywhere in `argv` prints its details).
 */
export async function runCli(argv: readonly string[], given: CliIo): Promise<number> {
  const debug = argv.includes('--debug');
  const args = argv.filter((arg) => arg !== '--debug');
  // Everything the commands print goes through terminalSafe (progress bars draw on the terminal
  // themselves).
  const io: CliIo = {
    ...given,
    stdout: { write: (text: string) => given.stdout.write(terminalSafe(text)) },
    stderr: {
      write: (text: string) => given.stderr.write(terminalSafe(boundLines(text))),
      isTTY: given.stderr.isTTY,
    },
  };
  let exitCode = 0;
  const program = createProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(args, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message (help, version, or a usage error).
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CliError) {
      io.stderr.write(`neurodissect: ${error.message}\n`);
      return error.exitCode;
    }
    const { line, exitCode: code } = unexpectedErrorLine(error);
    io.stderr.write(`neurodissect: ${line}\n`);
    if (debug)
      io.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return code;
  }
}
