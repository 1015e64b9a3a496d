import { isNeurodissectError } from '@neurodissect/core';
import {
  createNodeDissectionEnvironment,
  DEFAULT_REDIS_TIMEOUT_SECONDS,
  startDissectionWorker,
} from '@neurodissect/jobs';
import { createNodeRuntime, type ExecutionProvider } from '@neurodissect/runtime-node';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliIo } from '../io';
import { integer } from '../option-parsers';

/** Options of `neurodissect worker`, as parsed. */
export interface WorkerCommandOptions {
  queue: string;
  concurrency: number;
  stallSeconds: number;
  ep: string;
  strict?: boolean;
  /** Seconds to wait for Redis once it stops answering. */
  redisTimeout: number;
}

/**
 * `neurodissect worker`: takes shards of distributed dissections from Redis until stopped. SIGTERM
 * or SIGINT finishes the shards under way, then exits.
 */
export async function workerCommand(o: WorkerCommandOptions, io: CliIo): Promise<void> {
  for (const [option, value] of [
    ['--concurrency', o.concurrency],
    ['--stall-seconds', o.stallSeconds],
    ['--redis-timeout', o.redisTimeout],
  ] as const) {
    if (!(Number.isInteger(value) && value >= 1))
      throw new CliError(`${option}: ${value} is not a positive integer`);
  }
  const executionProviders = o.ep.split(',').map((p) => p.trim()) as ExecutionProvider[];
  const runtime = await createNodeRuntime({ executionProviders, strict: o.strict }).catch((error) => {
    if (isNeurodissectError(error)) throw new CliError(`--ep: ${error.message}`);
    throw error;
  });
  const log = (line: string) => io.stderr.write(`${new Date().toISOString()} ${line}\n`);
  let lost: ((error: Error) => void) | undefined;
  try {
    const worker = await startDissectionWorker({
      redisTimeout: o.redisTimeout,
      onRedisLost: (error) => lost?.(error),
      url: o.queue,
      environment: createNodeDissectionEnvironment({ runtime }),
      concurrency: o.concurrency,
      stallSeconds: o.stallSeconds,
      log,
    }).catch((error) => {
      if (isNeurodissectError(error)) throw new CliError(`--queue: ${error.message}`);
      throw error;
    });
    log(`worker ${process.pid} listening on ${o.queue} (${o.concurrency} at a time)`);
    let gaveUp: Error | undefined;
    await new Promise<void>((stopped) => {
      const stop = (signal: string) => {
        log(`${signal}: finishing the shards under way, then stopping`);
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        worker.close().then(stopped, stopped);
      };
      const onTerm = () => stop('SIGTERM');
      const onInt = () => stop('SIGINT');
      process.once('SIGTERM', onTerm);
      process.once('SIGINT', onInt);
      lost = (error) => {
        gaveUp = error;
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        worker.close().then(stopped, stopped);
      };
    });
    if (gaveUp) throw new CliError(`--queue: ${gaveUp.message}`);
    log('worker stopped');
  } finally {
    await runtime.dispose();
  }
}

/** Adds `worker` to the program. */
export function registerWorkerCommand(program: Command, io: CliIo): void {
  program
    .command('worker')
    .description(
      'Take shards of distributed dissections (dissect --queue) from Redis until stopped; SIGTERM finishes the current shard, then exits.',
    )
    .requiredOption('--queue <url>', 'Redis: redis://HOST:PORT')
    .option('--concurrency <n>', 'shards worked on at once', integer, 1)
    .option(
      '--stall-seconds <n>',
      "seconds before a silent worker's shard is given to another worker",
      integer,
      30,
    )
    .option(
      '--redis-timeout <seconds>',
      'seconds to wait for Redis once it stops answering, then exit (2)',
      integer,
      DEFAULT_REDIS_TIMEOUT_SECONDS,
    )
    .option('--ep <providers>', 'execution providers in order of preference (cpu, cuda, tensorrt)', 'cpu')
    .option('--strict', 'fail instead of falling back to a later execution provider')
    .action(async (options: WorkerCommandOptions) => {
      await workerCommand(options, io);
    });
}
