import { createRandom } from '@neurodissect/core';
import { bench, describe } from 'vitest';
import { loadClipSearch } from '../../../scripts/test-setup/clip-search';
import { createSearchIndex } from '../src/index';

// The report website's four clip-search layers: 3,840 neurons × 10 labels, 3,787 distinct labels.
const results = loadClipSearch();
const index = createSearchIndex(results);

// Semantic search needs concept embeddings; random 512-d vectors (CLIP ViT-B's width) stand in for
// CLIP text embeddings here, since only the cost of the scan is measured.
const random = createRandom(7);
const vectors = new Map<string, Float32Array>();
for (const label of index.vocabulary) {
  vectors.set(
    label,
    Float32Array.from({ length: 512 }, () => random() - 0.5),
  );
}
const semanticIndex = createSearchIndex(results, { embeddings: { vectors } });

describe('build', () => {
  bench('createSearchIndex (4 layers, 38,400 labels)', () => {
    createSearchIndex(results);
  });
  bench('createSearchIndex with 3,787 × 512 concept embeddings', () => {
    createSearchIndex(results, { embeddings: { vectors } });
  });
});

describe('query (all 4 layers)', () => {
  bench('exact "striped"', () => {
    index.search('striped');
  });
  bench('stem "stripes"', () => {
    index.search('stripes', { match: 'stem' });
  });
  bench('fuzzy "stirped" (max distance 1)', () => {
    index.search('stirped', { match: 'fuzzy' });
  });
  bench('fuzzy "checkerbord" (max distance 2)', () => {
    index.search('checkerbord', { match: 'fuzzy' });
  });
  bench('semantic "zebra" (10 nearest of 3,787 concepts, 512-d)', () => {
    semanticIndex.search('zebra', { match: 'semantic' });
  });
  bench('neuron lookup layer4/1802', () => {
    index.neuron('layer4', 1802);
  });
  bench('similar neurons of layer4/1802', () => {
    index.similarNeurons('layer4', 1802);
  });
  bench('layer summary layer4', () => {
    index.layerSummary('layer4');
  });
});
