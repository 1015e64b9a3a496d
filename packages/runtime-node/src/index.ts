// The platform-neutral model I/O (tokenizer, preprocessing, ONNX graph editing) lives in
// @neurodissect/model-io, shared with runtime-web; it is re-exported here for runtime-node's users.
export * from '@neurodissect/model-io';
export * from './activation-summary';
export * from './broden-dataset';
export * from './clip-model';
export * from './clip-model-files';
export * from './clip-tokenizer-files';
export * from './content-hash';
export * from './file-feature-store';
export * from './files';
export * from './grounding-dino';
export * from './image-decode';
export * from './image-folder-dataset';
export * from './matmul-kernel';
export * from './node-runtime';
export * from './probe-images';
export * from './sam';
export * from './target-model';
export * from './threaded-pmi-processor';
