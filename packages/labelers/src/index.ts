export * from './broden-label';
export * from './by-name';
export * from './clip-avg';
export * from './clip-dissect';
export * from './netdissect';
export * from './sam-grounding-dino';
