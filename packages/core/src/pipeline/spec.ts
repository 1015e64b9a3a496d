import { z } from 'zod';
import type { ConceptSet } from '../concepts';
import { ErrorCode, isNeurodissectError, NeurodissectError } from '../errors';
import type { ClipModel, Labeler, ProbeDataset, RgbImage, ScoringKernels, TargetModel } from '../interfaces';
import { sha256 } from '../platform';
import type { OperationOptions } from '../progress';
import { RELATION_DEFAULTS, type RelationOptions } from '../relations/stage';
import { ContentHashSchema } from '../results/schema';
import type { Tensor } from '../tensor';
import { TRUST_DEFAULTS, type TrustOptions } from '../trust/assess';
import {
  conceptSetHash,
  createDissection,
  type Dissection,
  type DissectionOptions,
  probeContentHash,
} from './dissection';

/** The format tag of a {@link DissectionSpec}. */
export const DISSECTION_SPEC_FORMAT = 'neurodissect.dissection-spec/1';

/** Something a run reads: where it is, its name in the Results, and its content hash. */
const SourceSchema = z.object({
  /** Where the environment finds it: a path (on every machine of a distributed run), a URL… */
  uri: z.string().min(1),
  /** Its name in the Results. */
  name: z.string().min(1),
  /** Its content hash; a run refuses a file whose content differs. */
  hash: ContentHashSchema,
});

