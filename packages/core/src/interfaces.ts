import type { MatmulKernel } from './math/matmul';
import type { OperationOptions } from './progress';
import type { ScoredLabel } from './results/schema';
import type { PmiProcessorFactory } from './similarity/pmi-engine';
import type { Matrix, Tensor } from './tensor';
import type { PermutationNull } from './trust/permutation-null';

/** A decoded image: 8-bit RGB, interleaved, row-major. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** `width × height × 3` bytes. */
  readonly data: Uint8Array;
}

/** One probe image's entry. */
export interface ProbeItem {
  /** Stable id (unique within the dataset). */
  readonly id: string;
  /** Where the image is (path relative to the dataset root, or URL). */
  readonly uri: string;
}

/** One pixel mask of an image: a label number per pixel (0 = unlabelled), row-major. */
export interface AnnotationMask {
  /** The category the mask belongs to (e.g. `object`, `color`). */
  readonly category: string;
  readonly width: number;
  readonly height: number;
  readonly labels: Uint16Array;
}

/** Concept annotations of a probe set, as Broden has them: image-level labels and pixel masks. */
export interface ProbeAnnotations {
  /** Every label number with its name and its category. */
  readonly labels: ReadonlyMap<number, { readonly name: string; readonly category: string }>;
  /** Image-level labels of image `index` by category (e.g. `{ texture: [12] }`). */
  imageLabels(index: number): Readonly<Record<string, readonly number[]>>;
  /** Decodes the pixel masks of image `index`. */
  masks(index: number, options?: OperationOptions): Promise<readonly AnnotationMask[]>;
}

/** A probe set: the images neurons are dissected on. */
export interface ProbeDataset {
  readonly name: string;
  readonly size: number;
  item(index: number): ProbeItem;
  /** Decodes image `index` to RGB. */
  read(index: number, options?: OperationOptions): Promise<RgbImage>;
  /** Concept annotations, for probe sets that have them (Broden, the toy world). */
  readonly conceptAnnotations?: ProbeAnnotations;
  /**
   * Identifies the images' content beyond their ids (a generator's seed, the files' sizes and
   * modification times), so that cached features of other images with the same ids are not reused.
   * Part of the probe hash when present.
   */
  readonly fingerprint?: string;
}

/** A layer of a target model that can be dissected. */
export interface LayerInfo {
  /** The name to select it by (module path such as `layer4`, or a tensor name). */
  readonly name: string;
  /** The graph tensor that holds its output. */
  readonly tensor: string;
  /** Its shape where known (symbolic dimensions as strings). */
  readonly shape?: readonly (number | string)[];
}

/** A target model with intermediate layers exposed. */
export interface TargetModel {
  readonly layers: readonly LayerInfo[];
  /** Runs a preprocessed batch `[N,3,H,W]` and returns the raw outputs of the selected layers. */
  run(
    batch: Tensor<'float32'>,
    layers: readonly string[],
    options?: OperationOptions,
  ): Promise<Map<string, Tensor<'float32'>>>;
  /**
   * Checks that the model has `layer` (a module path or tensor name), throwing an error that lists
   * what it does have; runs check their layers with it before the first batch when present.
   */
  resolveLayer?(layer: string): unknown;
  /** Releases native resources; idempotent. */
  dispose(): Promise<void>;
}

/** A CLIP model: image and text encoders into one embedding space. */
export interface ClipModel {
  /** Embedding dimension D. */
  readonly dim: number;
  /** N×D image embeddings (not normalised). */
  embedImages(images: readonly RgbImage[], options?: OperationOptions): Promise<Matrix>;
  /** M×D text embeddings (not normalised). */
  embedTexts(texts: readonly string[], options?: OperationOptions): Promise<Matrix>;
  /** Releases native resources; idempotent. */
  dispose(): Promise<void>;
}

/** What a runtime can do. Check capabilities, never the runtime's name. */
export interface RuntimeCapabilities {
  /** At least one GPU execution provider is available. */
  readonly gpu: boolean;
  /** Execution providers this runtime can try, in its default order of preference. */
  readonly executionProviders: readonly string[];
}

/** Executes models. Passed in by the caller; never a global. */
export interface Runtime {
  readonly name: string;
  readonly capabilities: RuntimeCapabilities;
  loadTargetModel(spec: { uri: string }): Promise<TargetModel>;
  loadClipModel(spec: { uri: string }): Promise<ClipModel>;
  /** A fast `A·Bᵀ` kernel for the large matrix products of scoring, when the runtime has one. */
  readonly matmul?: MatmulKernel;
  /**
   * Where soft-WPMI's per-block work runs when the runtime has something faster than the
   * single-thread WebAssembly kernel (runtime-node: worker threads over shared memory).
   */
  readonly pmiProcessor?: PmiProcessorFactory;
}

