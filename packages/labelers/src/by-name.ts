import {
  ErrorCode,
  type Labeler,
  type MatmulKernel,
  NeurodissectError,
  type PmiProcessorFactory,
  SIMILARITY_NAMES,
  type SimilarityName,
  type SimilarityOptionsByName,
} from '@neurodissect/core';
import { brodenLabel } from './broden-label';
import { clipAvg } from './clip-avg';
import { clipDissect } from './clip-dissect';
import { type NetDissectOptions, netDissect } from './netdissect';

/** The labelers {@link createLabelersByName} makes, by id (SAM + Grounding-DINO needs its models). */
export const LABELER_NAMES = ['clip-dissect', 'clip-avg', 'broden-label', 'netdissect'] as const;
/** One of {@link LABELER_NAMES}. */
export type LabelerName = (typeof LABELER_NAMES)[number];

/** Each labeler's name as people write it (the method it implements). */
export const LABELER_TITLES: Readonly<Record<LabelerName, string>> = {
  'clip-dissect': 'CLIP-Dissect',
  'clip-avg': 'CLIP-avg',
  'broden-label': 'Broden-label',
  netdissect: 'NetDissect IoU',
};

/** What a labeler made by {@link createLabelersByName} requires (its `requires`), by id. */
export function labelerRequirements(name: LabelerName): Labeler['requires'] {
  return createLabelersByName([name])[0].requires;
}

/** Options of {@link createLabelersByName}, shared by the labelers that take them. */
export interface LabelersByNameOptions {
  /** Labels kept per neuron. @defaultValue 10 */
  topLabels?: number;
  /** CLIP-Dissect's similarity function. @defaultValue 'soft_wpmi' */
  similarity?: SimilarityName;
  /** Options of that similarity function. */
  similarityOptions?: SimilarityOptionsByName[SimilarityName];
  /** A fast `A·Bᵀ` kernel for CLIP-Dissect and CLIP-avg (e.g. `runtime.matmul`). */
  matmul?: MatmulKernel;
  /** Where CLIP-Dissect's soft-WPMI/WPMI block work runs (e.g. `runtime.pmiProcessor`). */
  pmiProcessor?: PmiProcessorFactory;
  /**
   * NetDissect's annotation categories (e.g. `['object', 'part', 'texture', 'color']`).
   * @defaultValue every category of the probe set
   */
  categories?: readonly string[];
  /** NetDissect's union rule ({@link NetDissectOptions.union}). @defaultValue 'touched' */
  union?: NetDissectOptions['union'];
}

/**
 * The labelers named by id, configured alike (what `neurodissect dissect --labelers` and the
 * in-browser page offer).
 * @throws `ND_INVALID_OPTION` for an unknown labeler or similarity function, naming the known ones.
 */
export function createLabelersByName(
  names: readonly string[],
  options: LabelersByNameOptions = {},
): Labeler[] {
  const {
    topLabels,
    similarity = 'soft_wpmi',
    similarityOptions,
    matmul,
    pmiProcessor,
    categories,
    union,
  } = options;
  if (!(SIMILARITY_NAMES as readonly string[]).includes(similarity)) {
    throw new NeurodissectError(
      ErrorCode.InvalidOption,
      `Unknown similarity function "${similarity}"; use one of ${SIMILARITY_NAMES.join(', ')}.`,
      { details: { similarity } },
    );
  }
  return names.map((name) => {
    switch (name as LabelerName) {
      case 'clip-dissect':
        return clipDissect({
          similarity,
          ...(similarityOptions === undefined ? {} : { similarityOptions }),
          topLabels,
          matmul,
          pmiProcessor,
        });
      case 'clip-avg':
        return clipAvg({ topLabels, matmul });
      case 'broden-label':
        return brodenLabel({ topLabels });
      case 'netdissect':
        return netDissect({ topLabels, ...(categories ? { categories } : {}), ...(union ? { union } : {}) });
      default:
        throw new NeurodissectError(
          ErrorCode.InvalidOption,
          `Unknown labeler "${name}"; use any of ${LABELER_NAMES.join(', ')}.`,
          { details: { labeler: name } },
        );
    }
  });
}
