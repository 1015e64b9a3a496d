import { InvalidArgumentError, Option } from 'commander';
import { CliError } from './cli-error';

/** Parses a finite number option. */
export function number(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed))
    throw new InvalidArgumentError(`"${value}" is not a number.`);
  return parsed;
}

/** Parses an integer option. */
export function integer(value: string): number {
  const parsed = number(value);
  if (!Number.isInteger(parsed)) throw new InvalidArgumentError(`"${value}" is not an integer.`);
  return parsed;
}

/**
 * `--clip-preprocess folder|openai`: CLIP's image preprocessing as the model folder records it, or
 * with the crop margin split as OpenAI's CLIP (and CLIP-Dissect) splits it. The two differ by one
 * pixel on images whose resized side minus the crop is odd (Hugging Face's processor rounds down).
 */
export function clipPreprocessOption(): Option {
  return new Option(
    '--clip-preprocess <which>',
    "CLIP's image preprocessing: the folder's own processor (folder) or OpenAI's centre-crop rounding, as CLIP-Dissect (openai)",
  )
    .choices(['folder', 'openai'])
    .default('folder');
}

/**
 * `--layers a,b`: the layers named, trimmed, at least one, each once (a CLI error naming the
 * option otherwise). Shared by every command that selects layers.
 */
export function layerList(text: string): string[] {
  const layers = text
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  if (layers.length === 0)
    throw new CliError('--layers: name at least one layer, e.g. --layers layer1,layer4');
  const twice = layers.find((layer, i) => layers.indexOf(layer) !== i);
  if (twice !== undefined) throw new CliError(`--layers: ${twice} is named twice; name each layer once`);
  return layers;
}
