// The reference formulation of soft-WPMI (CLIP-Dissect's similarity.py) in Node, for machines
// without a copy of the reference: P = Î·T̂ᵀ and softmax(a·P) in full (N×M), then each neuron's
// top-k rows gathered and their logs summed in float64. Writes NAME.npy per layer into --out.
//
//   node packages/cli/bench/reference-formulation.mjs --image-emb I.npy --text-emb T.npy \
//       --activations layer1=A1.npy [--activations ...] --out DIR
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  matrixToTensor,
  normalizeRows,
  parseNpy,
  SOFT_WPMI_DEFAULTS,
  serializeNpy,
  tensorToMatrix,
  topKPerColumn,
} from '@neurodissect/core';
import { pmiScoresFromStrided } from '@neurodissect/core/internal';
import { createOrtMatmulKernel } from '@neurodissect/runtime-node';

const { values: args } = parseArgs({
  options: {
    'image-emb': { type: 'string' },
    'text-emb': { type: 'string' },
    activations: { type: 'string', multiple: true },
    out: { type: 'string' },
  },
});
const read = (path) => tensorToMatrix(parseNpy(readFileSync(path)));
const images = normalizeRows(read(args['image-emb']));
const texts = normalizeRows(read(args['text-emb']));
const N = images.rows;
const M = texts.rows;
const { topK, a, lambda, minProb, pStart, pEnd } = SOFT_WPMI_DEFAULTS;
const kernel = createOrtMatmulKernel();
const P = new Float32Array(N * M);
for (let start = 0; start < N; start += 256) {
  const rows = Math.min(256, N - start);
  const block = await kernel(
    {
      rows,
      cols: images.cols,
      data: images.data.subarray(start * images.cols, (start + rows) * images.cols),
    },
    texts,
  );
  P.set(block.data, start * M);
}
await kernel.dispose();
for (let i = 0; i < N; i++) {
  let max = -Infinity;
  for (let m = 0; m < M; m++) max = Math.max(max, a * P[i * M + m]);
  let sum = 0;
  for (let m = 0; m < M; m++) {
    const e = Math.exp(a * P[i * M + m] - max);
    P[i * M + m] = e;
    sum += e;
  }
  for (let m = 0; m < M; m++) P[i * M + m] /= sum;
}
for (const spec of args.activations) {
  const [name, path] = [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)];
  const top = topKPerColumn(read(path), topK);
  const K = top.columns;
  const sums = new Float64Array(K * M);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < topK; j++) {
      const w = pStart - (j / topK) * (pStart - pEnd);
      const row = top.indices[k * topK + j] * M;
      for (let m = 0; m < M; m++) sums[k * M + m] += Math.log(1 + w * (P[row + m] - 1) + minProb);
    }
  }
  const scores = pmiScoresFromStrided({ data: sums, stride: M }, 0, K, M, lambda);
  writeFileSync(join(args.out, `${name}.npy`), serializeNpy(matrixToTensor(scores)));
}
