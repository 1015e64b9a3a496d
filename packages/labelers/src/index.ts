export * from './clip-avg';
export * from './clip-dissect';
