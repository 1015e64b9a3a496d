import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  type ActivationSummary,
  type DissectionEnvironment,
  type DissectionSpec,
  describeConceptSetChanges,
  ErrorCode,
  isNeurodissectError,
  type Labeler,
  openDissection,
  parseDissectionSpec,
  type Results,
  SOFT_WPMI_DEFAULTS,
  scoreScaleOf,
  WPMI_DEFAULTS,
} from '@neurodissect/core';
import {
  checkRedis,
  createFileHashes,
  createNodeDissectionEnvironment,
  DEFAULT_REDIS_TIMEOUT_SECONDS,
  dissectionSpecFromFiles,
  type FileHashes,
  openProbeUri,
  runDistributedDissection,
} from '@neurodissect/jobs';
import { LABELER_NAMES } from '@neurodissect/labelers';
import {
  createFileFeatureStore,
  createNodeRuntime,
  type ExecutionProvider,
  type NodeClipModel,
  type NodeTargetModel,
  PREPROCESS_PRESETS,
  preprocessConfigFor,
} from '@neurodissect/runtime-node';
import { type Command, Option } from 'commander';
import { CliError } from '../cli-error';
import { lockOutput, pathForDocument, requireInputFile, requireOutputFile } from '../files';
import { noteFixedTextLength } from '../fixed-text-length-note';
import type { CliIo } from '../io';
import { LABELER_FILE_PREFIX, labelerFileName, loadLabelerFile } from '../labeler-file';
import { clipPreprocessOption, integer, layerList } from '../option-parsers';
import { createProgressRenderer } from '../progress-bar';
import { openResultsFile, type ResultsFile } from '../results-file';
import { version } from '../version';

/** Options of `neurodissect dissect`, as parsed. */
export interface DissectCommandOptions {
  model: string;
  layers: string;
  clip?: string;
  probe: string;
  concepts: string;
  /** Built-in labelers, comma-separated (default: clip-dissect, unless `labeler` is given). */
  labelers?: string;
  /** `--labeler FILE`, repeatable: modules whose default export is `(options) => Labeler`. */
  labeler?: string[];
  /** Class and register tokens before a token layer's patch grid. */
  prefixTokens?: number;
  similarity: string;
  topK?: number;
  topImages: number;
  topLabels: number;
  batchSize: number;
  preset: 'imagenet' | 'clip';
  inputSize?: number;
  summary: ActivationSummary;
  ep: string;
  strict?: boolean;
  cache?: string | false;
  resume?: boolean;
  heatmaps?: boolean;
  /** NetDissect's annotation categories, comma-separated. */
  categories?: string;
  /** CLIP's image preprocessing: the folder's own or OpenAI's. */
  clipPreprocess?: 'folder' | 'openai';
  /** NetDissect's union rule. */
  union?: 'touched' | 'annotated';
  /** Redis of a distributed run: `redis://HOST:PORT`. */
  queue?: string;
  /** Image shards and label shards per layer of a distributed run. */
  shards?: number;
  /** Seconds a distributed run waits for Redis once it stops answering. */
  redisTimeout?: number;
  /** The most pixels a probe image may have (larger ones are left out, listed as failures). */
  maxPixels?: number;
  /** Pseudo-neurons of each layer's permutation null (0: no significance). */
  null: number;
  /** Bootstrap resamples for stability (0: off). */
  stability: number;
  /** Held-out folds (0: off). */
  heldOut: number;
  /** Seeds the null, the resamples and the folds. */
  seed: number;
  /** `--no-relations` sets false; `--relations-from` names more layers, comma-separated. */
  relations?: boolean;
  relationsFrom?: string;
  out: string;
}

/** What a dissection run printed as its summary, for callers (the demo) that go on. */
export interface DissectOutcome {
  results: Results;
  out: string;
}

function fail(error: unknown, prefix = ''): never {
  if (isNeurodissectError(error)) throw new CliError(`${prefix}${error.message}`);
  throw error;
}

/** The option a spec field comes from, for one-line errors. */
const OPTION_OF_FIELD: Record<string, string> = {
  model: '--model',
  clip: '--clip',
  probe: '--probe',
  concepts: '--concepts',
  layers: '--layers',
  labelers: '--labelers',
  preprocessing: '--preset',
};

