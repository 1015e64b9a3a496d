import {
  ErrorCode,
  isPmiFunction,
  type Labeler,
  type LabelerContext,
  type LabelPart,
  type LayerLabels,
  type MatmulKernel,
  NeurodissectError,
  nullTopK,
  type OperationOptions,
  type PermutationNull,
  type PmiProcessorFactory,
  rankLabels,
  rowCounts,
  type SimilarityName,
  type SimilarityOptionsByName,
  type SimilaritySource,
  scoreNeurons,
  similarityFromEmbeddings,
  weightedTopKPerColumn,
} from '@neurodissect/core';
import {
  mergePriorPartials,
  type PmiLayerInput,
  pmiPartScores,
  resolvePmiParameters,
  scorePmiLayers,
  scorePmiPart,
} from '@neurodissect/core/internal';

/** Options of {@link clipDissect}. */
export interface ClipDissectOptions<F extends SimilarityName = 'soft_wpmi'> {
  /** The similarity function. @defaultValue 'soft_wpmi' */
  similarity?: F;
  /** Options of the similarity function (reference defaults when omitted). */
  similarityOptions?: SimilarityOptionsByName[F];
  /** Labels kept per neuron. @defaultValue 10 */
  topLabels?: number;
  /**
   * A fast `A·Bᵀ` kernel for the image×concept products. @defaultValue the context's
   * `kernels.matmul` (the runtime's), else core's portable kernel
   */
  matmul?: MatmulKernel;
  /**
   * Where soft-WPMI's and WPMI's block work runs. @defaultValue the context's `kernels.pmiProcessor`
   * (runtime-node: worker threads), else the single-thread WebAssembly kernel
   */
  pmiProcessor?: PmiProcessorFactory;
}

/**
 * CLIP-Dissect: scores each neuron's activations against every concept through CLIP's image×text
 * similarities (soft-WPMI by default) and ranks the concepts. Soft-WPMI and WPMI run on core's
 * streaming engine; given several layers ({@link Labeler.labelLayers}) they are scored in one pass
 * over the images, each layer's prior over its own neurons.
 */
