import {
  createMatrix,
  ErrorCode,
  type Labeler,
  type LabelerContext,
  type LayerLabels,
  type MatmulKernel,
  type Matrix,
  matmulTransposed,
  NeurodissectError,
  normalizeRows,
  originalRow,
  type ScoredLabel,
  throwIfAborted,
  topKIndices,
  topKPerColumn,
} from '@neurodissect/core';

/** Options of {@link clipAvg}. */
export interface ClipAvgOptions {
  /** Top activating images per neuron that vote. @defaultValue 10 */
  topImages?: number;
  /** Concepts each image votes for (its zero-shot top). @defaultValue 10 */
  perImage?: number;
  /** Labels kept per neuron. @defaultValue 10 */
  topLabels?: number;
  /** A fast `A·Bᵀ` kernel for the image×concept products. */
  matmul?: MatmulKernel;
}

/**
 * CLIP-avg (the report, §4.3): each of a neuron's top images is zero-shot classified by CLIP
 * against the concept set; its `perImage` best concepts vote with their cosine similarity; votes
 * are summed per concept over the images and ranked. The score is the summed cosine; `votes` is
 * the number of images that voted. The CLIP model is whatever the pipeline was given (the report
 * used a ViT-B/32 here).
 */
export function clipAvg(options: ClipAvgOptions = {}): Labeler {
  const topImages = options.topImages ?? 10;
  const perImage = options.perImage ?? 10;
  const topLabels = options.topLabels ?? 10;
  for (const [name, value] of Object.entries({ topImages, perImage, topLabels })) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`${name} must be a positive integer, got ${value}.`);
  }
  // Each image's zero-shot votes, per image-embedding matrix (and the text embeddings they used).
  const votesByImages = new WeakMap<
    Matrix,
    { texts: Matrix; votes: Map<number, { concepts: Int32Array; scores: Float32Array }> }
  >();
  return {
    id: 'clip-avg',
    version: '1',
    requires: ['activations', 'clip'],
    // A neuron's labels come from its own top images: pseudo-neurons are labelled like real ones.
    scoresFrom: 'neuron',
    options: { topImages, perImage, topLabels },
    async label(context: LabelerContext): Promise<LayerLabels> {
      throwIfAborted(context.signal);
      const { imageEmbeddings, textEmbeddings, activations, concepts } = context;
      if (!imageEmbeddings || !textEmbeddings) {
        throw new NeurodissectError(
          ErrorCode.InvalidOption,
          'clip-avg needs image and text embeddings (requires "clip").',
        );
      }
      const n = Math.min(topImages, activations.rows);
      const top = topKPerColumn(activations, n);
      // An image's votes do not depend on the neurons: they are kept per image of the unrestricted
      // context, so resamples, folds and the null's pseudo-neurons classify each image once.
      const base = originalRow(context, 0).context;
      let cache = votesByImages.get(base.imageEmbeddings!);
      if (!cache || cache.texts !== textEmbeddings) {
        cache = { texts: textEmbeddings, votes: new Map() };
        votesByImages.set(base.imageEmbeddings!, cache);
      }
      const known = cache.votes;
      const rowOf = (image: number) => originalRow(context, image).row;
      // Zero-shot classify only the images in some neuron's top-n not classified before.
      const needed = [...new Set(Array.from(top.indices, rowOf))]
        .filter((r) => !known.has(r))
        .sort((a, b) => a - b);
      if (needed.length > 0) {
        const source = base.imageEmbeddings!;
        const dim = source.cols;
        const block = createMatrix(needed.length, dim);
        needed.forEach((image, r) => {
          block.data.set(source.data.subarray(image * dim, (image + 1) * dim), r * dim);
        });
        const texts = normalizeRows(createMatrix(textEmbeddings.rows, dim, textEmbeddings.data.slice()));
        const cosines = await (options.matmul ?? context.kernels?.matmul ?? matmulTransposed)(
          normalizeRows(block),
          texts,
        );
        needed.forEach((image, r) => {
          const row = cosines.data.subarray(r * texts.rows, (r + 1) * texts.rows);
          const best = topKIndices(row, perImage);
          known.set(image, { concepts: best, scores: Float32Array.from(best, (m) => row[m]) });
        });
      }
      const votesOf = { get: (image: number) => known.get(rowOf(image)) };
      const out: LayerLabels = [];
      for (let k = 0; k < activations.cols; k++) {
        const sums = new Map<number, { score: number; votes: number }>();
        for (let j = 0; j < n; j++) {
          const vote = votesOf.get(top.indices[k * n + j])!;
          vote.concepts.forEach((m, v) => {
            const entry = sums.get(m) ?? { score: 0, votes: 0 };
            entry.score += vote.scores[v];
            entry.votes += 1;
            sums.set(m, entry);
          });
        }
        const ranked: ScoredLabel[] = [...sums.entries()]
          .sort((a, b) => b[1].score - a[1].score || a[0] - b[0])
          .slice(0, topLabels)
          .map(([m, { score, votes }]) => ({ label: concepts[m], score, concept: m, votes }));
        out.push(ranked);
      }
      return out;
    },
  };
}
