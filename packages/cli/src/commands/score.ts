import {
  assertFinite,
  describeConceptSetChanges,
  formatDescriptionsCsv,
  isNeurodissectError,
  type Matrix,
  matrixToTensor,
  parseConceptSet,
  rankLabels,
  SIMILARITY_NAMES,
  type SimilarityName,
  type SimilaritySource,
  scoreNeurons,
  serializeNpy,
  similarityFromEmbeddings,
  similarityFromMatrix,
} from '@neurodissect/core';
import { type Command, Option } from 'commander';
import { CliError } from '../cli-error';
import { readInput, readNpyMatrix, writeOutput } from '../files';
import type { CliIo } from '../io';
import { integer, number } from '../option-parsers';
import { createProgressRenderer } from '../progress-bar';

/** Options of `neurodissect score`, as parsed. */
export interface ScoreCommandOptions {
  fn: string;
  activations: string;
  clipSim?: string;
  imageEmb?: string;
  textEmb?: string;
  out: string;
  topK?: number;
  a?: number;
  lambda?: number;
  minProb?: number;
  pStart?: number;
  pEnd?: number;
  p?: number;
  topFraction?: number;
  scaleP?: number;
  minNorm?: number;
  seed?: number;
  concepts?: string;
  labels?: string;
  layer: string;
}

function checkFinite(matrix: Matrix, path: string, option: string): void {
  try {
    assertFinite(matrix, `array in ${path}`);
  } catch (error) {
    if (isNeurodissectError(error)) throw new CliError(`${option}: ${error.message}`);
    throw error;
  }
}

function functionOptions(fn: SimilarityName, o: ScoreCommandOptions): Record<string, number> {
  const pick = (names: (keyof ScoreCommandOptions)[]) =>
    Object.fromEntries(names.filter((n) => o[n] !== undefined).map((n) => [n, o[n] as number]));
  switch (fn) {
    case 'soft_wpmi':
      return pick(['topK', 'a', 'lambda', 'minProb', 'pStart', 'pEnd']);
    case 'wpmi':
      return pick(['topK', 'a', 'lambda', 'minProb']);
    case 'cos':
      return {};
    case 'cos_cubed':
      return pick(['minNorm']);
    case 'rank_reorder':
      return pick(['p', 'topFraction', 'scaleP', 'seed']);
  }
}

