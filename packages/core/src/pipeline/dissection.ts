import type { ConceptSet } from '../concepts';
import { ErrorCode, isNeurodissectError, NeurodissectError } from '../errors';
import type {
  ActivationMapBatch,
  ActivationMapSource,
  ClipModel,
  FeatureStore,
  Labeler,
  LabelerContext,
  LabelPart,
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
import {
  attachRelations,
  checkRelationOptions,
  RELATION_DEFAULTS,
  type RelationOptions,
  relationPairs,
} from '../relations/stage';
import { createResults } from '../results/create';
import { parseResults } from '../results/parse';
import type { Results, ResultsFailure, ResultsLayer, ResultsNeuron } from '../results/schema';
import { ContentHashSchema } from '../results/schema';
import { createMatrix, type Matrix, type Tensor } from '../tensor';
import { type LayerTrustFigures, labelWithTrust, TRUST_DEFAULTS, type TrustOptions } from '../trust/assess';
import { heatmapDataUri } from './heatmap';
import {
  createTopMapValues,
  type TopMapValues,
  topMapValuesBytes,
  valuesAtOrAboveQuantile,
} from './map-quantiles';
import { mapLayoutOf, toActivationMaps } from './map-source';
import { prefetched } from './prefetch';
import { type ActivationSummary, resolveSummary, summarizeActivations } from './summarize';

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
  /**
   * How each layer's output becomes one value per unit and image; `auto` is `mean` over H×W for
   * `[N,C,H,W]`, the class token (`cls`) for `[N,L,D]`, `identity` for `[N,D]`. The summary used
   * is recorded per layer in the Results.
   * @defaultValue 'auto'
   */
  summary?: ActivationSummary;
  /**
   * Class and register tokens before the patch grid of a token layer `[N,L,D]`, for its heatmaps
   * and mask-based labelers. @defaultValue detected: the fewest (0 to 9) that leave a square grid
   */
  prefixTokens?: number;
  /** Identifies the preprocessing (part of the cache key). */
  preprocessing: string;
}

/** The CLIP model used by labelers that require `clip`. */
export interface DissectionClip {
  model: ClipModel;
  name: string;
  /** Content hash of the model files (keys the feature cache). */
  hash: string;
  /**
   * Identifies an image preprocessing other than the model folder's own (e.g. `'openai'`): part of
   * the image embeddings' cache key and recorded in the Results' run parameters.
   */
  preprocessing?: string;
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
  /**
   * Called when `resume` was made from other inputs (its argument says which differ): return
   * `'recompute'` to compute every layer afresh instead, `'refuse'` (the default) to fail with
   * `ND_INVALID_OPTION` (`details.differs`).
   */
  onResumeMismatch?: (differs: readonly string[]) => 'recompute' | 'refuse' | Promise<'recompute' | 'refuse'>;
  /** Called with the Results so far after each layer (to save partial results). */
  onLayer?: (partial: Results) => void | Promise<void>;
  /**
   * Bytes of a layer's raw activation maps (all probe images) kept in memory between the passes of
   * mask-based labelers; a layer with more is streamed again from the model for each pass, so memory
   * stays bounded whatever the probe set's size. @defaultValue 256 MiB
   */
  mapMemory?: number;
  /**
   * Bytes for finding, during the features pass, each unit's top-quantile threshold that
   * mask-based labelers declare ({@link Labeler.mapQuantiles}): a buffer of each unit's largest
   * q·N·h·w values (4·K·q·N·h·w bytes per layer, plus an eighth), for every layer being labelled at
   * once. Then NetDissect makes one pass over the maps (its tally) instead of four. Layers beyond
   * the budget, in the order given, have their thresholds found in passes of their own.
   * @defaultValue 3 GiB
   */
  thresholdMemory?: number;
  /**
   * Attach a small activation heatmap to each neuron's top images (a second pass over the union of
   * the top images, for spatial layers). @defaultValue false
   */
  heatmaps?: boolean;
  /**
   * How far each label can be believed (docs/trust.md): the permutation null's pseudo-neurons per
   * layer, bootstrap resamples for stability, held-out folds, and their seed; recorded in the
   * Results' `trust` fields for labelers that score from summaries. `false` measures nothing.
   * @defaultValue {@link TRUST_DEFAULTS} (a null of 1,000, no stability, 2 folds, seed 0)
   */
  trust?: TrustOptions | false;
  /**
   * Relations between neurons (docs/relations.md): each neuron's most correlated units of the layer
   * dissected before it and of the `from` layers, recorded in its `relations`. `false` records none.
   * @defaultValue {@link RELATION_DEFAULTS} (the layer before, top 10)
   */
  relations?: RelationOptions | false;
  /**
   * Labels computed elsewhere (the label shards of a distributed run, see
   * {@link Dissection.labelShard}), used instead of running the labelers: for a layer, each
   * labeler's labels (or the error it failed with) by labeler id. A labeler missing from the map
   * runs as usual.
   */
  labels?: (layer: string) => Promise<ReadonlyMap<string, LayerLabels | Error> | undefined>;
}

/** A half-open range `[start, end)` of probe images or of a layer's units. */
export interface IndexRange {
  readonly start: number;
  readonly end: number;
}

/** A label shard's units and, when not every labeler runs on them, the labelers (by id) that do. */
export interface LabelShardRange extends IndexRange {
  readonly labelers?: readonly string[];
}

/** What a shard read and wrote, in bytes (for logs and capacity planning). */
export interface ShardTraffic {
  /** Bytes read from the feature store. */
  readonly read: number;
  /** Bytes written to the feature store (0 when the shard's output was already there). */
  readonly written: number;
  /** Whether the output was already in the store (a shard run twice is counted once). */
  readonly cached: boolean;
}

/**
 * What a label shard stores per labeler: the labels of its units, the first step of labelling in
 * parts ({@link Labeler.labelPart}; the matrix is stored beside), or the error it failed with.
 */
type ShardLabelEntry =
  | LayerLabels
  | { readonly part: Readonly<Record<string, unknown>> }
  | { readonly error: string; readonly code?: string };

/**
 * A configured dissection; `run()` produces the Results document. The other methods split the
 * same run into shards for several processes or machines sharing one feature store: image shards
 * ({@link Dissection.featureShard}), joined by {@link Dissection.joinFeatureShards}; the concept
 * set's embeddings ({@link Dissection.textShard}); label shards ({@link Dissection.labelShard}),
 * whose labels `run()` then takes through {@link DissectionOptions.labels}. Every shard's output is
 * keyed by content in the store, so a shard run twice is computed once.
 */
export interface Dissection {
  run(): Promise<Results>;
  /** The probe set's size and the layers to label (those not kept from `resume`). */
  plan(): Promise<{ images: number; layers: readonly string[] }>;
  /** Activations of every layer (and CLIP image embeddings) of probe images `range`, into the store. */
  featureShard(range: IndexRange): Promise<ShardTraffic>;
  /**
   * Joins the image shards (which must cover the probe set in order) into the features a local
   * run reads, in the store; returns each layer's number of units.
   */
  joinFeatureShards(ranges: readonly IndexRange[]): Promise<{ units: Record<string, number> }>;
  /** The concept set's CLIP text embeddings, into the store (nothing when no labeler needs CLIP). */
  textShard(): Promise<ShardTraffic>;
  /**
   * The labelers `range.labelers` (all when absent) on units `range` of `layer`, from the joined
   * features; the labels go to the store.
   */
  labelShard(layer: string, range: LabelShardRange): Promise<ShardTraffic>;
  /**
   * The labels of a whole layer from its label shards (which must cover its units in order), for
   * {@link DissectionOptions.labels}: each labeler's labels, or the error one of its shards failed with.
   * @throws `ND_INVALID_FORMAT` naming a shard whose output is not in the store.
   */
  mergeLabelShards(
    layer: string,
    shards: readonly LabelShardRange[],
  ): Promise<Map<string, LayerLabels | Error>>;
}

