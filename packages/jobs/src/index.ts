export * from './coordinator';
export * from './node-environment';
export * from './queue';
export * from './worker';
