import type { ConceptSet } from '../concepts';
import { ErrorCode, isNeurodissectError, NeurodissectError } from '../errors';
import type {
  ActivationMapBatch,
  ActivationMapSource,
  ClipModel,
  FeatureStore,
  Labeler,
  LabelerContext,
  LayerLabels,
  ProbeAnnotations,
  ProbeDataset,
  RgbImage,
  ScoringKernels,
  StoredFeature,
  TargetModel,
} from '../interfaces';
import { topKPerColumn } from '../math/top-k';
import { now, sha256 } from '../platform';
import { type OperationOptions, throwIfAborted } from '../progress';
import { createResults } from '../results/create';
import { parseResults } from '../results/parse';
import type { Results, ResultsFailure, ResultsLayer, ResultsNeuron } from '../results/schema';
import { createMatrix, type Matrix, type Tensor } from '../tensor';
import { heatmapDataUri } from './heatmap';
import { type ActivationSummary, summarizeActivations } from './summarize';

/** The network being dissected, with how probe images become its input. */
export interface DissectionTarget {
  model: TargetModel;
  /** Decoded probe images → the model's input batch `[N,3,H,W]` (e.g. the `imagenet` preset). */
  prepare(images: readonly RgbImage[]): Tensor<'float32'>;
  /** Name recorded in the Results. */
  name: string;
  /** Content hash of the model file (keys the feature cache). */
  hash: string;
  uri?: string;
  /** @defaultValue 'auto' (mean over H×W, CLS for tokens, identity for vectors) */
  summary?: ActivationSummary;
  /** Identifies the preprocessing (part of the cache key). */
  preprocessing: string;
}

/** The CLIP model used by labelers that require `clip`. */
export interface DissectionClip {
  model: ClipModel;
  name: string;
  /** Content hash of the model files (keys the feature cache). */
  hash: string;
}

/** Options of {@link createDissection}. */
export interface DissectionOptions extends OperationOptions {
  target: DissectionTarget;
  /** Layers to dissect (module paths or tensor names). */
  layers: readonly string[];
  clip?: DissectionClip;
  probe: ProbeDataset;
  concepts: ConceptSet & { name: string };
  labelers: readonly Labeler[];
  /** Caches activations and embeddings by content hash. */
  store?: FeatureStore;
  /**
   * The runtime's scoring capabilities (pass the runtime itself), handed to every labeler in its
   * context.
   */
  kernels?: ScoringKernels;
  /** Images per batch. @defaultValue 16 */
  batchSize?: number;
  /** Top activating images kept per neuron. @defaultValue 20 */
  topImages?: number;
  /** The runtime and execution provider that ran, recorded in the Results. */
  runtime?: { name: string; executionProvider: string };
  /** The tool recorded in the Results. @defaultValue { name: 'neurodissect', version: '0.0.0' } */
  tool?: { name: string; version: string };
  /** Results of an interrupted run of the same job: its finished layers are kept, not recomputed. */
  resume?: Results;
  /** Called with the Results so far after each layer (to save partial results). */
  onLayer?: (partial: Results) => void | Promise<void>;
  /**
   * Bytes of a layer's raw activation maps (all probe images) kept in memory between the passes of
   * mask-based labelers; a layer with more is streamed again from the model for each pass, so memory
   * stays bounded whatever the probe set's size. @defaultValue 256 MiB
   */
  mapMemory?: number;
  /**
   * Attach a small activation heatmap to each neuron's top images (a second pass over the union of
   * the top images, for spatial layers). @defaultValue false
   */
  heatmaps?: boolean;
}

/** A configured dissection; `run()` produces the Results document. */
export interface Dissection {
  run(): Promise<Results>;
}

/**
 * The pipeline: activations of the selected layers and CLIP embeddings of the probe set (both
 * cached by content hash), then every labeler on every layer, into one Results document. A labeler
 * that throws is recorded in `failures` and the others' labels are kept; neurons with non-finite
 * activations are reported in their `issues` and never labelled.
 */
export function createDissection(options: DissectionOptions): Dissection {
  return { run: () => runDissection(options) };
}

/**
 * What the stages of a run share: the options, the probe items and hashes, the Results being
 * built and the features collected so far.
 */