/** Resize → centre crop → normalise, applied to probe images before the target model. */
export const PreprocessingSchema = z.object({
  resizeShorter: z.number().int().positive(),
  interpolation: z.enum(['bicubic', 'bilinear']),
  crop: z.number().int().positive(),
  mean: z.tuple([z.number(), z.number(), z.number()]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
  cropRounding: z.enum(['half-even', 'floor']).optional(),
});

/**
 * One dissection, fully described: what `neurodissect dissect`, the in-browser page and the
 * workers of a distributed run open with {@link openDissection}. Two runs of equal specs read and
 * write the same feature-cache entries, wherever they run.
 */
export const DissectionSpecSchema = z.object({
  format: z.literal(DISSECTION_SPEC_FORMAT),
  /** The target model (ONNX). */
  model: SourceSchema,
  /** The CLIP model; its hash is {@link clipModelHash} of the two towers. */
  clip: SourceSchema.optional(),
  /**
   * `'openai'`: CLIP's images are preprocessed with the folder's sizes and statistics but the crop
   * margin split as OpenAI's CLIP (and CLIP-Dissect) splits it. Absent: the folder's own processor.
   */
  clipPreprocess: z.literal('openai').optional(),
  /** The probe set; its hash is {@link probeContentHash}. */
  probe: SourceSchema,
  /** The concept set; its hash is {@link conceptSetHash} of the normalised concepts. */
  concepts: SourceSchema,
  layers: z
    .array(z.string().min(1))
    .min(1)
    .refine((layers) => new Set(layers).size === layers.length, 'a layer is named twice'),
  preprocessing: PreprocessingSchema,
  summary: z.enum(['auto', 'mean', 'max', 'cls', 'identity']),
  /**
   * Class and register tokens before a token layer's patch grid (for heatmaps and mask-based
   * labelers). Absent: the fewest (0 to 9) that leave a square grid.
   */
  prefixTokens: z.number().int().nonnegative().optional(),
  /** Labelers by name, with the options they share (`topLabels`, `similarity`, …). */
  labelers: z.object({
    names: z.array(z.string().min(1)).min(1),
    options: z.record(z.string(), z.unknown()),
  }),
  batchSize: z.number().int().positive(),
  topImages: z.number().int().positive(),
  heatmaps: z.boolean(),
  /**
   * How far each label can be believed (docs/trust.md): pseudo-neurons of the permutation null,
   * bootstrap resamples, held-out folds (0 turns each off) and their seed. Absent: the defaults.
   */
  trust: z
    .object({
      permutations: z.number().int().nonnegative(),
      stability: z.number().int().nonnegative(),
      folds: z
        .number()
        .int()
        .nonnegative()
        .refine((f) => f !== 1, 'use 0 (off) or at least 2 folds'),
      seed: z.number().int().nonnegative(),
    })
    .optional(),
  /**
   * Relations between neurons (docs/relations.md): the layers besides the one before that every
   * dissected layer is related to, and the units kept each way; `false`: none. Absent: the defaults.
   */
  relations: z
    .union([
      z.literal(false),
      z.object({ from: z.array(z.string().min(1)), top: z.number().int().positive() }),
    ])
    .optional(),
});

/** A parsed dissection spec. */
export type DissectionSpec = z.infer<typeof DissectionSpecSchema>;
/** A spec's preprocessing. */
export type SpecPreprocessing = z.infer<typeof PreprocessingSchema>;

/** What {@link createDissectionSpec} needs; everything else has a default. */
export interface DissectionSpecInput {
  model: DissectionSpec['model'];
  clip?: DissectionSpec['clip'];
  /** CLIP's image preprocessing: the folder's own (`'folder'`) or OpenAI's. @defaultValue 'folder' */
  clipPreprocess?: 'folder' | 'openai';
  probe: DissectionSpec['probe'];
  concepts: DissectionSpec['concepts'];
  layers: readonly string[];
  preprocessing: Readonly<Omit<SpecPreprocessing, 'mean' | 'std'>> & {
    readonly mean: readonly [number, number, number];
    readonly std: readonly [number, number, number];
  };
  /** @defaultValue 'auto' */
  summary?: DissectionSpec['summary'];
  /** Class and register tokens before a token layer's patch grid. @defaultValue detected */
  prefixTokens?: number;
  labelers: readonly string[];
  /** Labels kept per neuron. @defaultValue 10 */
  topLabels?: number;
  /** CLIP-Dissect's similarity function. @defaultValue 'soft_wpmi' */
  similarity?: string;
  /** Options of that function (e.g. `{ topK: 100 }`). */
  similarityOptions?: Record<string, unknown>;
  /** NetDissect's annotation categories. @defaultValue every category of the probe set */
  categories?: readonly string[];
  /**
   * NetDissect's union rule: `'touched'` (Network Dissection's) or `'annotated'`.
   * @defaultValue 'touched'
   */
  union?: 'touched' | 'annotated';
  /** @defaultValue 16 */
  batchSize?: number;
  /** @defaultValue 20 */
  topImages?: number;
  /** @defaultValue false */
  heatmaps?: boolean;
  /** Trust measures; unset fields take {@link TRUST_DEFAULTS}. */
  trust?: TrustOptions;
  /** Relations between neurons; unset fields take {@link RELATION_DEFAULTS}, `false` records none. */
  relations?: RelationOptions | false;
}

/** A spec with the defaults every front end shares. @throws `ND_INVALID_OPTION` naming the field. */
export function createDissectionSpec(input: DissectionSpecInput): DissectionSpec {
  return parseDissectionSpec({
    format: DISSECTION_SPEC_FORMAT,
    model: input.model,
    ...(input.clip ? { clip: input.clip } : {}),
    ...(input.clipPreprocess === 'openai' ? { clipPreprocess: 'openai' } : {}),
    probe: input.probe,
    concepts: input.concepts,
    layers: [...input.layers],
    preprocessing: {
      ...input.preprocessing,
      mean: [...input.preprocessing.mean],
      std: [...input.preprocessing.std],
    },
    summary: input.summary ?? 'auto',
    ...(input.prefixTokens === undefined ? {} : { prefixTokens: input.prefixTokens }),
    labelers: {
      names: [...input.labelers],
      options: {
        topLabels: input.topLabels ?? 10,
        similarity: input.similarity ?? 'soft_wpmi',
        ...(input.similarityOptions ? { similarityOptions: input.similarityOptions } : {}),
        ...(input.categories ? { categories: [...input.categories] } : {}),
        ...(input.union ? { union: input.union } : {}),
      },
    },
    batchSize: input.batchSize ?? 16,
    topImages: input.topImages ?? 20,
    heatmaps: input.heatmaps ?? false,
    trust: { ...TRUST_DEFAULTS, ...input.trust },
    ...(input.relations === undefined
      ? {}
      : {
          relations:
            input.relations === false
              ? false
              : {
                  from: [...(input.relations.from ?? [])],
                  top: input.relations.top ?? RELATION_DEFAULTS.top,
                },
        }),
  });
}

/** Checks a spec (e.g. a job's data). @throws `ND_INVALID_OPTION` naming the first wrong field. */
export function parseDissectionSpec(value: unknown, source = 'the dissection spec'): DissectionSpec {
  const parsed = DissectionSpecSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue.path.join('.');
  throw new NeurodissectError(
    ErrorCode.InvalidOption,
    `${source} is not valid: ${path ? `${path}: ` : ''}${issue.message}`,
    { details: { field: String(issue.path[0] ?? ''), path } },
  );
}

/** A CLIP model's identity from its two towers' content hashes (`sha256:…` each). */
export function clipModelHash(visionHash: string, textHash: string): Promise<string> {
  return sha256(`${visionHash}+${textHash}`);
}

/** A short stable id of a spec (12 hex digits), for job ids and logs. */
export async function dissectionSpecId(spec: DissectionSpec): Promise<string> {
  return (await sha256(JSON.stringify(spec))).slice('sha256:'.length, 'sha256:'.length + 12);
}

/**
 * Where a run finds what a spec names: each runtime (Node, a browser page) supplies its own. The
 * loaders return the content hash of what they loaded, which the run checks against the spec.
 */
export interface DissectionEnvironment {
  loadTarget(uri: string): Promise<{ model: TargetModel; hash: string; executionProvider?: string }>;
  /**
   * Loads a CLIP model; `options.preprocess` is the {@link DissectionSpec}'s `clipPreprocess`
   * (an environment that cannot honour it must throw, not ignore it).
   */
  loadClip(uri: string, options?: { preprocess?: 'openai' }): Promise<{ model: ClipModel; hash: string }>;
  openProbe(uri: string): Promise<ProbeDataset>;
  readConcepts(uri: string): Promise<ConceptSet>;
  /** Decoded probe images → the target's input batch. */
  prepare(images: readonly RgbImage[], preprocessing: SpecPreprocessing): Tensor<'float32'>;
  /** The labelers by name with the spec's shared options (e.g. `createLabelersByName`). */
  createLabelers(names: readonly string[], options: Record<string, unknown>): Labeler[];
  /** The runtime's scoring kernels (pass the runtime). */
  kernels?: ScoringKernels;
  /** The runtime's name, recorded in the Results. */
  runtimeName?: string;
}

/** Options of {@link openDissection}: what is not part of the job itself. */
export interface OpenDissectionOptions
  extends OperationOptions,
    Pick<
      DissectionOptions,
      'store' | 'resume' | 'onResumeMismatch' | 'onLayer' | 'labels' | 'tool' | 'mapMemory'
    > {
  /** The model's uri as the Results record it (e.g. relative to the Results file). @defaultValue the spec's */
  recordedModelUri?: string;
}

/** A dissection opened from a spec: dispose it to release its models. */
export interface OpenedDissection extends Dissection {
  readonly spec: DissectionSpec;
  /** The execution provider the target model runs on. */
  readonly executionProvider: string;
  readonly labelers: readonly Labeler[];
  dispose(): Promise<void>;
}

/** Runs `load`, naming the spec field in any error it throws (`details.field`). */
async function inField<T>(field: string, load: () => Promise<T> | T): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isNeurodissectError(error)) throw error;
    throw new NeurodissectError(error.code, error.message, {
      details: { ...error.details, field },
      cause: error,
    });
  }
}

