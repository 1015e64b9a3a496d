export * from './memory-feature-store';
