export * from './clip-preprocess-config';
export * from './clip-tokenizer';
export * from './clip-tower-io';
export * from './closest-names';
export * from './image-preprocess';
export * from './onnx-graph';
export * from './onnx-proto';
export * from './session-target-model';
