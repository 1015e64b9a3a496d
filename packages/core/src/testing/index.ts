// `@neurodissect/core/testing`: conformance suites for runtimes and labelers (vitest, an optional
// peer dependency), and the labelers' fixture world.
export * from './labeler-conformance';
export * from './labeler-fixture-world';
export * from './pmi-oracle';
export * from './runtime-conformance';