/** `neurodissect score`: scores N×K activations against CLIP similarities; writes K×M scores. */
export async function scoreCommand(o: ScoreCommandOptions, io: CliIo): Promise<void> {
  if (!(SIMILARITY_NAMES as readonly string[]).includes(o.fn)) {
    throw new CliError(`--fn: unknown function "${o.fn}"; use one of ${SIMILARITY_NAMES.join(', ')}`);
  }
  const fn = o.fn as SimilarityName;
  const fromEmbeddings = o.imageEmb !== undefined || o.textEmb !== undefined;
  if (fromEmbeddings === (o.clipSim !== undefined)) {
    throw new CliError('give either --clip-sim P.npy, or both --image-emb I.npy and --text-emb T.npy');
  }
  if (fromEmbeddings && (o.imageEmb === undefined || o.textEmb === undefined)) {
    throw new CliError('--image-emb and --text-emb go together; give both');
  }
  if (o.labels !== undefined && o.concepts === undefined) {
    throw new CliError('--labels needs --concepts FILE (one concept per line, in the order of the columns)');
  }

  const activations = await readNpyMatrix(o.activations, '--activations');
  checkFinite(activations, o.activations, '--activations');

  let source: SimilaritySource;
  let sourceFile: string;
  if (fromEmbeddings) {
    const images = await readNpyMatrix(o.imageEmb!, '--image-emb');
    const texts = await readNpyMatrix(o.textEmb!, '--text-emb');
    checkFinite(images, o.imageEmb!, '--image-emb');
    checkFinite(texts, o.textEmb!, '--text-emb');
    if (images.cols !== texts.cols) {
      throw new CliError(
        `--text-emb: ${o.textEmb} has dimension ${texts.cols} but ${o.imageEmb} has ${images.cols}; embed images and texts with the same CLIP model`,
      );
    }
    source = similarityFromEmbeddings(images, texts);
    sourceFile = o.imageEmb!;
  } else {
    const clip = await readNpyMatrix(o.clipSim!, '--clip-sim');
    checkFinite(clip, o.clipSim!, '--clip-sim');
    source = similarityFromMatrix(clip);
    sourceFile = o.clipSim!;
  }
  if (source.images !== activations.rows) {
    throw new CliError(
      `${fromEmbeddings ? '--image-emb' : '--clip-sim'}: ${sourceFile} has ${source.images} rows (images) but ${o.activations} has ${activations.rows}; both must list the same probe images in the same order`,
    );
  }

  let concepts: readonly string[] | undefined;
  if (o.concepts !== undefined) {
    const text = (await readInput(o.concepts, '--concepts')).toString('utf8');
    let set: ReturnType<typeof parseConceptSet>;
    try {
      set = parseConceptSet(text, { source: o.concepts });
    } catch (error) {
      if (isNeurodissectError(error)) throw new CliError(`--concepts: ${error.message}`);
      throw error;
    }
    const changes = describeConceptSetChanges(set);
    if (changes) io.stderr.write(`note: ${changes}\n`);
    if (set.concepts.length !== source.concepts) {
      throw new CliError(
        `--concepts: ${o.concepts} has ${set.concepts.length} concepts but the CLIP features have ${source.concepts} columns; give the concept list the text embeddings were made from`,
      );
    }
    concepts = set.concepts;
  }

  const options = functionOptions(fn, o);
  const topK = options.topK;
  if (topK !== undefined && topK > activations.rows) {
    throw new CliError(
      `--top-k: ${topK} is larger than the number of images (${activations.rows}); use --top-k ${activations.rows} or less`,
    );
  }

  const progress = createProgressRenderer(io);
  let scores: Matrix;
  try {
    scores = await scoreNeurons(fn, source, activations, { options, onProgress: progress.onProgress });
  } catch (error) {
    if (isNeurodissectError(error) || error instanceof RangeError) throw new CliError(error.message);
    throw error;
  } finally {
    progress.stop();
  }

  await writeOutput(o.out, serializeNpy(matrixToTensor(scores)));
  io.stdout.write(
    `wrote ${o.out}: ${scores.rows}×${scores.cols} ${fn} scores (${activations.rows} images, ${scores.rows} neurons, ${scores.cols} concepts)\n`,
  );
  if (o.labels !== undefined && concepts !== undefined) {
    const ranked = rankLabels(scores, concepts, 1);
    const rows = ranked.map((labels, unit) => ({
      layer: o.layer,
      unit,
      description: labels[0]?.label ?? '',
      similarity: labels[0]?.score ?? Number.NaN,
    }));
    await writeOutput(o.labels, formatDescriptionsCsv(rows));
    io.stdout.write(`wrote ${o.labels}: the top label of each of ${rows.length} neurons\n`);
  }
}

/** Adds `score` to the program. */
export function registerScoreCommand(program: Command, io: CliIo): void {
  program
    .command('score')
    .description(
      'Score neurons against concepts from features computed elsewhere (.npy), writing K×M scores.',
    )
    .addOption(
      new Option('--fn <name>', 'similarity function')
        .choices(['soft_wpmi', 'wpmi', 'cos', 'cos_cubed', 'rank_reorder'])
        .default('soft_wpmi'),
    )
    .requiredOption('--activations <file>', 'N×K summarised activations (.npy; images × neurons)')
    .option('--clip-sim <file>', 'N×M raw image×concept cosines (.npy)')
    .option('--image-emb <file>', 'N×D CLIP image embeddings (.npy); rows are L2-normalised')
    .option('--text-emb <file>', 'M×D CLIP text embeddings (.npy); rows are L2-normalised')
    .requiredOption('--out <file>', 'where to write the K×M scores (.npy, float32)')
    .option('--top-k <n>', 'top images per neuron (soft_wpmi: 100, wpmi: 28)', integer)
    .option('--a <x>', 'softmax temperature (soft_wpmi: 10, wpmi: 2)', number)
    .option('--lambda <x>', 'prior weight (soft_wpmi: 1, wpmi: 0.6)', number)
    .option('--min-prob <x>', 'added inside the log (1e-7)', number)
    .option('--p-start <x>', 'soft membership of the top image (0.998)', number)
    .option('--p-end <x>', 'soft membership ramp end (0.97)', number)
    .option('--p <x>', 'rank_reorder error exponent (3)', number)
    .option('--top-fraction <x>', 'rank_reorder fraction of top images (0.05)', number)
    .option('--scale-p <x>', 'rank_reorder mean-similarity exponent (0.5)', number)
    .option('--min-norm <x>', 'cos_cubed norm clip (1e-3)', number)
    .option('--seed <n>', 'rank_reorder baseline seed (0)', integer)
    .option('--concepts <file>', 'concept list, one per line, in column order')
    .option('--labels <file>', "write each neuron's top label as CLIP-Dissect's descriptions.csv")
    .option('--layer <name>', 'the layer name written to --labels', 'layer')
    .action(async (options: ScoreCommandOptions) => {
      await scoreCommand(options, io);
    });
}
