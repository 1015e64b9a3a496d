import { join } from 'node:path';
import { afterAll, bench, describe } from 'vitest';
import { createTargetModel, decodeImage, loadClipModel, preprocessBatch } from '../src/index';

// Throughput of the committed fixture models on this machine's CPU provider: the narrow ResNet
// (test/fixtures/resnet) and the CLIP-shaped towers (test/fixtures/clip). Each operation handles
// BATCH images (or texts), so images/s = BATCH × the reported hz.
const BATCH = 16;
const fixtures = join(import.meta.dirname, '../test/fixtures');
const files = ['coffee.png', 'chessboard_RGB.png', 'brick.png', 'hubble_deep_field.jpg'];
const decoded = await Promise.all(files.map((f) => decodeImage(join(fixtures, 'preprocess', f))));
const images = Array.from({ length: BATCH }, (_, i) => decoded[i % decoded.length]);
const texts = Array.from({ length: BATCH }, (_, i) => `a photo of a thing number ${i}`);

const clip = await loadClipModel(join(fixtures, 'clip/clip-openclip'), { batchSize: BATCH });
const resnet = await createTargetModel({ model: join(fixtures, 'resnet/narrow-resnet.onnx') });
const layers = ['layer1', 'layer2', 'layer3', 'layer4'];
const pixels = preprocessBatch(images, 'imagenet');
const clipPixels = preprocessBatch(images, clip.preprocess);
// Few iterations: the machine is small and shared; the figures are for orders of magnitude.
const options = { time: 500, iterations: 5, warmupIterations: 1 };
await resnet.run(pixels, layers); // exposes the layers once, outside the timing

afterAll(async () => {
  await Promise.all([clip.dispose(), resnet.dispose()]);
});

describe(`CLIP-shaped fixture (${BATCH} per op)`, () => {
  bench(
    'embedImages: clip preprocessing + image tower',
    async () => {
      await clip.embedImages(images);
    },
    options,
  );
  bench(
    'embedPixels: image tower only',
    async () => {
      await clip.embedPixels(clipPixels);
    },
    options,
  );
  bench(
    'embedTexts: tokenizer + text tower',
    async () => {
      await clip.embedTexts(texts);
    },
    options,
  );
});

describe(`narrow ResNet fixture, layer1-4 spatial means (${BATCH} per op)`, () => {
  bench(
    'imagenet preprocessing + activations',
    async () => {
      await resnet.runSummarized(preprocessBatch(images, 'imagenet'), layers);
    },
    options,
  );
  bench(
    'activations only',
    async () => {
      await resnet.runSummarized(pixels, layers);
    },
    options,
  );
  bench(
    'imagenet preprocessing only',
    () => {
      preprocessBatch(images, 'imagenet');
    },
    options,
  );
});
