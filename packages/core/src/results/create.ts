import { RESULTS_FORMAT, RESULTS_VERSION, type Results } from './schema';

/** What {@link createResults} needs; the rest gets defaults. */
export type ResultsInit = Omit<Results, 'format' | 'version' | 'failures' | 'labelers'> &
  Partial<Pick<Results, 'failures' | 'labelers'>>;

/** Builds a current-version Results document (not validated: call `parseResults` to check). */
export function createResults(init: ResultsInit): Results {
  return {
    format: RESULTS_FORMAT,
    version: RESULTS_VERSION,
    ...init,
    labelers: init.labelers ?? [],
    failures: init.failures ?? [],
  } as Results;
}
