import { ErrorCode, NeurodissectError } from '../errors';
import type { ActivationMapSource, LabelerContext } from '../interfaces';
import { throwIfAborted } from '../progress';
import type { Tensor } from '../tensor';

/** An {@link ActivationMapSource} over maps `[N, K, h, w]` already in memory, `batch` images at a time. */
export function activationMapSourceFromTensor(maps: Tensor<'float32'>, batch = 64): ActivationMapSource {
  const [N] = maps.dims;
  const per = maps.dims.slice(1).reduce((a, b) => a * b, 1);
  return {
    images: N,
    async *batches(options = {}) {
      for (let start = 0; start < N; start += batch) {
        throwIfAborted(options.signal);
        const n = Math.min(batch, N - start);
        yield {
          start,
          maps: {
            dtype: 'float32',
            dims: [n, ...maps.dims.slice(1)],
            data: maps.data.subarray(start * per, (start + n) * per),
          },
        };
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
