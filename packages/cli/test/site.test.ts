import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import type { Results } from '@neurodissect/core';
import { resultsFixture } from '@neurodissect/core/testing';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
// The browser app is bundled by the viewer's build; this helper bundles it when the build has not run.
import { ensureAppBundle } from '../../../scripts/test-setup/app-bundle';
import { cli, tempDir } from './helpers';

const XSS = '<img src=x onerror=alert(1)>';

function results(): Results {
  return resultsFixture({
    images: [
      { id: 'wide', uri: 'photos/wide.png' },
      { id: 'small', uri: 'photos/small.jpg' },
      { id: 'gone', uri: 'photos/gone.jpg' },
    ],
    layers: [
      {
        name: 'layer1',
        neurons: [
          {
            unit: 0,
            topImages: [
              { image: 0, activation: 2 },
              { image: 2, activation: 1 },
            ],
            labels: { 'clip-dissect': [{ label: XSS, score: 0.3 }] },
          },
          {
            unit: 1,
            topImages: [{ image: 1, heatmap: 'heat/1.png' }],
            labels: { 'clip-dissect': [{ label: 'dog', score: 0.2 }] },
          },
        ],
      },
    ],
  });
}

/** A Results file with an image root holding two of its three images, and the heatmap beside it. */
async function inputs(): Promise<{ dir: string; resultsFile: string; imageRoot: string }> {
  const dir = tempDir();
  const resultsFile = join(dir, 'r.json');
  writeFileSync(resultsFile, JSON.stringify(results()));
  const imageRoot = join(dir, 'probe');
  mkdirSync(join(imageRoot, 'photos'), { recursive: true });
  await sharp({ create: { width: 400, height: 200, channels: 3, background: '#c03030' } })
    .png()
    .toFile(join(imageRoot, 'photos', 'wide.png'));
  await sharp({ create: { width: 40, height: 30, channels: 3, background: '#3030c0' } })
    .jpeg()
    .toFile(join(imageRoot, 'photos', 'small.jpg'));
  mkdirSync(join(dir, 'heat'));
  await sharp({ create: { width: 7, height: 7, channels: 4, background: '#ff000080' } })
    .png()
    .toFile(join(dir, 'heat', '1.png'));
  return { dir, resultsFile, imageRoot };
}

function siteData(out: string, key: string): unknown {
  let data: unknown;
  runInNewContext(readFileSync(join(out, 'data', `${key}.js`), 'utf8'), {
    __neurodissectSiteData: (_key: string, value: unknown) => {
      data = value;
    },
  });
  return data;
}

beforeAll(async () => {
  await ensureAppBundle();
});

