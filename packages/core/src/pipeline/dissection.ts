import type { ConceptSet } from '../concepts';
import { ErrorCode, isNeurodissectError, NeurodissectError } from '../errors';
import type {
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
   * The runtime's scoring capabilities (`{ matmul: runtime.matmul, pmiProcessor: runtime.pmiProcessor }`),
   * handed to every labeler in its context.
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

async function runDissection(o: DissectionOptions): Promise<Results> {
  const batchSize = o.batchSize ?? 16;
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
  const resumed = new Map((o.resume?.layers ?? []).map((layer) => [layer.name, layer]));

  const todo = o.layers.filter((layer) => !resumed.has(layer));
  const needMaps = o.labelers.some((l) => l.requires.includes('activation-maps'));
  let t = now();
  const { activations, skipped } =
    todo.length > 0
      ? await layerActivations(o, todo, items, probeHash, batchSize)
      : { activations: new Map<string, Matrix>(), skipped: [] };
  timings.activations = now() - t;
  // Images that could not be read are reported and left out; everything indexes the readable ones.
  const unreadable = new Set(skipped.map((entry) => entry.index));
  const valid = items.map((_, i) => i).filter((i) => !unreadable.has(i));
  for (const entry of skipped) {
    results.failures.push({
      stage: 'read-image',
      code: entry.code,
      message: `${items[entry.index].uri}: ${entry.message}`,
    });
  }
  if (todo.length > 0 && valid.length === 0) {
    throw new NeurodissectError(
      ErrorCode.InvalidFormat,
      `No image of the probe set ${o.probe.name} could be read.`,
    );
  }
  if (todo.length === 0 && o.resume) {
    results.probe = o.resume.probe;
    results.failures.push(...o.resume.failures.filter((f) => f.stage === 'read-image'));
  } else {
    results.probe.images = valid.map((i) => ({ id: items[i].id, uri: items[i].uri }));
  }
  const layerTopImages = Math.min(topImages, Math.max(1, valid.length));
  const annotations = remapAnnotations(o.probe.conceptAnnotations, valid, items.length);

  let imageEmbeddings: Matrix | undefined;
  let textEmbeddings: Matrix | undefined;
  if (needsClip && o.clip && todo.length > 0) {
    t = now();
    imageEmbeddings = await cached(
      o.store,
      {
        kind: 'clip-images',
        clip: o.clip.hash,
        probe: probeHash,
        skipped: skipped.map((entry) => entry.index),
      },
      () => embedImages(o, o.clip!.model, valid, batchSize),
    );
    timings.imageEmbeddings = now() - t;
    t = now();
    textEmbeddings = await cached(
      o.store,
      { kind: 'clip-texts', clip: o.clip.hash, concepts: conceptHash },
      () => o.clip!.model.embedTexts(o.concepts.concepts, { signal: o.signal, onProgress: o.onProgress }),
    );
    timings.textEmbeddings = now() - t;
  }

  // Labelers that share work between layers (CLIP-Dissect: one pass over the images for every
  // layer) label all fresh layers at once; the others go layer by layer below.
  const fresh = o.layers.filter((name) => !resumed.has(name));
  const contextOf = (name: string, labeler: Labeler, stage: string): LabelerContext => ({
    layer: name,
    activations: activations.get(name)!,
    concepts: o.concepts.concepts,
    imageEmbeddings,
    textEmbeddings,
    activationMapSource: needMaps ? streamActivationMaps(o, name, valid, batchSize) : undefined,
    annotations,
    kernels: o.kernels,
    signal: o.signal,
    onProgress: (event) => o.onProgress?.({ ...event, stage: `${labeler.id}:${stage}` }),
  });
  const shared = new Map<Labeler, Map<string, LayerLabels | Error>>();
  for (const labeler of o.labelers) {
    if (!labeler.labelLayers || fresh.length < 2) continue;
    throwIfAborted(o.signal);
    t = now();
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
    const previous = resumed.get(name);
    if (previous) {
      results.layers.push(previous);
      continue;
    }
    throwIfAborted(o.signal);
    t = now();
    const layerActs = activations.get(name)!;
    results.layers.push(
      await labelLayer(o, name, layerActs, layerTopImages, results.failures, (labeler) => {
        const done = shared.get(labeler)?.get(name);
        if (done instanceof Error) return Promise.reject(done);
        return done ? Promise.resolve(done) : labeler.label(contextOf(name, labeler, name));
      }),
    );
    timings[`label:${name}`] = now() - t;
    await o.onLayer?.(results);
  }
  if (o.heatmaps) {
    t = now();
    const labelled = results.layers.filter((layer) => !resumed.has(layer.name));
    if (labelled.length > 0) await attachHeatmaps(o, labelled, valid, batchSize);
    timings.heatmaps = now() - t;
  }
  return parseResults(results, 'the dissection Results');
}

/**
 * A layer's raw maps over the readable probe images, streamed: each pass reads the images and runs
 * the model again, one batch at a time (nothing of size N × K × h × w is held).
 */
function streamActivationMaps(
  o: DissectionOptions,
  layer: string,
  valid: readonly number[],
  batchSize: number,
): ActivationMapSource {
  return {
    images: valid.length,
    async *batches(options = {}) {
      const signal = options.signal ?? o.signal;
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
        yield { start, maps };
      }
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

async function layerActivations(
  o: DissectionOptions,
  layers: readonly string[],
  items: readonly { id: string }[],
  probeHash: string,
  batchSize: number,
): Promise<{
  activations: Map<string, Matrix>;
  skipped: SkippedImage[];
}> {
  const keys = new Map<string, string>();
  let skipped: SkippedImage[] = [];
  const out = new Map<string, Matrix>();
  for (const layer of layers) {
    const key = await cacheKey({
      kind: 'activations',
      model: o.target.hash,
      layer,
      summary: o.target.summary ?? 'auto',
      probe: probeHash,
      preprocessing: o.target.preprocessing,
    });
    keys.set(layer, key);
    const hit = await o.store?.get(key);
    const hitSkipped = (hit?.meta.skipped ?? []) as SkippedImage[];
    if (hit && hit.tensor.dims.length === 2 && hit.tensor.dims[0] === items.length - hitSkipped.length) {
      out.set(layer, { rows: hit.tensor.dims[0], cols: hit.tensor.dims[1], data: hit.tensor.data });
      skipped = hitSkipped;
    }
  }
  const missing = layers.filter((layer) => !out.has(layer));
  if (missing.length === 0) return { activations: out, skipped };
  skipped = [];
  const parts = new Map<string, Matrix[]>(missing.map((layer) => [layer, []]));
  for (let start = 0; start < items.length; start += batchSize) {
    throwIfAborted(o.signal);
    const count = Math.min(batchSize, items.length - start);
    const images: RgbImage[] = [];
    for (let i = start; i < start + count; i++) {
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
    o.onProgress?.({ stage: 'activations', done: start + count, total: items.length });
    if (images.length === 0) continue;
    const raw = await o.target.model.run(o.target.prepare(images), missing, { signal: o.signal });
    for (const layer of missing) {
      const tensor = raw.get(layer);
      if (!tensor)
        throw new NeurodissectError(
          ErrorCode.InvalidFormat,
          `The model returned no output for layer ${layer}.`,
        );
      parts.get(layer)!.push(summarizeActivations(tensor, o.target.summary ?? 'auto'));
    }
  }
  const rows = items.length - skipped.length;
  if (rows === 0) return { activations: out, skipped };
  for (const layer of missing) {
    const blocks = parts.get(layer)!;
    const cols = blocks[0].cols;
    const matrix = createMatrix(rows, cols);
    let row = 0;
    for (const block of blocks) {
      matrix.data.set(block.data, row * cols);
      row += block.rows;
    }
    out.set(layer, matrix);
    await o.store?.put(
      keys.get(layer)!,
      { dtype: 'float32', dims: [matrix.rows, matrix.cols], data: matrix.data },
      { layer, skipped },
    );
  }
  return { activations: out, skipped };
}

/** A probe image that could not be read (left out of the run and reported in `failures`). */
interface SkippedImage {
  index: number;
  code?: string;
  message: string;
}

async function embedImages(
  o: DissectionOptions,
  clip: ClipModel,
  valid: readonly number[],
  batchSize: number,
): Promise<Matrix> {
  const out = createMatrix(valid.length, clip.dim);
  for (let start = 0; start < valid.length; start += batchSize) {
    throwIfAborted(o.signal);
    const chunk = valid.slice(start, start + batchSize);
    const images: RgbImage[] = [];
    for (const index of chunk) images.push(await o.probe.read(index, { signal: o.signal }));
    const block = await clip.embedImages(images, { signal: o.signal });
    out.data.set(block.data, start * clip.dim);
    o.onProgress?.({ stage: 'image-embeddings', done: start + chunk.length, total: valid.length });
  }
  return out;
}

async function cached(
  store: FeatureStore | undefined,
  keyParts: object,
  compute: () => Promise<Matrix>,
): Promise<Matrix> {
  const key = await cacheKey(keyParts);
  const hit = await store?.get(key);
  if (hit && hit.tensor.dims.length === 2)
    return { rows: hit.tensor.dims[0], cols: hit.tensor.dims[1], data: hit.tensor.data };
  const matrix = await compute();
  await store?.put(
    key,
    { dtype: 'float32', dims: [matrix.rows, matrix.cols], data: matrix.data },
    keyParts as Record<string, unknown>,
  );
  return matrix;
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