/**
 * The pipeline: activations of the selected layers and CLIP embeddings of the probe set (both
 * cached by content hash), then every labeler on every layer, into one Results document. A labeler
 * that throws is recorded in `failures` and the others' labels are kept; neurons with non-finite
 * activations are reported in their `issues` and never labelled.
 */
export function createDissection(options: DissectionOptions): Dissection {
  checkDissectionOptions(options);
  return {
    run: () => runDissection(options),
    plan: async () => {
      const ctx = await openRun(options);
      return { images: ctx.items.length, layers: ctx.fresh };
    },
    featureShard: (range) => featureShard(options, range),
    joinFeatureShards: (ranges) => joinFeatureShards(options, ranges),
    textShard: () => textShard(options),
    labelShard: (layer, range) => labelShard(options, layer, range),
    mergeLabelShards: (layer, ranges) => mergeLabelShards(options, layer, ranges),
  };
}

/** An `ND_INVALID_OPTION` naming the option (`details.field`). */
function invalid(field: string, message: string): NeurodissectError {
  return new NeurodissectError(ErrorCode.InvalidOption, `${field}: ${message}`, { details: { field } });
}

const isText = (value: unknown): value is string => typeof value === 'string' && value.trim().length > 0;

function checkHash(field: string, hash: unknown): void {
  if (typeof hash === 'string' && ContentHashSchema.safeParse(hash).success) return;
  const bare = typeof hash === 'string' && /^[0-9a-f]{16,}$/.test(hash);
  throw invalid(
    field,
    `${JSON.stringify(hash)} is not a content hash "<algorithm>:<hex digest>"${bare ? `; a bare SHA-256 (runtime-node's hashFile) is written "sha256:${(hash as string).slice(0, 8)}…" (contentHashOfFile gives it so)` : ', e.g. "sha256:ab12…"'}.`,
  );
}

/**
 * Every option {@link createDissection} takes, checked before any work (the Results the run
 * builds would refuse them only at its end).
 * @throws `ND_INVALID_OPTION` (`details.field`) or `ND_EMPTY_CONCEPT_SET`.
 */
function checkDissectionOptions(o: DissectionOptions): void {
  const target = o.target as Partial<DissectionTarget> | undefined;
  if (!target || typeof target.model?.run !== 'function')
    throw invalid('target.model', 'give the target model (a TargetModel, e.g. runtime.loadTargetModel(…)).');
  if (typeof target.prepare !== 'function')
    throw invalid('target.prepare', 'give the function that turns decoded images into the model input.');
  if (!isText(target.name)) throw invalid('target.name', 'give the name the Results record for the model.');
  checkHash('target.hash', target.hash);
  if (!isText(target.preprocessing))
    throw invalid(
      'target.preprocessing',
      'say which preprocessing `prepare` applies (it keys the feature cache), e.g. JSON.stringify(preprocessConfigFor(…)).',
    );
  if (
    target.prefixTokens !== undefined &&
    !(Number.isInteger(target.prefixTokens) && target.prefixTokens >= 0)
  )
    throw invalid('target.prefixTokens', `${target.prefixTokens} is not an integer ≥ 0.`);
  if (!Array.isArray(o.layers) || o.layers.length === 0)
    throw invalid('layers', 'select at least one layer to dissect.');
  const badLayer = o.layers.find((layer) => !isText(layer));
  if (badLayer !== undefined) throw invalid('layers', `${JSON.stringify(badLayer)} is not a layer name.`);
  if (!o.probe || !Number.isInteger(o.probe.size) || typeof o.probe.read !== 'function')
    throw invalid('probe', 'give the probe set (a ProbeDataset with size, item and read).');
  const concepts = o.concepts as Partial<DissectionOptions['concepts']> | undefined;
  if (!concepts || !Array.isArray(concepts.concepts))
    throw invalid(
      'concepts',
      'give the concept set (e.g. parseConceptSet(text) or readConceptSetFile(path)).',
    );
  if (!isText(concepts.name))
    throw invalid(
      'concepts.name',
      'the concept set has no name, which the Results record; pass { ...concepts, name: "my concepts" } (readConceptSetFile names it after its file).',
    );
  if (concepts.concepts.length === 0)
    throw new NeurodissectError(ErrorCode.EmptyConceptSet, 'The concept set is empty.');
  if (!Array.isArray(o.labelers) || o.labelers.length === 0)
    throw invalid('labelers', 'give at least one labeler (e.g. createLabelersByName(["clip-dissect"])).');
  const ids = new Set<string>();
  for (const labeler of o.labelers) {
    const id = (labeler as Partial<Labeler> | undefined)?.id;
    if (!isText(id) || typeof labeler.label !== 'function' || !Array.isArray(labeler.requires))
      throw invalid(
        'labelers',
        `${isText(id) ? id : 'a labeler'} is not a Labeler (id, version, requires, label).`,
      );
    if (ids.has(id)) throw invalid('labelers', `two labelers have the id ${id}; give each its own.`);
    ids.add(id);
  }
  if (o.relations) checkRelationOptions(o.relations);
  if (o.clip) {
    if (typeof o.clip.model?.embedImages !== 'function') throw invalid('clip.model', 'give the CLIP model.');
    if (!isText(o.clip.name))
      throw invalid('clip.name', 'give the name the Results record for the CLIP model.');
    checkHash('clip.hash', o.clip.hash);
  }
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
  /** The summary each layer's activations were made with (`auto` resolved), where known. */
  summaries: Map<string, Exclude<ActivationSummary, 'auto'>>;
  imageEmbeddings?: Matrix;
  textEmbeddings?: Matrix;
  /** Indices (in the probe set) of the readable images, in order: every row indexes these. */
  valid: number[];
  /** Per layer read by the features pass: its map shape, and its units' largest values when collected. */
  maps: Map<string, LayerMaps>;
}

/** What the features pass learnt of a layer's maps. */
interface LayerMaps {
  shape?: { units: number; height: number; width: number };
  /** Each unit's largest values, and the largest quantile they were kept for. */
  top?: { values: TopMapValues; quantile: number };
}

async function runDissection(o: DissectionOptions): Promise<Results> {
  const ctx = await openRun(o);
  checkKnownMapLayouts(o, o.heatmaps ? o.layers : ctx.fresh);
  let t = now();
  // Stage 1: activations and CLIP image embeddings, in one pass over the probe set; the layers the
  // fresh ones are related to (kept from `resume`, or only related to) are summarised in it too.
  const features = await collectFeatures(ctx, relationPartners(ctx));
  ctx.timings.features = now() - t;
  // Stage 2: the concept set's CLIP embeddings.
  t = now();
  features.textEmbeddings = await embedConcepts(ctx);
  ctx.timings.textEmbeddings = now() - t;
  // Stage 3: every labeler on every fresh layer; finished layers are saved as they come.
  await labelStage(ctx, features);
  if (o.relations !== false) await relationStage(ctx, features);
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

/**
 * The layers a fresh layer is related to that are not fresh themselves (kept from `resume`, or only
 * related to): stage 1 summarises them in its one pass.
 */
function relationPartners(ctx: RunContext): string[] {
  const { o } = ctx;
  if (o.relations === false || ctx.fresh.length === 0) return [];
  const fresh = new Set(ctx.fresh);
  const partners = new Set<string>();
  for (const [a, b] of relationPairs(o.layers, o.relations?.from ?? RELATION_DEFAULTS.from)) {
    if (fresh.has(a) && !fresh.has(b)) partners.add(b);
    if (fresh.has(b) && !fresh.has(a)) partners.add(a);
  }
  return [...partners];
}

/** Stage 3b: the relations between the layers' neurons, from their summaries (docs/relations.md). */
async function relationStage(ctx: RunContext, features: Features): Promise<void> {
  const { o } = ctx;
  const t = now();
  const relations = { ...RELATION_DEFAULTS, ...(o.relations || {}) };
  ctx.results.run.parameters.relations = relations;
  const extra = new Map<string, Promise<Matrix>>();
  const pairs = await attachRelations(ctx.results.layers, {
    order: o.layers,
    relations,
    fresh: new Set(ctx.fresh),
    // Layers not collected in stage 1 (kept from `resume`, or only related to) from the store or
    // one more pass; the run's own failures and images are left as they are.
    activations: (layer) => {
      const held = features.activations.get(layer);
      if (held) return Promise.resolve(held);
      if (!extra.has(layer)) {
        const scratch = { ...ctx.results, failures: [], probe: { ...ctx.results.probe } };
        const collect = collectFeatures({ ...ctx, fresh: [layer], needsClip: false, results: scratch });
        extra.set(
          layer,
          collect.then((more) => more.activations.get(layer)!),
        );
      }
      return extra.get(layer)!;
    },
    matmul: o.kernels?.matmul,
    signal: o.signal,
    onProgress: o.onProgress,
  });
  if (pairs.length > 0) ctx.timings.relations = now() - t;
}

/**
 * Checks the options and opens the Results document. `only`: the layers a shard works on (then
 * `resume` is not consulted).
 */
async function openRun(o: DissectionOptions, only?: readonly string[]): Promise<RunContext> {
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
  const { items, probeHash, conceptHash } = await runIdentity(o);
  const results = createResults({
    run: {
      tool: o.tool ?? { name: 'neurodissect', version: '0.0.0' },
      createdAt: new Date().toISOString(),
      kind: 'dissect',
      runtime: o.runtime,
      timings,
      parameters: {
        layers: [...o.layers],
        batchSize,
        topImages,
        summary: o.target.summary ?? 'auto',
        preprocessing: parsePreprocessing(o.target.preprocessing),
        trust: o.trust === false ? false : { ...TRUST_DEFAULTS, ...o.trust },
        ...(o.clip
          ? {
              clip: {
                name: o.clip.name,
                hash: o.clip.hash,
                ...(o.clip.preprocessing ? { preprocessing: o.clip.preprocessing } : {}),
              },
            }
          : {}),
      },
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
  if (only) {
    const unknown = only.find((layer) => !o.layers.includes(layer));
    if (unknown !== undefined)
      throw new NeurodissectError(
        ErrorCode.InvalidOption,
        `The layer ${unknown} is not one of the run's layers.`,
      );
  }
  let resume = only ? undefined : o.resume;
  if (resume) {
    try {
      checkResumable(resume, results);
    } catch (error) {
      const differs = isNeurodissectError(error, ErrorCode.InvalidOption) ? error.details.differs : undefined;
      if (!differs || (await o.onResumeMismatch?.(differs)) !== 'recompute') throw error;
      resume = undefined;
    }
  }
  const resumed = new Map((resume?.layers ?? []).map((layer) => [layer.name, layer]));
  return {
    o,
    batchSize,
    items,
    probeHash,
    conceptHash,
    results,
    timings,
    resumed,
    fresh: only ?? o.layers.filter((layer) => !resumed.has(layer)),
    needsClip,
  };
}

// What identifies a run's inputs, computed once per options object: a dissection opened once and
// asked for many shards (a worker) lists the probe items and hashes them once, not per shard.
const identities = new WeakMap<
  DissectionOptions,
  Promise<{ items: { id: string; uri: string }[]; probeHash: string; conceptHash: string }>
>();

function runIdentity(o: DissectionOptions) {
  let identity = identities.get(o);
  if (!identity) {
    identity = (async () => ({
      items: Array.from({ length: o.probe.size }, (_, i) => o.probe.item(i)),
      probeHash: await probeContentHash(o.probe),
      conceptHash: await conceptSetHash(o.concepts.concepts),
    }))();
    identities.set(o, identity);
  }
  return identity;
}

/**
 * The probe set's identity: its items' ids in order and its fingerprint (when it has one); part of
 * every feature-cache key.
 */
export async function probeContentHash(probe: ProbeDataset): Promise<string> {
  const ids: string[] = [];
  for (let i = 0; i < probe.size; i++) ids.push(probe.item(i).id);
  return sha256(ids.join('\n') + (probe.fingerprint === undefined ? '' : `\n#${probe.fingerprint}`));
}

/** A concept set's identity: the hash of its normalised concepts, one per line. */
export async function conceptSetHash(concepts: readonly string[]): Promise<string> {
  return sha256(concepts.join('\n'));
}

/**
 * A run resumes only the same job: the same model, probe set, concepts, labelers (with their
 * options), summary, preprocessing and CLIP model (with its preprocessing). Otherwise the kept layers would index other images or other concepts.
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
  // Recorded since later versions: compared when the earlier file has them.
  if (!same(parameter(resume, 'preprocessing'), parameter(current, 'preprocessing')))
    differs.push('the preprocessing');
  if (!same(parameter(resume, 'clip'), parameter(current, 'clip')))
    differs.push('the CLIP model or its preprocessing');
  if (!same(parameter(resume, 'trust'), parameter(current, 'trust'))) differs.push('the trust options');
  if (differs.length > 0) {
    throw new NeurodissectError(
      ErrorCode.InvalidOption,
      `The Results to resume were made with other inputs (${differs.join(', ')} differ); resume only the same job, or start afresh.`,
      { details: { differs } },
    );
  }
}

/**
 * Heatmaps and mask-based labelers need each layer's output as maps: a token layer `[N,L,D]`
 * without a square patch grid is refused before any work, with the reason (from the shape the
 * graph records, else from the first batch of the feature pass). Vector layers have no maps:
 * heatmaps leave them out and mask-based labelers fail on them alone.
 */
function checkMapLayout(
  o: DissectionOptions,
  layer: string,
  dims: readonly (number | string)[] | undefined,
): void {
  if (dims?.length !== 3) return;
  const users = o.labelers.filter((l) => l.requires.includes('activation-maps')).map((l) => l.id);
  if (o.heatmaps) users.unshift('heatmaps');
  if (users.length === 0) return;
  const layout = mapLayoutOf(dims, o.target.prefixTokens);
  if (layout.kind !== 'none') return;
  throw new NeurodissectError(
    ErrorCode.ShapeMismatch,
    `${users.join(' and ')} need${users.length === 1 && users[0] !== 'heatmaps' ? 's' : ''} activation maps, but the token layer ${layer} has none: ${layout.reason}. Give the number of class/register tokens before a square patch grid (prefixTokens), or choose another layer.`,
    { details: { dims: dims.map((d) => (typeof d === 'number' ? d : -1)) } },
  );
}

/** {@link checkMapLayout} on the layers whose shape the model's graph records. */
function checkKnownMapLayouts(o: DissectionOptions, layers: readonly string[]): void {
  for (const layer of layers)
    checkMapLayout(
      o,
      layer,
      o.target.model.layers.find((l) => l.name === layer || l.tensor === layer)?.shape,
    );
}

/**
 * Stage 1: the fresh layers' summarised activations and the probe set's CLIP image embeddings,
 * each from the feature store when cached, else in one pass over the probe set: each image is
 * decoded once and the same batch feeds the target model and CLIP. Unreadable images are left out
 * and reported in the Results' failures.
 */
async function collectFeatures(ctx: RunContext, partners: readonly string[] = []): Promise<Features> {
  const { o, items, results } = ctx;
  if (ctx.fresh.length === 0 && partners.length === 0) {
    if (!o.resume)
      return { activations: new Map(), summaries: new Map(), valid: items.map((_, i) => i), maps: new Map() };
    results.probe = o.resume.probe;
    results.failures.push(...o.resume.failures.filter((f) => f.stage === 'read-image'));
    // The kept layers index the images the earlier run could read.
    const position = new Map(items.map((item, i) => [item.id, i]));
    const valid = o.resume.probe.images.map((image) => position.get(image.id) ?? -1).filter((i) => i >= 0);
    return { activations: new Map(), summaries: new Map(), valid, maps: new Map() };
  }
  const parts = featureParts(ctx, partners);
  const layerKeys = new Map<string, string>();
  for (const [layer, layerParts] of parts.layers) layerKeys.set(layer, await cacheKey(layerParts));
  const clipKey = parts.clip ? await cacheKey(parts.clip) : undefined;

  // Cached features, each with the unreadable images it left out.
  const activations = new Map<string, Matrix>();
  const summaries = new Map<string, Exclude<ActivationSummary, 'auto'>>();
  const cachedMaps = new Map<string, LayerMaps>();
  let skipped: SkippedImage[] | undefined;
  const fits = (hit: StoredFeature | undefined): hit is StoredFeature => fitsRange(hit, 0, items.length);
  for (const [layer, key] of layerKeys) {
    const hit = await o.store?.get(key);
    if (!fits(hit)) continue;
    activations.set(layer, { rows: hit.tensor.dims[0], cols: hit.tensor.dims[1], data: hit.tensor.data });
    const recorded = storedSummary(hit) ?? knownSummary(o, layer);
    if (recorded) summaries.set(layer, recorded);
    const shape = storedMapShape(hit);
    if (shape) cachedMaps.set(layer, { shape });
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
  const missing = [...ctx.fresh, ...partners].filter((layer) => !activations.has(layer));
  const embed = clipKey !== undefined && !imageEmbeddings;
  const maps = cachedMaps;
  if (missing.length > 0 || embed) {
    const pass = await featurePass(
      ctx,
      missing,
      embed,
      skipped,
      undefined,
      mapQuantilesOf(o),
      new Set(partners),
    );
    skipped = pass.skipped;
    for (const [layer, found] of pass.maps) maps.set(layer, found);
    for (const [layer, matrix] of pass.activations) {
      activations.set(layer, matrix);
      const summary = pass.summaries.get(layer);
      if (summary) summaries.set(layer, summary);
      const shape = pass.maps.get(layer)?.shape;
      await o.store?.put(
        layerKeys.get(layer)!,
        { dtype: 'float32', dims: [matrix.rows, matrix.cols], data: matrix.data },
        { layer, skipped, ...(summary ? { summary } : {}), ...(shape ? { maps: shape } : {}) },
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
      `No image of the probe set ${o.probe.name} could be read: all ${items.length} failed, the first with: ${skipped?.[0]?.message ?? `${items[0].uri} is unreadable`}`,
    );
  }
  results.probe.images = valid.map((i) => ({ id: items[i].id, uri: items[i].uri }));
  return { activations, summaries, imageEmbeddings, valid, maps };
}

/** The largest top quantile of map values that the run's mask-based labelers declare, if any. */
function mapQuantilesOf(o: DissectionOptions): number | undefined {
  const quantiles = o.labelers
    .filter((l) => l.requires.includes('activation-maps'))
    .flatMap((l) => l.mapQuantiles ?? [])
    .filter((q) => q > 0 && q < 1);
  return quantiles.length > 0 ? Math.max(...quantiles) : undefined;
}

/** The map shape a stored feature records its layer has. */
function storedMapShape(hit: StoredFeature): LayerMaps['shape'] {
  const shape = hit.meta.maps as { units?: unknown; height?: unknown; width?: unknown } | undefined;
  const whole = (value: unknown): value is number => Number.isInteger(value) && (value as number) > 0;
  return shape && whole(shape.units) && whole(shape.height) && whole(shape.width)
    ? { units: shape.units, height: shape.height, width: shape.width }
    : undefined;
}

/** The summary a stored feature records it was made with. */
function storedSummary(hit: StoredFeature): Exclude<ActivationSummary, 'auto'> | undefined {
  const summary = hit.meta.summary;
  return summary === 'mean' || summary === 'max' || summary === 'cls' || summary === 'identity'
    ? summary
    : undefined;
}

/** The summary of a layer whose rank the model's graph records (for features cached without it). */
function knownSummary(o: DissectionOptions, layer: string): Exclude<ActivationSummary, 'auto'> | undefined {
  const shape = o.target.model.layers.find((l) => l.name === layer || l.tensor === layer)?.shape;
  return shape ? resolveSummary(shape.length, o.target.summary) : undefined;
}

/**
 * What determines each feature of the fresh layers (and the CLIP image embeddings, when a labeler
 * needs them): the parts of their cache keys.
 */
function featureParts(
  ctx: RunContext,
  partners: readonly string[] = [],
): { layers: Map<string, object>; clip?: object } {
  const { o } = ctx;
  const summary = o.target.summary ?? 'auto';
  const layers = new Map<string, object>();
  for (const layer of [...ctx.fresh, ...partners]) {
    layers.set(layer, {
      kind: 'activations',
      model: o.target.hash,
      layer,
      summary,
      probe: ctx.probeHash,
      preprocessing: o.target.preprocessing,
    });
  }
  const clip =
    ctx.needsClip && o.clip
      ? {
          kind: 'clip-image-embeddings',
          clip: o.clip.hash,
          probe: ctx.probeHash,
          ...(o.clip.preprocessing ? { preprocessing: o.clip.preprocessing } : {}),
        }
      : undefined;
  return { layers, clip };
}

/** Whether a stored feature has one row per readable image of probe images `[start, end)`. */
function fitsRange(hit: StoredFeature | undefined, start: number, end: number): hit is StoredFeature {
  if (hit?.tensor.dims.length !== 2) return false;
  const skipped = (hit.meta.skipped ?? []) as SkippedImage[];
  return hit.tensor.dims[0] === end - start - skipped.length;
}

/**
 * One pass over the probe set (or the images `range` of it): each batch of images is decoded once, then fed to the target model
 * (for `layers`) and to CLIP (when `embed`). Images known to be unreadable (`known`, from a cached
 * feature) are not tried again; others that fail to decode are skipped and listed.
 */
async function featurePass(
  ctx: RunContext,
  layers: readonly string[],
  embed: boolean,
  known: readonly SkippedImage[] | undefined,
  range: IndexRange = { start: 0, end: ctx.items.length },
  quantile?: number,
  summariesOnly: ReadonlySet<string> = new Set(),
): Promise<{
  activations: Map<string, Matrix>;
  summaries: Map<string, Exclude<ActivationSummary, 'auto'>>;
  imageEmbeddings?: Matrix;
  skipped: SkippedImage[];
  maps: Map<string, LayerMaps>;
}> {
  const { o, batchSize } = ctx;
  const maps = new Map<string, LayerMaps>();
  let thresholdBytes = o.thresholdMemory ?? 3 * 2 ** 30;
  const summaries = new Map<string, Exclude<ActivationSummary, 'auto'>>();
  const skipped: SkippedImage[] = [...(known ?? [])];
  const knownBad = new Set(skipped.map((entry) => entry.index));
  const parts = new Map<string, Matrix[]>(layers.map((layer) => [layer, []]));
  const embeddings: Matrix[] = [];
  const stage =
    layers.length > 0 && embed ? 'features' : layers.length > 0 ? 'activations' : 'image-embeddings';
  // Decoding and preparing the next batch overlap this batch's inference.
  const batches = async function* () {
    for (let start = range.start; start < range.end; start += batchSize) {
      throwIfAborted(o.signal);
      const count = Math.min(batchSize, range.end - start);
      const images: RgbImage[] = [];
      // A batch's images are decoded concurrently (the runtime decodes off the main thread).
      const wanted = Array.from({ length: count }, (_, j) => start + j).filter((i) => !knownBad.has(i));
      const read = await Promise.allSettled(wanted.map((i) => o.probe.read(i, { signal: o.signal })));
      for (const [j, outcome] of read.entries()) {
        if (outcome.status === 'fulfilled') {
          images.push(outcome.value);
          continue;
        }
        const error = outcome.reason;
        if (isNeurodissectError(error, ErrorCode.Aborted) || o.signal?.aborted) throw error;
        skipped.push({
          index: wanted[j],
          code: isNeurodissectError(error) ? error.code : undefined,
          message: error instanceof Error ? error.message : String(error),
        });
      }
      const input = images.length > 0 && layers.length > 0 ? o.target.prepare(images) : undefined;
      yield { start, count, images, input };
    }
  };
  for await (const { start, count, images, input } of prefetched(batches())) {
    throwIfAborted(o.signal);
    if (input) {
      const raw = await o.target.model.run(input, layers, { signal: o.signal });
      for (const layer of layers) {
        const tensor = raw.get(layer);
        if (!tensor)
          throw new NeurodissectError(
            ErrorCode.InvalidFormat,
            `The model returned no output for layer ${layer}.`,
          );
        // A layer read only for its summaries (a relation's partner) needs nothing of its maps.
        if (!summariesOnly.has(layer)) {
          if (!maps.has(layer)) {
            checkMapLayout(o, layer, tensor.dims);
            maps.set(layer, layerMapsOf(tensor.dims));
          }
          maps.get(layer)!.top?.values.add(tensor);
        }
        parts.get(layer)!.push(summarizeActivations(tensor, o.target.summary ?? 'auto'));
        summaries.set(layer, resolveSummary(tensor.dims.length, o.target.summary));
      }
    }
    if (images.length > 0 && embed)
      embeddings.push(await o.clip!.model.embedImages(images, { signal: o.signal }));
    o.onProgress?.({ stage, done: start + count - range.start, total: range.end - range.start });
  }
  skipped.sort((a, b) => a.index - b.index);
  const activations = new Map<string, Matrix>();
  for (const layer of layers) {
    const blocks = parts.get(layer)!;
    if (blocks.length > 0) activations.set(layer, concatRows(blocks));
  }
  return {
    activations,
    summaries,
    ...(embed && embeddings.length > 0 ? { imageEmbeddings: concatRows(embeddings) } : {}),
    skipped,
    maps,
  };

  // A layer's map shape, with a buffer of each unit's largest values while the budget lasts.
  function layerMapsOf(dims: readonly number[]): LayerMaps {
    const layout = mapLayoutOf(dims, o.target.prefixTokens);
    if (layout.kind === 'none') return {};
    const shape = { units: layout.units, height: layout.height, width: layout.width };
    if (quantile === undefined) return { shape };
    const keep = valuesAtOrAboveQuantile((range.end - range.start) * layout.height * layout.width, quantile);
    const bytes = topMapValuesBytes(layout.units, keep);
    if (bytes > thresholdBytes) return { shape };
    thresholdBytes -= bytes;
    return { shape, top: { values: createTopMapValues(layout, keep), quantile } };
  }
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

function textParts(ctx: RunContext): { kind: string; clip?: string; concepts: string } {
  return { kind: 'clip-texts', clip: ctx.o.clip?.hash, concepts: ctx.conceptHash };
}

/** Stage 2: the concept set's CLIP text embeddings (cached), when a labeler needs CLIP. */
async function embedConcepts(ctx: RunContext): Promise<Matrix | undefined> {
  const { o } = ctx;
  if (!ctx.needsClip || !o.clip || ctx.fresh.length === 0) return undefined;
  const keyParts = textParts(ctx);
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
  const layerParts = featureParts(ctx).layers;
  const mapSources = new Map(
    fresh.map((name) => [
      name,
      streamActivationMaps(o, name, valid, ctx.batchSize, mapBudget, {
        maps: features.maps.get(name) ?? { shape: graphMapShape(o, name) },
        thresholdKey: layerParts.get(name),
      }),
    ]),
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
  const shared = new Map<Labeler, Map<string, Labelled | Error>>();
  // A labeler's progress under its stage name; the trust measures' own steps keep theirs after it
  // (`clip-avg:layer2 trust:stability`), so a long relabelling is never silent.
  const trustOptions = (labeler: Labeler, stage: string): TrustOptions & OperationOptions => ({
    ...(o.trust === false ? { permutations: 0, stability: 0, folds: 0 } : o.trust),
    signal: o.signal,
    onProgress: (event) =>
      o.onProgress?.({
        ...event,
        stage: event.stage.startsWith('trust:')
          ? `${labeler.id}:${stage} ${event.stage}`
          : `${labeler.id}:${stage}`,
      }),
  });
  if (o.labels) {
    for (const name of fresh) {
      const supplied = await o.labels(name);
      for (const labeler of o.labelers) {
        const labels = supplied?.get(labeler.id);
        if (labels === undefined) continue;
        const byLayer = shared.get(labeler) ?? new Map<string, Labelled | Error>();
        byLayer.set(name, labels instanceof Error ? labels : { labels });
        shared.set(labeler, byLayer);
      }
    }
  }
  for (const labeler of o.labelers) {
    if (!labeler.labelLayers || fresh.length < 2 || shared.has(labeler)) continue;
    throwIfAborted(o.signal);
    const t = now();
    const stage = fresh.join('+');
    const byLayer = new Map<string, Labelled | Error>();
    try {
      const labelled = await labelWithTrust(
        labeler,
        fresh.map((name) => contextOf(name, labeler, stage)),
        trustOptions(labeler, stage),
      );
      fresh.forEach((name, i) => {
        byLayer.set(name, { labels: labelled.labels[i], trust: labelled.trust?.[i] });
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
      await labelLayer(
        o,
        name,
        activations.get(name)!,
        features.summaries.get(name),
        topImages,
        results.failures,
        (labeler) => {
          const done = shared.get(labeler)?.get(name);
          if (done instanceof Error) return Promise.reject(done);
          if (done) return Promise.resolve(done);
          return labelWithTrust(labeler, [contextOf(name, labeler, name)], trustOptions(labeler, name)).then(
            (one) => ({
              labels: one.labels[0],
              trust: one.trust?.[0],
            }),
          );
        },
      ),
    );
    mapSources.delete(name); // its maps, if held, go with it
    features.maps.delete(name);
    timings[`label:${name}`] = now() - t;
    await o.onLayer?.(results);
  }
}

/** A layer's map shape from the shape its graph records, when it records one with maps. */
function graphMapShape(o: DissectionOptions, layer: string): LayerMaps['shape'] {
  const dims = o.target.model.layers.find((l) => l.name === layer || l.tensor === layer)?.shape;
  if (!dims) return undefined;
  const layout = mapLayoutOf(dims, o.target.prefixTokens);
  return layout.kind === 'none'
    ? undefined
    : { units: layout.units, height: layout.height, width: layout.width };
}

/**
 * A layer's raw maps over the readable probe images, streamed: each pass reads the images and runs
 * the model again, one batch at a time. A layer whose maps fit in `budget` bytes is kept after its
 * first complete pass and replayed from memory; a larger one is never held. Its units' top-quantile
 * thresholds come from the features pass's buffers (`extra.maps.top`), else from the feature store
 * (under `extra.thresholdKey`), else from one pass of their own within `thresholdMemory`; found
 * ones are stored.
 */
function streamActivationMaps(
  o: DissectionOptions,
  layer: string,
  valid: readonly number[],
  batchSize: number,
  budget: number,
  extra: { maps?: LayerMaps; thresholdKey?: object } = {},
): ActivationMapSource {
  let held: ActivationMapBatch[] | undefined;
  const found = new Map<number, Float32Array>();
  const source: ActivationMapSource = {
    images: valid.length,
    ...(extra.maps?.shape ? { shape: extra.maps.shape } : {}),
    async quantileThresholds(quantile, options = {}) {
      const known = found.get(quantile);
      if (known) return known;
      const top = extra.maps?.top;
      let thresholds: Float32Array | undefined;
      if (top && quantile <= top.quantile) thresholds = top.values.thresholds(quantile, valid.length);
      const key = extra.thresholdKey
        ? await cacheKey({ ...extra.thresholdKey, kind: 'map-thresholds', quantile })
        : undefined;
      if (!thresholds && key) {
        const hit = await o.store?.get(key);
        if (hit?.tensor.dims.length === 1 && hit.meta.images === valid.length) thresholds = hit.tensor.data;
      }
      if (!thresholds) {
        thresholds = await thresholdsPass(source, quantile, o.thresholdMemory ?? 3 * 2 ** 30, {
          signal: options.signal ?? o.signal,
          onProgress: options.onProgress,
        });
        if (!thresholds) return undefined;
      }
      if (key && o.store)
        await o.store.put(
          key,
          { dtype: 'float32', dims: [thresholds.length], data: thresholds },
          {
            kind: 'map-thresholds',
            layer,
            quantile,
            images: valid.length,
          },
        );
      found.set(quantile, thresholds);
      return thresholds;
    },
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
      // Decoding, preparing and running the next batch overlap this batch's inference and the
      // labeler's work on it: two stages, each one batch ahead (at most three batches of maps alive).
      const inputs = async function* () {
        for (let start = 0; start < valid.length; start += batchSize) {
          throwIfAborted(signal);
          const rgb = await Promise.all(
            valid.slice(start, start + batchSize).map((index) => o.probe.read(index, { signal })),
          );
          yield { start, input: o.target.prepare(rgb) };
        }
      };
      const outputs = async function* () {
        for await (const { start, input } of prefetched(inputs())) {
          throwIfAborted(signal);
          const raw = await o.target.model.run(input, [layer], { signal });
          const output = raw.get(layer);
          if (!output) {
            throw new NeurodissectError(
              ErrorCode.InvalidFormat,
              `The model returned no output for layer ${layer}.`,
            );
          }
          // Token layers reach the labelers as their patch grid [n, D, h, w].
          const maps =
            output.dims.length === 3
              ? toActivationMaps(output, { prefixTokens: o.target.prefixTokens, layer })
              : output;
          yield { start, maps };
        }
      };
      for await (const { start, maps } of prefetched(outputs())) {
        throwIfAborted(signal);
        const batch = { start, maps };
        bytes += maps.data.byteLength;
        if (bytes <= budget) kept.push(batch);
        yield batch;
      }
      // Reached only after a complete pass.
      if (bytes <= budget) held = kept;
    },
  };
  return source;
}

/**
 * Each unit's exact top-`quantile` threshold in one pass over `source`, with a buffer of its
 * largest values; `undefined` when that buffer would exceed `memory` bytes.
 */
async function thresholdsPass(
  source: ActivationMapSource,
  quantile: number,
  memory: number,
  options: OperationOptions,
): Promise<Float32Array | undefined> {
  let top: TopMapValues | undefined;
  const fits = (units: number, height: number, width: number) =>
    topMapValuesBytes(units, valuesAtOrAboveQuantile(source.images * height * width, quantile)) <= memory;
  if (source.shape && !fits(source.shape.units, source.shape.height, source.shape.width)) return undefined;
  for await (const { start, maps } of source.batches({ signal: options.signal })) {
    if (!top) {
      if (maps.dims.length !== 4) return undefined;
      const [, units, height, width] = maps.dims;
      if (!fits(units, height, width)) return undefined;
      top = createTopMapValues(
        { kind: 'spatial', units, height, width },
        valuesAtOrAboveQuantile(source.images * height * width, quantile),
      );
    }
    top.add(maps);
    options.onProgress?.({ stage: 'thresholds', done: start + maps.dims[0], total: source.images });
  }
  return top?.thresholds(quantile, source.images);
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
    // Each layer's batch as maps (a token layer's patch grid), converted once.
    const mapped = new Map<number, Tensor<'float32'>>();
    chunk.forEach((image, i) => {
      for (const slot of wanted.get(image)!) {
        const output = raw.get(names[slot.layer]);
        if (output === undefined || (output.dims.length !== 4 && output.dims.length !== 3)) continue;
        let tensor = mapped.get(slot.layer);
        if (!tensor) {
          tensor = toActivationMaps(output, {
            prefixTokens: o.target.prefixTokens,
            layer: names[slot.layer],
          });
          mapped.set(slot.layer, tensor);
        }
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

/** A labeler's labels of one layer, with their trust figures when it has them. */
interface Labelled {
  labels: LayerLabels;
  trust?: LayerTrustFigures;
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
  summary: Exclude<ActivationSummary, 'auto'> | undefined,
  topImages: number,
  failures: ResultsFailure[],
  labelWith: (labeler: Labeler) => Promise<Labelled>,
): Promise<ResultsLayer> {
  const bad = nonFiniteNeurons(activations);
  const layerTrust: NonNullable<ResultsLayer['trust']> = {};
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
    let trust: LayerTrustFigures | undefined;
    try {
      ({ labels, trust } = await labelWith(labeler));
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
      if (bad.has(unit)) return;
      neurons[unit].labels[labeler.id] = ranked;
      const figures = trust?.neurons[unit];
      if (figures && Object.keys(figures).length > 0)
        neurons[unit].trust = { ...neurons[unit].trust, [labeler.id]: figures };
    });
    if (trust && Object.keys(trust.layer).length > 0) layerTrust[labeler.id] = trust.layer;
  }
  return {
    name,
    units: activations.cols,
    summary: summary ?? summaryName(o.target.summary),
    neurons,
    ...(Object.keys(layerTrust).length > 0 ? { trust: layerTrust } : {}),
  };
}

function summaryName(summary: ActivationSummary | undefined): ResultsLayer['summary'] {
  return summary === undefined || summary === 'auto' ? undefined : summary;
}

/** The preprocessing as recorded in the Results: its JSON description when it is one, else the text. */
function parsePreprocessing(description: string): unknown {
  try {
    return JSON.parse(description);
  } catch {
    return description;
  }
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

function requireStore(o: DissectionOptions): FeatureStore {
  if (!o.store) {
    throw new NeurodissectError(
      ErrorCode.InvalidOption,
      'A sharded dissection needs a feature store shared by its shards; pass `store`.',
    );
  }
  return o.store;
}

function checkRange(range: IndexRange, size: number, what: string): void {
  if (
    !(
      Number.isInteger(range.start) &&
      Number.isInteger(range.end) &&
      range.start >= 0 &&
      range.start < range.end &&
      range.end <= size
    )
  ) {
    throw new NeurodissectError(
      ErrorCode.InvalidOption,
      `The range [${range.start}, ${range.end}) is not within the ${size} ${what}.`,
    );
  }
}

const tensorBytes = (matrix: Matrix | undefined) => (matrix ? matrix.data.byteLength : 0);

/** An image shard: the features of probe images `range`, each under its own key in the store. */
async function featureShard(o: DissectionOptions, range: IndexRange): Promise<ShardTraffic> {
  const store = requireStore(o);
  const ctx = await openRun(o, o.layers);
  checkRange(range, ctx.items.length, 'probe images');
  const parts = featureParts(ctx);
  const images = [range.start, range.end];
  const layerKeys = new Map<string, string>();
  for (const [layer, layerParts] of parts.layers)
    layerKeys.set(layer, await cacheKey({ ...layerParts, images }));
  const clipKey = parts.clip ? await cacheKey({ ...parts.clip, images }) : undefined;
  const missing: string[] = [];
  for (const [layer, key] of layerKeys) {
    if (!fitsRange(await store.get(key), range.start, range.end)) missing.push(layer);
  }
  const embed = clipKey !== undefined && !fitsRange(await store.get(clipKey), range.start, range.end);
  if (missing.length === 0 && !embed) return { read: 0, written: 0, cached: true };
  const pass = await featurePass(ctx, missing, embed, undefined, range);
  let written = 0;
  for (const [layer, matrix] of pass.activations) {
    const summary = pass.summaries.get(layer);
    const shape = pass.maps.get(layer)?.shape;
    await store.put(layerKeys.get(layer)!, matrixTensor(matrix), {
      layer,
      images,
      skipped: pass.skipped,
      ...(summary ? { summary } : {}),
      ...(shape ? { maps: shape } : {}),
    });
    written += tensorBytes(matrix);
  }
  if (missing.length > 0 && pass.activations.size === 0) {
    // Every image of the shard was unreadable: record that, with no rows.
    for (const layer of missing)
      await store.put(
        layerKeys.get(layer)!,
        { dtype: 'float32', dims: [0, 0], data: new Float32Array(0) },
        { layer, images, skipped: pass.skipped },
      );
  }
  if (embed) {
    const embeddings = pass.imageEmbeddings ?? createMatrix(0, 0);
    await store.put(clipKey!, matrixTensor(embeddings), {
      kind: 'clip-image-embeddings',
      images,
      skipped: pass.skipped,
    });
    written += tensorBytes(embeddings);
  }
  return { read: 0, written, cached: false };
}

const matrixTensor = (matrix: Matrix): Tensor<'float32'> => ({
  dtype: 'float32',
  dims: [matrix.rows, matrix.cols],
  data: matrix.data,
});

/** Joins image shards' features into the run's features, stored under the keys a local run reads. */
async function joinFeatureShards(
  o: DissectionOptions,
  ranges: readonly IndexRange[],
): Promise<{ units: Record<string, number> }> {
  const store = requireStore(o);
  const ctx = await openRun(o, o.layers);
  let next = 0;
  for (const range of ranges) {
    checkRange(range, ctx.items.length, 'probe images');
    if (range.start !== next) {
      throw new NeurodissectError(
        ErrorCode.InvalidOption,
        `The image shards must cover the probe set in order; [${next}, ${range.start}) is missing.`,
      );
    }
    next = range.end;
  }
  if (next !== ctx.items.length) {
    throw new NeurodissectError(
      ErrorCode.InvalidOption,
      `The image shards must cover the probe set in order; [${next}, ${ctx.items.length}) is missing.`,
    );
  }
  const parts = featureParts(ctx);
  const units: Record<string, number> = {};
  const join = async (keyParts: object, meta: Record<string, unknown>): Promise<number> => {
    const key = await cacheKey(keyParts);
    const whole = await store.get(key);
    if (fitsRange(whole, 0, ctx.items.length)) return whole.tensor.dims[1];
    const blocks: Matrix[] = [];
    const skipped: SkippedImage[] = [];
    let summary: string | undefined;
    let shape: LayerMaps['shape'];
    for (const range of ranges) {
      const hit = await store.get(await cacheKey({ ...keyParts, images: [range.start, range.end] }));
      if (!fitsRange(hit, range.start, range.end)) {
        throw new NeurodissectError(
          ErrorCode.InvalidOption,
          `The image shard [${range.start}, ${range.end}) is not in the feature store; run it first.`,
          { details: { range } },
        );
      }
      skipped.push(...(hit.meta.skipped as SkippedImage[]));
      summary ??= storedSummary(hit);
      shape ??= storedMapShape(hit);
      if (hit.tensor.dims[0] > 0)
        blocks.push({ rows: hit.tensor.dims[0], cols: hit.tensor.dims[1], data: hit.tensor.data });
    }
    const matrix = blocks.length > 0 ? concatRows(blocks) : createMatrix(0, 0);
    await store.put(key, matrixTensor(matrix), {
      ...meta,
      skipped,
      ...(summary ? { summary } : {}),
      ...(shape ? { maps: shape } : {}),
    });
    return matrix.cols;
  };
  for (const [layer, layerParts] of parts.layers) units[layer] = await join(layerParts, { layer });
  if (parts.clip) await join(parts.clip, { kind: 'clip-image-embeddings' });
  return { units };
}

/** The concept set's embeddings, into the store. */
async function textShard(o: DissectionOptions): Promise<ShardTraffic> {
  const store = requireStore(o);
  const ctx = await openRun(o, o.layers);
  if (!ctx.needsClip || !o.clip) return { read: 0, written: 0, cached: true };
  const key = await cacheKey(textParts(ctx));
  const hit = await store.get(key);
  if (hit && hit.tensor.dims[0] === o.concepts.concepts.length) return { read: 0, written: 0, cached: true };
  const matrix = await embedConcepts(ctx);
  return { read: 0, written: tensorBytes(matrix), cached: false };
}

async function labelShardKey(
  ctx: RunContext,
  layer: string,
  range: IndexRange,
  labelers: readonly Labeler[],
): Promise<string> {
  const { o } = ctx;
  return cacheKey({
    kind: 'labels',
    ...(featureParts(ctx).layers.get(layer) as object),
    clip: o.clip?.hash,
    concepts: ctx.conceptHash,
    labelers: labelers.map((l) => [l.id, l.version, l.options]),
    units: [range.start, range.end],
  });
}

/** Whether every label part a finished label shard's entry names is in the store. */
async function labelPartsPresent(
  o: DissectionOptions,
  store: FeatureStore,
  key: string,
  labels: unknown,
): Promise<boolean> {
  const entries = labels as Record<string, ShardLabelEntry>;
  for (const [index, labeler] of o.labelers.entries()) {
    const entry = entries[labeler.id];
    if (entry && 'part' in entry && !(await store.get(`${key}.${index}`))) return false;
  }
  return true;
}

/** A label shard: its labelers on units `range` of one layer, the labels into the store. */
async function labelShard(
  o: DissectionOptions,
  layer: string,
  range: LabelShardRange,
): Promise<ShardTraffic> {
  const store = requireStore(o);
  const ctx = await openRun(o, [layer]);
  const labelers = shardLabelers(o, range);
  const key = await labelShardKey(ctx, layer, range, labelers);
  const done = await store.get(key);
  // Finished only while every label part it wrote is still in the store (a dropped part is redone).
  if (done?.meta.labels && (await labelPartsPresent(o, store, key, done.meta.labels))) {
    return { read: 0, written: 0, cached: true };
  }
  checkKnownMapLayouts(o, [layer]);
  const features = await collectFeatures(ctx);
  features.textEmbeddings = await embedConcepts(ctx);
  const activations = features.activations.get(layer)!;
  checkRange(range, activations.cols, `units of ${layer}`);
  const read =
    tensorBytes(activations) + tensorBytes(features.imageEmbeddings) + tensorBytes(features.textEmbeddings);
  const needMaps = labelers.some((l) => l.requires.includes('activation-maps'));
  const maps = needMaps
    ? unitsOfMaps(
        streamActivationMaps(o, layer, features.valid, ctx.batchSize, o.mapMemory ?? 256 * 2 ** 20, {
          maps: features.maps.get(layer) ?? { shape: graphMapShape(o, layer) },
          thresholdKey: featureParts(ctx).layers.get(layer),
        }),
        range,
      )
    : undefined;
  const annotations = remapAnnotations(o.probe.conceptAnnotations, features.valid, ctx.items.length);
  const labels: Record<string, ShardLabelEntry> = {};
  let written = 0;
  for (const [index, labeler] of o.labelers.entries()) {
    if (!labelers.includes(labeler)) continue;
    throwIfAborted(o.signal);
    const context: LabelerContext = {
      layer,
      activations: columnRange(activations, range),
      concepts: o.concepts.concepts,
      imageEmbeddings: features.imageEmbeddings,
      textEmbeddings: features.textEmbeddings,
      activationMapSource: maps,
      annotations,
      kernels: o.kernels,
      signal: o.signal,
      onProgress: (event) => o.onProgress?.({ ...event, stage: `${labeler.id}:${layer}` }),
    };
    try {
      if (labeler.labelPart && labeler.mergeParts) {
        const part = await labeler.labelPart(context);
        await store.put(`${key}.${index}`, matrixTensor(part.matrix), { labeler: labeler.id });
        written += tensorBytes(part.matrix);
        labels[labeler.id] = { part: part.meta };
      } else {
        labels[labeler.id] = await labeler.label(context);
      }
    } catch (error) {
      if (isNeurodissectError(error, ErrorCode.Aborted)) throw error;
      labels[labeler.id] = {
        error: error instanceof Error ? error.message : String(error),
        ...(isNeurodissectError(error) ? { code: error.code } : {}),
      };
    }
  }
  const meta = { kind: 'labels', layer, units: [range.start, range.end], labels };
  await store.put(key, { dtype: 'float32', dims: [0], data: new Float32Array(0) }, meta);
  return { read, written: written + JSON.stringify(labels).length, cached: false };
}

/** A layer's labels from its label shards: labels concatenated, parts merged by their labeler. */
async function mergeLabelShards(
  o: DissectionOptions,
  layer: string,
  shards: readonly LabelShardRange[],
): Promise<Map<string, LayerLabels | Error>> {
  const store = requireStore(o);
  const ctx = await openRun(o, [layer]);
  const loaded: { shard: LabelShardRange; key: string; labels: Record<string, ShardLabelEntry> }[] = [];
  for (const shard of shards) {
    const key = await labelShardKey(ctx, layer, shard, shardLabelers(o, shard));
    const hit = await store.get(key);
    if (!hit?.meta.labels) {
      throw new NeurodissectError(
        ErrorCode.InvalidFormat,
        `The labels of units ${shard.start}–${shard.end - 1} of ${layer} are not in the feature store; run that shard first.`,
        { details: { layer, range: { start: shard.start, end: shard.end } } },
      );
    }
    loaded.push({ shard, key, labels: hit.meta.labels as Record<string, ShardLabelEntry> });
  }
  const merged = new Map<string, LayerLabels | Error>();
  for (const [index, labeler] of o.labelers.entries()) {
    const mine = loaded.filter((entry) => entry.labels[labeler.id] !== undefined);
    if (mine.length === 0) continue;
    let next = 0;
    for (const { shard } of mine) {
      if (shard.start !== next) {
        throw new NeurodissectError(
          ErrorCode.InvalidOption,
          `The label shards of ${layer} must cover its units in order for ${labeler.id}; units ${next}–${shard.start - 1} are missing.`,
        );
      }
      next = shard.end;
    }
    const entries = mine.map((entry) => entry.labels[labeler.id]);
    const failed = entries.find((entry) => 'error' in entry) as { error: string } | undefined;
    if (failed) {
      merged.set(labeler.id, new Error(failed.error));
    } else if (entries.every((entry) => 'part' in entry)) {
      const parts: LabelPart[] = [];
      for (const [i, entry] of entries.entries()) {
        const stored = await store.get(`${mine[i].key}.${index}`);
        if (stored?.tensor.dims.length !== 2) {
          throw new NeurodissectError(
            ErrorCode.InvalidFormat,
            `A part of ${labeler.id}'s labels of ${layer} is missing from the feature store; run that shard again.`,
            { details: { layer, range: { start: mine[i].shard.start, end: mine[i].shard.end } } },
          );
        }
        parts.push({
          matrix: { rows: stored.tensor.dims[0], cols: stored.tensor.dims[1], data: stored.tensor.data },
          meta: (entry as { part: Record<string, unknown> }).part,
        });
      }
      merged.set(labeler.id, labeler.mergeParts!(parts, o.concepts.concepts));
    } else {
      merged.set(labeler.id, (entries as LayerLabels[]).flat());
    }
  }
  return merged;
}

/** The labelers a label shard runs: those it names, else all, in the run's order. */
function shardLabelers(o: DissectionOptions, shard: LabelShardRange): Labeler[] {
  if (!shard.labelers) return [...o.labelers];
  const unknown = shard.labelers.find((id) => !o.labelers.some((l) => l.id === id));
  if (unknown !== undefined) {
    throw new NeurodissectError(
      ErrorCode.InvalidOption,
      `The labeler ${unknown} is not one of the run's labelers.`,
    );
  }
  return o.labelers.filter((l) => shard.labelers!.includes(l.id));
}

/** Columns `range` of a matrix. */
function columnRange(matrix: Matrix, range: IndexRange): Matrix {
  if (range.start === 0 && range.end === matrix.cols) return matrix;
  const cols = range.end - range.start;
  const out = createMatrix(matrix.rows, cols);
  for (let r = 0; r < matrix.rows; r++) {
    out.data.set(matrix.data.subarray(r * matrix.cols + range.start, r * matrix.cols + range.end), r * cols);
  }
  return out;
}

/** Channels `range` of every batch of `[N, K, h, w]` maps. */
function unitsOfMaps(source: ActivationMapSource, range: IndexRange): ActivationMapSource {
  return {
    images: source.images,
    ...(source.shape ? { shape: { ...source.shape, units: range.end - range.start } } : {}),
    async quantileThresholds(quantile, options) {
      const all = await source.quantileThresholds?.(quantile, options);
      return all?.slice(range.start, range.end);
    },
    async *batches(options) {
      for await (const batch of source.batches(options)) {
        const [n, k, ...plane] = batch.maps.dims;
        const size = plane.reduce((a, b) => a * b, 1);
        const units = range.end - range.start;
        const data = new Float32Array(n * units * size);
        for (let i = 0; i < n; i++) {
          data.set(
            batch.maps.data.subarray((i * k + range.start) * size, (i * k + range.end) * size),
            i * units * size,
          );
        }
        yield { start: batch.start, maps: { dtype: 'float32', dims: [n, units, ...plane], data } };
      }
    },
  };
}