describe('neurodissect site', () => {
  it('writes the app, the data and WebP thumbnails made with sharp, and says what it wrote', async () => {
    const { dir, resultsFile, imageRoot } = await inputs();
    const out = join(dir, 'site');
    const run = await cli('site', '--results', resultsFile, '--out', out, '--image-root', imageRoot);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      '1 layer(s), 2 neuron(s), 3 image(s) (2 with thumbnails, 1 shown as placeholders).',
    );
    expect(run.stdout).toContain('placeholders, e.g. photos/gone.jpg: not found under the image root');
    expect(run.stdout).toMatch(/or run: neurodissect serve .*site\n$/);
    for (const file of [
      'index.html',
      'app.js',
      'app.css',
      'data/site.js',
      'data/layer-0.js',
      'heatmaps/0.png',
    ])
      expect(existsSync(join(out, file)), file).toBe(true);

    const wide = await sharp(join(out, 'thumbs', '0.webp')).metadata();
    expect([wide.format, wide.width, wide.height]).toEqual(['webp', 112, 56]);
    // Small images are not enlarged.
    const small = await sharp(join(out, 'thumbs', '1.webp')).metadata();
    expect([small.format, small.width, small.height]).toEqual(['webp', 40, 30]);

    const layer = siteData(out, 'layer-0') as {
      images: Record<string, { thumb?: string; missing?: string }>;
      neurons: { labels: Record<string, { label: string }[]> }[];
    };
    expect(layer.images[2]).toEqual({
      id: 'gone',
      uri: 'photos/gone.jpg',
      missing: 'not-found',
    });
    expect(layer.neurons[0].labels['clip-dissect'][0].label).toBe(XSS);
  });

  it('builds without an image root, everything a placeholder, and with --thumbnail-size and --title', async () => {
    const { dir, resultsFile, imageRoot } = await inputs();
    const bare = await cli('site', '--results', resultsFile, '--out', join(dir, 'bare'));
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain('(0 with thumbnails, 3 shown as placeholders)');
    expect(bare.stdout).toContain('no image root was given when the site was built');

    const sized = await cli(
      'site',
      '--results',
      resultsFile,
      '--out',
      join(dir, 'sized'),
      '--image-root',
      imageRoot,
      '--thumbnail-size',
      '64',
      '--title',
      'A <b>title</b>',
    );
    expect(sized.code).toBe(0);
    expect((await sharp(join(dir, 'sized', 'thumbs', '0.webp')).metadata()).width).toBe(64);
    expect(readFileSync(join(dir, 'sized', 'index.html'), 'utf8')).toContain(
      '<title>A &lt;b&gt;title&lt;/b&gt;</title>',
    );
  });

  it('shows the images from --image-base, thumbnails where --image-root has them, each linked to its URL', async () => {
    const { dir, resultsFile, imageRoot } = await inputs();
    const remote = join(dir, 'remote');
    const run = await cli(
      'site',
      '--results',
      resultsFile,
      '--out',
      remote,
      '--image-base',
      'https://images.example.org/probe',
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      '3 image(s) (3 with thumbnails, 0 shown as placeholders; 3 linked to their web address)',
    );
    const layer = siteData(remote, 'layer-0') as {
      images: Record<string, { thumb?: string; href?: string }>;
    };
    expect(layer.images[0]).toEqual({
      id: 'wide',
      uri: 'photos/wide.png',
      thumb: 'https://images.example.org/probe/photos/wide.png',
      href: 'https://images.example.org/probe/photos/wide.png',
    });
    const manifest = siteData(remote, 'site') as { imageSource?: unknown };
    expect(manifest.imageSource).toEqual({ base: 'https://images.example.org/probe/' });

    const both = join(dir, 'both');
    const mixed = await cli(
      'site',
      '--results',
      resultsFile,
      '--out',
      both,
      '--image-root',
      imageRoot,
      '--image-base',
      'https://images.example.org/probe/',
    );
    expect(mixed.code).toBe(0);
    const images = (
      siteData(both, 'layer-0') as { images: Record<string, { thumb?: string; href?: string }> }
    ).images;
    expect(images[0]).toMatchObject({
      thumb: 'thumbs/0.webp',
      href: 'https://images.example.org/probe/photos/wide.png',
    });
    // Not under the image root: shown from its address.
    expect(images[2]).toMatchObject({ thumb: 'https://images.example.org/probe/photos/gone.jpg' });
    expect((siteData(both, 'site') as { imageSource?: unknown }).imageSource).toEqual({
      base: 'https://images.example.org/probe/',
      local: true,
    });

    const bad = await cli(
      'site',
      '--results',
      resultsFile,
      '--out',
      join(dir, 'b'),
      '--image-base',
      'file:///etc/',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^neurodissect: --image-base: The image base "file:\/\/\/etc\/" is not an http\(s\) address/,
    );
  });

  it('carries the eval report with --report, linked both ways, with its ground-truth accuracy', async () => {
    const { dir, resultsFile } = await inputs();
    const truth = join(dir, 'truth.csv');
    writeFileSync(truth, 'layer,unit,label\nlayer1,0,cat\nlayer1,1,dog\n');
    const report = join(dir, 'report');
    const evaluated = await cli('eval', '--results', resultsFile, '--ground-truth', truth, '--out', report);
    expect(evaluated.code).toBe(0);
    const out = join(dir, 'with-report');
    const run = await cli('site', '--results', resultsFile, '--out', out, '--report', report);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const manifest = siteData(out, 'site') as { report?: unknown };
    // Unit 0's label is not "cat", unit 1's is "dog": one of two right at top-1.
    expect(manifest.report).toEqual({
      href: 'report/index.html',
      groundTruth: { source: expect.stringContaining('truth.csv'), neurons: 2 },
      accuracy: [{ labeler: 'clip-dissect', layer: 'layer1', top1: 1, top5: 1, interpretable: 2, total: 2 }],
    });
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain(
      '<a href="report/index.html">Evaluation report</a>',
    );
    const html = readFileSync(join(out, 'report', 'index.html'), 'utf8');
    expect(html).toContain(
      '<a href="../index.html#/neuron/layer1/0">0</a> <a href="../index.html#/neuron/layer1/1">1</a>',
    );
    expect(html).toContain('<a href="../index.html#/layer/layer1">layer1</a>');

    const missing = await cli(
      'site',
      '--results',
      resultsFile,
      '--out',
      join(dir, 'm'),
      '--report',
      join(dir, 'nope'),
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /^neurodissect: --report: .*nope.report\.json cannot be read \(ENOENT\); give the folder neurodissect eval --out wrote\.\n$/,
    );
  });

  it('answers bad input with one line and exit code 2', async () => {
    const { dir, resultsFile } = await inputs();
    const taken = join(dir, 'taken');
    mkdirSync(taken);
    writeFileSync(join(taken, 'notes.txt'), 'keep me');
    const cases: [string[], RegExp][] = [
      [
        ['--out', taken],
        /^neurodissect: --out: .*taken is not empty and is not a site built before \(it holds notes\.txt\); give a new or empty folder\.\n$/,
      ],
      [
        ['--out', join(dir, 's1'), '--image-root', join(dir, 'nope')],
        /^neurodissect: --image-root: The image root .*nope is not a folder; give the folder the Results' image paths are relative to\.\n$/,
      ],
      [
        ['--out', join(dir, 's2'), '--thumbnail-size', '4'],
        /^neurodissect: --thumbnail-size: must be from 8 to 2048 pixels, got 4\n$/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await cli('site', '--results', resultsFile, ...args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe('');
    }
    expect(readFileSync(join(taken, 'notes.txt'), 'utf8')).toBe('keep me');

    writeFileSync(join(dir, 'bad.json'), '{"format":"neurodissect.results","version":1}');
    const bad = await cli('site', '--results', join(dir, 'bad.json'), '--out', join(dir, 's3'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^neurodissect: --results: .*bad\.json is not a valid Results document .*run "neurodissect validate/,
    );
    expect(existsSync(join(dir, 's3'))).toBe(false);
  });
});
