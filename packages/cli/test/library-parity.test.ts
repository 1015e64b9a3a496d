import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDissection, parseResults } from '@neurodissect/core';
import { createLabelersByName } from '@neurodissect/labelers';
import {
  contentHashOfFile,
  createImageFolderDataset,
  createNodeRuntime,
  DEFAULT_TARGET_PREPROCESSING,
  readConceptSetFile,
  targetPreprocessing,
} from '@neurodissect/runtime-node';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { cli, tempDir } from './helpers';

const fixtures = fixturePath('runtime-node');
const model = join(fixtures, 'resnet/narrow-resnet.onnx');
const clip = join(fixtures, 'clip/clip-openclip');

describe('the command line and the library, each with its defaults', () => {
  it('give the same activation for the same unit and image, and the same recorded inputs', {
    timeout: 120_000,
  }, async () => {
    const work = tempDir();
    const probe = join(work, 'probe');
    mkdirSync(probe);
    for (const name of ['brick.png', 'chessboard_RGB.png', 'coffee.png', 'hubble_deep_field.jpg'])
      copyFileSync(join(fixtures, 'preprocess', name), join(probe, name));
    const concepts = join(work, 'concepts.txt');
    writeFileSync(concepts, 'brick\nchessboard\ncoffee\nstars\n');
    const out = join(work, 'cli.json');
    const run = await cli(
      'dissect',
      '--model',
      model,
      '--layers',
      'layer4',
      '--clip',
      clip,
      '--probe',
      probe,
      '--concepts',
      concepts,
      '--labelers',
      'clip-avg',
      '--no-cache',
      '--out',
      out,
    );
    expect(run.code).toBe(0);
    const fromCli = parseResults(readFileSync(out, 'utf8'));

    const runtime = await createNodeRuntime();
    const target = await runtime.loadTargetModel({ uri: model });
    const clipModel = await runtime.loadClipModel({ uri: clip });
    try {
      const fromLibrary = await createDissection({
        // The helpers' results go in as they are: a sha256:… hash, a named concept set.
        target: {
          model: target,
          name: 'narrow-resnet.onnx',
          hash: await contentHashOfFile(model),
          ...targetPreprocessing(),
        },
        layers: ['layer4'],
        clip: { model: clipModel, name: 'clip-openclip', hash: 'sha256:01' },
        probe: await createImageFolderDataset({ root: probe }),
        concepts: await readConceptSetFile(concepts),
        labelers: createLabelersByName(['clip-avg']),
        kernels: runtime,
      }).run();
      expect(fromLibrary.model.hash).toBe(fromCli.model.hash);
      expect(fromLibrary.concepts.name).toBe(fromCli.concepts.name);
      expect(fromLibrary.run.parameters?.preprocessing).toEqual(fromCli.run.parameters?.preprocessing);
      expect(fromCli.run.parameters?.preprocessing).toMatchObject({ resizeShorter: 256, crop: 224 });
      expect(DEFAULT_TARGET_PREPROCESSING).toMatchObject({
        resizeShorter: 256,
        crop: 224,
        interpolation: 'bilinear',
      });
      const activations = (r: typeof fromCli) =>
        r.layers[0].neurons.map((n) => n.topImages.map((t) => [r.probe.images[t.image].id, t.activation]));
      expect(activations(fromLibrary)).toEqual(activations(fromCli));
    } finally {
      await Promise.all([target.dispose(), clipModel.dispose(), runtime.dispose()]);
    }
  });
});