/** The scoring capabilities a runtime offers, handed to labelers: a {@link Runtime} is one. */
export type ScoringKernels = Pick<Runtime, 'matmul' | 'pmiProcessor'>;

/** A cached feature with what it was computed from. */
export interface StoredFeature {
  readonly tensor: Tensor<'float32'>;
  readonly meta: Readonly<Record<string, unknown>>;
}

/** Caches features by content-hash key; writes are atomic. */
export interface FeatureStore {
  get(key: string): Promise<StoredFeature | undefined>;
  put(key: string, tensor: Tensor<'float32'>, meta: Record<string, unknown>): Promise<void>;
}

/** What a labeler receives for one layer. */
export interface LabelerContext extends OperationOptions {
  readonly layer: string;
  /** N×K summarised activations of the layer. */
  readonly activations: Matrix;
  /** The normalised concept list. */
  readonly concepts: readonly string[];
  /** N×D image and M×D text embeddings, when the labeler requires `clip`. */
  readonly imageEmbeddings?: Matrix;
  readonly textEmbeddings?: Matrix;
  /**
   * The layer's raw activation maps `[N, K, h, w]` held in memory, when the caller has them (a
   * library user scoring maps it computed). The pipeline gives {@link activationMapSource} instead.
   */
  readonly activationMaps?: Tensor<'float32'>;
  /**
   * The layer's raw activation maps streamed in batches, when the labeler requires
   * `activation-maps`: memory stays one batch whatever the number of images. Read them through
   * `activationMapSourceOf(context)`, which also wraps {@link activationMaps}.
   */
  readonly activationMapSource?: ActivationMapSource;
  /** The probe set's concept annotations, when the labeler requires `annotations`. */
  readonly annotations?: ProbeAnnotations;
  /** The runtime's scoring capabilities, when the pipeline was given them (labelers that score use them). */
  readonly kernels?: ScoringKernels;
  /**
   * Set when this context is a restriction of another to some of its images (a bootstrap resample
   * or a fold, made by `restrictContext`): row i here is row `rows[i]` of `context`. Labelers
   * whose work per image does not depend on the neurons (CLIP-avg's zero-shot votes, Broden-label's
   * annotation weights) can keep it for `context`'s rows and reuse it across restrictions.
   */
  readonly restrictedFrom?: { readonly context: LabelerContext; readonly rows: Int32Array };
}

/** One batch of a layer's activation maps: images `start .. start+n` (of the readable probe images). */
export interface ActivationMapBatch {
  readonly start: number;
  /** `[n, K, h, w]` (a non-spatial layer gives its own rank: labelers that need maps say so). */
  readonly maps: Tensor<'float32'>;
}

/**
 * A layer's raw activation maps over the probe set, one batch at a time, in image order. Each call
 * of `batches` is a new pass (the pipeline runs the model again, so nothing of size N × K × h × w
 * is ever held); labelers make as many passes as they need.
 */
export interface ActivationMapSource {
  /** N, the readable probe images. */
  readonly images: number;
  /** K, h and w of the maps, when known without reading a batch (the pipeline's, after its features pass). */
  readonly shape?: { readonly units: number; readonly height: number; readonly width: number };
  batches(options?: OperationOptions): AsyncIterable<ActivationMapBatch>;
  /**
   * Each unit's top-`quantile` threshold over every image and map position (the value at rank
   * ⌊(1−q)(n−1)⌋ of its n sorted values), exact. The pipeline's source has it for the quantiles
   * its labelers declare ({@link Labeler.mapQuantiles}) from the features pass, else finds it in
   * one pass of its own; `undefined` when it cannot within its memory budget (the labeler then
   * finds it itself).
   */
  quantileThresholds?(quantile: number, options?: OperationOptions): Promise<Float32Array | undefined>;
}

/** Ranked labels for each neuron of a layer (index = unit). */
export type LayerLabels = ScoredLabel[][];