/** Says on stderr which requested providers did not work for a model, and which one ran. */
function noteFallbacks(
  what: string,
  model: { executionProvider: string; fallbacks: readonly { provider: string; reason: string }[] },
  io: CliIo,
): void {
  for (const fallback of model.fallbacks) {
    io.stderr.write(
      `note: --ep: ${fallback.provider} is not available for ${what} (${fallback.reason}); it runs on ${model.executionProvider} (docs/gpu.md)\n`,
    );
  }
}

/** A library error as a one-line CLI error naming the option it concerns. */
function failInField(error: unknown): never {
  if (!isNeurodissectError(error)) throw error;
  const details = error.details as {
    field?: string;
    similarity?: unknown;
    url?: unknown;
    provider?: string;
    reason?: string;
    fallsBackTo?: string[];
    fallbacks?: { provider: string; reason: string }[];
  };
  if (error.code === ErrorCode.ExecutionProviderUnavailable && details.provider && details.reason) {
    // The library's wording names its option (strict); say it in the command's terms.
    const instead = details.fallsBackTo?.length
      ? `drop --strict to fall back to ${details.fallsBackTo.join(', ')}`
      : `run with --ep ${details.provider},cpu to fall back to the CPU`;
    throw new CliError(
      `--ep: the execution provider "${details.provider}" is not available (${details.reason}); install its libraries (docs/gpu.md), or ${instead}`,
    );
  }
  if (error.code === ErrorCode.ExecutionProviderUnavailable && details.fallbacks?.length) {
    const tried = details.fallbacks.map((f) => `${f.provider}: ${f.reason}`).join('; ');
    const providers = details.fallbacks.map((f) => f.provider).join(',');
    throw new CliError(
      `--ep: none of the execution providers ${providers} could run the model (${tried}); install their libraries (docs/gpu.md), or run with --ep ${providers},cpu to fall back to the CPU`,
    );
  }
  const option =
    error.code === ErrorCode.ExecutionProviderUnavailable
      ? '--ep'
      : details.similarity !== undefined
        ? '--similarity'
        : details.url !== undefined
          ? '--queue'
          : OPTION_OF_FIELD[details.field ?? ''];
  throw new CliError(`${option ? `${option}: ` : ''}${error.message}`);
}

/**
 * A Broden-format probe's masks cover the whole frame, so by default its images are fed whole (as
 * Network Dissection does): resized to the preset's input side, not cropped. Other probes get the
 * preset as it is (resize, then centre crop).
 */
function fullFrameSize(o: DissectCommandOptions): number | undefined {
  const broden = o.probe.startsWith('broden:') || existsSync(join(o.probe, 'index.csv'));
  return broden ? PREPROCESS_PRESETS[o.preset].crop : undefined;
}

/** `--categories`: Broden's annotation categories, each known and named once. */
function categoriesOf(text: string): string[] {
  const known = ['color', 'object', 'part', 'material', 'scene', 'texture'];
  const categories = text
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const unknown = categories.find((c) => !known.includes(c));
  if (categories.length === 0 || unknown !== undefined) {
    throw new CliError(
      `--categories: ${unknown === undefined ? 'name at least one category' : `"${unknown}" is not a Broden category`}; use any of ${known.join(', ')}`,
    );
  }
  return [...new Set(categories)];
}

/** The spec of the job the options describe (files hashed, probe and concepts opened). */
async function specOf(
  o: DissectCommandOptions,
  layers: readonly string[],
  io: CliIo,
  hashes: FileHashes,
): Promise<DissectionSpec> {
  return dissectionSpecFromFiles({
    hashes,
    model: o.model,
    clip: o.clip,
    ...(o.clipPreprocess === 'openai' ? { clipPreprocess: 'openai' as const } : {}),
    probe: o.probe,
    concepts: o.concepts,
    layers,
    preprocessing: preprocessConfigFor(o.preset, o.inputSize ?? fullFrameSize(o)),
    summary: o.summary,
    labelers: labelerNames(o),
    topLabels: o.topLabels,
    similarity: o.similarity,
    ...(o.topK !== undefined ? { similarityOptions: { topK: o.topK } } : {}),
    ...(o.categories !== undefined ? { categories: categoriesOf(o.categories) } : {}),
    ...(o.union !== undefined && o.union !== 'touched' ? { union: o.union } : {}),
    batchSize: o.batchSize,
    topImages: o.topImages,
    heatmaps: o.heatmaps ?? false,
    trust: trustOf(o),
    onWarning: (warning) => io.stderr.write(`note: ${warning.message}\n`),
  }).catch(failInField);
}

