#!/usr/bin/env node
import { processIo } from './io';
import { runCli } from './program';

// A reader that stops early (`| head`) closes the pipe: the output is no longer wanted, which is
// no failure.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

runCli(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
    // The command has finished: a client left retrying a server that is gone (Redis, once the
    // worker gave up on it) may not keep the process alive past a short grace.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (error: unknown) => {
    process.stderr.write(
      `neurodissect: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 70;
  },
);