/** Names a neuron in words. Each labeler is a factory's result with its options bound. */
export interface Labeler {
  /** Stable id, used as the key of its labels in the Results. */
  readonly id: string;
  readonly version: string;
  /** What it needs from the pipeline. */
  readonly requires: readonly ('activations' | 'clip' | 'annotations' | 'activation-maps')[];
  /** Its options, recorded in the Results. */
  readonly options: Readonly<Record<string, unknown>>;
  /**
   * The top quantiles of each unit's map values it reads through
   * {@link ActivationMapSource.quantileThresholds} (NetDissect's 0.005): the pipeline finds them
   * while its features pass runs the model, so the labeler's own passes over the maps are fewer.
   */
  readonly mapQuantiles?: readonly number[];
  label(context: LabelerContext): Promise<LayerLabels>;
  /**
   * Labels several layers of one run at once, for labelers that share work between layers
   * (CLIP-Dissect scores every layer in one pass over the images). Must equal `label` on each
   * context; the contexts share concepts, embeddings and annotations. The pipeline uses it when
   * present; `options` carries the run's signal and progress.
   */
  labelLayers?(contexts: readonly LabelerContext[], options?: OperationOptions): Promise<LayerLabels[]>;
  /**
   * For labelers whose score of a neuron depends on the layer's other neurons (soft-WPMI's prior):
   * step 1 of labelling a layer in ranges of units (a distributed run's label shards). The context
   * holds some of the layer's units; the part must survive a feature store (a float32 matrix and
   * JSON). {@link mergeParts} is step 2. Labelers without it label each range with `label`.
   */
  labelPart?(context: LabelerContext): Promise<LabelPart>;
  /** Step 2: the parts of all the layer's ranges, in unit order → the whole layer's labels. */
  mergeParts?(parts: readonly LabelPart[], concepts: readonly string[]): LayerLabels;
  /**
   * What a neuron's scores are computed from, which lets the pipeline measure how far its labels
   * can be believed (docs/trust.md) by labelling again on pseudo-neurons, bootstrap resamples and
   * folds of the probe images:
   * - `'neuron'`: from the neuron's own column of summaries (with the context's embeddings and
   *   annotations) only; pseudo-neurons of the permutation null are labelled with `label`.
   * - `'layer'`: also from the layer's other neurons (soft-WPMI's prior); significance needs
   *   {@link labelLayersWithNull}.
   * Absent: the labeler needs more than summaries (activation maps: NetDissect), and its labels get
   * no trust figures.
   */
  readonly scoresFrom?: 'neuron' | 'layer';
  /**
   * {@link labelLayers} that also scores a permutation null's pseudo-neurons in the same work,
   * each under every layer's own prior: returns the labels and, per context, each pseudo-neuron's
   * best score.
   */
  labelLayersWithNull?(
    contexts: readonly LabelerContext[],
    pseudo: PermutationNull,
    options?: OperationOptions,
  ): Promise<{ labels: LayerLabels[]; nullBest: Float64Array[] }>;
}

/** What {@link Labeler.labelPart} gives for one range of a layer's units. */
export interface LabelPart {
  /** One row per unit of the range. */
  readonly matrix: Matrix;
  /** Anything else step 2 needs, as JSON. */
  readonly meta: Readonly<Record<string, unknown>>;
}

/** A box in an image's pixel coordinates: left, top, right, bottom (right and bottom exclusive). */
export type PixelBox = readonly [x0: number, y0: number, x1: number, y1: number];

/** What an open-vocabulary detector is asked to find in one image. */
export interface DetectorPrompt {
  /** The phrases to look for (concepts); the detector joins them its own way (Grounding DINO: `"cat . dog ."`). */
  readonly phrases: readonly string[];
  /** Keep a box when its best phrase-token score exceeds this. @defaultValue the detector's own (Grounding DINO: 0.35) */
  readonly boxThreshold?: number;
  /** Attribute a box to a phrase only when that phrase's token score exceeds this. @defaultValue the detector's own (Grounding DINO: 0.25) */
  readonly textThreshold?: number;
}

/** One box an open-vocabulary detector found. */
export interface Detection {
  readonly box: PixelBox;
  /** The prompt phrase the box was attributed to: always one of {@link DetectorPrompt.phrases}. */
  readonly phrase: string;
  /** The detector's confidence in `[0, 1]`. */
  readonly score: number;
}

/**
 * An open-vocabulary detector (Grounding DINO and the like). Contract: `detect(image, prompt)`
 * returns boxes, each attributed to one of the prompt's phrases with a score; a prompt whose
 * `countTokens` exceeds `maxTextLength` is rejected, so callers chunk a long concept set with
 * `countTokens`. Rejects with code `ND_ABORTED` when its signal is aborted.
 */
export interface Detector {
  /** The longest prompt it reads, in its own tokens (special tokens included; Grounding DINO: 256). */
  readonly maxTextLength: number;
  /** Tokens the prompt built from `phrases` takes, special tokens included. */
  countTokens(phrases: readonly string[]): number;
  detect(image: RgbImage, prompt: DetectorPrompt, options?: OperationOptions): Promise<Detection[]>;
  /** Releases native resources; idempotent. */
  dispose(): Promise<void>;
}

/** A binary mask at an image's resolution: 1 inside, 0 outside, row-major. */
export interface BinaryMask {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * A promptable segmenter (SAM and the like). Contract: `segment(image, boxes)` returns one mask per
 * box, in the same order, each at the image's resolution. Rejects with code `ND_ABORTED` when its
 * signal is aborted.
 */
export interface Segmenter {
  segment(image: RgbImage, boxes: readonly PixelBox[], options?: OperationOptions): Promise<BinaryMask[]>;
  /** Releases native resources; idempotent. */
  dispose(): Promise<void>;
}
