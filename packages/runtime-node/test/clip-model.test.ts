import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ErrorCode, isNeurodissectError, type Matrix, type ProgressEvent } from '@neurodissect/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bundledClipVocabPath,
  clipTokenizerJsonFromBpe,
  decodeImage,
  loadClipModel,
  type NodeClipModel,
  PREPROCESS_PRESETS,
  preprocessImage,
} from '../src/index';

const fixtures = join(import.meta.dirname, 'fixtures');
const clipFixtures = join(fixtures, 'clip');

interface Reference {
  images: string[];
  tensors: string[];
  imageEmbeds: number[][];
  texts: string[];
  inputIds: number[][];
  textEmbeds: number[][];
}
const reference = JSON.parse(await readFile(join(clipFixtures, 'reference.json'), 'utf8')) as Reference;

function maxAbsDiff(actual: Matrix, expected: number[][]): number {
  expect([actual.rows, actual.cols]).toEqual([expected.length, expected[0].length]);
  return expected.flat().reduce((m, v, i) => Math.max(m, Math.abs(actual.data[i] - v)), 0);
}

async function goldenPixels() {
  const plane = 3 * 224 * 224;
  const data = new Float32Array(reference.tensors.length * plane);
  for (const [i, file] of reference.tensors.entries()) {
    const bytes = await readFile(join(fixtures, 'preprocess', file));
    data.set(
      new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
      i * plane,
    );
  }
  return { dtype: 'float32' as const, dims: [reference.tensors.length, 3, 224, 224], data };
}

let scratch: string;
let hfDir: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'nd-clip-'));
  // The Hugging Face fixture lacks tokenizer.json (2 MB); write it from the bundled vocabulary.
  hfDir = join(scratch, 'clip-hf');
  await cp(join(clipFixtures, 'clip-hf'), hfDir, { recursive: true });
  const bpe = gunzipSync(await readFile(bundledClipVocabPath())).toString('utf8');
  await writeFile(join(hfDir, 'tokenizer.json'), JSON.stringify(clipTokenizerJsonFromBpe(bpe)));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe.each([
  ['huggingface', () => hfDir, { input: 'pixel_values', output: 'image_embeds' }],
  ['openclip', () => join(clipFixtures, 'clip-openclip'), { input: 'image', output: 'image_features' }],
] as const)('CLIP %s layout against torch', (layout, dir, imageIo) => {
  let model: NodeClipModel;
  beforeAll(async () => {
    model = await loadClipModel(dir(), { batchSize: 3 });
  });
  afterAll(async () => {
    await model.dispose();
    await model.dispose();
  });

  it('detects the layout and reads names and sizes from the graphs', () => {
    expect(model.layout).toBe(layout);
    expect(model.dim).toBe(16);
    expect(model.io.image).toEqual(imageIo);
    expect(model.io.text).toEqual(
      layout === 'huggingface'
        ? { input: 'input_ids', attentionMask: 'attention_mask', output: 'text_embeds' }
        : { input: 'text', output: 'text_features' },
    );
    // Hugging Face's image processor centre-crops with floor division, torchvision with round().
    expect(model.preprocess).toEqual(
      layout === 'huggingface'
        ? { ...PREPROCESS_PRESETS.clip, cropRounding: 'floor' }
        : PREPROCESS_PRESETS.clip,
    );
    expect(model.executionProvider).toBe('cpu');
  });

  it('embeds the golden preprocessed tensors as torch does, within 1e-4', async () => {
    const embeds = await model.embedPixels(await goldenPixels());
    expect(maxAbsDiff(embeds, reference.imageEmbeds)).toBeLessThan(1e-4);
  });

  it('embeds decoded images in batches as torch does, within 1e-4, reporting progress', async () => {
    const images = await Promise.all(
      reference.images.map((file) => decodeImage(join(fixtures, 'preprocess', file))),
    );
    const events: ProgressEvent[] = [];
    const embeds = await model.embedImages([...images, ...images.slice(0, 2)], {
      onProgress: (e) => events.push(e),
    });
    expect(maxAbsDiff(embeds, [...reference.imageEmbeds, ...reference.imageEmbeds.slice(0, 2)])).toBeLessThan(
      1e-4,
    );
    expect(events.map((e) => [e.stage, e.done, e.total])).toEqual([
      ['embed-images', 3, 6],
      ['embed-images', 6, 6],
    ]);
  });

  it('tokenizes and embeds texts as torch does (truncating past 77 tokens), within 1e-4', async () => {
    expect(reference.texts.map((t) => model.tokenizer.encodePadded(t))).toEqual(reference.inputIds);
    const embeds = await model.embedTexts(reference.texts);
    expect(maxAbsDiff(embeds, reference.textEmbeds)).toBeLessThan(1e-4);
    expect((await model.embedTexts([])).rows).toBe(0);
  });

  it('runs each batch of texts only up to its longest text where the graph allows, with the 77-token embeddings', async () => {
    // The Hugging Face export has a dynamic sequence axis; the OpenCLIP one is fixed at 77.
    expect(model.textPadding).toBe(layout === 'huggingface' ? 'batch' : 'context');
    const texts = [
      ...reference.texts,
      'a',
      'striped',
      'polka dots',
      'a photo of a small red triangle next to a big blue square',
      'dog',
      'the quick brown fox',
    ];
    const full = await loadClipModel(dir(), { batchSize: 3, textPadding: 'context' });
    expect(full.textPadding).toBe('context');
    const expected = await full.embedTexts(texts);
    await full.dispose();
    const events: ProgressEvent[] = [];
    const bucketed = await model.embedTexts(texts, { onProgress: (e) => events.push(e) });
    expect(
      maxAbsDiff(
        bucketed,
        Array.from({ length: texts.length }, (_, i) =>
          Array.from(expected.data.subarray(i * 16, (i + 1) * 16)),
        ),
      ),
    ).toBeLessThan(1e-5);
    expect(events.at(-1)).toMatchObject({ stage: 'embed-texts', done: texts.length, total: texts.length });
  });

  it('stops on an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await model.embedTexts(['dog'], { signal: controller.signal }).catch((e: unknown) => e);
    expect(isNeurodissectError(error, ErrorCode.Aborted)).toBe(true);
  });
});