export function clipDissect<F extends SimilarityName = 'soft_wpmi'>(
  options: ClipDissectOptions<F> = {},
): Labeler {
  const similarity = (options.similarity ?? 'soft_wpmi') as F;
  const topLabels = options.topLabels ?? 10;
  if (!Number.isInteger(topLabels) || topLabels < 1)
    throw new RangeError(`topLabels must be a positive integer, got ${topLabels}.`);

  const sourceOf = (context: LabelerContext): SimilaritySource => {
    const { imageEmbeddings, textEmbeddings } = context;
    if (!imageEmbeddings || !textEmbeddings) {
      throw new NeurodissectError(
        ErrorCode.InvalidOption,
        'clip-dissect needs image and text embeddings (requires "clip").',
      );
    }
    return similarityFromEmbeddings(imageEmbeddings, textEmbeddings, {
      kernel: options.matmul ?? context.kernels?.matmul,
    });
  };

  const sameEmbeddings = (a: LabelerContext, b: LabelerContext) =>
    a.imageEmbeddings === b.imageEmbeddings &&
    a.textEmbeddings === b.textEmbeddings &&
    a.concepts === b.concepts;

  async function labelLayers(
    contexts: readonly LabelerContext[],
    run: OperationOptions = {},
  ): Promise<LayerLabels[]> {
    return (await labelPmiLayers(contexts, run)).labels;
  }

  /** Labels the layers; soft-WPMI and WPMI also score the null's pseudo-neurons in the same pass. */
  async function labelPmiLayers(
    contexts: readonly LabelerContext[],
    run: OperationOptions = {},
    pseudo?: PermutationNull,
  ): Promise<{ labels: LayerLabels[]; nullBest: Float64Array[] }> {
    if (contexts.length === 0) return { labels: [], nullBest: [] };
    const first = contexts[0];
    const shared = contexts.every((c) =>
      c.restrictedFrom && first.restrictedFrom
        ? c.restrictedFrom.rows === first.restrictedFrom.rows &&
          sameEmbeddings(c.restrictedFrom.context, first.restrictedFrom.context)
        : sameEmbeddings(c, first),
    );
    if (!isPmiFunction(similarity)) {
      const out: LayerLabels[] = [];
      for (const context of contexts) {
        const scores = await scoreNeurons(similarity, sourceOf(context), context.activations, {
          options: options.similarityOptions,
          signal: context.signal ?? run.signal,
          onProgress: context.onProgress ?? run.onProgress,
        });
        out.push(rankLabels(scores, context.concepts, topLabels));
      }
      return { labels: out, nullBest: [] };
    }
    if (!shared) {
      // Layers with different embeddings cannot share a pass.
      const out = { labels: [] as LayerLabels[], nullBest: [] as Float64Array[] };
      for (const context of contexts) {
        const one = await labelPmiLayers([context], run, pseudo);
        out.labels.push(...one.labels);
        out.nullBest.push(...one.nullBest);
      }
      return out;
    }
    const names = contexts.map((c, i) => `${i}:${c.layer}`);
    const labels = new Map<string, LayerLabels>();
    const nulls = new Map<string, Float64Array>();
    let source: SimilaritySource | undefined;
    let pmiOptions = options.similarityOptions as SimilarityOptionsByName['soft_wpmi'] | undefined;
    let layers: PmiLayerInput[] | undefined;
    // A resample or fold of the probe images (restrictContext): its rows are weights on the
    // original rows, so each neuron's top-k is taken over the multiset and the original
    // embeddings are streamed; nothing of the restriction is copied.
    const from = first.restrictedFrom;
    if (
      from &&
      !pseudo &&
      contexts.every(
        (c) => c.restrictedFrom?.rows === from.rows && sameEmbeddings(c.restrictedFrom.context, from.context),
      )
    ) {
      const { topK } = resolvePmiParameters(similarity, pmiOptions, from.rows.length);
      const counts = rowCounts(from.rows, from.context.activations.rows);
      const tops = contexts.map((c) =>
        weightedTopKPerColumn(c.restrictedFrom!.context.activations, counts, topK),
      );
      if (tops.every((top) => top !== undefined)) {
        source = sourceOf(from.context);
        pmiOptions = { ...pmiOptions, topK };
        layers = tops.map((top, i) => ({ name: names[i], top }));
      }
    }
    source ??= sourceOf(first);
    await scorePmiLayers(
      source,
      layers ?? contexts.map((c, i) => ({ name: names[i], activations: c.activations })),
      {
        fn: similarity,
        options: pmiOptions,
        processor: options.pmiProcessor ?? first.kernels?.pmiProcessor,
        signal: run.signal ?? first.signal,
        onProgress: run.onProgress ?? first.onProgress,
        nullTop: pseudo
          ? nullTopK(pseudo, resolvePmiParameters(similarity, pmiOptions, source.images).topK)
          : undefined,
        onLayer: (name, scores) => {
          labels.set(name, rankLabels(scores, first.concepts, topLabels));
        },
        onNull: (name, best) => {
          nulls.set(name, best);
        },
      },
    );
    return {
      labels: names.map((name) => labels.get(name)!),
      nullBest: pseudo ? names.map((name) => nulls.get(name)!) : [],
    };
  }

  // Soft-WPMI and WPMI divide by a prior over the layer's neurons: ranges of units are scored in
  // two steps (each range's L and prior partial, then the merged prior) so shards merge exactly.
  const parts: Pick<Labeler, 'labelPart' | 'mergeParts'> = !isPmiFunction(similarity)
    ? {}
    : {
        async labelPart(context: LabelerContext): Promise<LabelPart> {
          const part = await scorePmiPart(sourceOf(context), context.activations, {
            fn: similarity,
            options: options.similarityOptions as SimilarityOptionsByName['soft_wpmi'] | undefined,
            processor: options.pmiProcessor ?? context.kernels?.pmiProcessor,
            signal: context.signal,
            onProgress: context.onProgress,
          });
          return {
            matrix: part.logProbs,
            meta: {
              lambda: part.lambda,
              prior: { max: [...part.prior.max], sumExp: [...part.prior.sumExp], count: part.prior.count },
            },
          };
        },
        mergeParts(ranges: readonly LabelPart[], concepts: readonly string[]): LayerLabels {
          const priorOf = (part: LabelPart) => {
            const prior = part.meta.prior as { max: number[]; sumExp: number[]; count: number };
            return {
              max: Float64Array.from(prior.max),
              sumExp: Float64Array.from(prior.sumExp),
              count: prior.count,
            };
          };
          const prior = mergePriorPartials(ranges.map(priorOf));
          return ranges.flatMap((part) =>
            rankLabels(pmiPartScores(part.matrix, part.meta.lambda as number, prior), concepts, topLabels),
          );
        },
      };

  return {
    id: 'clip-dissect',
    version: '1',
    requires: ['activations', 'clip'],
    options: { similarity, ...(options.similarityOptions ?? {}), topLabels },
    async label(context: LabelerContext): Promise<LayerLabels> {
      return (await labelLayers([context]))[0];
    },
    labelLayers,
    ...parts,
    // Soft-WPMI's and WPMI's prior spans the layer: their null is scored in the labelling pass.
    ...(isPmiFunction(similarity)
      ? {
          scoresFrom: 'layer' as const,
          labelLayersWithNull: (
            contexts: readonly LabelerContext[],
            pseudo: PermutationNull,
            run?: OperationOptions,
          ) => labelPmiLayers(contexts, run, pseudo),
        }
      : { scoresFrom: 'neuron' as const }),
  };
}
