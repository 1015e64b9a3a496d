import { isNeurodissectError, type Tensor } from '@neurodissect/core';
import {
  decodeImage,
  PREPROCESS_PRESETS,
  type PreprocessPreset,
  preprocessImage,
  writeNpyFile,
} from '@neurodissect/runtime-node';
import { type Command, Option } from 'commander';
import { CliError } from '../cli-error';
import type { CliIo } from '../io';

/** Options of `neurodissect preprocess`, as parsed. */
export interface PreprocessCommandOptions {
  preset: PreprocessPreset;
  out: string;
}

/** `neurodissect preprocess`: one image as the float32 `[3, 224, 224]` tensor a model is fed. */
export async function preprocessCommand(
  image: string,
  o: PreprocessCommandOptions,
  io: CliIo,
): Promise<void> {
  let tensor: Tensor<'float32'>;
  try {
    tensor = preprocessImage(await decodeImage(image), PREPROCESS_PRESETS[o.preset]);
  } catch (error) {
    // sharp's reasons can span lines; the CLI reports one.
    if (isNeurodissectError(error)) throw new CliError(`IMAGE: ${error.message.replace(/\s*\n\s*/g, ' ')}`);
    throw error;
  }
  await writeNpyFile(o.out, tensor);
  io.stdout.write(
    `wrote ${o.out}: [${tensor.dims.join(', ')}] float32 (${o.preset} preprocessing of ${image})\n`,
  );
}

/** Adds `preprocess` to the program. */
export function registerPreprocessCommand(program: Command, io: CliIo): void {
  program
    .command('preprocess')
    .description(
      'Decode and preprocess one image into the float32 [3, 224, 224] tensor a model is fed (.npy).',
    )
    .argument('<image>', 'the image file (png, jpg, webp, …)')
    .addOption(
      new Option('--preset <name>', 'clip (bicubic 224) or imagenet (bilinear 256, crop 224)')
        .choices(['clip', 'imagenet'])
        .makeOptionMandatory(),
    )
    .requiredOption('--out <file>', 'where to write the tensor (.npy, float32, CHW)')
    .action(async (image: string, options: PreprocessCommandOptions) => {
      await preprocessCommand(image, options, io);
    });
}