describe('CLIP model directories', () => {
  it('names the files a Hugging Face directory lacks', async () => {
    const error = await loadClipModel(join(clipFixtures, 'clip-hf')).catch((e: unknown) => e);
    expect(isNeurodissectError(error, ErrorCode.MissingModelFile)).toBe(true);
    expect((error as Error).message).toContain('Hugging Face layout but lacks tokenizer.json');
  });

  it('names the files an OpenCLIP directory lacks, and both layouts for an empty one', async () => {
    const partial = join(scratch, 'openclip-partial');
    await mkdir(partial);
    await cp(join(clipFixtures, 'clip-openclip/visual.onnx'), join(partial, 'visual.onnx'));
    const error = await loadClipModel(partial).catch((e: unknown) => e);
    expect(isNeurodissectError(error, ErrorCode.MissingModelFile)).toBe(true);
    expect((error as Error).message).toContain('OpenCLIP layout but lacks textual.onnx');

    const empty = join(scratch, 'empty');
    await mkdir(empty);
    const none = await loadClipModel(empty).catch((e: unknown) => e);
    expect(isNeurodissectError(none, ErrorCode.MissingModelFile)).toBe(true);
    expect((none as Error).message).toMatch(/onnx\/vision_model\.onnx.*visual\.onnx/);

    const missing = await loadClipModel(join(scratch, 'nope')).catch((e: unknown) => e);
    expect(isNeurodissectError(missing, ErrorCode.FileNotFound)).toBe(true);
  });

  it('records a provider fallback, and refuses it when strict', async () => {
    const dir = join(clipFixtures, 'clip-openclip');
    const model = await loadClipModel(dir, { executionProviders: ['tensorrt', 'cpu'] });
    expect(model.executionProvider).toBe('cpu');
    expect(model.fallbacks.map((f) => f.provider)).toEqual(['tensorrt']);
    await model.dispose();
    const error = await loadClipModel(dir, { executionProviders: ['tensorrt', 'cpu'], strict: true }).catch(
      (e: unknown) => e,
    );
    expect(isNeurodissectError(error, ErrorCode.ExecutionProviderUnavailable)).toBe(true);
  });

  it('refuses preprocessing that does not fit the image tower', async () => {
    const error = await loadClipModel(join(clipFixtures, 'clip-openclip'), {
      preprocess: { ...PREPROCESS_PRESETS.clip, resizeShorter: 256, crop: 256 },
    }).catch((e: unknown) => e);
    expect(isNeurodissectError(error, ErrorCode.ShapeMismatch)).toBe(true);
    expect((error as Error).message).toContain('[batch, 3, 224, 224]');
  });
});