function sameContent(field: string, uri: string, expected: string, actual: string): void {
  if (expected === actual) return;
  throw new NeurodissectError(
    ErrorCode.InvalidOption,
    `${uri} is not the ${field} the job was made with (content ${actual.slice(0, 19)}…, the job's ${expected.slice(0, 19)}…); give every machine the same files.`,
    { details: { field, expected, actual } },
  );
}

/**
 * Opens the dissection a spec describes: labelers, concepts, probe set, target model and CLIP
 * through `environment`, each checked against the spec's content hash; layers resolved. Errors
 * name the spec field in `details.field` (`model`, `clip`, `probe`, `concepts`, `layers`,
 * `labelers`). Dispose the result to release the models.
 */
export async function openDissection(
  specValue: DissectionSpec,
  environment: DissectionEnvironment,
  options: OpenDissectionOptions = {},
): Promise<OpenedDissection> {
  const spec = parseDissectionSpec(specValue);
  const labelers = await inField('labelers', () =>
    environment.createLabelers(spec.labelers.names, spec.labelers.options),
  );
  const clipUsers = labelers.filter((l) => l.requires.includes('clip')).map((l) => l.id);
  if (clipUsers.length > 0 && !spec.clip) {
    throw new NeurodissectError(
      ErrorCode.InvalidOption,
      `The labelers ${clipUsers.join(', ')} need a CLIP model; give one.`,
      { details: { field: 'clip' } },
    );
  }
  const disposers: (() => Promise<void>)[] = [];
  const dispose = async () => {
    for (const release of disposers.splice(0).reverse()) await release();
  };
  try {
    const target = await inField('model', async () => {
      const loaded = await environment.loadTarget(spec.model.uri);
      disposers.push(() => loaded.model.dispose());
      sameContent('model', spec.model.uri, spec.model.hash, loaded.hash);
      return loaded;
    });
    for (const layer of spec.layers) await inField('layers', () => target.model.resolveLayer?.(layer));
    for (const layer of spec.relations ? spec.relations.from : [])
      await inField('relations', () => target.model.resolveLayer?.(layer));
    const concepts = await inField('concepts', async () => {
      const set = await environment.readConcepts(spec.concepts.uri);
      sameContent('concepts', spec.concepts.uri, spec.concepts.hash, await conceptSetHash(set.concepts));
      return set;
    });
    const probe = await inField('probe', async () => {
      const dataset = await environment.openProbe(spec.probe.uri);
      sameContent('probe', spec.probe.uri, spec.probe.hash, await probeContentHash(dataset));
      return dataset;
    });
    const maskUsers = labelers.filter((l) => l.requires.includes('activation-maps')).map((l) => l.id);
    const { resizeShorter, crop } = spec.preprocessing;
    if (maskUsers.length > 0 && probe.conceptAnnotations && crop < resizeShorter) {
      throw new NeurodissectError(
        ErrorCode.InvalidOption,
        `${maskUsers.join(', ')} compare${maskUsers.length === 1 ? 's' : ''} activation maps with masks that cover the whole image, but the preprocessing crops its centre (resize ${resizeShorter}, crop ${crop}), which would misalign them; resize to the input size without cropping (e.g. --input-size ${crop}).`,
        { details: { field: 'preprocessing' } },
      );
    }
    let clip: { model: ClipModel; hash: string } | undefined;
    if (clipUsers.length > 0 && spec.clip) {
      const source = spec.clip;
      clip = await inField('clip', async () => {
        const loaded = await environment.loadClip(
          source.uri,
          spec.clipPreprocess ? { preprocess: spec.clipPreprocess } : undefined,
        );
        disposers.push(() => loaded.model.dispose());
        sameContent('clip', source.uri, source.hash, loaded.hash);
        return loaded;
      });
    }
    const executionProvider = target.executionProvider ?? 'cpu';
    const dissection = createDissection({
      target: {
        model: target.model,
        prepare: (images) => environment.prepare(images, spec.preprocessing),
        name: spec.model.name,
        uri: options.recordedModelUri ?? spec.model.uri,
        hash: spec.model.hash,
        summary: spec.summary,
        ...(spec.prefixTokens === undefined ? {} : { prefixTokens: spec.prefixTokens }),
        preprocessing: JSON.stringify(spec.preprocessing),
      },
      layers: spec.layers,
      clip:
        clip && spec.clip
          ? {
              model: clip.model,
              name: spec.clip.name,
              hash: spec.clip.hash,
              ...(spec.clipPreprocess ? { preprocessing: spec.clipPreprocess } : {}),
            }
          : undefined,
      probe,
      concepts: { ...concepts, name: spec.concepts.name },
      labelers,
      store: options.store,
      kernels: environment.kernels,
      batchSize: spec.batchSize,
      topImages: spec.topImages,
      runtime: environment.runtimeName ? { name: environment.runtimeName, executionProvider } : undefined,
      tool: options.tool,
      resume: options.resume,
      onResumeMismatch: options.onResumeMismatch,
      heatmaps: spec.heatmaps,
      trust: spec.trust,
      ...(spec.relations === undefined ? {} : { relations: spec.relations }),
      mapMemory: options.mapMemory,
      labels: options.labels,
      signal: options.signal,
      onProgress: options.onProgress,
      onLayer: options.onLayer,
    });
    return { ...dissection, spec, executionProvider, labelers, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