/**
 * The labelers by name: `--labelers` (clip-dissect when neither it nor `--labeler` is given), then
 * each `--labeler` file.
 */
function labelerNames(o: DissectCommandOptions): string[] {
  const files = (o.labeler ?? []).map(labelerFileName);
  const named = (o.labelers ?? (files.length > 0 ? '' : 'clip-dissect'))
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  return [...named, ...files];
}

/** `--null`, `--stability`, `--held-out` and `--seed`, checked. */
export function trustOf(o: Pick<DissectCommandOptions, 'null' | 'stability' | 'heldOut' | 'seed'>) {
  for (const [option, value] of [
    ['--null', o.null],
    ['--stability', o.stability],
    ['--held-out', o.heldOut],
    ['--seed', o.seed],
  ] as const) {
    if (!(Number.isInteger(value) && value >= 0))
      throw new CliError(`${option}: ${value} is not an integer ≥ 0`);
  }
  if (o.heldOut === 1) throw new CliError('--held-out: give 2 folds or more, or 0 to turn it off');
  return { permutations: o.null, stability: o.stability, folds: o.heldOut, seed: o.seed };
}

/** `--no-relations` and `--relations-from`, checked (undefined: the defaults). */
function relationsOf(o: Pick<DissectCommandOptions, 'relations' | 'relationsFrom'>) {
  const from = (o.relationsFrom ?? '')
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  if (o.relations === false) {
    if (from.length > 0) throw new CliError('--relations-from: drop --no-relations to relate layers');
    return false as const;
  }
  if (o.relationsFrom !== undefined && from.length === 0)
    throw new CliError('--relations-from: name at least one layer, e.g. --relations-from layer2');
  return from.length > 0 ? { from, top: 10 } : undefined;
}

