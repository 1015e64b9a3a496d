// The platform-neutral part of runtime-node (no `node:*`, onnxruntime or sharp), published as
// `@neurodissect/runtime-node/portable` so runtime-web and bundlers can share it: the tokenizer,
// Pillow-exact preprocessing, activation summaries, and the ONNX graph reading both runtimes do
// before opening a session (exposing layers, finding a CLIP tower's inputs and outputs).
export * from './activation-summary';
export * from './clip-preprocess-config';
export * from './clip-tokenizer';
export * from './clip-tower-io';
export * from './closest-names';
export * from './image-preprocess';
export * from './onnx-graph';
