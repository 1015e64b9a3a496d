// `neurodissect score` end to end beside the reference, on the same .npy files, in the same run:
// wall time and peak RSS of each process (GNU time), every score compared.
//
//   node packages/cli/bench/score-command.mjs --images 20000 --concepts 20000 --layers 512
//   node packages/cli/bench/score-command.mjs --images 63305 --concepts 20000 --layers 256,512,1024,2048
//   node packages/cli/bench/score-command.mjs --images 63305 --concepts 20000 --layers 256,512,1024,2048 --null-overhead
//
// --null-overhead times `score --null 0` beside `score --null 1000` (the permutation null's cost)
// and reads the p- and q-values of every neuron (inputs are noise: about 5% of p below 0.05, and
// almost no q below 0.05, is what calibration means), for soft_wpmi and wpmi (--fns).
//
// The reference is CLIP-Dissect's own similarity.py run by Debian's torch (/usr/bin/python3) when
// --reference DIR (or NEURODISSECT_REFERENCE_DIR) names a checkout of its repository; otherwise
// the reference formulation in Node (packages/cli/bench/reference-formulation.mjs).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createMatrix,
  createRandom,
  matrixToTensor,
  parseDescriptionsCsv,
  parseNpy,
  serializeNpy,
} from '@neurodissect/core';
import { measured as measure } from './measure.mjs';

const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '20000' },
    concepts: { type: 'string', default: '20000' },
    dim: { type: 'string', default: '512' },
    layers: { type: 'string', default: '512' },
    reference: { type: 'string', default: process.env.NEURODISSECT_REFERENCE_DIR },
    threads: { type: 'string', default: '2' },
    json: { type: 'string' },
    keep: { type: 'string' },
    'ours-only': { type: 'boolean', default: false },
    'null-overhead': { type: 'boolean', default: false },
    fns: { type: 'string', default: 'soft_wpmi,wpmi' },
  },
});
const N = Number(args.images);
const M = Number(args.concepts);
const D = Number(args.dim);
const sizes = args.layers.split(',').map(Number);
const root = new URL('../../../', import.meta.url).pathname;
const work = args.keep ?? mkdtempSync(join(tmpdir(), 'neurodissect-score-bench-'));
mkdirSync(work, { recursive: true });

/**
 * Activations without ties: each column a random permutation of evenly spaced values. With ties
 * among a neuron's top images, torch.topk and neurodissect order them differently (neurodissect:
 * lower image index first), so the tied images trade membership weights and the scores of that
 * neuron differ by up to about 1e-2 while both are right.
 */