/** `neurodissect dissect`: labels every neuron of the chosen layers; writes a Results document. */
export async function dissectCommand(o: DissectCommandOptions, io: CliIo): Promise<DissectOutcome> {
  const layers = layerList(o.layers);
  for (const [option, value] of [
    ['--batch-size', o.batchSize],
    ['--top-images', o.topImages],
    ['--top-labels', o.topLabels],
    ['--top-k', o.topK],
    ['--shards', o.shards],
    ['--redis-timeout', o.redisTimeout],
    ['--max-pixels', o.maxPixels],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      throw new CliError(`${option}: ${value} is not a positive integer`);
    }
  }
  requireInputFile(o.model, '--model', 'model file (.onnx)');
  requireInputFile(o.concepts, '--concepts', 'concept list (one concept per line)');
  requireOutputFile(o.out, '--out', `give the Results file to write, e.g. ${join(o.out, 'results.json')}`);
  if (o.shards !== undefined && o.queue === undefined) {
    throw new CliError('--shards: shards are for a distributed run; give --queue redis://HOST:PORT too');
  }
  if (o.queue !== undefined && o.cache === false) {
    throw new CliError(
      '--no-cache: a distributed run shares its features through the cache; give --cache DIR on a shared volume',
    );
  }
  if (o.queue !== undefined) await checkRedis(o.queue).catch(failInField);
  const executionProviders = o.ep.split(',').map((p) => p.trim()) as ExecutionProvider[];
  if (o.labeler?.length && o.queue !== undefined)
    throw new CliError(
      '--labeler: a labeler file runs in this process only; drop --queue, or run its labels locally',
    );
  if (o.prefixTokens !== undefined && !(Number.isInteger(o.prefixTokens) && o.prefixTokens >= 0))
    throw new CliError(`--prefix-tokens: ${o.prefixTokens} is not an integer ≥ 0`);
  // The spec and the environment that opens it share the model files' hashes: each is hashed once.
  const hashes = createFileHashes();
  const described = await specOf(o, layers, io, hashes);
  const prefixed =
    o.prefixTokens === undefined
      ? described
      : parseDissectionSpec({ ...described, prefixTokens: o.prefixTokens });
  const relations = relationsOf(o);
  const spec = relations === undefined ? prefixed : parseDissectionSpec({ ...prefixed, relations });
  // Labeler files are loaded (and checked) before any work, with the options the built-ins share.
  const fileLabelers = new Map<string, Labeler>();
  for (const name of spec.labelers.names) {
    if (name.startsWith(LABELER_FILE_PREFIX))
      fileLabelers.set(name, await loadLabelerFile(name, spec.labelers.options));
  }
  if (o.topK !== undefined) {
    const probe = await openProbeUri(spec.probe.uri).catch(failInField);
    if (o.topK > probe.size) {
      throw new CliError(
        `--top-k: ${o.topK} is larger than the probe set (${probe.size} images); use --top-k ${probe.size} or less`,
      );
    }
  }
  const runtime = await createNodeRuntime({ executionProviders, strict: o.strict }).catch((e) =>
    fail(e, '--ep: '),
  );
  const base = createNodeDissectionEnvironment({ runtime, maxPixels: o.maxPixels, hashes });
  const environment: DissectionEnvironment = {
    ...base,
    loadTarget: async (uri) => {
      const loaded = await base.loadTarget(uri);
      noteFallbacks('the target model', loaded.model as NodeTargetModel, io);
      return loaded;
    },
    createLabelers: (names, options) => {
      const builtIn = base.createLabelers(
        names.filter((name) => !fileLabelers.has(name)),
        options,
      );
      return names.map((name) => fileLabelers.get(name) ?? builtIn.shift()!);
    },
    loadClip: async (uri, clipOptions) => {
      const loaded = await base.loadClip(uri, clipOptions);
      noteFallbacks('CLIP', loaded.model as NodeClipModel, io);
      noteFixedTextLength(loaded.model as NodeClipModel, undefined, io);
      return loaded;
    },
    readConcepts: async (uri) => {
      const concepts = await base.readConcepts(uri);
      const changes = describeConceptSetChanges(concepts);
      if (changes) io.stderr.write(`note: ${changes}\n`);
      return concepts;
    },
  };
  const unlock = await lockOutput(o.out, '--out').catch(async (error: unknown) => {
    await runtime.dispose();
    throw error;
  });
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  const progress = createProgressRenderer(io);
  try {
    const file = await openResultsFile(o.out, {
      resume: o.resume === true,
      note: (line) => io.stderr.write(`${line}\n`),
      // Messages stored in the Results name these relative to it.
      paths: [o.probe.replace(/^broden:/, ''), o.model, o.concepts, ...(o.clip ? [o.clip] : [])],
    });
    const resume = file.resume;
    // A file made from other inputs is kept aside (under a name that never collides), and every
    // layer is computed afresh.
    const onResumeMismatch = async (differs: readonly string[]) => {
      const previous = await file.keepResumedAside();
      io.stderr.write(
        `resuming: ${file.resumedFrom} was made with other inputs (${differs.join(', ')} differ); every layer is computed again (the earlier file is kept as ${previous})\n`,
      );
      return 'recompute' as const;
    };
    const cache = o.cache === false ? undefined : (o.cache ?? join(dirname(o.out), '.neurodissect-cache'));
    const common = {
      resume,
      onResumeMismatch,
      tool: { name: 'neurodissect', version },
      // The model's path relative to the Results: never an absolute path.
      recordedModelUri: pathForDocument(o.model, o.out),
      signal: controller.signal,
      onLayer: async (partial: Results) => {
        await saveResults(file, () => file.save(partial));
      },
    };
    let results: Results;
    let shardStage = 'shards';
    let shardCount = { done: 0, total: 0 };
    try {
      if (o.queue !== undefined) {
        results = await runDistributedDissection({
          ...common,
          url: o.queue,
          spec,
          environment,
          cache: cache!,
          shards: o.shards,
          redisTimeout: o.redisTimeout,
          onShards: (done, total) => {
            shardCount = { done, total };
            progress.onProgress({ stage: shardStage, done, total });
          },
          // The progress line says so while the run waits for Redis.
          onRedisWaiting: (waiting) => {
            shardStage = waiting ? 'shards (waiting for Redis)' : 'shards';
            progress.onProgress({ stage: shardStage, ...shardCount });
          },
          log: (line) => io.stderr.write(`${line}\n`),
        });
      } else {
        const dissection = await openDissection(spec, environment, {
          ...common,
          store:
            cache === undefined
              ? undefined
              : createFileFeatureStore({
                  directory: cache,
                  onWarning: (warning) => io.stderr.write(`warning: ${warning.message}\n`),
                }),
          onProgress: progress.onProgress,
        });
        try {
          results = await dissection.run();
        } finally {
          await dissection.dispose();
        }
      }
    } catch (error) {
      if (controller.signal.aborted) throw new CliError(file.describeInterruption(), 130);
      // The feature cache filled the disk: say where, and whether --resume has anything to keep.
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') throw diskFull(file, error, '--cache');
      // (A --resume made from other inputs is recomputed by onResumeMismatch, never refused here.)
      return failInField(error);
    }
    progress.stop();
    await saveResults(file, () => file.finish(results));
    noteShrunkTopK(o, results, io);
    writeSummary(results, o.out, io);
    return { results, out: o.out };
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    await runtime.dispose();
    await unlock();
  }
}

