// The platform-neutral model I/O lives in @neurodissect/model-io, shared with runtime-web; what a
// runtime-node user needs of it (the CLIP tokenizer, Pillow-exact preprocessing, module paths of an
// ONNX graph) is re-exported here. Activation summaries are core's (`summarizeActivations`).
export {
  CLIP_CONTEXT_LENGTH,
  CLIP_END_OF_TEXT,
  CLIP_START_OF_TEXT,
  type ClipTokenBatch,
  type ClipTokenizer,
  type ClipTokenizerOptions,
  clipTokenizerJsonFromBpe,
  createClipTokenizer,
  type Interpolation,
  modulePathOfNode,
  type OnnxGraph,
  PREPROCESS_PRESETS,
  type PreprocessConfig,
  type PreprocessPreset,
  parseOnnxGraph,
  preprocessBatch,
  preprocessConfigFor,
  preprocessImage,
  resolvePreprocessConfig,
  type TextPadding,
} from '@neurodissect/model-io';
export {
  type BrodenAnnotations,
  type BrodenCategory,
  type BrodenCategoryCode,
  type BrodenDataset,
  type BrodenDatasetOptions,
  type BrodenLabel,
  type BrodenMask,
  createBrodenDataset,
} from './broden-dataset';
export { type ClipModelOptions, loadClipModel, type NodeClipModel } from './clip-model';
export {
  type ClipLayout,
  type ClipModelFiles,
  type DetectClipLayoutOptions,
  detectClipLayout,
  preprocessConfigFromHuggingFace,
  preprocessConfigFromOpenClip,
  readClipPreprocessConfig,
} from './clip-model-files';
export {
  bundledClipVocabPath,
  type LoadClipTokenizerOptions,
  loadClipTokenizer,
} from './clip-tokenizer-files';
export {
  contentHashOfFile,
  type FeatureKeyParts,
  featureKey,
  hashFile,
  hashProbeManifest,
  sha256Hex,
} from './content-hash';
export {
  createFileFeatureStore,
  type FileFeatureStore,
  type FileFeatureStoreOptions,
} from './file-feature-store';
export { readConceptSetFile, readNpyFile, writeFileAtomic, writeNpyFile } from './files';
export { type GroundingDinoDetector, type GroundingDinoOptions, loadGroundingDino } from './grounding-dino';
export {
  DEFAULT_MAX_PIXELS,
  type DecodeImageOptions,
  decodeImage,
  loadPreprocessedImage,
} from './image-decode';
export {
  checkDatasetIndex,
  createImageFolderDataset,
  type FileProbeDataset,
  type FileWarning,
  type ImageFolderDataset,
  type ImageFolderDatasetOptions,
  SKIPPED_NON_IMAGE,
} from './image-folder-dataset';
export { createOrtMatmulKernel, type OrtMatmulKernel, type OrtMatmulOptions } from './matmul-kernel';
export {
  createNodeRuntime,
  type NodeRuntime,
  type NodeRuntimeCapabilities,
  type NodeRuntimeOptions,
} from './node-runtime';
export { type ProbeImages, type ProbeReadFailure, readProbeImages } from './probe-images';
export { loadSam, type SamOptions, type SamSegmenter } from './sam';
export {
  createTargetModel,
  type ExecutionProvider,
  type NodeTargetModel,
  openSession,
  type SessionOptions,
  type TargetModelOptions,
} from './target-model';
export { DEFAULT_TARGET_PREPROCESSING, targetPreprocessing } from './target-preprocessing';
export { createThreadedPmiProcessor, type ThreadedPmiOptions } from './threaded-pmi-processor';
