import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { heatmapDataUri, isNeurodissectError } from '@neurodissect/core';
import { createSearchIndex } from '@neurodissect/search';
import { toyWorldModelPaths } from '@neurodissect/toyworld/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureAppBundle } from '../../../scripts/test-setup/app-bundle';
import { buildSite } from '../src/build';
import { imageUrl, normalizeImageBase } from '../src/build/build-site';
import { assembleResults, SITE_DATA_CALLBACK, type SiteLayerData, type SiteManifest } from '../src/site-data';
import {
  clipSearchForSite,
  PNG_1X1,
  PNG_DATA_URI,
  smallResults,
  writeImages,
  XSS_LABEL,
} from './site-fixtures';

function temp(): string {
  return mkdtempSync(join(tmpdir(), 'neurodissect-site-'));
}

/** Runs a data file the way the browser does, returning what it passes to the callback. */
function readData<T>(site: string, key: string): T {
  let received: { key: string; data: unknown } | undefined;
  runInNewContext(readFileSync(join(site, 'data', `${key}.js`), 'utf8'), {
    [SITE_DATA_CALLBACK]: (k: string, data: unknown) => {
      received = { key: k, data };
    },
  });
  expect(received?.key).toBe(key);
  return received!.data as T;
}

/** An image root with img/0.png … img/3.png, and a Results folder with heat/0.png. */
function smallInputs(): { imageRoot: string; resultsDir: string } {
  const dir = temp();
  const imageRoot = join(dir, 'images');
  writeImages(imageRoot, ['img/0.png', 'img/1.png', 'img/3.png']);
  writeFileSync(join(dir, 'secret.png'), PNG_1X1);
  const resultsDir = join(dir, 'run');
  writeImages(resultsDir, ['heat/0.png']);
  return { imageRoot, resultsDir };
}

let appDir: string;
beforeAll(async () => {
  appDir = await ensureAppBundle();
});