interface RunContext {
  readonly o: DissectionOptions;
  readonly batchSize: number;
  readonly items: readonly { id: string; uri: string }[];
  readonly probeHash: string;
  readonly conceptHash: string;
  readonly results: Results;
  readonly timings: Record<string, number>;
  /** Layers finished by an earlier run (`resume`), by name. */
  readonly resumed: ReadonlyMap<string, ResultsLayer>;
  /** Layers this run labels, in the order asked. */
  readonly fresh: readonly string[];
  readonly needsClip: boolean;
}

/** The features of the fresh layers over the readable probe images. */
interface Features {
  activations: Map<string, Matrix>;
  imageEmbeddings?: Matrix;
  textEmbeddings?: Matrix;
  /** Indices (in the probe set) of the readable images, in order: every row indexes these. */
  valid: number[];
}

async function runDissection(o: DissectionOptions): Promise<Results> {
  const ctx = await openRun(o);
  let t = now();
  // Stage 1: activations and CLIP image embeddings, in one pass over the probe set.
  const features = await collectFeatures(ctx);
  ctx.timings.features = now() - t;
  // Stage 2: the concept set's CLIP embeddings.
  t = now();
  features.textEmbeddings = await embedConcepts(ctx);
  ctx.timings.textEmbeddings = now() - t;
  // Stage 3: every labeler on every fresh layer; finished layers are saved as they come.
  await labelStage(ctx, features);
  // Stage 4: heatmaps of each neuron's top images.
  if (o.heatmaps) {
    t = now();
    // Fresh layers, and kept layers saved before their heatmaps were drawn.
    const labelled = ctx.results.layers.filter(
      (layer) =>
        !ctx.resumed.has(layer.name) ||
        layer.neurons.some((neuron) => neuron.topImages.some((top) => top.heatmap === undefined)),
    );
    if (labelled.length > 0) await attachHeatmaps(o, labelled, features.valid, ctx.batchSize);
    ctx.timings.heatmaps = now() - t;
  }
  return parseResults(ctx.results, 'the dissection Results');
}

/** Checks the options and opens the Results document. */
async function openRun(o: DissectionOptions): Promise<RunContext> {
  const batchSize = o.batchSize ?? 16;
  for (const [name, value] of [
    ['batchSize', batchSize],
    ['topImages', o.topImages ?? 20],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new NeurodissectError(
        ErrorCode.InvalidOption,
        `${name} must be a positive integer, got ${value}.`,
      );
    }
  }
  if (new Set(o.layers).size !== o.layers.length)
    throw new NeurodissectError(
      ErrorCode.InvalidOption,
      'A layer is selected twice; select each layer once.',
    );
  const topImages = Math.min(o.topImages ?? 20, o.probe.size);
  if (o.probe.size === 0)
    throw new NeurodissectError(ErrorCode.InvalidOption, `The probe set ${o.probe.name} has no images.`);
  if (o.layers.length === 0)
    throw new NeurodissectError(ErrorCode.InvalidOption, 'Select at least one layer to dissect.');
  if (o.concepts.concepts.length === 0)
    throw new NeurodissectError(ErrorCode.EmptyConceptSet, 'The concept set is empty.');
  const needsClip = o.labelers.some((l) => l.requires.includes('clip'));
  if (needsClip && !o.clip) {
    const ids = o.labelers.filter((l) => l.requires.includes('clip')).map((l) => l.id);
    throw new NeurodissectError(
      ErrorCode.InvalidOption,
      `The labelers ${ids.join(', ')} need a CLIP model; pass one.`,
    );
  }
  const timings: Record<string, number> = {};
  const items = Array.from({ length: o.probe.size }, (_, i) => o.probe.item(i));
  const probeHash = await sha256(
    items.map((item) => item.id).join('\n') +
      (o.probe.fingerprint === undefined ? '' : `\n#${o.probe.fingerprint}`),
  );
  const conceptHash = await sha256(o.concepts.concepts.join('\n'));
  const results = createResults({
    run: {
      tool: o.tool ?? { name: 'neurodissect', version: '0.0.0' },
      createdAt: new Date().toISOString(),
      kind: 'dissect',
      runtime: o.runtime,
      timings,
      parameters: { layers: [...o.layers], batchSize, topImages, summary: o.target.summary ?? 'auto' },
    },
    model: { name: o.target.name, uri: o.target.uri, hash: o.target.hash },
    probe: {
      name: o.probe.name,
      hash: probeHash,
      images: items.map((item) => ({ id: item.id, uri: item.uri })),
    },
    concepts: {
      name: o.concepts.name,
      size: o.concepts.concepts.length,
      hash: conceptHash,
      items: [...o.concepts.concepts],
    },
    labelers: o.labelers.map((l) => ({ id: l.id, version: l.version, options: { ...l.options } })),
    layers: [],
  });
  if (o.resume) checkResumable(o.resume, results);
  const resumed = new Map((o.resume?.layers ?? []).map((layer) => [layer.name, layer]));
  return {
    o,
    batchSize,
    items,
    probeHash,
    conceptHash,
    results,
    timings,
    resumed,
    fresh: o.layers.filter((layer) => !resumed.has(layer)),
    needsClip,
  };
}

