// The platform-neutral part of runtime-node (no `node:*`, onnxruntime or sharp), published as
// `@neurodissect/runtime-node/portable` so runtime-web and bundlers can share it.
export * from './activation-summary';
export * from './clip-tokenizer';
export * from './image-preprocess';
