import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  assertFinite,
  benjaminiHochberg,
  COS_CUBED_DEFAULTS,
  type CosCubedOptions,
  createPermutationNull,
  describeConceptSetChanges,
  formatDescriptionsCsv,
  isNeurodissectError,
  isPmiFunction,
  type Matrix,
  matrixToTensor,
  type NeuronDescription,
  nullBestByChunks,
  nullTopK,
  type PermutationNull,
  parseConceptSetBytes,
  permutationPValues,
  RANK_REORDER_DEFAULTS,
  type RankReorderOptions,
  rankLabels,
  SIMILARITY_NAMES,
  type SimilarityName,
  type SimilaritySource,
  SOFT_WPMI_DEFAULTS,
  type SoftWpmiOptions,
  scoreNeurons,
  serializeNpy,
  similarityFromEmbeddings,
  similarityFromMatrix,
  WPMI_DEFAULTS,
  type WpmiOptions,
} from '@neurodissect/core';
import {
  type ColumnTopKAccumulator,
  createColumnTopK,
  type PmiLayerInput,
  resolvePmiParameters,
  scorePmiLayers,
} from '@neurodissect/core/internal';
import { createOrtMatmulKernel, createThreadedPmiProcessor } from '@neurodissect/runtime-node';
import { type Command, Option } from 'commander';
import { CliError } from '../cli-error';
import {
  npyRowBlocks,
  readInput,
  readNpyMatrix,
  requireNonZeroRows,
  requireOutputFile,
  requireOutputFolder,
  writeOutput,
} from '../files';
import type { CliIo } from '../io';
import { integer, number } from '../option-parsers';
import { createProgressRenderer } from '../progress-bar';

/** Options of `neurodissect score`, as parsed. */
/** Every similarity function's options (core's names), as the command's flags give them. */
type FunctionFlags = Partial<SoftWpmiOptions & WpmiOptions & CosCubedOptions & RankReorderOptions>;

/** Options of `neurodissect score`, as parsed. */
export interface ScoreCommandOptions extends Omit<FunctionFlags, 'baselinePermutations'> {
  fn: string;
  /** `FILE`, or `NAME=FILE` once per layer. */
  activations?: string | string[];
  clipSim?: string;
  imageEmb?: string;
  textEmb?: string;
  out: string;
  concepts?: string;
  labels?: string;
  layer: string;
  /** Pseudo-neurons of the permutation null per layer (0: none). */
  null: number;
}

function checkFinite(matrix: Matrix, path: string, option: string): void {
  try {
    assertFinite(matrix, `array in ${path}`);
  } catch (error) {
    if (isNeurodissectError(error)) throw new CliError(`${option}: ${error.message}`);
    throw error;
  }
}

/** Each function's option names: those of its defaults in core (cos has none). */
const FUNCTION_OPTIONS: Record<SimilarityName, readonly (keyof FunctionFlags)[]> = {
  soft_wpmi: Object.keys(SOFT_WPMI_DEFAULTS) as (keyof FunctionFlags)[],
  wpmi: Object.keys(WPMI_DEFAULTS) as (keyof FunctionFlags)[],
  cos: [],
  cos_cubed: Object.keys(COS_CUBED_DEFAULTS) as (keyof FunctionFlags)[],
  rank_reorder: Object.keys(RANK_REORDER_DEFAULTS) as (keyof FunctionFlags)[],
};

/** The options of function `fn` that were given on the command line. */
function functionOptions(fn: SimilarityName, o: ScoreCommandOptions): Record<string, number> {
  const flags = o as FunctionFlags;
  return Object.fromEntries(
    FUNCTION_OPTIONS[fn].filter((n) => flags[n] !== undefined).map((n) => [n, flags[n] as number]),
  );
}

/** One `--activations` value: a layer name and its `.npy` file. */
interface ActivationInput {
  name: string;
  file: string;
}

const LAYER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * `--activations FILE` (once, the layer named by `--layer`) or `--activations NAME=FILE` (any number
 * of times, names unique and usable as file names).
 */