/**
 * A run resumes only the same job: the same model, probe set, concepts, labelers (with their
 * options) and summary. Otherwise the kept layers would index other images or other concepts.
 */
function checkResumable(resume: Results, current: Results): void {
  const differs: string[] = [];
  const same = (a: unknown, b: unknown) => a === undefined || b === undefined || a === b;
  if (!same(resume.model.hash, current.model.hash)) differs.push('the model');
  if (!same(resume.probe.hash, current.probe.hash)) differs.push('the probe set');
  if (!same(resume.concepts.hash, current.concepts.hash) || resume.concepts.size !== current.concepts.size)
    differs.push('the concept set');
  const labelers = (r: Results) => JSON.stringify(r.labelers.map((l) => [l.id, l.version, l.options]));
  if (labelers(resume) !== labelers(current)) differs.push('the labelers or their options');
  const parameter = (r: Results, key: string) => JSON.stringify(r.run.parameters?.[key]);
  for (const key of ['summary', 'topImages']) {
    if (parameter(resume, key) !== parameter(current, key)) differs.push(`the parameter ${key}`);
  }
  if (differs.length > 0) {
    throw new NeurodissectError(
      ErrorCode.InvalidOption,
      `The Results to resume were made with other inputs (${differs.join(', ')} differ); resume only the same job, or start afresh.`,
      { details: { differs } },
    );
  }
}

/**
 * Stage 1: the fresh layers' summarised activations and the probe set's CLIP image embeddings,
 * each from the feature store when cached, else in one pass over the probe set: each image is
 * decoded once and the same batch feeds the target model and CLIP. Unreadable images are left out
 * and reported in the Results' failures.
 */
