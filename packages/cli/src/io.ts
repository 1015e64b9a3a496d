/** How long work is reported: a redrawn bar (a terminal), plain lines (logs, CI, schedulers), or not at all. */
export type ProgressMode = 'bar' | 'lines' | 'off';

/** Where the CLI reads and writes; tests pass their own. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  /** Standard input, for the commands that read it (`tokenize`). */
  stdin?: AsyncIterable<string | Uint8Array>;
  /** How progress is shown. @defaultValue a bar on a terminal, otherwise nothing */
  progress?: ProgressMode;
}

/** The process's own streams. */
export function processIo(): CliIo {
  // A terminal gets a bar; a log file, CI or a scheduler gets a plain line every few seconds.
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    progress: process.stderr.isTTY ? 'bar' : 'lines',
  };
}
