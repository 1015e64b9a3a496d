import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  createDissection,
  describeConceptSetChanges,
  isNeurodissectError,
  type Labeler,
  type ProbeDataset,
  parseResults,
  type Results,
  type SimilarityName,
} from '@neurodissect/core';
import { createLabelersByName, LABELER_NAMES } from '@neurodissect/labelers';
import {
  type ActivationSummary,
  createBrodenDataset,
  createFileFeatureStore,
  createImageFolderDataset,
  createNodeRuntime,
  type ExecutionProvider,
  hashFile,
  type NodeClipModel,
  type NodeTargetModel,
  PREPROCESS_PRESETS,
  type PreprocessConfig,
  preprocessBatch,
  readConceptSetFile,
  sha256Hex,
  writeFileAtomic,
} from '@neurodissect/runtime-node';
import { type Command, Option } from 'commander';
import { CliError } from '../cli-error';
import { lockOutput, pathForDocument, requireOutputFile } from '../files';
import type { CliIo } from '../io';
import { integer } from '../option-parsers';
import { createProgressRenderer } from '../progress-bar';
import { version } from '../version';
import { noteFixedTextLength } from './embed';

/** Options of `neurodissect dissect`, as parsed. */
export interface DissectCommandOptions {
  model: string;
  layers: string;
  clip?: string;
  probe: string;
  concepts: string;
  labelers: string;
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

function createLabelers(names: readonly string[], o: DissectCommandOptions): Labeler[] {
  try {
    return createLabelersByName(names, {
      similarity: o.similarity as SimilarityName,
      ...(o.topK !== undefined ? { similarityOptions: { topK: o.topK } } : {}),
      topLabels: o.topLabels,
    });
  } catch (error) {
    if (!isNeurodissectError(error)) throw error;
    const option =
      (error.details as { similarity?: unknown }).similarity !== undefined ? '--similarity' : '--labelers';
    throw new CliError(`${option}: ${error.message}`);
  }
}

async function openProbe(spec: string): Promise<ProbeDataset> {
  const broden = spec.startsWith('broden:');
  const root = broden ? spec.slice('broden:'.length) : spec;
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new CliError(`--probe: ${root} is not a folder; give a folder of images or broden:DIR`);
  }
  try {
    if (broden || existsSync(join(root, 'index.csv'))) return await createBrodenDataset({ root });
    return await createImageFolderDataset({ root });
  } catch (error) {
    return fail(error, '--probe: ');
  }
}

