import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Labeler } from '@neurodissect/core';
import { CliError } from './cli-error';
import { requireInputFile } from './files';

/** How a labeler file is named among a spec's labeler names: `file:` and its absolute path. */
export const LABELER_FILE_PREFIX = 'file:';

const REQUIREMENTS = new Set(['activations', 'clip', 'annotations', 'activation-maps']);

/** `--labeler FILE`, checked and named as a spec names it. */
export function labelerFileName(path: string): string {
  requireInputFile(path, '--labeler', 'labeler module (.mjs or .js)');
  return `${LABELER_FILE_PREFIX}${resolve(path)}`;
}

/**
 * The labeler a `--labeler` file makes: the module's default export is a factory
 * `(options) => Labeler` (core's `Labeler` interface), called with the options every labeler of
 * the run shares (`topLabels`, `similarity`, …). Its shape is checked before any work.
 */
export async function loadLabelerFile(name: string, options: Record<string, unknown>): Promise<Labeler> {
  const path = name.slice(LABELER_FILE_PREFIX.length);
  const fail = (why: string): never => {
    throw new CliError(`--labeler ${path}: ${why}`);
  };
  let module: { default?: unknown };
  try {
    module = await import(pathToFileURL(path).href);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return fail(
      `cannot load it as a JavaScript module (${reason}); give an ES module (.mjs) or CommonJS file`,
    );
  }
  const factory = module.default;
  if (typeof factory !== 'function') {
    return fail(
      'its default export is not a factory; write `export default function (options) { return { id, version, requires, options, label } }`',
    );
  }
  let made: unknown;
  try {
    made = await factory({ ...options });
  } catch (error) {
    return fail(`its factory threw: ${error instanceof Error ? error.message : String(error)}`);
  }
  const labeler = made as Partial<Labeler> | null;
  if (labeler === null || typeof labeler !== 'object') return fail('its factory returned no Labeler object');
  if (typeof labeler.id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(labeler.id))
    return fail(
      'its labeler needs an id (letters, digits, ".", "_" or "-"), the key of its labels in the Results',
    );
  if (typeof labeler.version !== 'string' || labeler.version === '')
    return fail(`labeler ${labeler.id} needs a version (a string, e.g. "1")`);
  if (!Array.isArray(labeler.requires) || labeler.requires.some((r) => !REQUIREMENTS.has(r as string)))
    return fail(
      `labeler ${labeler.id}: requires must list what it needs, any of ${[...REQUIREMENTS].join(', ')}`,
    );
  if (typeof labeler.label !== 'function')
    return fail(`labeler ${labeler.id} needs a label(context) method returning each neuron's ranked labels`);
  if (labeler.options !== undefined && (labeler.options === null || typeof labeler.options !== 'object'))
    return fail(`labeler ${labeler.id}: options must be a plain object (they are recorded in the Results)`);
  // A labeler without options records none; its methods stay its own.
  return labeler.options === undefined
    ? Object.assign(Object.create(labeler) as Labeler, { options: {} })
    : (labeler as Labeler);
}
