export * from './clip-dissect';
