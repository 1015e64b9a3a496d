// A neuron labeler in plain JavaScript, for `neurodissect dissect --labeler ./top-image-centroid.mjs`.
// It imports nothing: the module's default export is a factory `(options) => Labeler` (core's
// Labeler interface), and dissect calls it with the options every labeler of the run shares
// (`topLabels`, `similarity`, …).
//
// It names a neuron by the concepts nearest (cosine) to the mean CLIP embedding of its top
// activating images.

/** Indices of the `n` largest values of `column` of an N×K row-major matrix, largest first. */
function topRows(matrix, column, n) {
  const rows = Array.from({ length: matrix.rows }, (_, i) => i);
  rows.sort((a, b) => matrix.data[b * matrix.cols + column] - matrix.data[a * matrix.cols + column] || a - b);
  return rows.slice(0, n);
}

// Errors carry neurodissect's codes (ND_…) so the command line reports them as the built-ins' are.
function codedError(code, message) {
  return Object.assign(new Error(message), { code });
}

function normalised(row) {
  let norm = 0;
  for (const v of row) norm += v * v;
  norm = Math.sqrt(norm) || 1;
  return row.map((v) => v / norm);
}

/**
 * @param {{ topLabels?: number, topImages?: number }} [options]
 *   topLabels: labels kept per neuron (default 10); topImages: top images averaged (default 10).
 */
export default function topImageCentroid(options = {}) {
  const topLabels = options.topLabels ?? 10;
  const topImages = options.topImages ?? 10;
  return {
    id: 'top-image-centroid',
    version: '1',
    requires: ['activations', 'clip'],
    // Recorded in the Results: plain JSON only.
    options: { topLabels, topImages },
    async label(context) {
      const { activations, imageEmbeddings, textEmbeddings, concepts } = context;
      if (!imageEmbeddings || !textEmbeddings)
        throw codedError(
          'ND_INVALID_OPTION',
          `top-image-centroid needs CLIP embeddings (requires "clip"); none were given for layer ${context.layer}.`,
        );
      const dim = imageEmbeddings.cols;
      const row = (matrix, i) => Array.from(matrix.data.subarray(i * dim, (i + 1) * dim));
      const texts = concepts.map((_, m) => normalised(row(textEmbeddings, m)));
      const n = Math.min(topImages, activations.rows);
      const labels = [];
      for (let k = 0; k < activations.cols; k++) {
        if (context.signal?.aborted) throw codedError('ND_ABORTED', 'top-image-centroid was cancelled.');
        const centroid = new Array(dim).fill(0);
        for (const i of topRows(activations, k, n)) {
          normalised(row(imageEmbeddings, i)).forEach((v, d) => {
            centroid[d] += v / n;
          });
        }
        const c = normalised(centroid);
        labels.push(
          texts
            .map((t, concept) => ({
              label: concepts[concept],
              concept,
              score: t.reduce((sum, v, d) => sum + v * c[d], 0),
            }))
            .sort((a, b) => b.score - a.score || a.concept - b.concept)
            .slice(0, topLabels),
        );
        context.onProgress?.({ stage: 'top-image-centroid', done: k + 1, total: activations.cols });
      }
      return labels;
    },
  };
}