function parseActivationInputs(values: readonly string[], defaultName: string): ActivationInput[] {
  if (values.length === 0)
    throw new CliError('--activations: give N×K activations (.npy), or NAME=FILE per layer');
  const named = (value: string): ActivationInput | undefined => {
    const at = value.indexOf('=');
    if (at <= 0 || (values.length === 1 && existsSync(value))) return undefined;
    return { name: value.slice(0, at), file: value.slice(at + 1) };
  };
  if (values.length === 1) return [named(values[0]) ?? { name: defaultName, file: values[0] }];
  const inputs = values.map((value) => {
    const input = named(value);
    if (!input) {
      throw new CliError(
        `--activations: with several layers, give each as NAME=FILE (e.g. --activations layer1=L1.npy --activations layer4=L4.npy), got "${value}"`,
      );
    }
    return input;
  });
  const seen = new Set<string>();
  for (const { name } of inputs) {
    if (!LAYER_NAME.test(name)) {
      throw new CliError(
        `--activations: layer name "${name}" cannot name a file; use letters, digits, '.', '_' and '-'`,
      );
    }
    if (seen.has(name))
      throw new CliError(`--activations: layer ${name} is given twice; name each layer once`);
    seen.add(name);
  }
  return inputs;
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
  const inputs = parseActivationInputs(
    typeof o.activations === 'string' ? [o.activations] : (o.activations ?? []),
    o.layer,
  );
  const several = inputs.length > 1;
  // Every activation file is checked before the (large) CLIP features are read.
  for (const input of inputs) {
    if (!existsSync(input.file)) {
      throw new CliError(
        `${several ? `--activations ${input.name}` : '--activations'}: file not found: ${input.file}`,
      );
    }
  }
  if (several) {
    requireOutputFolder(
      o.out,
      '--out',
      'with several layers --out is a folder that receives NAME.npy per layer',
    );
  } else {
    requireOutputFile(o.out, '--out', 'give the .npy file to write');
  }

  const kernel = createOrtMatmulKernel();
  try {
    let source: SimilaritySource;
    let sourceFile: string;
    if (fromEmbeddings) {
      const images = await readNpyMatrix(o.imageEmb!, '--image-emb');
      const texts = await readNpyMatrix(o.textEmb!, '--text-emb');
      checkFinite(images, o.imageEmb!, '--image-emb');
      checkFinite(texts, o.textEmb!, '--text-emb');
      requireNonZeroRows(images, o.imageEmb!, '--image-emb');
      requireNonZeroRows(texts, o.textEmb!, '--text-emb');
      if (images.cols !== texts.cols) {
        throw new CliError(
          `--text-emb: ${o.textEmb} has dimension ${texts.cols} but ${o.imageEmb} has ${images.cols}; embed images and texts with the same CLIP model`,
        );
      }
      source = similarityFromEmbeddings(images, texts, { kernel });
      sourceFile = o.imageEmb!;
    } else {
      const clip = await readNpyMatrix(o.clipSim!, '--clip-sim');
      checkFinite(clip, o.clipSim!, '--clip-sim');
      source = similarityFromMatrix(clip);
      sourceFile = o.clipSim!;
    }
    const concepts =
      o.concepts === undefined ? undefined : await readConcepts(o.concepts, source.concepts, io);
    const options = functionOptions(fn, o);
    if (options.topK !== undefined && options.topK > source.images) {
      throw new CliError(
        `--top-k: ${options.topK} is larger than the number of images (${source.images}); use --top-k ${source.images} or less`,
      );
    }
    const checkActivationShape = (input: ActivationInput, option: string, rows: number, cols: number) => {
      if (source.images !== rows) {
        throw new CliError(
          `${fromEmbeddings ? '--image-emb' : '--clip-sim'}: ${sourceFile} has ${source.images} rows (images) but ${input.file} has ${rows}; both must list the same probe images in the same order`,
        );
      }
      if (cols < 1) throw new CliError(`${option}: ${input.file} has no neurons (0 columns)`);
    };
    const readLayer = async (input: ActivationInput): Promise<Matrix> => {
      const option = several ? `--activations ${input.name}` : '--activations';
      const activations = await readNpyMatrix(input.file, option);
      checkFinite(activations, input.file, option);
      checkActivationShape(input, option, activations.rows, activations.cols);
      return activations;
    };
    const outFile = (name: string) => (several ? join(o.out, `${name}.npy`) : o.out);
    const rows: NeuronDescription[] = [];
    const written: string[] = [];
    const significance: string[] = [];
    const best = new Map<string, Float64Array>();
    const pseudo =
      o.null > 0
        ? createPermutationNull(source.images, { permutations: o.null, seed: o.seed ?? 0 })
        : undefined;
    const finishLayer = async (name: string, scores: Matrix) => {
      await writeOutput(outFile(name), serializeNpy(matrixToTensor(scores)));
      written.push(`${outFile(name)}: ${scores.rows}×${scores.cols}`);
      best.set(name, rowMaxima(scores));
      if (concepts) {
        rankLabels(scores, concepts, 1).forEach((labels, unit) => {
          rows.push({
            layer: name,
            unit,
            description: labels[0]?.label ?? '',
            similarity: labels[0]?.score ?? Number.NaN,
          });
        });
      }
    };
    // Each layer's best scores against its null: p and BH q per neuron, into the descriptions.
    const finishNull = (name: string, nullBest: Float64Array) => {
      const p = permutationPValues(best.get(name)!, nullBest);
      const q = benjaminiHochberg(p);
      let unit = 0;
      for (const row of rows) {
        if (row.layer !== name) continue;
        row.pValue = p[unit];
        row.qValue = q[unit];
        unit++;
      }
      const significant = q.filter((v) => v < 0.05).length;
      significance.push(
        `${name}: ${significant} of ${q.length} neurons significant (q < 0.05) against ${nullBest.length} random image orderings`,
      );
    };

    const progress = createProgressRenderer(io);
    try {
      if (isPmiFunction(fn)) {
        // One pass for every layer: each layer's top-k is taken while its file is read in blocks,
        // so no layer's N×K matrix is ever held.
        const { topK } = resolvePmiParameters(fn, options, source.images);
        const layers: PmiLayerInput[] = [];
        for (const input of inputs) {
          const option = several ? `--activations ${input.name}` : '--activations';
          let acc: ColumnTopKAccumulator | undefined;
          const blocks = npyRowBlocks(input.file, option, (rows, cols) => {
            checkActivationShape(input, option, rows, cols);
          });
          for await (const { block, firstRow, cols } of blocks) {
            acc ??= createColumnTopK(cols, topK);
            acc.add(block, firstRow);
          }
          layers.push({ name: input.name, top: acc!.finish() });
        }
        // Layers arrive in the order given; each is written, then dropped.
        await scorePmiLayers(source, layers, {
          fn,
          options,
          processor: createThreadedPmiProcessor(),
          // Products and accumulation each use every core; overlapping them pays only with more
          // cores than the two a product uses.
          overlap: availableParallelism() > 2,
          onProgress: progress.onProgress,
          onLayer: finishLayer,
          // The null's pseudo-neurons share the pass: one set for every layer, each under its prior.
          nullTop: pseudo ? nullTopK(pseudo, topK) : undefined,
          onNull: finishNull,
        });
      } else {
        for (const input of inputs) {
          const activations = await readLayer(input);
          const scores = await scoreNeurons(fn, source, activations, {
            options,
            onProgress: progress.onProgress,
          });
          await finishLayer(input.name, scores);
          if (pseudo) finishNull(input.name, await nullBestScores(fn, source, activations, pseudo, options));
        }
      }
    } catch (error) {
      if (isNeurodissectError(error) || error instanceof RangeError) throw new CliError(error.message);
      throw error;
    } finally {
      progress.stop();
    }
    for (const line of written) {
      io.stdout.write(`wrote ${line} ${fn} scores (${source.images} images, ${source.concepts} concepts)\n`);
    }
    for (const line of significance) io.stdout.write(`${line}\n`);
    if (o.labels !== undefined && concepts !== undefined) {
      await writeOutput(o.labels, formatDescriptionsCsv(rows));
      io.stdout.write(`wrote ${o.labels}: the top label of each of ${rows.length} neurons\n`);
    }
  } finally {
    await kernel.dispose();
  }
}

