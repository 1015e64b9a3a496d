import { type NeuronRelationView, neuronRelationViews } from '@neurodissect/core';
import { createSearchIndex, type NeuronView } from '@neurodissect/search';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliIo } from '../io';
import { integer } from '../option-parsers';
import { asCliError, readResultsFile } from '../results-reader';

/** Options of `neurodissect neuron`, as parsed. */
export interface NeuronCommandOptions {
  results: string;
  layer: string;
  unit: number;
  json?: boolean;
}

/** The text report: the neuron's ranked labels per labeler, its top images, and any issues. */
export function formatNeuronText(neuron: NeuronView): string {
  const lines = [`${neuron.layer} unit ${neuron.unit}`];
  for (const [labeler, labels] of Object.entries(neuron.labels)) {
    lines.push(`labels (${labeler}):`);
    const width = String(labels.length).length;
    labels.forEach((scored, i) => {
      lines.push(`  ${String(i + 1).padStart(width)}. ${scored.label}  ${scored.score.toFixed(4)}`);
    });
  }
  if (Object.keys(neuron.labels).length === 0) lines.push('labels: none');
  lines.push(`top images (${neuron.topImages.length}):`);
  const width = String(neuron.topImages.length).length;
  neuron.topImages.forEach((image, i) => {
    const activation =
      image.activation === undefined ? '' : `  activation ${image.activation.toPrecision(4)}`;
    lines.push(`  ${String(i + 1).padStart(width)}. ${image.uri}${activation}`);
  });
  for (const issue of neuron.issues) lines.push(`issue: ${issue}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The neuron's relations in words: per other layer, the units it fires with, most correlated
 * first ("driven with" the layer before, "drives with" a layer after), with their labels.
 */
export function formatRelationsText(relations: readonly NeuronRelationView[]): string {
  const lines: string[] = [];
  for (const relation of relations) {
    lines.push(`${relation.direction === 'from' ? 'driven with' : 'drives with'} ${relation.layer}:`);
    const width = String(relation.units.length).length;
    relation.units.forEach((related, i) => {
      const label = related.label === undefined ? '' : ` ${related.label}`;
      lines.push(
        `  ${String(i + 1).padStart(width)}. ${related.layer} #${related.unit}${label}  r = ${related.r.toFixed(2)}`,
      );
    });
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** `neurodissect neuron`: prints one neuron's labels and top images. */
export async function neuronCommand(o: NeuronCommandOptions, io: CliIo): Promise<void> {
  if (o.unit < 0) throw new CliError(`--unit: must be 0 or more, got ${o.unit}`);
  const results = await readResultsFile(o.results, '--results');
  const neuron = asCliError(() => createSearchIndex(results).neuron(o.layer, o.unit));
  const relations = neuronRelationViews(results, o.layer, o.unit);
  io.stdout.write(
    o.json
      ? `${JSON.stringify(relations.length > 0 ? { ...neuron, relations } : neuron, null, 2)}\n`
      : formatNeuronText(neuron) + formatRelationsText(relations),
  );
}

/** Adds `neuron` to the program. */
export function registerNeuronCommand(program: Command, io: CliIo): void {
  program
    .command('neuron')
    .description(
      'Show one neuron: its ranked labels per labeler with scores, its top images, and the units of other layers it fires with.',
    )
    .requiredOption('--results <file>', 'the Results document (.json)')
    .requiredOption('--layer <name>', 'the layer, e.g. layer4')
    .requiredOption('--unit <n>', 'the unit (0-based)', integer)
    .option('--json', 'print the neuron as JSON')
    .action(async (options: NeuronCommandOptions) => {
      await neuronCommand(options, io);
    });
}
