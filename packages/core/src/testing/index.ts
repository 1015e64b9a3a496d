// `@neurodissect/core/testing`: conformance suites for runtimes (vitest, an optional peer dependency).
export * from './runtime-conformance';