/**
 * Writes the Results (atomically: a failed write leaves the previous save intact); a full disk or
 * an unwritable place is a one-line error that names the file and says how to continue.
 */
async function saveResults(file: ResultsFile, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') throw diskFull(file, error, '--out');
    const path = pathOf(error, file.out);
    const kept = file.saved
      ? `the layers saved so far are in ${file.saved}; `
      : existsSync(file.out)
        ? `${file.out} is left as it was; `
        : '';
    if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') {
      throw new CliError(`--out: cannot write ${path} (${code}); ${kept}choose a writable --out`);
    }
    throw error;
  }
}

/** The file an error concerns (not the temporary name it was written under), else `fallback`. */
function pathOf(error: unknown, fallback: string): string {
  return ((error as NodeJS.ErrnoException).path ?? fallback).replace(/\.[0-9a-f-]{36}\.tmp$/, '');
}

/** A full disk, in one line: the file, what is kept, and --resume only when some layer was saved. */
function diskFull(file: ResultsFile, error: unknown, option: string): CliError {
  const kept = file.saved
    ? `the layers saved so far are in ${file.saved}; `
    : existsSync(file.out)
      ? `${file.out} is left as it was; `
      : '';
  const again = file.saved ? 'run again with --resume' : 'run again';
  return new CliError(
    `${option}: no space left to write ${pathOf(error, file.out)}; ${kept}free some space and ${again}`,
  );
}

function writeSummary(results: Results, out: string, io: CliIo): void {
  const images = results.probe.images.length;
  io.stdout.write(
    `dissected ${results.layers.length} layer(s) of ${results.model.name} on ${images} images with ${results.concepts.size} concepts (${results.run.runtime?.executionProvider ?? 'cpu'})\n`,
  );
  for (const layer of results.layers) {
    const parts = results.labelers.map((labeler) => {
      // A labeler with a detector level (NetDissect's IoU) counts its detectors, not its labels.
      const scale = scoreScaleOf(labeler);
      const detector = scale.levels?.[0] === 'detector' ? scale.thresholds?.[0] : undefined;
      const counts = new Map<string, number>();
      let labelled = 0;
      for (const neuron of layer.neurons) {
        const best = neuron.labels[labeler.id]?.[0];
        if (!best || (detector !== undefined && !(best.score >= detector))) continue;
        labelled++;
        counts.set(best.label, (counts.get(best.label) ?? 0) + 1);
      }
      const common = [...counts.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([label, n]) => `${label} ×${n}`);
      const what = detector === undefined ? 'labelled' : `detectors (${scale.name} ≥ ${detector})`;
      const trust = layer.trust?.[labeler.id];
      const significant =
        trust?.significant !== undefined ? `, ${trust.significant} significant (q < 0.05)` : '';
      const heldOut = trust?.heldOut
        ? `, held-out r ${trust.heldOut.correlation.toFixed(2)} (random labels ${trust.heldOut.baseline.toFixed(2)})`
        : '';
      return `${labeler.id}: ${labelled}/${layer.units} ${what}${significant}${heldOut}${common.length ? ` (${common.join(', ')})` : ''}`;
    });
    const summary = layer.summary ? `, ${layer.summary} summary` : '';
    io.stdout.write(`  ${layer.name} (${layer.units} units${summary}): ${parts.join('; ')}\n`);
  }
  for (const failure of results.failures) {
    io.stdout.write(
      `  failed: ${failure.stage}${failure.layer ? ` on ${failure.layer}` : ''}: ${failure.message}\n`,
    );
  }
  const timing = timingSummary(results.run.timings);
  if (timing) io.stdout.write(`  time: ${timing}\n`);
  io.stdout.write(`wrote ${out}\n`);
}

