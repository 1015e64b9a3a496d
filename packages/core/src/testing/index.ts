// `@neurodissect/core/testing`: conformance suites for runtimes and labelers (vitest, an optional
// peer dependency), the labelers' fixture world, the scoring oracle and a comparison of scores at
// the parity tests' tolerance, and a builder of small Results documents.
export * from './compare-scores';
export * from './labeler-conformance';
export * from './labeler-fixture-world';
export * from './pmi-oracle';
export * from './results-fixture';
export * from './runtime-conformance';
