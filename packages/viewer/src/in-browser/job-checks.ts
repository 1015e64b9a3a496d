import { ErrorCode, NeurodissectError } from '@neurodissect/core';
import type { InBrowserJob } from './protocol';

/** The largest toy world the page generates. */
export const MAX_TOY_WORLD_IMAGES = 20_000;

/** An `ND_INVALID_OPTION` error naming the part of the job (`details.field`) it concerns. */
export function invalidJobField(field: string, message: string): NeurodissectError<'ND_INVALID_OPTION'> {
  return new NeurodissectError(ErrorCode.InvalidOption, message, { details: { field } });
}

/**
 * The checks every in-browser job passes before any work: the page's form runs them to say what is
 * missing, the worker runs them again on what it receives. `details.field` names the part of the
 * job (`layers`, `labelers`, `concepts`, `probe`).
 * @throws `ND_INVALID_OPTION` naming the first problem.
 */
export function checkInBrowserJob(job: InBrowserJob): void {
  if (!job.layers.length) throw invalidJobField('layers', 'Name at least one layer, e.g. layer4.');
  if (!job.labelers.length) throw invalidJobField('labelers', 'Choose at least one labeler.');
  if (!job.concepts.trim())
    throw invalidJobField('concepts', 'The concept list is empty; write one concept per line.');
  if (job.probe.kind === 'toyworld') {
    const { seed, count } = job.probe;
    if (!Number.isInteger(seed) || seed < 0)
      throw invalidJobField('probe', 'The toy world seed must be a whole number ≥ 0.');
    if (!Number.isInteger(count) || count < 1 || count > MAX_TOY_WORLD_IMAGES)
      throw invalidJobField(
        'probe',
        'The number of toy-world images must be a whole number from 1 to 20,000.',
      );
  } else if (!job.probe.files.length) {
    throw invalidJobField('probe', 'Pick a folder of probe images.');
  }
}
