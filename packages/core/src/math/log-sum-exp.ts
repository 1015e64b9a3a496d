/**
 * Numerically stable `log Σ exp(x_i)` over `values[offset + i * stride]`, `i < count`.
 * Returns `-Infinity` for an empty range or when every value is `-Infinity`.
 */
export function logSumExp(values: ArrayLike<number>, offset = 0, count = values.length, stride = 1): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    const v = values[offset + i * stride];
    if (v > max) max = v;
  }
  if (max === Number.NEGATIVE_INFINITY) return max;
  if (max === Number.POSITIVE_INFINITY) return max;
  let sum = 0;
  for (let i = 0; i < count; i++) sum += Math.exp(values[offset + i * stride] - max);
  return max + Math.log(sum);
}
