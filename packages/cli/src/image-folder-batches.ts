import { existsSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { isNeurodissectError, type RgbImage } from '@neurodissect/core';
import { prefetched } from '@neurodissect/core/internal';
import {
  createImageFolderDataset,
  type ImageFolderDataset,
  readProbeImages,
} from '@neurodissect/runtime-node';
import { CliError } from './cli-error';
import type { CliIo } from './io';

// The image-folder reading that `activations` and `embed` share: what is skipped, and why.

/** A file skipped by `activations` or `embed`, as listed in their JSON sidecars. */
export interface SkippedImage {
  /** Relative to the image folder, `/`-separated (as image ids are). */
  path: string;
  reason: string;
}

/**
 * Opens an image folder, reporting each non-image file on stderr (one line) and in `skipped`.
 * Shared by `activations` and `embed`.
 */
export async function openImageFolder(
  root: string,
  io: CliIo,
  skipped: SkippedImage[],
): Promise<ImageFolderDataset> {
  if (!existsSync(root)) throw new CliError(`--images: folder not found: ${root}`);
  try {
    return await createImageFolderDataset({
      root,
      onWarning: (warning) => {
        io.stderr.write(`warning: ${warning.message}\n`);
        skipped.push({ path: relative(root, warning.path).split(sep).join('/'), reason: warning.message });
      },
    });
  } catch (error) {
    if (isNeurodissectError(error))
      throw new CliError(`--images: ${error.message.replace(/\s*\n\s*/g, ' ')}`);
    throw error;
  }
}

/**
 * Reads the images of `dataset` in batches of `batchSize`, reporting each one that cannot be
 * decoded on stderr (one line) and in `skipped`; yields the batches and the ids they hold.
 */
export async function* readImageBatches(
  dataset: ImageFolderDataset,
  batchSize: number,
  io: CliIo,
  skipped: SkippedImage[],
): AsyncGenerator<{ images: RgbImage[]; ids: string[] }> {
  for (let start = 0; start < dataset.size; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, dataset.size - start) }, (_, i) => start + i);
    const read = await readProbeImages(dataset, indices);
    for (const failure of read.failures) {
      const message = failure.message.replace(/\s*\n\s*/g, ' ');
      io.stderr.write(`warning: skipped ${failure.id}: ${message}\n`);
      skipped.push({ path: failure.id, reason: message });
    }
    yield { images: read.images, ids: read.indices.map((i) => dataset.item(i).id) };
  }
}

/**
 * {@link readImageBatches} with each batch also turned into the model's input by `prepare`, one
 * batch ahead: the next batch is decoded and preprocessed while the current one runs.
 */
export function preparedImageBatches<T>(
  batches: AsyncIterable<{ images: RgbImage[]; ids: string[] }>,
  prepare: (images: RgbImage[]) => T,
): AsyncGenerator<{ images: RgbImage[]; ids: string[]; input?: T }> {
  return prefetched(
    (async function* () {
      for await (const batch of batches)
        yield { ...batch, ...(batch.images.length > 0 ? { input: prepare(batch.images) } : {}) };
    })(),
  );
}
