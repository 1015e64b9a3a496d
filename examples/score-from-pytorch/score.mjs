// Scores neurons with the library (the same job as the CLI line in package.json) and checks the
// result against the reference implementation's output for the same features.
import { rankLabels, softWpmi, tensorToMatrix } from '@neurodissect/core';
import { readConceptSetFile, readNpyFile } from '@neurodissect/runtime-node';

const here = new URL('.', import.meta.url).pathname;
const activations = tensorToMatrix(await readNpyFile(`${here}data/activations.npy`));
const clip = tensorToMatrix(await readNpyFile(`${here}data/clip-sim.npy`));
const reference = tensorToMatrix(await readNpyFile(`${here}data/reference-soft-wpmi.npy`));
const { concepts } = await readConceptSetFile(`${here}data/concepts.txt`);

const started = performance.now();
const scores = softWpmi(clip, activations); // reference defaults: topK 100, a 10, lambda 1
const elapsed = performance.now() - started;

let maxDiff = 0;
let sameArgmax = 0;
const ours = rankLabels(scores, concepts, 3);
const theirs = rankLabels(reference, concepts, 1);
for (let i = 0; i < scores.data.length; i++)
  maxDiff = Math.max(maxDiff, Math.abs(scores.data[i] - reference.data[i]));
ours.forEach((labels, k) => {
  if (labels[0].concept === theirs[k][0].concept) sameArgmax++;
});

console.log(
  `soft-WPMI of ${activations.cols} neurons × ${concepts.length} concepts over ${activations.rows} images in ${elapsed.toFixed(1)} ms`,
);
for (const k of [0, 1, 2]) {
  console.log(`  neuron ${k}: ${ours[k].map((l) => `${l.label} (${l.score.toFixed(3)})`).join(', ')}`);
}
console.log(
  `vs the reference implementation: max |Δ| = ${maxDiff.toExponential(2)}, same top label for ${sameArgmax}/${scores.rows} neurons`,
);
if (sameArgmax !== scores.rows || maxDiff > 1e-3 + 1e-4 * 70) process.exitCode = 1;