async function collectFeatures(ctx: RunContext): Promise<Features> {
  const { o, items, results } = ctx;
  if (ctx.fresh.length === 0) {
    if (!o.resume) return { activations: new Map(), valid: items.map((_, i) => i) };
    results.probe = o.resume.probe;
    results.failures.push(...o.resume.failures.filter((f) => f.stage === 'read-image'));
    // The kept layers index the images the earlier run could read.
    const position = new Map(items.map((item, i) => [item.id, i]));
    const valid = o.resume.probe.images.map((image) => position.get(image.id) ?? -1).filter((i) => i >= 0);
    return { activations: new Map(), valid };
  }
  const summary = o.target.summary ?? 'auto';
  const layerKeys = new Map<string, string>();
  for (const layer of ctx.fresh) {
    layerKeys.set(
      layer,
      await cacheKey({
        kind: 'activations',
        model: o.target.hash,
        layer,
        summary,
        probe: ctx.probeHash,
        preprocessing: o.target.preprocessing,
      }),
    );
  }
  const clipKey =
    ctx.needsClip && o.clip
      ? await cacheKey({ kind: 'clip-image-embeddings', clip: o.clip.hash, probe: ctx.probeHash })
      : undefined;

  // Cached features, each with the unreadable images it left out.
  const activations = new Map<string, Matrix>();
  let skipped: SkippedImage[] | undefined;
  const fits = (hit: StoredFeature | undefined): hit is StoredFeature => {
    if (hit?.tensor.dims.length !== 2) return false;
    const hitSkipped = (hit.meta.skipped ?? []) as SkippedImage[];
    return hit.tensor.dims[0] === items.length - hitSkipped.length;
  };
  for (const [layer, key] of layerKeys) {
    const hit = await o.store?.get(key);
    if (!fits(hit)) continue;
    activations.set(layer, { rows: hit.tensor.dims[0], cols: hit.tensor.dims[1], data: hit.tensor.data });
    skipped ??= hit.meta.skipped as SkippedImage[];
  }
  let imageEmbeddings: Matrix | undefined;
  if (clipKey) {
    const hit = await o.store?.get(clipKey);
    if (fits(hit)) {
      imageEmbeddings = { rows: hit.tensor.dims[0], cols: hit.tensor.dims[1], data: hit.tensor.data };
      skipped ??= hit.meta.skipped as SkippedImage[];
    }
  }
  const missing = ctx.fresh.filter((layer) => !activations.has(layer));
  const embed = clipKey !== undefined && !imageEmbeddings;
  if (missing.length > 0 || embed) {
    const pass = await featurePass(ctx, missing, embed, skipped);
    skipped = pass.skipped;
    for (const [layer, matrix] of pass.activations) {
      activations.set(layer, matrix);
      await o.store?.put(
        layerKeys.get(layer)!,
        { dtype: 'float32', dims: [matrix.rows, matrix.cols], data: matrix.data },
        { layer, skipped },
      );
    }
    if (pass.imageEmbeddings) {
      imageEmbeddings = pass.imageEmbeddings;
      await o.store?.put(
        clipKey!,
        { dtype: 'float32', dims: [imageEmbeddings.rows, imageEmbeddings.cols], data: imageEmbeddings.data },
        { kind: 'clip-image-embeddings', skipped },
      );
    }
  }
  // Images that could not be read are reported and left out; everything indexes the readable ones.
  const unreadable = new Set((skipped ?? []).map((entry) => entry.index));
  const valid = items.map((_, i) => i).filter((i) => !unreadable.has(i));
  for (const entry of skipped ?? []) {
    results.failures.push({
      stage: 'read-image',
      code: entry.code,
      message: `${items[entry.index].uri}: ${entry.message}`,
    });
  }
  if (valid.length === 0) {
    throw new NeurodissectError(
      ErrorCode.InvalidFormat,
      `No image of the probe set ${o.probe.name} could be read.`,
    );
  }
  results.probe.images = valid.map((i) => ({ id: items[i].id, uri: items[i].uri }));
  return { activations, imageEmbeddings, valid };
}

/**
 * One pass over the probe set: each batch of images is decoded once, then fed to the target model
 * (for `layers`) and to CLIP (when `embed`). Images known to be unreadable (`known`, from a cached
 * feature) are not tried again; others that fail to decode are skipped and listed.
 */
async function featurePass(
  ctx: RunContext,
  layers: readonly string[],
  embed: boolean,
  known: readonly SkippedImage[] | undefined,
): Promise<{ activations: Map<string, Matrix>; imageEmbeddings?: Matrix; skipped: SkippedImage[] }> {
  const { o, items, batchSize } = ctx;
  const skipped: SkippedImage[] = [...(known ?? [])];
  const knownBad = new Set(skipped.map((entry) => entry.index));
  const parts = new Map<string, Matrix[]>(layers.map((layer) => [layer, []]));
  const embeddings: Matrix[] = [];
  const stage =
    layers.length > 0 && embed ? 'features' : layers.length > 0 ? 'activations' : 'image-embeddings';
  for (let start = 0; start < items.length; start += batchSize) {
    throwIfAborted(o.signal);
    const count = Math.min(batchSize, items.length - start);
    const images: RgbImage[] = [];
    for (let i = start; i < start + count; i++) {
      if (knownBad.has(i)) continue;
      try {
        images.push(await o.probe.read(i, { signal: o.signal }));
      } catch (error) {
        if (isNeurodissectError(error, ErrorCode.Aborted) || o.signal?.aborted) throw error;
        skipped.push({
          index: i,
          code: isNeurodissectError(error) ? error.code : undefined,
          message: error instanceof Error ? error.message : String(error),
        });
      }
    }
    if (images.length > 0 && layers.length > 0) {
      const raw = await o.target.model.run(o.target.prepare(images), layers, { signal: o.signal });
      for (const layer of layers) {
        const tensor = raw.get(layer);
        if (!tensor)
          throw new NeurodissectError(
            ErrorCode.InvalidFormat,
            `The model returned no output for layer ${layer}.`,
          );
        parts.get(layer)!.push(summarizeActivations(tensor, o.target.summary ?? 'auto'));
      }
    }
    if (images.length > 0 && embed)
      embeddings.push(await o.clip!.model.embedImages(images, { signal: o.signal }));
    o.onProgress?.({ stage, done: start + count, total: items.length });
  }
  skipped.sort((a, b) => a.index - b.index);
  const activations = new Map<string, Matrix>();
  for (const layer of layers) {
    const blocks = parts.get(layer)!;
    if (blocks.length > 0) activations.set(layer, concatRows(blocks));
  }
  return {
    activations,
    ...(embed && embeddings.length > 0 ? { imageEmbeddings: concatRows(embeddings) } : {}),
    skipped,
  };
}

