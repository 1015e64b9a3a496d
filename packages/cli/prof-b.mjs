import { readFileSync } from 'node:fs';
import {
  parseNpy,
  scorePmiLayers,
  similarityFromEmbeddings,
  tensorToMatrix,
  topKPerColumn,
} from '@neurodissect/core';
import { createOrtMatmulKernel, createThreadedPmiProcessor } from '@neurodissect/runtime-node';

const read = (p) => tensorToMatrix(parseNpy(readFileSync(p), p, { shareMemory: true }));
let t = performance.now();
const I = read('/tmp/diagB/I.npy'),
  T = read('/tmp/diagB/T.npy');
const layers = [];
let readMs = 0,
  topMs = 0;
for (let l = 1; l <= 4; l++) {
  let t1 = performance.now();
  const A = read(`/tmp/diagB/A${l}.npy`);
  readMs += performance.now() - t1;
  t1 = performance.now();
  layers.push({ name: `l${l}`, top: topKPerColumn(A, 100) });
  topMs += performance.now() - t1;
}
const kernel = createOrtMatmulKernel();
t = performance.now();
const timings = await scorePmiLayers(similarityFromEmbeddings(I, T, { kernel }), layers, {
  processor: createThreadedPmiProcessor(),
  overlap: false,
  onLayer: () => {},
});
console.log({ readMs, topMs, score: performance.now() - t, ...timings });
await kernel.dispose();
