// @neurodissect/core's public surface, by topic. Building blocks the @neurodissect packages share
// with each other (the soft-WPMI engine's kernel, memory planning, partial sums) are in
// `@neurodissect/core/internal`, outside semantic versioning; test helpers in `/testing`.

// Concept sets.
export {
  type ConceptSet,
  conceptSetFromList,
  type DuplicateConcept,
  describeConceptSetChanges,
  MAX_CONCEPT_LENGTH,
  normalizeLabel,
  type ParseConceptSetOptions,
  parseConceptSet,
  parseConceptSetBytes,
} from './concepts';
// Errors, progress and cancellation, small text helpers, hashing.
export {
  type AnyNeurodissectError,
  disposedError,
  ErrorCode,
  type ErrorDetails,
  type ErrorDetailsByCode,
  isNeurodissectError,
  NeurodissectError,
  type NeurodissectErrorOptions,
} from './errors';
// The contracts runtimes, datasets, labelers and stores implement.
export type * from './interfaces';
// Reading and writing other tools' files: NumPy arrays, CSV, published results.
export {
  type ClipDissectImportOptions,
  importClipDissectCsv,
} from './io/clip-dissect-import';
export {
  type ClipSearchImportOptions,
  type ClipSearchLayerFile,
  IMPORTED_CLIP_DISSECT_ID,
  importClipSearchCsv,
} from './io/clip-search-csv';
export { type CsvRecord, formatCsv, formatCsvField, parseCsv } from './io/csv';
export { formatDescriptionsCsv, type NeuronDescription, parseDescriptionsCsv } from './io/descriptions-csv';
export { IMPORTED_MILAN_ID, importMilanCsv, type MilanImportOptions } from './io/milan-csv';
export {
  IMPORTED_NETDISSECT_ID,
  importNetDissectCsv,
  type NetDissectImportOptions,
} from './io/netdissect-csv';
export { type NpyHeader, type ParseNpyOptions, parseNpy, parseNpyHeader, serializeNpy } from './io/npy';
export { logSumExp } from './math/log-sum-exp';
export { type MatmulKernel, matmulTransposed } from './math/matmul';
export { createRandom, randomPermutation } from './math/random';
export { softmaxRows } from './math/softmax';
export { topKIndices, topKPerColumn } from './math/top-k';
// The pipeline: a dissection from a spec or from parts, its activation maps and heatmaps.
export {
  conceptSetHash,
  createDissection,
  type Dissection,
  type DissectionClip,
  type DissectionOptions,
  type DissectionTarget,
  type IndexRange,
  type LabelShardRange,
  probeContentHash,
  type ShardTraffic,
} from './pipeline/dissection';
export { heatmapDataUri } from './pipeline/heatmap';
export {
  activationMapSourceFromTensor,
  activationMapSourceOf,
  type MapLayout,
  mapLayoutOf,
  toActivationMaps,
} from './pipeline/map-source';
export {
  clipModelHash,
  createDissectionSpec,
  DISSECTION_SPEC_FORMAT,
  type DissectionEnvironment,
  type DissectionSpec,
  type DissectionSpecInput,
  DissectionSpecSchema,
  dissectionSpecId,
  type OpenDissectionOptions,
  type OpenedDissection,
  openDissection,
  PreprocessingSchema,
  parseDissectionSpec,
  type SpecPreprocessing,
} from './pipeline/spec';
export { type ActivationSummary, resolveSummary, summarizeActivations } from './pipeline/summarize';
export { sha256, type WasmMemory } from './platform';
export { type OperationOptions, type ProgressCallback, type ProgressEvent, throwIfAborted } from './progress';
// Relations between neurons: across layers of one model, and across models on one probe set.
export {
  COMPARISON_FORMAT,
  type ComparedDissection,
  type ComparedMatch,
  type CompareOptions,
  type Comparison,
  type ConceptOnlyIn,
  compareDissections,
  comparisonRefusal,
  type LabelsSideBySide,
  type LayerPairComparison,
  type SharedUnit,
  summaryFeatureKey,
  UNCHANGED_R,
  type UnitComparison,
} from './relations/compare';
export {
  bestMatches,
  type CorrelateLayersOptions,
  correlateLayers,
  type LayerCorrelation,
  type RelatedUnit,
  strongestRelations,
  type UnitMatch,
} from './relations/correlate';
export {
  type AttachRelationsOptions,
  attachRelations,
  checkRelationOptions,
  RELATION_DEFAULTS,
  type RelationOptions,
  relationPairs,
} from './relations/stage';
export { type NeuronRelationView, neuronRelationViews, type RelatedUnitView } from './relations/view';
// The Results document: one zod-validated, versioned format.
export { createResults, type ResultsInit } from './results/create';
export {
  parseResults,
  type ResultsIssue,
  type ResultsValidation,
  resultsJsonSchema,
  validateResults,
} from './results/parse';
export {
  ContentHashSchema,
  FailureSchema,
  type ImageEntry,
  ImageEntrySchema,
  type LabelerRun,
  LabelerRunSchema,
  type LabelTrust,
  LabelTrustSchema,
  LayerSchema,
  type LayerTrust,
  LayerTrustSchema,
  type NeuronRelation,
  NeuronRelationSchema,
  NeuronSchema,
  RESULTS_FORMAT,
  RESULTS_VERSION,
  type Results,
  type ResultsFailure,
  type ResultsLayer,
  type ResultsNeuron,
  ResultsSchema,
  ResultsV1Schema,
  ResultsV2Schema,
  type RunInfo,
  RunSchema,
  type ScoredLabel,
  ScoredLabelSchema,
  type TopImage,
  TopImageSchema,
} from './results/schema';
export { type ScoreQuantiles, type ScoreScale, scoreQuantiles, scoreScaleOf } from './results/score-scale';
// Scoring neurons against concepts: CLIP-Dissect's similarity functions.
export { cosSimilarity, cosSimilarityCubed, rankReorder, softWpmi, wpmi } from './similarity/functions';
export { rankLabels } from './similarity/labels';
export {
  COS_CUBED_DEFAULTS,
  type CosCubedOptions,
  RANK_REORDER_DEFAULTS,
  type RankReorderOptions,
  SIMILARITY_NAMES,
  type SimilarityName,
  type SimilarityOptionsByName,
  SOFT_WPMI_DEFAULTS,
  type SoftWpmiOptions,
  WPMI_DEFAULTS,
  type WpmiOptions,
} from './similarity/options';
export {
  createWasmPmiProcessor,
  isPmiFunction,
  type PmiBlockProcessor,
  type PmiFunction,
  type PmiPlan,
  type PmiProcessorFactory,
  type PmiSums,
} from './similarity/pmi-engine';
export { type ScoreOptions, scoreNeurons, scoreNeuronsSync } from './similarity/score';
export {
  type EmbeddingSourceOptions,
  type SimilaritySource,
  similarityFromEmbeddings,
  similarityFromMatrix,
} from './similarity/source';
// Tensors, matrices and the math the other packages share.
export {
  assertFinite,
  createMatrix,
  type DType,
  type DTypeArray,
  type Matrix,
  matrixFromRows,
  matrixRow,
  matrixToRows,
  matrixToTensor,
  normalizeRows,
  type Tensor,
  tensorToMatrix,
  transpose,
} from './tensor';
export { closestNames, describeChoices } from './text/closest-names';
export { boundedEditDistance } from './text/edit-distance';
// How far a label can be believed: permutation null, stability, held-out quality.
export {
  type LabelsWithTrust,
  type LayerTrustFigures,
  labelWithTrust,
  TRUST_DEFAULTS,
  type TrustOptions,
} from './trust/assess';
export {
  benjaminiHochberg,
  createPermutationNull,
  nullBestByChunks,
  nullTopK,
  type PermutationNull,
  type PermutationNullOptions,
  permutationPValues,
  pseudoActivations,
  quantile,
} from './trust/permutation-null';
export {
  bootstrapRows,
  derangement,
  foldAssignment,
  foldRows,
  originalRow,
  pearson,
  restrictContext,
  rowCounts,
  weightedTopKPerColumn,
} from './trust/resample';
