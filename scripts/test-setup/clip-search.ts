import { readFileSync } from 'node:fs';
import { importClipSearchCsv, type Results } from '../../packages/core/src/index';
import { fixturePath } from './fixtures';

/**
 * The four layers of the report website's clip-search CSVs (3,840 neurons × 10 labels; core's
 * fixtures, see packages/core/THIRD_PARTY_NOTICES.md), imported as Results.
 */
export function loadClipSearch(): Results {
  return importClipSearchCsv(
    [1, 2, 3, 4].map((n) => ({
      layer: `layer${n}`,
      text: readFileSync(fixturePath('core', 'clip-search', `layer${n}.csv`), 'utf8'),
      source: `layer${n}.csv`,
    })),
    { createdAt: '2024-01-01T00:00:00Z' },
  );
}
