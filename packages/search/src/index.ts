// Re-exported from @neurodissect/core, where they now live.
export { boundedEditDistance, closestNames, describeChoices } from '@neurodissect/core';
export type { ConceptEmbeddings, NearConcept, Vector } from './concept-embeddings';
export { defaultMaxDistance } from './edit-distance';
export type {
  InterpretabilityCount,
  LabelFrequency,
  LayerSummary,
  LayerSummaryOptions,
  ScoreHistogram,
} from './layer-summary';
export {
  createSearchIndex,
  HIT_ORDERS,
  type HitOrder,
  type LayerHits,
  MATCH_MODES,
  type MatchedLabel,
  type MatchMode,
  type NeuronImage,
  type NeuronView,
  type SearchHit,
  type SearchIndex,
  type SearchIndexOptions,
  type SearchOptions,
  type SearchResult,
} from './search-index';
export { isSignificant, SIGNIFICANCE_LEVEL } from './significance';
export type { SimilarNeuron, SimilarNeuronsOptions } from './similar-neurons';
export { stemLabel } from './stem-label';