/** Stacks row blocks of equal width into one matrix. */
function concatRows(blocks: readonly Matrix[]): Matrix {
  const cols = blocks[0].cols;
  const matrix = createMatrix(
    blocks.reduce((n, b) => n + b.rows, 0),
    cols,
  );
  let row = 0;
  for (const block of blocks) {
    matrix.data.set(block.data, row * cols);
    row += block.rows;
  }
  return matrix;
}

/** Stage 2: the concept set's CLIP text embeddings (cached), when a labeler needs CLIP. */
async function embedConcepts(ctx: RunContext): Promise<Matrix | undefined> {
  const { o } = ctx;
  if (!ctx.needsClip || !o.clip || ctx.fresh.length === 0) return undefined;
  const keyParts = { kind: 'clip-texts', clip: o.clip.hash, concepts: ctx.conceptHash };
  const key = await cacheKey(keyParts);
  const hit = await o.store?.get(key);
  if (hit && hit.tensor.dims.length === 2 && hit.tensor.dims[0] === o.concepts.concepts.length)
    return { rows: hit.tensor.dims[0], cols: hit.tensor.dims[1], data: hit.tensor.data };
  const matrix = await o.clip.model.embedTexts(o.concepts.concepts, {
    signal: o.signal,
    onProgress: o.onProgress,
  });
  await o.store?.put(
    key,
    { dtype: 'float32', dims: [matrix.rows, matrix.cols], data: matrix.data },
    keyParts,
  );
  return matrix;
}

/**
 * Stage 3: every labeler on every fresh layer. Labelers that share work between layers
 * (CLIP-Dissect: one pass over the images for every layer) label all fresh layers at once; the
 * others go layer by layer. Each finished layer is handed to `onLayer`.
 */
async function labelStage(ctx: RunContext, features: Features): Promise<void> {
  const { o, results, timings, fresh } = ctx;
  const { activations, imageEmbeddings, textEmbeddings, valid } = features;
  const needMaps = o.labelers.some((l) => l.requires.includes('activation-maps'));
  const topImages = Math.min(o.topImages ?? 20, o.probe.size, Math.max(1, valid.length));
  const annotations = remapAnnotations(o.probe.conceptAnnotations, valid, ctx.items.length);
  const mapBudget = o.mapMemory ?? 256 * 2 ** 20;
  const mapSources = new Map(
    fresh.map((name) => [name, streamActivationMaps(o, name, valid, ctx.batchSize, mapBudget)]),
  );
  const contextOf = (name: string, labeler: Labeler, stage: string): LabelerContext => ({
    layer: name,
    activations: activations.get(name)!,
    concepts: o.concepts.concepts,
    imageEmbeddings,
    textEmbeddings,
    activationMapSource: needMaps ? mapSources.get(name) : undefined,
    annotations,
    kernels: o.kernels,
    signal: o.signal,
    onProgress: (event) => o.onProgress?.({ ...event, stage: `${labeler.id}:${stage}` }),
  });
  const shared = new Map<Labeler, Map<string, LayerLabels | Error>>();
  for (const labeler of o.labelers) {
    if (!labeler.labelLayers || fresh.length < 2) continue;
    throwIfAborted(o.signal);
    const t = now();
    const stage = fresh.join('+');
    const byLayer = new Map<string, LayerLabels | Error>();
    try {
      const labels = await labeler.labelLayers(
        fresh.map((name) => contextOf(name, labeler, stage)),
        {
          signal: o.signal,
          onProgress: (event) => o.onProgress?.({ ...event, stage: `${labeler.id}:${stage}` }),
        },
      );
      fresh.forEach((name, i) => {
        byLayer.set(name, labels[i]);
      });
    } catch (error) {
      if (isNeurodissectError(error, ErrorCode.Aborted)) throw error;
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const name of fresh) byLayer.set(name, failure);
    }
    shared.set(labeler, byLayer);
    timings[`label:${labeler.id}`] = now() - t;
  }

  for (const name of o.layers) {
    const previous = ctx.resumed.get(name);
    if (previous) {
      results.layers.push(previous);
      continue;
    }
    throwIfAborted(o.signal);
    const t = now();
    results.layers.push(
      await labelLayer(o, name, activations.get(name)!, topImages, results.failures, (labeler) => {
        const done = shared.get(labeler)?.get(name);
        if (done instanceof Error) return Promise.reject(done);
        return done ? Promise.resolve(done) : labeler.label(contextOf(name, labeler, name));
      }),
    );
    mapSources.delete(name); // its maps, if held, go with it
    timings[`label:${name}`] = now() - t;
    await o.onLayer?.(results);
  }
}

