import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { importClipSearchCsv, type Results } from '@neurodissect/core';

const fixtures = fileURLToPath(new URL('../../core/test/fixtures/clip-search/', import.meta.url));

/** The four layers of the report website's clip-search CSVs (3,840 neurons × 10 labels), as Results. */
export function loadClipSearch(): Results {
  return importClipSearchCsv(
    [1, 2, 3, 4].map((n) => ({
      layer: `layer${n}`,
      text: readFileSync(`${fixtures}layer${n}.csv`, 'utf8'),
      source: `layer${n}.csv`,
    })),
    { createdAt: '2024-01-01T00:00:00Z' },
  );
}
