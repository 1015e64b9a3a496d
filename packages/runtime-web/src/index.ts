export * from './clip-model';
export * from './image-decode';
export * from './indexeddb-feature-store';
export * from './memory-feature-store';
export * from './model-source';
export * from './target-model';
export * from './web-datasets';
export * from './web-runtime';
export type { ProviderFallback, WebExecutionProvider, WebSessionOptions } from './web-session';