// The toy world's small CLIP (Hugging Face layout), once packages/toyworld ships it.
const toyworldModels = join(import.meta.dirname, '../../toyworld/models');
const toyworldClip = [
  toyworldModels,
  ...(await readdir(toyworldModels).catch(() => [])).map((d) => join(toyworldModels, d)),
].find((dir) => existsSync(join(dir, 'onnx/vision_model.onnx')));
describe('toy world CLIP', () => {
  it.skipIf(!toyworldClip)('loads and embeds an image and a text', async () => {
    const model = await loadClipModel(toyworldClip!);
    expect(model.layout).toBe('huggingface');
    const image = await decodeImage(join(fixtures, 'preprocess/coffee.png'));
    const images = await model.embedImages([image]);
    const texts = await model.embedTexts(['a red circle']);
    expect([images.rows, images.cols, texts.rows, texts.cols]).toEqual([1, model.dim, 1, model.dim]);
    expect([...images.data, ...texts.data].every(Number.isFinite)).toBe(true);
    await model.dispose();
  });
});

describe("OpenAI's crop rounding on request", () => {
  it('preprocesses a Hugging Face folder with half-even rounding when asked, and only then', async () => {
    // 227×224: a 3-pixel horizontal margin, split 1 + 2 by Hugging Face (floor) and 2 + 1 by
    // OpenAI's CLIP (round half to even). Columns get distinct colours so the shift shows.
    const width = 227;
    const data = new Uint8Array(width * 224 * 3);
    for (let p = 0; p < width * 224; p++) {
      const x = p % width;
      data.set([(x * 37) % 256, (x * 91) % 256, (x * 13) % 256], p * 3);
    }
    const image = { width, height: 224, data };
    const folder = await loadClipModel(hfDir);
    const openai = await loadClipModel(hfDir, { cropRounding: 'half-even' });
    try {
      expect(folder.preprocess.cropRounding).toBe('floor');
      expect(openai.preprocess).toEqual({ ...folder.preprocess, cropRounding: 'half-even' });
      const pixels = (cropRounding: 'half-even' | 'floor') => {
        const tensor = preprocessImage(image, { ...folder.preprocess, cropRounding });
        return { ...tensor, dims: [1, ...tensor.dims] };
      };
      const [fromFolder, fromOpenai] = [await folder.embedImages([image]), await openai.embedImages([image])];
      const close = (a: Matrix, b: Matrix) =>
        Array.from(a.data).every((v, i) => Math.abs(v - b.data[i]) < 1e-6);
      expect(close(fromOpenai, await openai.embedPixels(pixels('half-even')))).toBe(true);
      expect(close(fromFolder, await folder.embedPixels(pixels('floor')))).toBe(true);
      expect(close(fromFolder, fromOpenai)).toBe(false);
    } finally {
      await Promise.all([folder.dispose(), openai.dispose()]);
    }
  });
});