/** `neurodissect dissect`: labels every neuron of the chosen layers; writes a Results document. */
export async function dissectCommand(o: DissectCommandOptions, io: CliIo): Promise<DissectOutcome> {
  const layers = o.layers
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  if (layers.length === 0)
    throw new CliError('--layers: name at least one layer, e.g. --layers layer1,layer4');
  const twice = layers.find((layer, i) => layers.indexOf(layer) !== i);
  if (twice !== undefined) throw new CliError(`--layers: ${twice} is named twice; name each layer once`);
  for (const [option, value] of [
    ['--batch-size', o.batchSize],
    ['--top-images', o.topImages],
    ['--top-labels', o.topLabels],
    ['--top-k', o.topK],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      throw new CliError(`${option}: ${value} is not a positive integer`);
    }
  }
  const labelerNames = o.labelers
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  if (!existsSync(o.model)) throw new CliError(`--model: file not found: ${o.model}`);
  requireOutputFile(o.out, '--out', `give the Results file to write, e.g. ${join(o.out, 'results.json')}`);
  const executionProviders = o.ep.split(',').map((p) => p.trim()) as ExecutionProvider[];

  const runtime = await createNodeRuntime({ executionProviders, strict: o.strict }).catch((e) =>
    fail(e, '--ep: '),
  );
  const labelers = createLabelers(labelerNames, o);
  const needsClip = labelers.some((l) => l.requires.includes('clip'));
  if (needsClip && o.clip === undefined) {
    throw new CliError(
      `--clip: the labelers ${labelers
        .filter((l) => l.requires.includes('clip'))
        .map((l) => l.id)
        .join(', ')} need a CLIP model folder`,
    );
  }
  let target: NodeTargetModel | undefined;
  let clip: NodeClipModel | undefined;
  const unlock = await lockOutput(o.out, '--out').catch(async (error: unknown) => {
    await runtime.dispose();
    throw error;
  });
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  const progress = createProgressRenderer(io);
  try {
    target = await runtime.loadTargetModel({ uri: o.model }).catch((e) => fail(e, '--model: '));
    for (const layer of layers) {
      try {
        target.resolveLayer(layer);
      } catch (error) {
        fail(error, '--layers: ');
      }
    }
    if (needsClip) {
      clip = await runtime.loadClipModel({ uri: o.clip! }).catch((e) => fail(e, '--clip: '));
      noteFixedTextLength(clip, undefined, io);
    }
    const probe = await openProbe(o.probe);
    if (o.topK !== undefined && o.topK > probe.size) {
      throw new CliError(
        `--top-k: ${o.topK} is larger than the probe set (${probe.size} images); use --top-k ${probe.size} or less`,
      );
    }
    const concepts = await readConceptSetFile(o.concepts).catch((e) => fail(e, '--concepts: '));
    const changes = describeConceptSetChanges(concepts);
    if (changes) io.stderr.write(`note: ${changes}\n`);

    let resume: Results | undefined;
    if (o.resume && existsSync(o.out)) {
      try {
        resume = parseResults(await readFile(o.out, 'utf8'), o.out);
      } catch (error) {
        if (!isNeurodissectError(error)) throw error;
        throw new CliError(
          `--resume: ${o.out} cannot be resumed (${error.message.split('\n')[0]}); move it away or run without --resume`,
        );
      }
      io.stderr.write(`resuming: ${resume.layers.length} layer(s) of ${o.out} are kept\n`);
    }
    const store =
      o.cache === false
        ? undefined
        : createFileFeatureStore({ directory: o.cache ?? join(dirname(o.out), '.neurodissect-cache') });
    // The CLIP model's identity: both towers' contents.
    const clipHash = clip
      ? `sha256:${sha256Hex((await Promise.all([hashFile(clip.files.vision), hashFile(clip.files.text)])).join('+'))}`
      : undefined;
    // --input-size: resize the shorter side to N and crop N×N, keeping the preset's normalisation.
    const preprocessing: PreprocessConfig =
      o.inputSize === undefined
        ? PREPROCESS_PRESETS[o.preset]
        : { ...PREPROCESS_PRESETS[o.preset], resizeShorter: o.inputSize, crop: o.inputSize };
    const dissection = createDissection({
      target: {
        model: target,
        prepare: (images) => preprocessBatch(images, preprocessing),
        // The file's name, and its path relative to the Results: never an absolute path.
        name: basename(o.model),
        uri: pathForDocument(o.model, o.out),
        hash: `sha256:${await hashFile(o.model)}`,
        summary: o.summary,
        preprocessing: JSON.stringify(preprocessing),
      },
      layers,
      clip: clip && clipHash ? { model: clip, name: basename(o.clip!), hash: clipHash } : undefined,
      probe,
      concepts: { ...concepts, name: basename(o.concepts) },
      labelers,
      store,
      kernels: runtime,
      batchSize: o.batchSize,
      topImages: o.topImages,
      runtime: { name: runtime.name, executionProvider: target.executionProvider },
      tool: { name: 'neurodissect', version },
      resume,
      heatmaps: o.heatmaps,
      signal: controller.signal,
      onProgress: progress.onProgress,
      onLayer: async (partial) => {
        await saveResults(o.out, JSON.stringify(partial));
      },
    });
    let results: Results;
    try {
      results = await dissection.run();
    } catch (error) {
      if (controller.signal.aborted) {
        throw new CliError(
          `interrupted; the finished layers are in ${o.out}: run again with --resume to continue`,
          130,
        );
      }
      const resumeMismatch =
        isNeurodissectError(error) &&
        (error.details as { differs?: unknown } | undefined)?.differs !== undefined;
      return fail(error, resumeMismatch ? '--resume: ' : '');
    }
    progress.stop();
    await saveResults(o.out, JSON.stringify(results));
    writeSummary(results, o.out, io);
    return { results, out: o.out };
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    await clip?.dispose();
    await target?.dispose();
    await runtime.dispose();
    await unlock();
  }
}

