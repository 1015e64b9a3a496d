import { ErrorCode, NeurodissectError } from '../errors';
import type { Matrix, Tensor } from '../tensor';

/**
 * How a layer's output becomes one value per unit and image:
 * - `mean` / `max`: over spatial positions of `[N,C,H,W]` (or tokens of `[N,L,D]`);
 * - `cls`: the first token of `[N,L,D]` (ViTs);
 * - `identity`: `[N,D]` as is;
 * - `auto`: `mean` for `[N,C,H,W]`, `cls` for `[N,L,D]`, `identity` for `[N,D]`.
 */
export type ActivationSummary = 'auto' | 'mean' | 'max' | 'cls' | 'identity';

/**
 * The summary that `summary` stands for on a layer output of rank `rank` (`auto` resolved: `mean`
 * for rank 4, `cls` for rank 3, `identity` for rank 2); what the Results record per layer.
 */
export function resolveSummary(
  rank: number,
  summary: ActivationSummary = 'auto',
): Exclude<ActivationSummary, 'auto'> {
  if (summary !== 'auto') return rank === 2 && summary !== 'cls' ? 'identity' : summary;
  return rank === 4 ? 'mean' : rank === 3 ? 'cls' : 'identity';
}

/** Summarises a layer output into an N×K matrix (K = channels or features). */
export function summarizeActivations(tensor: Tensor<'float32'>, summary: ActivationSummary = 'auto'): Matrix {
  const { dims, data } = tensor;
  const n = dims[0] ?? 0;
  if (dims.length === 2 && summary !== 'cls') {
    return { rows: n, cols: dims[1], data: data.slice() };
  }
  if (dims.length === 4 && summary === 'auto') summary = 'mean';
  if (dims.length === 4 || (dims.length === 3 && (summary === 'mean' || summary === 'max'))) {
    if (summary === 'cls' || summary === 'identity') throw shapeError(dims, summary);
    // [N,C,H,W] reduces the trailing axes; [N,L,D] reduces the middle one.
    const channelsLast = dims.length === 3;
    const k = channelsLast ? dims[2] : dims[1];
    const positions = channelsLast ? dims[1] : dims[2] * dims[3];
    const out = new Float32Array(n * k);
    const useMax = summary === 'max';
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < k; c++) {
        let acc = useMax ? Number.NEGATIVE_INFINITY : 0;
        for (let p = 0; p < positions; p++) {
          const v = channelsLast ? data[(i * positions + p) * k + c] : data[(i * k + c) * positions + p];
          acc = useMax ? Math.max(v, acc) : acc + v;
        }
        out[i * k + c] = useMax ? acc : acc / positions;
      }
    }
    return { rows: n, cols: k, data: out };
  }
  if (dims.length === 3 && (summary === 'cls' || summary === 'auto')) {
    const [, l, d] = dims;
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++) out.set(data.subarray(i * l * d, i * l * d + d), i * d);
    return { rows: n, cols: d, data: out };
  }
  throw shapeError(dims, summary);
}

function shapeError(dims: readonly number[], summary: ActivationSummary): NeurodissectError {
  return new NeurodissectError(
    ErrorCode.ShapeMismatch,
    `Cannot summarise a layer output of shape [${dims.join(', ')}] with "${summary}"; use mean or max for [N,C,H,W], cls for [N,L,D], identity for [N,D].`,
    { details: { dims, summary } },
  );
}