function writeActivations(name, rows, cols, seed) {
  const random = createRandom(seed);
  const m = createMatrix(rows, cols);
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  for (let c = 0; c < cols; c++) {
    for (let i = rows - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    for (let i = 0; i < rows; i++) m.data[i * cols + c] = (order[i] + 0.5) / rows;
  }
  const path = join(work, name);
  writeFileSync(path, serializeNpy(matrixToTensor(m)));
  return path;
}

function writeRandom(name, rows, cols, seed) {
  const random = createRandom(seed);
  const m = createMatrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = random() * 2 - 1;
  const path = join(work, name);
  writeFileSync(path, serializeNpy(matrixToTensor(m)));
  return path;
}

const measured = (label, command) => measure(label, command, { cwd: root, work });

const readScores = (path) => {
  const t = parseNpy(readFileSync(path));
  return { rows: t.dims[0], cols: t.dims[1], data: t.data };
};

try {
  console.log(
    `inputs: N=${N} images, M=${M} concepts, D=${D}, layers ${sizes.join('/')} (uniform random embeddings, tie-free activations)`,
  );
  const imageEmb = writeRandom('I.npy', N, D, 1);
  const textEmb = writeRandom('T.npy', M, D, 2);
  const layers = sizes.map((K, l) => ({
    name: `layer${l + 1}`,
    file: writeActivations(`A${l + 1}.npy`, N, K, 100 + l),
  }));
  const activationArgs = layers.flatMap((layer) => ['--activations', `${layer.name}=${layer.file}`]);
  if (args['null-overhead']) {
    const concepts = join(work, 'concepts.txt');
    writeFileSync(concepts, `${Array.from({ length: M }, (_, m) => `concept${m}`).join('\n')}\n`);
    const report = { images: N, concepts: M, dim: D, layers: sizes, functions: [] };
    for (const fn of args.fns.split(',')) {
      const run = (label, extra) => {
        const out = join(work, label);
        mkdirSync(out, { recursive: true });
        return measured(label, [
          'node',
          'packages/cli/bin/neurodissect.mjs',
          'score',
          '--fn',
          fn,
          '--image-emb',
          imageEmb,
          '--text-emb',
          textEmb,
          ...activationArgs,
          '--out',
          out,
          ...extra,
        ]);
      };
      const without = run(`${fn}-null0`, ['--null', '0']);
      const labels = join(work, `${fn}-descriptions.csv`);
      const withNull = run(`${fn}-null1000`, ['--null', '1000', '--concepts', concepts, '--labels', labels]);
      const rows = parseDescriptionsCsv(readFileSync(labels, 'utf8'));
      const share = (pick) => rows.filter((r) => pick(r) < 0.05).length / rows.length;
      const entry = {
        fn,
        neurons: rows.length,
        withoutNull: without,
        withNull,
        overhead: Number((withNull.wallSeconds / without.wallSeconds - 1).toFixed(3)),
        cpuOverhead: Number((withNull.cpuSeconds / without.cpuSeconds - 1).toFixed(3)),
        pBelow005: Number(share((r) => r.pValue).toFixed(4)),
        qBelow005: Number(share((r) => r.qValue).toFixed(4)),
      };
      report.functions.push(entry);
      console.log(
        `${fn}: score --null 0 ${without.wallSeconds} s, ${without.peakRssMiB} MiB | --null 1000 ${withNull.wallSeconds} s, ${withNull.peakRssMiB} MiB → the null adds ${(100 * entry.overhead).toFixed(1)}% wall time, ${(100 * entry.cpuOverhead).toFixed(1)}% CPU time (${without.cpuSeconds} → ${withNull.cpuSeconds} CPU s); on noise p < 0.05 for ${(100 * entry.pBelow005).toFixed(2)}% and q < 0.05 for ${(100 * entry.qBelow005).toFixed(2)}% of ${rows.length} neurons`,
      );
    }
    if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2));
    if (!args.keep) rmSync(work, { recursive: true, force: true });
    process.exit(0);
  }
  const oursOut = join(work, 'ours');
  const refOut = join(work, 'reference');
  mkdirSync(refOut, { recursive: true });

  const ours = measured('ours', [
    'node',
    'packages/cli/bin/neurodissect.mjs',
    'score',
    '--fn',
    'soft_wpmi',
    '--image-emb',
    imageEmb,
    '--text-emb',
    textEmb,
    ...(layers.length === 1 ? ['--activations', layers[0].file] : activationArgs),
    '--out',
    layers.length === 1 ? join(oursOut, `${layers[0].name}.npy`) : oursOut,
  ]);
  if (args['ours-only']) {
    console.log(
      `neurodissect score: ${ours.wallSeconds} s, peak RSS ${ours.peakRssMiB} MiB, CPU ${ours.cpu}`,
    );
    if (!args.keep) rmSync(work, { recursive: true, force: true });
    process.exit(0);
  }
  const official = args.reference && existsSync(join(args.reference, 'similarity.py'));
  // Both references read the same files and write NAME.npy per layer into refOut.
  const files = ['--image-emb', imageEmb, '--text-emb', textEmb, ...activationArgs, '--out', refOut];
  const reference = measured(
    'reference',
    official
      ? [
          '/usr/bin/python3',
          'packages/cli/bench/reference_similarity.py',
          '--reference',
          args.reference,
          '--threads',
          args.threads,
          ...files,
        ]
      : ['node', 'packages/cli/bench/reference-formulation.mjs', ...files],
  );

  let neurons = 0;
  let sameLabel = 0;
  // Neurons whose top two concepts (in the reference) are further apart than the tolerance: for
  // the others the reference's own float32 rounding can decide the top label.
  let decided = 0;
  let sameLabelDecided = 0;
  let withinTolerance = 0;
  let worst = 0;
  for (const layer of layers) {
    const a = readScores(join(oursOut, `${layer.name}.npy`));
    const b = readScores(join(refOut, `${layer.name}.npy`));
    let maxAbs = 0;
    for (const v of b.data) maxAbs = Math.max(maxAbs, Math.abs(v));
    const tolerance = 1e-3 + 1e-4 * maxAbs;
    for (let k = 0; k < a.rows; k++) {
      let ba = 0;
      let bb = 0;
      let ok = true;
      for (let m = 0; m < a.cols; m++) {
        const i = k * a.cols + m;
        const diff = Math.abs(a.data[i] - b.data[i]);
        worst = Math.max(worst, diff / tolerance);
        if (!(diff <= tolerance)) ok = false;
        if (a.data[i] > a.data[k * a.cols + ba]) ba = m;
        if (b.data[i] > b.data[k * a.cols + bb]) bb = m;
      }
      let second = Number.NEGATIVE_INFINITY;
      for (let m = 0; m < a.cols; m++) if (m !== bb) second = Math.max(second, b.data[k * a.cols + m]);
      neurons++;
      if (ba === bb) sameLabel++;
      if (b.data[k * a.cols + bb] - second > tolerance) {
        decided++;
        if (ba === bb) sameLabelDecided++;
      }
      if (ok) withinTolerance++;
    }
  }
  const report = {
    images: N,
    concepts: M,
    dim: D,
    layers: sizes,
    neurons,
    ours: { command: 'neurodissect score', ...ours },
    reference: {
      command: official ? "CLIP-Dissect's similarity.py (torch, CPU)" : 'reference formulation (Node)',
      threads: official ? Number(args.threads) : undefined,
      ...reference,
    },
    speedup: Number((reference.wallSeconds / ours.wallSeconds).toFixed(2)),
    memoryRatio: Number((reference.peakRssMiB / ours.peakRssMiB).toFixed(2)),
    sameTopLabel: sameLabel,
    decidedNeurons: decided,
    sameTopLabelDecided: sameLabelDecided,
    withinTolerance,
    worstDifferenceOverTolerance: Number(worst.toFixed(3)),
  };
  console.log(
    `neurodissect score: ${ours.wallSeconds} s, peak RSS ${ours.peakRssMiB} MiB, CPU ${ours.cpu} | ${report.reference.command}: ` +
      `${reference.wallSeconds} s, ${reference.peakRssMiB} MiB, CPU ${reference.cpu} → ${report.speedup}× faster, ${report.memoryRatio}× less memory; ` +
      `same top label for ${sameLabel}/${neurons} neurons (${sameLabelDecided}/${decided} of those whose top two concepts differ by more than the tolerance), every score within 1e-3 + 1e-4·max|x| for ${withinTolerance}/${neurons} (worst ${report.worstDifferenceOverTolerance} of the tolerance)`,
  );
  if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2));
} finally {
  if (!args.keep) rmSync(work, { recursive: true, force: true });
}