const seconds = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

/** The run's stage timings in words: features, concept embeddings, labelling (per layer), heatmaps. */
export function timingSummary(timings: Record<string, number> | undefined): string | undefined {
  if (!timings) return undefined;
  const parts: string[] = [];
  if (timings.features !== undefined) parts.push(`features ${seconds(timings.features)}`);
  // (No CLIP labeler: nothing was embedded.)
  if (timings.textEmbeddings !== undefined && timings.textEmbeddings >= 50)
    parts.push(`concept embeddings ${seconds(timings.textEmbeddings)}`);
  // label:<labeler> is work shared by every layer, label:<layer> each layer's own.
  const labelling = Object.entries(timings).filter(([key]) => key.startsWith('label:'));
  if (labelling.length > 0) {
    const total = labelling.reduce((sum, [, ms]) => sum + ms, 0);
    const each = labelling.map(([key, ms]) => `${key.slice('label:'.length)} ${seconds(ms)}`).join(', ');
    parts.push(`labelling ${seconds(total)} (${each})`);
  }
  if (timings.relations !== undefined) parts.push(`relations ${seconds(timings.relations)}`);
  if (timings.heatmaps !== undefined) parts.push(`heatmaps ${seconds(timings.heatmaps)}`);
  if (parts.length === 0) return undefined;
  const total = Object.values(timings).reduce((sum, ms) => sum + ms, 0);
  return `${parts.join('; ')}; ${seconds(total)} in all`;
}

/**
 * A note when CLIP-Dissect's top-k was left at its similarity function's default and the probe
 * set has fewer readable images, so the labeler used them all.
 */
function noteShrunkTopK(o: DissectCommandOptions, results: Results, io: CliIo): void {
  if (o.topK !== undefined || !results.labelers.some((l) => l.id === 'clip-dissect')) return;
  const defaults =
    o.similarity === 'soft_wpmi' ? SOFT_WPMI_DEFAULTS : o.similarity === 'wpmi' ? WPMI_DEFAULTS : undefined;
  const images = results.probe.images.length;
  if (defaults?.topK === undefined || defaults.topK <= images) return;
  io.stderr.write(
    `note: clip-dissect's top-k (${o.similarity}'s default, ${defaults.topK}) is more than the probe set's ${images} readable images; it used all ${images} (give --top-k N to choose)\n`,
  );
}

/** The trust options `dissect` and `demo` share (docs/trust.md). */
export function addTrustOptions(command: Command): Command {
  return command
    .option(
      '--null <r>',
      "pseudo-neurons of each layer's permutation null (random image orderings): every best label gets a p-value and a Benjamini–Hochberg q-value; 0 turns it off",
      integer,
      1000,
    )
    .option(
      '--stability <b>',
      'bootstrap resamples of the probe images: how often each best label comes back (0: off)',
      integer,
      0,
    )
    .option(
      '--held-out <folds>',
      "folds for held-out quality: labels chosen on the other folds, their correlation with the neuron's activation measured on each (0: off)",
      integer,
      2,
    )
    .option('--seed <n>', 'seeds the null, the resamples and the folds', integer, 0);
}