describe('buildSite', () => {
  it('writes the app, the data split per layer, thumbnails and heatmaps', async () => {
    const out = join(temp(), 'site');
    const { imageRoot, resultsDir } = smallInputs();
    const made: [string, number][] = [];
    const progress: string[] = [];
    const report = await buildSite({
      results: smallResults(),
      outDir: out,
      imageRoot,
      resultsDir,
      appDir,
      thumbnailer: {
        extension: 'webp',
        create: async (path, size) => {
          made.push([path.slice(imageRoot.length + 1), size]);
          return new Uint8Array([1, 2, 3]);
        },
      },
      onProgress: (e) => progress.push(`${e.stage} ${e.done}/${e.total}`),
    });

    expect(report.files).toEqual([
      'app.css',
      'app.js',
      'data/layer-0.js',
      'data/layer-1.js',
      'data/site.js',
      'heatmaps/0.png',
      'index.html',
      'thumbs/0.webp',
      'thumbs/1.webp',
      'thumbs/3.webp',
    ]);
    for (const file of report.files) expect(existsSync(join(out, file)), file).toBe(true);
    expect(made.sort()).toEqual([
      ['img/0.png', 112],
      ['img/1.png', 112],
      ['img/3.png', 112],
    ]);
    expect([...readFileSync(join(out, 'thumbs', '0.webp'))]).toEqual([1, 2, 3]);
    expect(readFileSync(join(out, 'heatmaps', '0.png'))).toEqual(PNG_1X1);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('<title>small &lt;model&gt;</title>');
    expect(report.images).toEqual({
      shown: 5,
      thumbnails: 3,
      remote: 0,
      missingCount: 2,
      missing: [
        { uri: 'img/2.png', reason: 'not found under the image root' },
        { uri: '../secret.png', reason: 'the path leaves the image root' },
      ],
    });
    expect(report.heatmaps).toEqual({ kept: 2, dropped: 1 });
    expect(progress).toEqual(['thumbnails 5/5', 'site-data 1/2', 'site-data 2/2']);

    const manifest = readData<SiteManifest>(out, 'site');
    expect(manifest.layers.map((l) => [l.name, l.key, l.neurons, l.unitList])).toEqual([
      ['conv', 'layer-0', 3, [0, 1, 3]],
      ['fc', 'layer-1', 1, [0]],
    ]);
    // Labeler "a" publishes no thresholds: its scores are shown by their quantiles, not counted
    // against soft-WPMI's.
    expect(manifest.layers[0].summaries.a.interpretable).toEqual([]);
    expect(manifest.layers[0].summaries.a.scale).toEqual({ name: 'a score' });
    expect(manifest.layers[0].summaries.a.quantiles).not.toBeNull();
    expect(manifest.thresholds).toBeUndefined();
    expect(manifest.images).toEqual({ shown: 5, thumbnails: 3 });

    const conv = readData<SiteLayerData>(out, 'layer-0');
    expect(conv.neurons[0].topImages).toEqual([
      { image: 0, activation: 2.5, heatmap: PNG_DATA_URI },
      { image: 1, activation: 1.5, heatmap: 'heatmaps/0.png' },
    ]);
    expect(conv.neurons[1].topImages).toEqual([{ image: 2 }]);
    expect(conv.neurons[0].labels.a[1].label).toBe(XSS_LABEL);
    expect(conv.images).toEqual({
      0: { id: 'img0', uri: 'img/0.png', thumb: 'thumbs/0.webp' },
      1: { id: 'img1', uri: 'img/1.png', thumb: 'thumbs/1.webp' },
      2: { id: 'img2', uri: 'img/2.png', missing: 'not-found' },
      4: { id: 'outside', uri: '../secret.png', missing: 'outside-root' },
    });
    // Only the layer's own images travel with it.
    expect(Object.keys(readData<SiteLayerData>(out, 'layer-1').images)).toEqual(['3']);
  });

  it('copies images as they are without a thumbnailer, and marks every local image missing without an image root', async () => {
    const { imageRoot } = smallInputs();
    const copied = join(temp(), 'site');
    const report = await buildSite({ results: smallResults(), outDir: copied, imageRoot, appDir });
    expect(report.files).toContain('thumbs/0.png');
    expect(readFileSync(join(copied, 'thumbs', '0.png'))).toEqual(PNG_1X1);

    const bare = join(temp(), 'site');
    const none = await buildSite({ results: smallResults(), outDir: bare, appDir });
    expect(none.images.thumbnails).toBe(0);
    expect(none.images.missing[0]).toEqual({
      uri: 'img/0.png',
      reason: 'no image root was given when the site was built',
    });
    // Without resultsDir only data-URI heatmaps survive.
    expect(none.heatmaps).toEqual({ kept: 1, dropped: 2 });
  });

  it("keeps core's BMP heatmap data URIs (the demo's heatmaps)", async () => {
    const results = smallResults();
    const bmp = heatmapDataUri(new Float32Array([0, 1, 2, 3]), 2, 2, 3);
    results.layers[0].neurons[0].topImages = [{ image: 0, activation: 2.5, heatmap: bmp }];
    const out = join(temp(), 'site');
    const report = await buildSite({ results, outDir: out, appDir });
    // The one dropped is another neuron's file heatmap (no resultsDir here).
    expect(report.heatmaps).toEqual({ kept: 1, dropped: 1 });
    expect(readData<SiteLayerData>(out, 'layer-0').neurons[0].topImages).toEqual([
      { image: 0, activation: 2.5, heatmap: bmp },
    ]);
  });

  it('links remote image URLs instead of copying them', async () => {
    const results = smallResults();
    results.probe.images[0].uri = 'https://example.org/a.jpg';
    const report = await buildSite({ results, outDir: join(temp(), 'site'), appDir });
    const conv = readData<SiteLayerData>(report.outDir, 'layer-0');
    expect(conv.images[0]).toEqual({
      id: 'img0',
      uri: 'https://example.org/a.jpg',
      thumb: 'https://example.org/a.jpg',
      href: 'https://example.org/a.jpg',
    });
  });

  it('appends probe paths to the image base, segment by segment, and refuses paths that leave it', () => {
    const base = normalizeImageBase('https://example.org/broden1_224');
    expect(base).toBe('https://example.org/broden1_224/');
    expect(imageUrl(base, 'images/dtd/a b#1.jpg')).toBe(
      'https://example.org/broden1_224/images/dtd/a%20b%231.jpg',
    );
    expect(imageUrl(base, './images\\x.jpg')).toBe('https://example.org/broden1_224/images/x.jpg');
    for (const path of ['../up.jpg', 'images/../../up.jpg', '/etc/passwd', 'javascript:alert(1)', ''])
      expect(imageUrl(base, path), path).toBeUndefined();
    for (const bad of ['not a url', 'ftp://example.org/', 'https://example.org/?q=1'])
      expect(() => normalizeImageBase(bad), bad).toThrow(/image base/);
  });

  it('replaces a site built before, and refuses a folder that holds anything else', async () => {
    const out = join(temp(), 'site');
    const { imageRoot } = smallInputs();
    await buildSite({ results: smallResults(), outDir: out, imageRoot, appDir });
    expect(existsSync(join(out, 'thumbs', '0.png'))).toBe(true);
    await buildSite({ results: smallResults(), outDir: out, appDir });
    expect(existsSync(join(out, 'thumbs'))).toBe(false);
    // A build interrupted half-way (no data/site.js yet) is still ours to replace.
    rmSync(join(out, 'data'), { recursive: true });
    await buildSite({ results: smallResults(), outDir: out, appDir });
    expect(existsSync(join(out, 'data', 'site.js'))).toBe(true);

    const foreign = temp();
    writeFileSync(join(foreign, 'thesis.tex'), 'x');
    const error = await buildSite({ results: smallResults(), outDir: foreign, appDir }).catch(
      (e: unknown) => e,
    );
    expect(isNeurodissectError(error, 'ND_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toMatch(
      /is not empty and is not a site built before .*thesis\.tex.*give a new or empty folder/,
    );
    expect(readFileSync(join(foreign, 'thesis.tex'), 'utf8')).toBe('x');
  });

  it('says how to fix a missing app bundle or image root, and honours an aborted signal', async () => {
    const noApp = await buildSite({
      results: smallResults(),
      outDir: join(temp(), 's'),
      appDir: temp(),
    }).catch((e: unknown) => e);
    expect(isNeurodissectError(noApp, 'ND_FILE_NOT_FOUND')).toBe(true);
    expect((noApp as Error).message).toMatch(/pnpm --filter @neurodissect\/viewer build/);

    const noRoot = await buildSite({
      results: smallResults(),
      outDir: join(temp(), 's'),
      appDir,
      imageRoot: join(temp(), 'nope'),
    }).catch((e: unknown) => e);
    expect(isNeurodissectError(noRoot, 'ND_FILE_NOT_FOUND')).toBe(true);
    expect((noRoot as Error).message).toMatch(/is not a folder/);

    const aborted = await buildSite({
      results: smallResults(),
      outDir: join(temp(), 's'),
      appDir,
      signal: AbortSignal.abort(),
    }).catch((e: unknown) => e);
    expect(isNeurodissectError(aborted, 'ND_ABORTED')).toBe(true);

    await expect(
      buildSite({ results: smallResults(), outDir: join(temp(), 's'), appDir, thumbnailSize: 0 }),
    ).rejects.toThrow(RangeError);
  });

  it('splits the 3,840 clip-search neurons into one file per layer that reassemble into a searchable document', async () => {
    const results = clipSearchForSite();
    const out = join(temp(), 'site');
    const report = await buildSite({ results, outDir: out, appDir });
    expect(report.neurons).toBe(3840);
    expect(report.images.thumbnails).toBe(0);
    expect(report.images.missingCount).toBe(report.images.shown);
    const manifest = readData<SiteManifest>(out, 'site');
    expect(manifest.layers.map((l) => [l.name, l.neurons])).toEqual([
      ['layer1', 256],
      ['layer2', 512],
      ['layer3', 1024],
      ['layer4', 2048],
    ]);
    expect(manifest.layers[3].summaries['clip-dissect'].labelFrequencies).toHaveLength(26);
    // The first page reads only the manifest, which stays small.
    expect(readFileSync(join(out, 'data', 'site.js')).length).toBeLessThan(100_000);

    const layers = manifest.layers.map((l) => readData<SiteLayerData>(out, l.key));
    // Imported images have their path as id, which is then not repeated.
    const first = results.layers[3].neurons[0].topImages[0].image;
    expect(layers[3].images[first]).toEqual({
      uri: results.probe.images[first].uri,
      missing: 'no-image-root',
    });
    const assembled = assembleResults(manifest, layers);
    expect(assembled.layers.map((l) => l.neurons)).toEqual(results.layers.map((l) => l.neurons));
    const fromSite = createSearchIndex(assembled).search('dog', { match: 'stem' });
    expect(fromSite).toEqual(createSearchIndex(results).search('dog', { match: 'stem' }));
    expect(createSearchIndex(assembled).neuron('layer4', 7).topImages).toEqual(
      createSearchIndex(results).neuron('layer4', 7).topImages,
    );
  });
});

describe('assembleResults', () => {
  it('keeps manifest order whatever order the layers arrive in', async () => {
    const out = join(temp(), 'site');
    mkdirSync(out);
    await buildSite({ results: smallResults(), outDir: out, appDir });
    const manifest = readData<SiteManifest>(out, 'site');
    const [conv, fc] = manifest.layers.map((l) => readData<SiteLayerData>(out, l.key));
    expect(assembleResults(manifest, [fc, conv]).layers.map((l) => l.name)).toEqual(['conv', 'fc']);
    expect(assembleResults(manifest, [fc]).probe.images[3]).toEqual({ id: 'img3', uri: 'img/3.png' });
    // Images the given layers do not show are left empty.
    expect(assembleResults(manifest, [fc]).probe.images[0]).toEqual({ id: '', uri: '' });
  });

  it('adds the in-browser page: its worker, onnxruntime-web, the toy world, a nav link', async () => {
    const out = join(temp(), 'site');
    const report = await buildSite({
      results: smallResults(),
      outDir: out,
      appDir,
      inBrowser: { toyWorldModels: toyWorldModelPaths().root },
    });
    expect(report.inBrowser).toBe(true);
    for (const file of [
      'dissect-worker.js',
      'ort/ort-wasm-simd-threaded.jsep.wasm',
      'ort/ort-wasm-simd-threaded.jsep.mjs',
      'models/toyworld/target/toy-resnet.onnx',
      'models/toyworld/clip/onnx/vision_model.onnx',
      'models/toyworld/clip/tokenizer.json',
    ]) {
      expect(report.files).toContain(file);
      expect(existsSync(join(out, file)), file).toBe(true);
    }
    const manifest = readData<SiteManifest>(out, 'site');
    expect(manifest.inBrowser).toEqual({
      worker: 'dissect-worker.js',
      ort: 'ort/',
      toyWorld: 'models/toyworld/',
    });
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain('<a href="#/dissect">Dissect in your browser</a>');
    expect(html).toContain("img-src 'self' data: blob:");
    // A site built before (with these folders) is rebuilt in place.
    await buildSite({ results: smallResults(), outDir: out, appDir });
    expect(readFileSync(join(out, 'index.html'), 'utf8')).not.toContain('#/dissect');
  });

  it('names a missing toy-world models folder with the fix', async () => {
    const error = await buildSite({
      results: smallResults(),
      outDir: join(temp(), 'site'),
      appDir,
      inBrowser: { toyWorldModels: join(temp(), 'nothing-here') },
    }).catch((e: unknown) => e);
    expect(isNeurodissectError(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /toy-resnet\.onnx, which is missing; give the toy world's models folder/,
    );
  });
});