/** Each row's largest value (a neuron's best score). */
function rowMaxima(scores: Matrix): Float64Array {
  const out = new Float64Array(scores.rows).fill(Number.NEGATIVE_INFINITY);
  for (let k = 0; k < scores.rows; k++) {
    for (let m = 0; m < scores.cols; m++) {
      const v = scores.data[k * scores.cols + m];
      if (v > out[k]) out[k] = v;
    }
  }
  return out;
}

/**
 * Bytes of pseudo-neuron summaries scored at once by functions that score each neuron alone: each
 * chunk is one more pass over every image's similarities, so chunks are large.
 */
const PSEUDO_CHUNK_BYTES = 256 * 2 ** 20;

/**
 * The null's best scores for functions whose score of a neuron depends on that neuron alone (cos,
 * cos_cubed, rank_reorder): pseudo-neurons are the layer's summaries permuted, scored in chunks.
 */
async function nullBestScores(
  fn: SimilarityName,
  source: SimilaritySource,
  activations: Matrix,
  pseudo: PermutationNull,
  options: Record<string, number>,
): Promise<Float64Array> {
  return nullBestByChunks(
    pseudo,
    activations,
    async (chunk) => rowMaxima(await scoreNeurons(fn, source, chunk, { options })),
    PSEUDO_CHUNK_BYTES,
  );
}

