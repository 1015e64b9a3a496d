import {
  isNeurodissectError,
  type OperationOptions,
  type ProbeDataset,
  type RgbImage,
  throwIfAborted,
} from '@neurodissect/core';

/** An image of a probe set that could not be read. */
export interface ProbeReadFailure {
  readonly index: number;
  readonly id: string;
  /** The error's code (`ND_IMAGE_DECODE_FAILED`, `ND_FILE_NOT_FOUND`, …). */
  readonly code: string;
  readonly message: string;
}

/** What {@link readProbeImages} read. */
export interface ProbeImages {
  /** The decoded images, in the order of `indices`. */
  readonly images: RgbImage[];
  /** The dataset index of each decoded image. */
  readonly indices: number[];
  /** The images that were skipped, with why. */
  readonly failures: ProbeReadFailure[];
}

/**
 * Decodes images `indices` of a dataset, skipping (and listing) those that are missing or corrupt
 * instead of failing the batch, so that nothing read so far is lost. Errors that are not coded
 * problems with one image (a bug, a cancellation) still propagate.
 */
export async function readProbeImages(
  dataset: ProbeDataset,
  indices: readonly number[],
  options: OperationOptions = {},
): Promise<ProbeImages> {
  const images: RgbImage[] = [];
  const read: number[] = [];
  const failures: ProbeReadFailure[] = [];
  throwIfAborted(options.signal);
  // Decoded concurrently (sharp works off the main thread), reported in order.
  let done = 0;
  const outcomes = await Promise.allSettled(
    indices.map((index) =>
      dataset.read(index, options).finally(() => {
        options.onProgress?.({ stage: 'read-images', done: ++done, total: indices.length });
      }),
    ),
  );
  for (const [j, outcome] of outcomes.entries()) {
    const index = indices[j];
    if (outcome.status === 'fulfilled') {
      images.push(outcome.value);
      read.push(index);
      continue;
    }
    const error = outcome.reason;
    if (!isNeurodissectError(error) || error.code === 'ND_ABORTED') throw error;
    failures.push({ index, id: dataset.item(index).id, code: error.code, message: error.message });
  }
  return { images, indices: read, failures };
}
