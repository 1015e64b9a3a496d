import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  importClipDissectCsv,
  importClipSearchCsv,
  importMilanCsv,
  importNetDissectCsv,
  isNeurodissectError,
  type Results,
  validateResults,
} from '@neurodissect/core';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { readInput, requireOutputFile, writeOutput } from '../files';
import type { CliIo } from '../io';
import { version } from '../version';

/** Options shared by every `neurodissect import` format. */
export interface ImportCommandOptions {
  out: string;
  lenient?: boolean;
  model?: string;
  /** netdissect only: the layer the tally describes. */
  layer?: string;
}

/** The formats `neurodissect import` reads. */
export type ImportFormat = 'clip-search' | 'clip-dissect' | 'netdissect' | 'milan';

function layerFromFileName(file: string): string | undefined {
  // e.g. netdissect_resnet50_imagenet_layer4.csv → layer4; features.10_tally.csv → features.10
  return /(?:^|[_-])((?:layer|conv|features|fc)\d*(?:\.\d+)*)(?=[._-]|$)/i.exec(basename(file, '.csv'))?.[1];
}

async function readClipSearchDir(dir: string): Promise<{ layer: string; text: string; source: string }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`DIR: directory not found: ${dir}`);
    if (code === 'ENOTDIR')
      throw new CliError(`DIR: ${dir} is a file; give the directory holding layer1.csv, layer2.csv, …`);
    throw new CliError(`DIR: cannot read ${dir}: ${(error as Error).message}`);
  }
  const csvs = names
    .filter((n) => n.toLowerCase().endsWith('.csv'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (csvs.length === 0)
    throw new CliError(
      `DIR: ${dir} holds no .csv files; give the directory holding layer1.csv, layer2.csv, …`,
    );
  return Promise.all(
    csvs.map(async (name) => {
      const source = join(dir, name);
      return { layer: name.slice(0, -4), text: (await readInput(source, 'DIR')).toString('utf8'), source };
    }),
  );
}

/** `neurodissect import FORMAT INPUT --out FILE`: converts published results into a Results document. */
export async function importCommand(
  format: ImportFormat,
  input: string,
  o: ImportCommandOptions,
  io: CliIo,
): Promise<void> {
  requireOutputFile(o.out, '--out');
  let skipped = 0;
  const common = {
    lenient: o.lenient ?? false,
    onSkip: (message: string) => {
      skipped++;
      io.stderr.write(`skipped: ${message}\n`);
    },
    toolVersion: version,
    ...(o.model !== undefined ? { model: o.model } : {}),
  };
  let results: Results;
  try {
    if (format === 'clip-search') {
      results = importClipSearchCsv(await readClipSearchDir(input), common);
    } else {
      const text = (await readInput(input, 'FILE')).toString('utf8');
      const options = { ...common, source: input };
      if (format === 'clip-dissect') results = importClipDissectCsv(text, options);
      else if (format === 'milan') results = importMilanCsv(text, options);
      else {
        const layer = o.layer ?? layerFromFileName(input);
        if (layer === undefined)
          throw new CliError(
            `--layer: the tally does not name its layer and ${input} does not either; give --layer NAME`,
          );
        results = importNetDissectCsv(text, { ...options, layer });
      }
    }
  } catch (error) {
    if (isNeurodissectError(error)) {
      throw new CliError(`${error.message}${o.lenient ? '' : ' (use --lenient to skip malformed rows)'}`);
    }
    throw error;
  }
  const validation = validateResults(results);
  if (!validation.ok) {
    const first = validation.issues[0];
    throw new CliError(
      `the imported document is not valid Results (${first.path}: ${first.message}); check the input file`,
    );
  }
  await writeOutput(o.out, `${JSON.stringify(results)}\n`);
  const neurons = results.layers.reduce((sum, l) => sum + l.neurons.length, 0);
  const perLayer = results.layers.map((l) => `${l.name} ${l.neurons.length}`).join(', ');
  io.stdout.write(
    `wrote ${o.out}: ${results.layers.length} layer(s), ${neurons} neurons (${perLayer}), labeler ${results.labelers.map((l) => l.id).join(', ')}${skipped > 0 ? `; skipped ${skipped} malformed row(s)` : ''}\n`,
  );
  const example = results.probe.images.find((image) => !/^https?:\/\//i.test(image.uri))?.uri;
  if (example !== undefined)
    io.stdout.write(
      `image paths are kept as the files give them (e.g. ${example}): neurodissect site --image-base URL shows them from a web server holding them, --image-root DIR from a local copy\n`,
    );
}

/** Adds `import` (with one subcommand per format) to the program. */
export function registerImportCommand(program: Command, io: CliIo): void {
  const command = program
    .command('import')
    .description('Convert published neuron descriptions into a Results document.');
  const formats: { name: ImportFormat; argument: string; description: string }[] = [
    {
      name: 'clip-search',
      argument: '<dir>',
      description: "the report website's per-layer CSVs (layer1.csv, …) in DIR",
    },
    {
      name: 'clip-dissect',
      argument: '<file>',
      description: "CLIP-Dissect's descriptions.csv (layer,unit,description,similarity)",
    },
    {
      name: 'netdissect',
      argument: '<file>',
      description: 'a Network Dissection tally CSV (unit counted from 1) for one layer',
    },
    { name: 'milan', argument: '<file>', description: "MILAN's descriptions CSV (layer,unit,description)" },
  ];
  for (const format of formats) {
    const sub = command
      .command(format.name)
      .description(`Import ${format.description}.`)
      .argument(format.argument, 'the input')
      .requiredOption('--out <file>', 'where to write the Results document (.json)')
      .option('--lenient', 'report and skip malformed rows instead of failing')
      .option('--model <name>', 'the model name recorded in the Results');
    if (format.name === 'netdissect')
      sub.option(
        '--layer <name>',
        'the layer the tally describes (default: from the file name, e.g. …_layer4.csv)',
      );
    sub.action(async (input: string, options: ImportCommandOptions) => {
      await importCommand(format.name, input, options, io);
    });
  }
}
