import { existsSync } from 'node:fs';
import { isNeurodissectError, type LayerInfo } from '@neurodissect/core';
import { createTargetModel, type NodeTargetModel } from '@neurodissect/runtime-node';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliIo } from '../io';
import { integer } from '../option-parsers';

/** Options of `neurodissect layers`, as parsed. */
export interface LayersCommandOptions {
  model: string;
  json?: boolean;
  inputSize: number;
  /** `--no-run` sets it to false. */
  run: boolean;
}

/**
 * Shapes the graph does not record, measured by running one blank `[1, 3, size, size]` image
 * (the batch dimension is reported as `batch`, as exporters name it).
 */
async function measureShapes(
  model: NodeTargetModel,
  layers: readonly LayerInfo[],
  size: number,
  io: CliIo,
): Promise<Map<string, (number | string)[]>> {
  const shapes = new Map<string, (number | string)[]>();
  const unknown = layers.filter((l) => !l.shape).map((l) => l.name);
  if (unknown.length === 0) return shapes;
  try {
    const blank = {
      dtype: 'float32' as const,
      dims: [1, 3, size, size],
      data: new Float32Array(3 * size * size),
    };
    for (const [name, tensor] of await model.run(blank, unknown))
      shapes.set(name, ['batch', ...tensor.dims.slice(1)]);
  } catch (error) {
    if (!isNeurodissectError(error)) throw error;
    io.stderr.write(
      `note: shapes the graph does not record are unknown: a [1, 3, ${size}, ${size}] input failed; pass --input-size N for the model's input side\n`,
    );
  }
  return shapes;
}

/** `neurodissect layers`: the layers of an ONNX model that `--layers` can select, with shapes. */
export async function layersCommand(o: LayersCommandOptions, io: CliIo): Promise<void> {
  if (!existsSync(o.model)) throw new CliError(`--model: file not found: ${o.model}`);
  if (o.inputSize < 1)
    throw new CliError(`--input-size: ${o.inputSize} is not a positive integer; use e.g. 224`);
  let model: NodeTargetModel;
  try {
    model = await createTargetModel({ model: o.model });
  } catch (error) {
    if (isNeurodissectError(error)) throw new CliError(`--model: ${error.message}`);
    throw error;
  }
  try {
    const listed = model.listLayers();
    const measured = o.run ? await measureShapes(model, listed, o.inputSize, io) : new Map();
    const layers = listed.map((l) => {
      const shape = l.shape ?? measured.get(l.name);
      return shape ? { name: l.name, tensor: l.tensor, shape } : { name: l.name, tensor: l.tensor };
    });
    if (o.json) {
      io.stdout.write(`${JSON.stringify(layers, null, 2)}\n`);
      return;
    }
    const rows = layers.map((l) => [l.name, l.shape ? `[${l.shape.join(', ')}]` : '?', l.tensor]);
    const widths = [0, 1].map((c) => Math.max(5, ...rows.map((r) => r[c].length)));
    const line = (r: string[]) => `${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2]}\n`;
    io.stdout.write(line(['layer', 'shape', 'tensor']));
    for (const row of rows) io.stdout.write(line(row));
  } finally {
    await model.dispose();
  }
}

/** Adds `layers` to the program. */
export function registerLayersCommand(program: Command, io: CliIo): void {
  program
    .command('layers')
    .description(
      'List the layers of an ONNX model that --layers can select (module paths), with their tensors and shapes.',
    )
    .requiredOption('--model <file>', 'the model (.onnx)')
    .option('--json', 'print a JSON array of { name, tensor, shape }')
    .option(
      '--input-size <n>',
      'side of the blank image run once to measure the shapes the graph does not record',
      integer,
      224,
    )
    .option('--no-run', 'only the shapes the graph records (? for the others); the model is not run')
    .action(async (options: LayersCommandOptions) => {
      await layersCommand(options, io);
    });
}
