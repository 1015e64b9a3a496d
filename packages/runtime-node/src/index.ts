export * from './files';
export * from './matmul-kernel';
export * from './threaded-pmi-processor';
