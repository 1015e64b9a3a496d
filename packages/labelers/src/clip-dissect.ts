import {
  ErrorCode,
  type Labeler,
  type LabelerContext,
  type LayerLabels,
  type MatmulKernel,
  NeurodissectError,
  rankLabels,
  type SimilarityName,
  type SimilarityOptionsByName,
  scoreNeurons,
  similarityFromEmbeddings,
} from '@neurodissect/core';

/** Options of {@link clipDissect}. */
export interface ClipDissectOptions<F extends SimilarityName = 'soft_wpmi'> {
  /** The similarity function. @defaultValue 'soft_wpmi' */
  similarity?: F;
  /** Options of the similarity function (reference defaults when omitted). */
  similarityOptions?: SimilarityOptionsByName[F];
  /** Labels kept per neuron. @defaultValue 10 */
  topLabels?: number;
  /** A fast `A·Bᵀ` kernel (e.g. `runtime.matmul`) for the image×concept products. */
  matmul?: MatmulKernel;
}

/**
 * CLIP-Dissect: scores each neuron's activations against every concept through CLIP's image×text
 * similarities (soft-WPMI by default) and ranks the concepts.
 */
export function clipDissect<F extends SimilarityName = 'soft_wpmi'>(
  options: ClipDissectOptions<F> = {},
): Labeler {
  const similarity = (options.similarity ?? 'soft_wpmi') as F;
  const topLabels = options.topLabels ?? 10;
  if (!Number.isInteger(topLabels) || topLabels < 1)
    throw new RangeError(`topLabels must be a positive integer, got ${topLabels}.`);
  return {
    id: 'clip-dissect',
    version: '1',
    requires: ['activations', 'clip'],
    options: { similarity, ...(options.similarityOptions ?? {}), topLabels },
    async label(context: LabelerContext): Promise<LayerLabels> {
      const { imageEmbeddings, textEmbeddings } = context;
      if (!imageEmbeddings || !textEmbeddings) {
        throw new NeurodissectError(
          ErrorCode.InvalidOption,
          'clip-dissect needs image and text embeddings (requires "clip").',
        );
      }
      const source = similarityFromEmbeddings(imageEmbeddings, textEmbeddings, { kernel: options.matmul });
      const scores = await scoreNeurons(similarity, source, context.activations, {
        options: options.similarityOptions,
        signal: context.signal,
        onProgress: context.onProgress,
      });
      return rankLabels(scores, context.concepts, topLabels);
    },
  };
}
