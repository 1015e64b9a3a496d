export {
  loadWebClipModel,
  type WebClipModel,
  type WebClipModelFiles,
  type WebClipModelOptions,
} from './clip-model';
export { type DecodeImageOptions, decodeImage, loadPreprocessedImage } from './image-decode';
export {
  createIndexedDbFeatureStore,
  type IndexedDbFeatureStoreOptions,
  type WebFeatureStore,
} from './indexeddb-feature-store';
export { createMemoryFeatureStore } from './memory-feature-store';
export { describeSource, fetchOptional, type ModelSource, readSourceBytes } from './model-source';
export { createWebTargetModel, type WebTargetModel, type WebTargetModelOptions } from './target-model';
export {
  createFileDataset,
  createUrlDataset,
  type FileDatasetOptions,
  type PickedFile,
  pickedFile,
  type UrlDatasetOptions,
  type WebProbeDataset,
} from './web-datasets';
export {
  createWebRuntime,
  type WebRuntime,
  type WebRuntimeCapabilities,
  type WebRuntimeOptions,
  type WebTargetModelSource,
} from './web-runtime';
export type { ProviderFallback, WebExecutionProvider, WebSessionOptions } from './web-session';