async function readConcepts(path: string, columns: number, io: CliIo): Promise<readonly string[]> {
  const bytes = await readInput(path, '--concepts');
  let set: ReturnType<typeof parseConceptSetBytes>;
  try {
    set = parseConceptSetBytes(bytes, { source: path });
  } catch (error) {
    if (isNeurodissectError(error)) throw new CliError(`--concepts: ${error.message}`);
    throw error;
  }
  const changes = describeConceptSetChanges(set);
  if (changes) io.stderr.write(`note: ${changes}\n`);
  if (set.concepts.length !== columns) {
    throw new CliError(
      `--concepts: ${path} has ${set.concepts.length} concepts but the CLIP features have ${columns} columns; give the concept list the text embeddings were made from`,
    );
  }
  return set.concepts;
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
    .option(
      '--activations <file>',
      'N×K summarised activations (.npy; images × neurons); NAME=FILE, repeated, scores several layers in one pass',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--clip-sim <file>', 'N×M raw image×concept cosines (.npy)')
    .option('--image-emb <file>', 'N×D CLIP image embeddings (.npy); rows are L2-normalised')
    .option('--text-emb <file>', 'M×D CLIP text embeddings (.npy); rows are L2-normalised')
    .requiredOption(
      '--out <file>',
      'where to write the K×M scores (.npy, float32); with several layers a folder receiving NAME.npy',
    )
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
    .option('--seed <n>', "seeds the permutation null and rank_reorder's baseline (0)", integer)
    .option(
      '--null <r>',
      "pseudo-neurons of each layer's permutation null (random image orderings); each neuron's best score gets a p-value against them and a Benjamini–Hochberg q-value within its layer (the p_value and q_value columns of --labels); 0 turns it off",
      integer,
      1000,
    )
    .option('--concepts <file>', 'concept list, one per line, in column order')
    .option(
      '--labels <file>',
      "write each neuron's top label as CLIP-Dissect's descriptions.csv (all layers), with p_value and q_value columns unless --null 0",
    )
    .option('--layer <name>', 'the layer name of a single --activations FILE', 'layer')
    .action(async (options: ScoreCommandOptions) => {
      await scoreCommand(options, io);
    });
}
