import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createMatrix, isNeurodissectError, matrixToTensor } from '@neurodissect/core';
import {
  createTargetModel,
  type NodeTargetModel,
  PREPROCESS_PRESETS,
  type PreprocessConfig,
  preprocessBatch,
  writeFileAtomic,
  writeNpyFile,
} from '@neurodissect/runtime-node';
import { type Command, Option } from 'commander';
import { CliError } from '../cli-error';
import {
  openImageFolder,
  preparedImageBatches,
  readImageBatches,
  type SkippedImage,
} from '../image-folder-batches';

export type { SkippedImage };

import { requireOutputFolder } from '../files';
import type { CliIo } from '../io';
import { integer, layerList } from '../option-parsers';
import { createProgressRenderer } from '../progress-bar';

/** Options of `neurodissect activations`, as parsed. */
export interface ActivationsCommandOptions {
  model: string;
  layers: string;
  images: string;
  preset: 'imagenet' | 'clip';
  inputSize?: number;
  pool: 'mean' | 'max';
  batchSize: number;
  out: string;
}

function fail(error: unknown, prefix: string): never {
  // sharp's and onnxruntime's reasons can span lines; the CLI reports one.
  if (isNeurodissectError(error)) throw new CliError(`${prefix}${error.message.replace(/\s*\n\s*/g, ' ')}`);
  throw error;
}

/** The file a layer's activations are written to: its name with path separators replaced. */
export function layerFileName(layer: string): string {
  return `${layer.replace(/[\\/:*?"<>|]/g, '_')}.npy`;
}

/** `neurodissect activations`: N×K summarised activations of each layer over a folder of images. */
export async function activationsCommand(o: ActivationsCommandOptions, io: CliIo): Promise<void> {
  requireOutputFolder(o.out, '--out');
  const layers = layerList(o.layers);
  if (o.batchSize < 1)
    throw new CliError(`--batch-size: ${o.batchSize} is not a positive integer; use e.g. 16`);
  if (o.inputSize !== undefined && o.inputSize < 1) {
    throw new CliError(`--input-size: ${o.inputSize} is not a positive integer; use e.g. 224`);
  }
  const files = new Set(layers.map(layerFileName));
  if (files.size < layers.length) {
    throw new CliError('--layers: two layers would be written to the same file; name each layer once');
  }
  if (!existsSync(o.model)) throw new CliError(`--model: file not found: ${o.model}`);
  // --input-size: resize the shorter side to N and crop N×N, keeping the preset's normalisation.
  const preprocessing: PreprocessConfig =
    o.inputSize === undefined
      ? PREPROCESS_PRESETS[o.preset]
      : { ...PREPROCESS_PRESETS[o.preset], resizeShorter: o.inputSize, crop: o.inputSize };

  const skipped: SkippedImage[] = [];
  const dataset = await openImageFolder(o.images, io, skipped);
  let model: NodeTargetModel;
  try {
    model = await createTargetModel({ model: o.model });
  } catch (error) {
    return fail(error, '--model: ');
  }
  const progress = createProgressRenderer(io);
  try {
    for (const layer of layers) {
      try {
        model.resolveLayer(layer);
      } catch (error) {
        fail(error, '--layers: ');
      }
    }
    const ids: string[] = [];
    const chunks = new Map<string, Float32Array[]>(layers.map((l) => [l, []]));
    const units = new Map<string, number>();
    let done = 0;
    const batches = preparedImageBatches(readImageBatches(dataset, o.batchSize, io, skipped), (images) =>
      preprocessBatch(images, preprocessing),
    );
    for await (const batch of batches) {
      done += batch.ids.length;
      if (batch.input) {
        let summarized: Awaited<ReturnType<NodeTargetModel['runSummarized']>>;
        try {
          summarized = await model.runSummarized(batch.input, layers, {
            summary: o.pool,
          });
        } catch (error) {
          return fail(error, '--model: ');
        }
        for (const layer of layers) {
          const matrix = summarized.get(layer)!;
          units.set(layer, matrix.cols);
          chunks.get(layer)!.push(matrix.data);
        }
        ids.push(...batch.ids);
      }
      progress.onProgress({ stage: 'activations', done, total: dataset.size });
    }
    progress.stop();
    if (ids.length === 0) {
      throw new CliError(`--images: none of the images in ${o.images} could be read; see the warnings above`);
    }
    for (const layer of layers) {
      const k = units.get(layer)!;
      const data = new Float32Array(ids.length * k);
      let offset = 0;
      for (const chunk of chunks.get(layer)!) {
        data.set(chunk, offset);
        offset += chunk.length;
      }
      await writeNpyFile(
        join(o.out, layerFileName(layer)),
        matrixToTensor(createMatrix(ids.length, k, data)),
      );
    }
    const manifest = {
      model: o.model,
      root: o.images,
      preprocessing,
      pool: o.pool,
      layers: Object.fromEntries(
        layers.map((l) => [l, { file: layerFileName(l), shape: [ids.length, units.get(l)!] }]),
      ),
      images: ids,
      skipped,
    };
    await writeFileAtomic(join(o.out, 'images.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    io.stdout.write(
      `wrote ${layers.length} layer(s) of ${ids.length} images to ${o.out}: ${layers
        .map((l) => `${layerFileName(l)} ${ids.length}×${units.get(l)}`)
        .join(', ')}, images.json${skipped.length ? ` (${skipped.length} file(s) skipped)` : ''}\n`,
    );
  } finally {
    progress.stop();
    await model.dispose();
  }
}

/** Adds `activations` to the program. */
export function registerActivationsCommand(program: Command, io: CliIo): void {
  program
    .command('activations')
    .description(
      "Summarised activations of an ONNX model's layers over a folder of images: one N×K LAYER.npy per layer plus images.json.",
    )
    .requiredOption('--model <file>', 'the target model (.onnx)')
    .requiredOption(
      '--layers <names>',
      'comma-separated layers: module paths (layer1, layer4.2) or tensor names',
    )
    .requiredOption('--images <dir>', 'a folder of images (read recursively, in path order)')
    .addOption(
      new Option('--preset <name>', 'target preprocessing').choices(['imagenet', 'clip']).default('imagenet'),
    )
    .option('--input-size <n>', "the model's input side: resize the shorter side to n and crop n×n", integer)
    .addOption(
      new Option('--pool <how>', 'spatial summary of [N,C,H,W] layers')
        .choices(['mean', 'max'])
        .default('mean'),
    )
    .option('--batch-size <n>', 'images per batch', integer, 16)
    .requiredOption('--out <dir>', 'the folder to write LAYER.npy files and images.json to')
    .action(async (options: ActivationsCommandOptions) => {
      await activationsCommand(options, io);
    });
}
