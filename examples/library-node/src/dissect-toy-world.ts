// Dissects the toy world's layer4 with CLIP-Dissect and NetDissect, writes the Results, and prints
// each labeler's best concept for the first units. Usage: node dist/dissect-toy-world.js [OUT_DIR]
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDissection, parseConceptSet, parseResults } from '@neurodissect/core';
import { createLabelersByName } from '@neurodissect/labelers';
import {
  createBrodenDataset,
  createNodeRuntime,
  preprocessBatch,
  preprocessConfigFor,
} from '@neurodissect/runtime-node';
import { toyWorldVocabulary } from '@neurodissect/toyworld';
import { toyWorldModelPaths, writeToyWorld } from '@neurodissect/toyworld/node';

const out = process.argv[2] ?? 'toy-world-dissection';
const world = join(out, 'world');
await mkdir(out, { recursive: true });
await writeToyWorld(world, { seed: 0, count: 200 }); // a Broden-format probe set with exact masks

const models = toyWorldModelPaths();
const runtime = await createNodeRuntime();
const target = await runtime.loadTargetModel({ uri: models.targetModel });
const clip = await runtime.loadClipModel({ uri: models.clipDir });
try {
  const dissection = createDissection({
    target: {
      model: target,
      name: 'toy-resnet',
      hash: 'sha256:00',
      preprocessing: 'imagenet-64',
      prepare: (images) => preprocessBatch(images, preprocessConfigFor('imagenet', 64)),
    },
    layers: ['layer4'],
    clip: { model: clip, name: 'toy CLIP', hash: 'sha256:01' },
    probe: await createBrodenDataset({ root: world }),
    concepts: { ...parseConceptSet(toyWorldVocabulary().join('\n')), name: 'toy world vocabulary' },
    labelers: createLabelersByName(['clip-dissect', 'netdissect']), // CLIP-Dissect: soft-WPMI
    kernels: runtime,
  });
  const results = await dissection.run();
  const file = join(out, 'results.json');
  await writeFile(file, JSON.stringify(results));
  // Read back as any consumer of the format would: validated against the Results schema.
  const read = parseResults(JSON.stringify(results));
  const layer = read.layers[0];
  console.log(`wrote ${file}: ${layer.name}, ${layer.neurons.length} units`);
  for (const neuron of layer.neurons.slice(0, 4)) {
    const best = Object.entries(neuron.labels).map(
      ([labeler, labels]) => `${labeler}: ${labels[0]?.label ?? '-'}`,
    );
    console.log(`unit ${neuron.unit}  ${best.join('  ')}`);
  }
} finally {
  await Promise.all([target.dispose(), clip.dispose(), runtime.dispose()]);
}
