import { ErrorCode, NeurodissectError } from '../errors';
import type { ActivationMapSource, LabelerContext } from '../interfaces';
import { throwIfAborted } from '../progress';
import type { Tensor } from '../tensor';

/**
 * How a layer output lays its units over the image: `spatial` for `[N, K, h, w]`; `tokens` for a
 * transformer's `[N, L, D]` whose last `h × w` tokens are a square patch grid after `prefix` class
 * or register tokens; `none` (with the reason) for anything else.
 */
export type MapLayout =
  | { readonly kind: 'spatial'; readonly units: number; readonly height: number; readonly width: number }
  | {
      readonly kind: 'tokens';
      readonly units: number;
      readonly height: number;
      readonly width: number;
      /** Class and register tokens before the patch grid. */
      readonly prefix: number;
    }
  | { readonly kind: 'none'; readonly reason: string };

/** The most class and register tokens looked for before a token layer's patch grid (1 class + 8 registers). */
const MAX_PREFIX_TOKENS = 9;

/**
 * The map layout of a layer output of shape `dims` (a leading batch dimension, which may be
 * symbolic). A `[N, L, D]` token layer maps when `L − prefix` is a perfect square: `prefixTokens`
 * when given, else the fewest leading tokens (0 to 9) that leave one (197 → 1 class token + 14×14
 * patches; 201 → 5 + 14×14 for a ViT with 4 registers).
 */
export function mapLayoutOf(dims: readonly (number | string)[], prefixTokens?: number): MapLayout {
  const shape = `[${dims.join(', ')}]`;
  if (dims.length === 4) {
    const [, units, height, width] = dims;
    if (typeof units === 'number' && typeof height === 'number' && typeof width === 'number')
      return { kind: 'spatial', units, height, width };
    return { kind: 'none', reason: `its shape ${shape} has symbolic channel or spatial dimensions` };
  }
  if (dims.length !== 3) {
    return {
      kind: 'none',
      reason: `its output ${shape} is ${dims.length === 2 ? 'a vector per image' : `of rank ${dims.length}`}, with no positions to map`,
    };
  }
  const [, tokens, units] = dims;
  if (typeof tokens !== 'number' || typeof units !== 'number')
    return { kind: 'none', reason: `its token shape ${shape} has symbolic dimensions` };
  if (prefixTokens !== undefined) {
    if (!(Number.isInteger(prefixTokens) && prefixTokens >= 0 && prefixTokens < tokens))
      throw new RangeError(`prefixTokens must be an integer in [0, ${tokens}), got ${prefixTokens}.`);
    const side = Math.sqrt(tokens - prefixTokens);
    if (Number.isInteger(side))
      return { kind: 'tokens', units, height: side, width: side, prefix: prefixTokens };
    return {
      kind: 'none',
      reason: `its ${tokens} tokens less ${prefixTokens} class/register token(s) leave ${tokens - prefixTokens}, not a square patch grid`,
    };
  }
  for (let prefix = 0; prefix <= Math.min(MAX_PREFIX_TOKENS, tokens - 1); prefix++) {
    const side = Math.sqrt(tokens - prefix);
    if (Number.isInteger(side)) return { kind: 'tokens', units, height: side, width: side, prefix };
  }
  return {
    kind: 'none',
    reason: `its ${tokens} tokens are not a square patch grid after 0 to ${MAX_PREFIX_TOKENS} class/register tokens (give the number of leading tokens if the grid is square)`,
  };
}

/**
 * A layer output as activation maps `[N, K, h, w]`: spatial outputs as they are, a token layer's
 * patch tokens `[N, L, D]` rearranged into their grid `[N, D, h, w]` (class and register tokens
 * dropped; see {@link mapLayoutOf}).
 * @throws `ND_SHAPE_MISMATCH` with the reason when the output has no map layout.
 */
export function toActivationMaps(
  tensor: Tensor<'float32'>,
  options: { prefixTokens?: number; layer?: string } = {},
): Tensor<'float32'> {
  const layout = mapLayoutOf(tensor.dims, options.prefixTokens);
  if (layout.kind === 'spatial') return tensor;
  if (layout.kind === 'none') {
    throw new NeurodissectError(
      ErrorCode.ShapeMismatch,
      `${options.layer === undefined ? 'The layer' : `Layer ${options.layer}`} has no activation maps: ${layout.reason}. Heatmaps and mask-based labelers need [N,K,h,w] or [N,L,D] with a square patch grid.`,
      { details: { dims: [...tensor.dims] } },
    );
  }
  const [n, tokens, units] = tensor.dims;
  const plane = layout.height * layout.width;
  const data = new Float32Array(n * units * plane);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < plane; p++) {
      const from = (i * tokens + layout.prefix + p) * units;
      for (let k = 0; k < units; k++) data[(i * units + k) * plane + p] = tensor.data[from + k];
    }
  }
  return { dtype: 'float32', dims: [n, units, layout.height, layout.width], data };
}

/**
 * An {@link ActivationMapSource} over maps already in memory, `batch` images at a time: `[N, K, h, w]`,
 * or a token layer's `[N, L, D]` (given to the labelers as its patch grid, see {@link toActivationMaps}).
 */
export function activationMapSourceFromTensor(maps: Tensor<'float32'>, batch = 64): ActivationMapSource {
  const [N] = maps.dims;
  const per = maps.dims.slice(1).reduce((a, b) => a * b, 1);
  const tokens = maps.dims.length === 3;
  return {
    images: N,
    async *batches(options = {}) {
      for (let start = 0; start < N; start += batch) {
        throwIfAborted(options.signal);
        const n = Math.min(batch, N - start);
        const slice: Tensor<'float32'> = {
          dtype: 'float32',
          dims: [n, ...maps.dims.slice(1)],
          data: maps.data.subarray(start * per, (start + n) * per),
        };
        yield { start, maps: tokens ? toActivationMaps(slice) : slice };
      }
    },
  };
}

/**
 * The context's activation maps as a source (the pipeline's stream, or maps given in memory), or
 * a coded error naming the labeler.
 */
export function activationMapSourceOf(context: LabelerContext, labeler: string): ActivationMapSource {
  if (context.activationMapSource) return context.activationMapSource;
  if (context.activationMaps) return activationMapSourceFromTensor(context.activationMaps);
  throw new NeurodissectError(
    ErrorCode.InvalidOption,
    `${labeler} needs the layer's activation maps (requires "activation-maps"); none were given for layer ${context.layer}.`,
  );
}