/**
 * Writes the Results (atomically: a failed write leaves the previous save intact); a full disk or
 * an unwritable place is a one-line error that says how to continue.
 */
async function saveResults(out: string, json: string): Promise<void> {
  try {
    await writeFileAtomic(out, json);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const kept = existsSync(out) ? `the layers saved so far are in ${out}; ` : '';
    if (code === 'ENOSPC') {
      throw new CliError(
        `--out: no space left to write ${out}; ${kept}free some space and run again with --resume`,
      );
    }
    if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') {
      throw new CliError(`--out: cannot write ${out} (${code}); ${kept}choose a writable --out`);
    }
    throw error;
  }
}

function writeSummary(results: Results, out: string, io: CliIo): void {
  const images = results.probe.images.length;
  io.stdout.write(
    `dissected ${results.layers.length} layer(s) of ${results.model.name} on ${images} images with ${results.concepts.size} concepts (${results.run.runtime?.executionProvider ?? 'cpu'})\n`,
  );
  for (const layer of results.layers) {
    const parts = results.labelers.map((labeler) => {
      const counts = new Map<string, number>();
      let labelled = 0;
      for (const neuron of layer.neurons) {
        const best = neuron.labels[labeler.id]?.[0];
        if (!best) continue;
        labelled++;
        counts.set(best.label, (counts.get(best.label) ?? 0) + 1);
      }
      const common = [...counts.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([label, n]) => `${label} ×${n}`);
      return `${labeler.id}: ${labelled}/${layer.units} labelled${common.length ? ` (${common.join(', ')})` : ''}`;
    });
    io.stdout.write(`  ${layer.name} (${layer.units} units): ${parts.join('; ')}\n`);
  }
  for (const failure of results.failures) {
    io.stdout.write(
      `  failed: ${failure.stage}${failure.layer ? ` on ${failure.layer}` : ''}: ${failure.message}\n`,
    );
  }
  io.stdout.write(`wrote ${out}\n`);
}

/** Adds `dissect` to the program. */
export function registerDissectCommand(program: Command, io: CliIo): void {
  program
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
    .requiredOption('--probe <dir>', 'probe images: a folder, or broden:DIR for a Broden-format set')
    .requiredOption('--concepts <file>', 'concept list, one per line')
    .option('--labelers <names>', `comma-separated, any of ${LABELER_NAMES.join(', ')}`, 'clip-dissect')
    .option('--similarity <fn>', 'clip-dissect similarity function', 'soft_wpmi')
    .option('--top-k <n>', 'clip-dissect top images per neuron (soft_wpmi: 100)', integer)
    .option('--top-images <n>', 'top activating images kept per neuron', integer, 20)
    .option('--top-labels <n>', 'labels kept per neuron and labeler', integer, 10)
    .option('--batch-size <n>', 'images per batch', integer, 16)
    .addOption(
      new Option('--preset <name>', 'target preprocessing').choices(['imagenet', 'clip']).default('imagenet'),
    )
    .option('--input-size <n>', "the target's input side: resize the shorter side to n and crop n×n", integer)
    .addOption(
      new Option('--summary <how>', 'activation summary')
        .choices(['auto', 'mean', 'max', 'cls', 'identity'])
        .default('auto'),
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
    .requiredOption('--out <file>', 'the Results document to write (.json)')
    .action(async (options: DissectCommandOptions) => {
      await dissectCommand(options, io);
    });
}