/**
 * A layer's raw maps over the readable probe images, streamed: each pass reads the images and runs
 * the model again, one batch at a time. A layer whose maps fit in `budget` bytes is kept after its
 * first complete pass and replayed from memory; a larger one is never held.
 */
function streamActivationMaps(
  o: DissectionOptions,
  layer: string,
  valid: readonly number[],
  batchSize: number,
  budget: number,
): ActivationMapSource {
  let held: ActivationMapBatch[] | undefined;
  return {
    images: valid.length,
    async *batches(options = {}) {
      const signal = options.signal ?? o.signal;
      if (held) {
        for (const batch of held) {
          throwIfAborted(signal);
          yield batch;
        }
        return;
      }
      const kept: ActivationMapBatch[] = [];
      let bytes = 0;
      for (let start = 0; start < valid.length; start += batchSize) {
        throwIfAborted(signal);
        const rgb: RgbImage[] = [];
        for (const index of valid.slice(start, start + batchSize))
          rgb.push(await o.probe.read(index, { signal }));
        const raw = await o.target.model.run(o.target.prepare(rgb), [layer], { signal });
        const maps = raw.get(layer);
        if (!maps) {
          throw new NeurodissectError(
            ErrorCode.InvalidFormat,
            `The model returned no output for layer ${layer}.`,
          );
        }
        const batch = { start, maps };
        bytes += maps.data.byteLength;
        if (bytes <= budget) kept.push(batch);
        yield batch;
      }
      // Reached only after a complete pass.
      if (bytes <= budget) held = kept;
    },
  };
}

/**
 * Runs the model once more on the union of the layers' top images and attaches heatmaps to them.
 * Only each neuron's planes of its own top images are kept (K × top images × h × w per layer).
 */
async function attachHeatmaps(
  o: DissectionOptions,
  layers: ResultsLayer[],
  valid: readonly number[],
  batchSize: number,
): Promise<void> {
  // image → the (layer, neuron, position) slots that show it
  const wanted = new Map<number, { layer: number; neuron: number; position: number }[]>();
  layers.forEach((layer, l) => {
    layer.neurons.forEach((neuron, n) => {
      neuron.topImages.forEach((top, position) => {
        const slots = wanted.get(top.image) ?? [];
        slots.push({ layer: l, neuron: n, position });
        wanted.set(top.image, slots);
      });
    });
  });
  const images = [...wanted.keys()].sort((a, b) => a - b);
  const planes = layers.map((layer) =>
    layer.neurons.map((neuron) =>
      neuron.topImages.map(() => undefined as { map: Float32Array; h: number; w: number } | undefined),
    ),
  );
  const names = layers.map((layer) => layer.name);
  for (let start = 0; start < images.length; start += batchSize) {
    throwIfAborted(o.signal);
    const chunk = images.slice(start, start + batchSize);
    const rgb: RgbImage[] = [];
    for (const index of chunk) rgb.push(await o.probe.read(valid[index], { signal: o.signal }));
    const raw = await o.target.model.run(o.target.prepare(rgb), names, { signal: o.signal });
    chunk.forEach((image, i) => {
      for (const slot of wanted.get(image)!) {
        const tensor = raw.get(names[slot.layer]);
        if (tensor?.dims.length !== 4) continue;
        const [, k, h, w] = tensor.dims;
        const unit = layers[slot.layer].neurons[slot.neuron].unit;
        const base = (i * k + unit) * h * w;
        planes[slot.layer][slot.neuron][slot.position] = { map: tensor.data.slice(base, base + h * w), h, w };
      }
    });
    o.onProgress?.({
      stage: 'heatmaps',
      done: Math.min(images.length, start + batchSize),
      total: images.length,
    });
  }
  layers.forEach((layer, l) => {
    layer.neurons.forEach((neuron, n) => {
      const unitMaps = planes[l][n];
      if (unitMaps.some((entry) => entry === undefined)) return;
      let max = 0;
      for (const entry of unitMaps) for (const v of entry!.map) if (v > max) max = v;
      neuron.topImages.forEach((top, j) => {
        const { map, h, w } = unitMaps[j]!;
        top.heatmap = heatmapDataUri(map, h, w, max);
      });
    });
  });
}

