import { relative } from 'node:path';
import { writeToyWorld } from '@neurodissect/toyworld/node';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliIo } from '../io';
import { integer } from '../option-parsers';
import { createProgressRenderer } from '../progress-bar';

/** Options of `neurodissect toyworld generate`, as parsed. */
export interface ToyWorldGenerateOptions {
  out: string;
  seed: number;
  count: number;
  size: number;
  split: string;
}

/** `neurodissect toyworld generate`: writes a toy world in Broden's layout. */
export async function toyWorldGenerateCommand(o: ToyWorldGenerateOptions, io: CliIo): Promise<void> {
  if (o.seed < 0 || o.seed > 0xffffffff)
    throw new CliError(`--seed: must be from 0 to 4294967295, got ${o.seed}`);
  if (o.count < 1) throw new CliError(`--count: must be at least 1, got ${o.count}`);
  if (o.size < 32 || o.size > 1024)
    throw new CliError(`--size: must be from 32 to 1024 pixels, got ${o.size}`);
  const progress = createProgressRenderer(io);
  const started = Date.now();
  try {
    const written = await writeToyWorld(o.out, {
      seed: o.seed,
      count: o.count,
      size: o.size,
      split: o.split,
      onProgress: progress.onProgress,
    });
    const shown = relative(process.cwd(), written.dir) || '.';
    io.stdout.write(
      `Wrote ${written.count} toy-world image(s) (seed ${o.seed}, ${o.size}×${o.size}) in Broden's layout to ${shown.startsWith('..') ? written.dir : shown}: ${written.files} files in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`,
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'ENOTDIR' || code === 'EROFS' || code === 'ENOSPC') {
      throw new CliError(`--out: cannot write to ${o.out} (${code}); choose a writable folder.`);
    }
    throw error;
  } finally {
    progress.stop();
  }
}

/** Adds `toyworld` (with `generate`) to the program. */
export function registerToyWorldCommand(program: Command, io: CliIo): void {
  const toyworld = program
    .command('toyworld')
    .description('The toy world: a generated probe set with exact masks and known concepts.');
  toyworld
    .command('generate')
    .description(
      "Write a toy world in Broden's layout (index.csv, label.csv, category.csv, c_*.csv, images/).",
    )
    .requiredOption('--out <dir>', 'the folder to write (created if needed)')
    .option('--seed <n>', 'the seed: the same seed gives the same images, byte for byte', integer, 0)
    .option('--count <n>', 'number of images', integer, 1000)
    .option('--size <px>', 'side of the square images', integer, 64)
    .option('--split <name>', "the value of index.csv's split column", 'train')
    .action(async (options: ToyWorldGenerateOptions) => {
      await toyWorldGenerateCommand(options, io);
    });
}