/** Adds `dissect` to the program. */
export function registerDissectCommand(program: Command, io: CliIo): void {
  const command = program
    .command('dissect')
    .description(
      'Label every neuron of the chosen layers of an ONNX model with words; writes a Results document.',
    )
    .requiredOption('--model <file>', 'the target model (.onnx)')
    .requiredOption(
      '--layers <names>',
      'comma-separated layers: module paths (layer1, layer4.2) or tensor names',
    )
    .option('--clip <dir>', 'a CLIP model folder (Hugging Face or OpenCLIP ONNX layout)')
    .addOption(clipPreprocessOption())
    .requiredOption('--probe <dir>', 'probe images: a folder, or broden:DIR for a Broden-format set')
    .requiredOption('--concepts <file>', 'concept list, one per line')
    .option(
      '--labelers <names>',
      `comma-separated, any of ${LABELER_NAMES.join(', ')} (default: clip-dissect, unless --labeler is given)`,
    )
    .option(
      '--labeler <file>',
      "your own labeler: a JavaScript module whose default export is a factory (options) => Labeler (core's Labeler interface); repeatable",
      (file: string, files: string[] = []) => [...files, file],
    )
    .option('--similarity <fn>', 'clip-dissect similarity function', 'soft_wpmi')
    .option('--top-k <n>', 'clip-dissect top images per neuron (soft_wpmi: 100)', integer)
    .option('--top-images <n>', 'top activating images kept per neuron', integer, 20)
    .option('--top-labels <n>', 'labels kept per neuron and labeler', integer, 10)
    .option(
      '--categories <names>',
      "netdissect's annotation categories (color, object, part, material, scene, texture; default: every one present; Network Dissection's own default leaves out material)",
    )
    .addOption(
      new Option(
        '--union <rule>',
        "netdissect's union: count a unit's active area toward a category where it touches a label of it (touched, Network Dissection's rule) or in every image annotated with the category (annotated)",
      )
        .choices(['touched', 'annotated'])
        .default('touched'),
    )
    .option('--batch-size <n>', 'images per batch', integer, 16)
    .option(
      '--max-pixels <n>',
      'the most pixels (width × height) a probe image may have: larger ones are left out before they are decoded (default 50000000)',
      integer,
    )
    .addOption(
      new Option('--preset <name>', 'target preprocessing').choices(['imagenet', 'clip']).default('imagenet'),
    )
    .option(
      '--input-size <n>',
      "the target's input side: resize the shorter side to n and crop n×n (default for a Broden-format probe: the preset's side, so the whole frame its masks cover is fed)",
      integer,
    )
    .addOption(
      new Option(
        '--summary <how>',
        'how a layer output becomes one value per unit and image; auto: mean over H×W for [N,C,H,W], the class token (cls) for [N,L,D], identity for [N,D] (the one used is recorded per layer)',
      )
        .choices(['auto', 'mean', 'max', 'cls', 'identity'])
        .default('auto'),
    )
    .option(
      '--prefix-tokens <n>',
      "class and register tokens before a token layer's patch grid, for its heatmaps and netdissect (default: the fewest, 0 to 9, that leave a square grid)",
      integer,
    )
    .option('--ep <providers>', 'execution providers in order of preference (cpu, cuda, tensorrt)', 'cpu')
    .option('--strict', 'fail instead of falling back to a later execution provider')
    .option('--cache <dir>', 'feature cache folder (default: .neurodissect-cache beside --out)')
    .option('--no-cache', 'do not cache features')
    .option('--resume', 'keep the finished layers of an existing --out file')
    .option(
      '--heatmaps',
      "attach a small activation heatmap to each neuron's top images (one more pass over them)",
    )
    .option(
      '--queue <url>',
      'run on the workers of this Redis (redis://HOST:PORT; start them with neurodissect worker)',
    )
    .option('--shards <n>', 'with --queue: image shards, and label shards per layer (default 8)', integer)
    .option(
      '--redis-timeout <seconds>',
      `with --queue: seconds to wait for Redis once it stops answering, then stop (exit 2; run again to go on) (default ${DEFAULT_REDIS_TIMEOUT_SECONDS})`,
      integer,
    )
    .option(
      '--relations-from <layers>',
      'comma-separated layers (dissected or not) whose most correlated units each neuron lists, besides those of the layer dissected before (docs/relations.md)',
    )
    .option('--no-relations', 'do not relate neurons to those of other layers')
    .requiredOption('--out <file>', 'the Results document to write (.json)')
    .action(async (options: DissectCommandOptions) => {
      await dissectCommand(options, io);
    });
  addTrustOptions(command);
}
