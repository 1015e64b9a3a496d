/**
 * Building blocks the `@neurodissect/*` packages share with each other and nobody else needs: the
 * soft-WPMI engine's block kernel and memory planning (runtime-node runs them in worker threads),
 * the layered and partial scoring entry points (the CLI's `score`, the CLIP-Dissect labeler's
 * distributed parts), argument checks. Not covered by semantic versioning: use the root entry
 * point, `@neurodissect/core`, in your own code.
 * @packageDocumentation
 */
export {
  accumulatePmiBlock,
  createPmiMemory,
  instantiatePmiKernel,
  type PmiKernelExports,
  type PmiMemoryLayout,
  planPmiMemory,
  pmiKernelBytes,
} from './kernels/pmi-wasm';
export { softmaxRowInto } from './math/softmax';
export { type ColumnTopK, type ColumnTopKAccumulator, createColumnTopK } from './math/top-k';
export { prefetched } from './pipeline/prefetch';
export { checkInteger, checkNumber, withTopKDefault } from './similarity/options';
export {
  buildSlotIndex,
  createSyncWasmPmiProcessor,
  mergePmiSums,
  mergePriorPartials,
  type PlanPmiOptions,
  type PmiLayerInput,
  type PmiLayersPlan,
  type PmiParameters,
  type PmiPart,
  type PmiStreamTimings,
  type PmiTimings,
  type PriorPartial,
  planPmiLayers,
  pmiCoefficients,
  pmiPartScores,
  pmiPriorPartial,
  pmiScoresFromStrided,
  pmiScoresWithPrior,
  resolvePmiParameters,
  type ScorePmiLayersOptions,
  type SlotIndex,
  type StreamPmiOptions,
  type SyncPmiBlockProcessor,
  scorePmiLayers,
  scorePmiPart,
  scorePmiSync,
  softMembershipWeights,
  streamPmi,
  writeBlockRows,
} from './similarity/pmi-engine';
