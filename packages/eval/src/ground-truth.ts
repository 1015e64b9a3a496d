import { ErrorCode, NeurodissectError } from '@neurodissect/core';
import { z } from 'zod';
import { groundTruthFromRows, parseGroundTruthCsv } from './ground-truth-csv';
import type { GroundTruth, GroundTruthEntry, GroundTruthOptions } from './ground-truth-types';

export type { GroundTruth, GroundTruthEntry, GroundTruthOptions };

/** A ground-truth entry in JSON: `label` null, empty or a marker means non-interpretable. */
export const GroundTruthEntrySchema = z.object({
  layer: z.string().min(1),
  unit: z.number().int().nonnegative(),
  label: z.string().nullable(),
});

/** A ground truth in JSON: an array of entries, or `{ "neurons": [...] }`. */
export const GroundTruthJsonSchema = z.union([
  z.array(GroundTruthEntrySchema),
  z.object({ neurons: z.array(GroundTruthEntrySchema) }),
]);

/**
 * Parses a ground truth: CSV `layer,unit,label` (unit 0-based; an empty label or a marker means
 * non-interpretable) or JSON (see {@link GroundTruthJsonSchema}). Problems are `ND_INVALID_FORMAT`
 * errors naming the file and line (CSV) or JSON path; a neuron listed twice is a problem. Comment
 * lines (`#`) before the CSV's header are skipped; the one the site's label mode writes
 * (see {@link formatGroundTruthCsv}) becomes {@link GroundTruth.annotation}.
 */
export function parseGroundTruth(text: string, options: GroundTruthOptions = {}): GroundTruth {
  const format = options.format ?? (/^\s*[[{]/.test(text.replace(/^\ufeff/, '')) ? 'json' : 'csv');
  if (format === 'csv') return parseGroundTruthCsv(text, options);
  const source = options.source ?? 'ground-truth';
  return groundTruthFromRows(readJson(text, source), source, options);
}

function readJson(text: string, source: string): GroundTruthEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new NeurodissectError(
      ErrorCode.InvalidFormat,
      `${source}: not valid JSON (${(error as Error).message}).`,
      {
        cause: error,
        details: { source },
      },
    );
  }
  const parsed = GroundTruthJsonSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new NeurodissectError(
      ErrorCode.InvalidFormat,
      `${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}; expected [{ "layer", "unit", "label" }, …].`,
      { details: { source, issues: parsed.error.issues } },
    );
  }
  const list = Array.isArray(parsed.data) ? parsed.data : parsed.data.neurons;
  return list.map((e) => ({ layer: e.layer.trim(), unit: e.unit, label: e.label }));
}

/** A ground truth's labels per layer and unit. */
export function truthByLayer(truth: GroundTruth | undefined): Map<string, Map<number, string | null>> {
  const layers = new Map<string, Map<number, string | null>>();
  for (const entry of truth?.entries ?? []) {
    let units = layers.get(entry.layer);
    if (!units) {
      units = new Map();
      layers.set(entry.layer, units);
    }
    units.set(entry.unit, entry.label);
  }
  return layers;
}
