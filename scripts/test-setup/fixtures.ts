import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A package that keeps test data other packages' tests read. */
export type FixtureOwner = 'core' | 'eval' | 'model-io' | 'runtime-node';

/**
 * A path under `packages/<owner>/test/fixtures/`. Test data stays with the package whose code it was
 * made for, beside the notes on where it came from (SOURCE.md, THIRD_PARTY_NOTICES.md); the tests
 * of other packages reach it through this function, so each such use names the package it reads.
 */
export function fixturePath(owner: FixtureOwner, ...parts: string[]): string {
  return join(root, 'packages', owner, 'test', 'fixtures', ...parts);
}

/** OpenAI CLIP's BPE vocabulary (`bpe_simple_vocab_16e6.txt.gz`), as @neurodissect/runtime-node ships it. */
export const CLIP_BPE_VOCABULARY = join(root, 'packages/runtime-node/assets/bpe_simple_vocab_16e6.txt.gz');
