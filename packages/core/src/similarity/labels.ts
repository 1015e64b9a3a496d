import type { ScoredLabel } from '../results/schema';
import type { Matrix } from '../tensor';

/**
 * The `n` best concepts of each neuron from a K×M score matrix, best first. Ties are broken by
 * the lower concept index (as `argmax` does). NaN scores are never chosen.
 */
export function rankLabels(scores: Matrix, concepts: readonly string[], n = 10): ScoredLabel[][] {
  if (concepts.length !== scores.cols) {
    throw new RangeError(
      `The scores cover ${scores.cols} concepts but ${concepts.length} concept names were given.`,
    );
  }
  const count = Math.min(n, scores.cols);
  const out: ScoredLabel[][] = [];
  for (let k = 0; k < scores.rows; k++) {
    const base = k * scores.cols;
    const best: number[] = [];
    for (let m = 0; m < scores.cols; m++) {
      const v = scores.data[base + m];
      if (Number.isNaN(v)) continue;
      if (best.length === count && v <= scores.data[base + best[count - 1]]) continue;
      let pos = best.length === count ? count - 1 : best.length;
      if (best.length < count) best.push(m);
      while (pos > 0 && scores.data[base + best[pos - 1]] < v) {
        best[pos] = best[pos - 1];
        pos--;
      }
      best[pos] = m;
    }
    out.push(best.map((m) => ({ label: concepts[m], score: scores.data[base + m], concept: m })));
  }
  return out;
}
