// Soft-WPMI at scale from embeddings: the streaming engine (onnxruntime products + SIMD kernel in
// worker threads) on synthetic data of the real sizes, and optionally the reference formulation
// (materialise P and its softmax, then gather each neuron's rows) in the same process.
//
//   node bench/pmi-scale.mjs --images 63305 --concepts 20000 --dim 512 --layers 256,512,1024,2048
//   node bench/pmi-scale.mjs --images 20000 --concepts 20000 --layers 512 --compare
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import {
  createColumnTopK,
  createMatrix,
  createRandom,
  normalizeRows,
  pmiScoresFromStrided,
  SOFT_WPMI_DEFAULTS,
  scorePmiLayers,
  similarityFromEmbeddings,
} from '@neurodissect/core';
import { createOrtMatmulKernel, createThreadedPmiProcessor } from '@neurodissect/runtime-node';

const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '20000' },
    concepts: { type: 'string', default: '20000' },
    dim: { type: 'string', default: '512' },
    layers: { type: 'string', default: '512' },
    threads: { type: 'string', default: String(availableParallelism()) },
    'block-rows': { type: 'string', default: '256' },
    compare: { type: 'boolean', default: false },
    'no-overlap': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const N = Number(args.images);
const M = Number(args.concepts);
const D = Number(args.dim);
const layerSizes = args.layers.split(',').map(Number);
const threads = Number(args.threads);
const { topK, a, lambda, minProb, pStart, pEnd } = SOFT_WPMI_DEFAULTS;
const rssMiB = () => process.resourceUsage().maxRSS / 1024;
const seconds = (ms) => (ms / 1000).toFixed(2);

function randomMatrix(rows, cols, seed) {
  const random = createRandom(seed);
  const m = createMatrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = random() * 2 - 1;
  return m;
}

// Inputs: embeddings, and per layer the top-k of synthetic activations taken while streaming
// row blocks (as a dissection run does), so the N×K activations are never held.
const images = randomMatrix(N, D, 1);
const texts = randomMatrix(M, D, 2);
const layers = layerSizes.map((K, l) => {
  const acc = createColumnTopK(K, topK);
  const random = createRandom(100 + l);
  const block = createMatrix(1024, K);
  for (let start = 0; start < N; start += 1024) {
    const rows = Math.min(1024, N - start);
    const view = createMatrix(rows, K, block.data.subarray(0, rows * K));
    for (let i = 0; i < view.data.length; i++) view.data[i] = random();
    acc.add(view, start);
  }
  return { name: `layer${l + 1}`, top: acc.finish() };
});
const inputRss = rssMiB();

const kernel = createOrtMatmulKernel();
const argmax = new Map();
const started = performance.now();
const timings = await scorePmiLayers(similarityFromEmbeddings(images, texts, { kernel }), layers, {
  blockRows: Number(args['block-rows']),
  overlap: !args['no-overlap'],
  processor: createThreadedPmiProcessor({ threads }),
  onLayer: (name, scores) => {
    const best = new Int32Array(scores.rows);
    for (let k = 0; k < scores.rows; k++) {
      let b = 0;
      for (let m = 1; m < scores.cols; m++)
        if (scores.data[k * scores.cols + m] > scores.data[k * scores.cols + b]) b = m;
      best[k] = b;
    }
    argmax.set(name, best);
  },
});
const oursMs = performance.now() - started;
const oursRss = rssMiB();
const neurons = layerSizes.reduce((x, y) => x + y, 0);

// The floor: the same matrix products alone (every needed row of P, nothing else).
const productStarted = performance.now();
const normalizedImages = normalizeRows(createMatrix(N, D, images.data.slice()));
const normalizedTexts = normalizeRows(createMatrix(M, D, texts.data.slice()));
for (let start = 0; start < N; start += 256) {
  const rows = Math.min(256, N - start);
  await kernel(
    createMatrix(rows, D, normalizedImages.data.subarray(start * D, (start + rows) * D)),
    normalizedTexts,
  );
}
const productMs = performance.now() - productStarted;

const report = {
  images: N,
  concepts: M,
  dim: D,
  layers: layerSizes,
  neurons,
  threads,
  neededImages: timings.neededImages,
  wallSeconds: Number(seconds(oursMs)),
  breakdownSeconds: {
    waitingForProducts: Number(seconds(timings.similarities)),
    softmaxAndAccumulate: Number(seconds(timings.accumulate)),
    finish: Number(seconds(timings.finish)),
  },
  matrixProductAloneSeconds: Number(seconds(productMs)),
  peakRssMiB: Math.round(oursRss),
  inputsRssMiB: Math.round(inputRss),
};

if (args.compare) {
  // The reference formulation (CLIP-Dissect's similarity.py), same inputs, same product kernel:
  // P = Î·T̂ᵀ in full, softmax(a·P) in full, then per neuron gather its top-k rows and sum logs.
  const refStarted = performance.now();
  const P = new Float32Array(N * M);
  for (let start = 0; start < N; start += 256) {
    const rows = Math.min(256, N - start);
    const block = await kernel(
      createMatrix(rows, D, normalizedImages.data.subarray(start * D, (start + rows) * D)),
      normalizedTexts,
    );
    P.set(block.data, start * M);
  }
  const refProductMs = performance.now() - refStarted;
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
  let mismatches = 0;

  for (const layer of layers) {
    const K = layer.top.columns;
    const sums = new Float64Array(K * M);
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < topK; j++) {
        const w = pStart - (j / topK) * (pStart - pEnd);
        const row = layer.top.indices[k * topK + j] * M;
        for (let m = 0; m < M; m++) sums[k * M + m] += Math.log(1 + w * (P[row + m] - 1) + minProb);
      }
    }
    const scores = pmiScoresFromStrided({ data: sums, stride: M }, 0, K, M, lambda);
    const best = argmax.get(layer.name);
    for (let k = 0; k < K; k++) {
      let b = 0;
      for (let m = 1; m < M; m++) if (scores.data[k * M + m] > scores.data[k * M + b]) b = m;
      if (b !== best[k]) mismatches++;
    }
  }
  const refMs = performance.now() - refStarted;
  report.reference = {
    wallSeconds: Number(seconds(refMs)),
    matrixProductSeconds: Number(seconds(refProductMs)),
    peakRssMiB: Math.round(rssMiB()),
    speedup: Number((refMs / oursMs).toFixed(2)),
    memoryRatio: Number((rssMiB() / oursRss).toFixed(2)),
    argmaxMismatches: mismatches,
  };
}
await kernel.dispose();

if (args.json) {
  console.log(JSON.stringify(report));
} else {
  console.log(
    `soft-WPMI N=${N} M=${M} D=${D} layers=${layerSizes.join('/')} (${neurons} neurons), ${threads} threads: ` +
      `${report.wallSeconds} s, peak RSS ${report.peakRssMiB} MiB ` +
      `(products alone ${report.matrixProductAloneSeconds} s; waiting for products ${report.breakdownSeconds.waitingForProducts} s, ` +
      `softmax+accumulate ${report.breakdownSeconds.softmaxAndAccumulate} s, finish ${report.breakdownSeconds.finish} s)`,
  );
  if (report.reference) {
    const r = report.reference;
    console.log(
      `  reference formulation, same process and inputs: ${r.wallSeconds} s (products ${r.matrixProductSeconds} s), peak RSS ${r.peakRssMiB} MiB → ` +
        `${r.speedup}× faster, ${r.memoryRatio}× less memory; top label differs for ${r.argmaxMismatches} of ${neurons} neurons`,
    );
  }
}