/** A probe image that could not be read (left out of the run and reported in `failures`). */
interface SkippedImage {
  index: number;
  code?: string;
  message: string;
}

/** Neurons whose activations hold NaN or ±Infinity, with how many. */
function nonFiniteNeurons(activations: Matrix): Map<number, number> {
  const bad = new Map<number, number>();
  for (let i = 0; i < activations.data.length; i++) {
    if (!Number.isFinite(activations.data[i])) {
      const k = i % activations.cols;
      bad.set(k, (bad.get(k) ?? 0) + 1);
    }
  }
  return bad;
}

async function labelLayer(
  o: DissectionOptions,
  name: string,
  activations: Matrix,
  topImages: number,
  failures: ResultsFailure[],
  labelWith: (labeler: Labeler) => Promise<LayerLabels>,
): Promise<ResultsLayer> {
  const bad = nonFiniteNeurons(activations);
  const top = topKPerColumn(activations, topImages);
  const neurons: ResultsNeuron[] = Array.from({ length: activations.cols }, (_, unit) => ({
    unit,
    topImages: Array.from({ length: topImages }, (_, j) => ({
      image: top.indices[unit * topImages + j],
      activation: top.values[unit * topImages + j],
    })).filter((entry) => Number.isFinite(entry.activation)),
    labels: {},
    ...(bad.has(unit) ? { issues: [`${bad.get(unit)} non-finite activation value(s); not labelled`] } : {}),
  }));
  for (const labeler of o.labelers) {
    throwIfAborted(o.signal);
    let labels: LayerLabels;
    try {
      labels = await labelWith(labeler);
    } catch (error) {
      if (isNeurodissectError(error, ErrorCode.Aborted)) throw error;
      failures.push({
        stage: `labeler:${labeler.id}`,
        layer: name,
        code: isNeurodissectError(error) ? error.code : undefined,
        message: error instanceof Error ? error.message : String(error),
      });
      continue;
    }
    if (labels.length !== activations.cols) {
      failures.push({
        stage: `labeler:${labeler.id}`,
        layer: name,
        message: `returned labels for ${labels.length} neurons, the layer has ${activations.cols}`,
      });
      continue;
    }
    labels.forEach((ranked, unit) => {
      if (!bad.has(unit)) neurons[unit].labels[labeler.id] = ranked;
    });
  }
  return { name, units: activations.cols, summary: summaryName(o.target.summary), neurons };
}

function summaryName(summary: ActivationSummary | undefined): ResultsLayer['summary'] {
  return summary === undefined || summary === 'auto' ? undefined : summary;
}

/** A feature-store key: the hex SHA-256 of the parts that determine the feature. */
async function cacheKey(parts: object): Promise<string> {
  return (await sha256(JSON.stringify(parts))).slice('sha256:'.length);
}

/** The probe's annotations indexed by position among the readable images. */
function remapAnnotations(
  annotations: ProbeAnnotations | undefined,
  valid: readonly number[],
  total: number,
): ProbeAnnotations | undefined {
  if (!annotations || valid.length === total) return annotations;
  return {
    labels: annotations.labels,
    imageLabels: (index) => annotations.imageLabels(valid[index]),
    masks: (index, options) => annotations.masks(valid[index], options),
  };
}
