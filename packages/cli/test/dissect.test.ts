import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDissection, parseResults } from '@neurodissect/core';
import { createNodeDissectionEnvironment, dissectionSpecFromFiles } from '@neurodissect/jobs';
import { createNodeRuntime, PREPROCESS_PRESETS } from '@neurodissect/runtime-node';
import { writeToyWorld } from '@neurodissect/toyworld/node';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { cli, tempDir } from './helpers';

// Real ONNX models made by real PyTorch (runtime-node's fixtures: a narrow torchvision ResNet and a
// tiny CLIP in the OpenCLIP layout), real images (scikit-image samples), the real CLIP tokenizer.
const fixtures = fixturePath('runtime-node');
const model = join(fixtures, 'resnet/narrow-resnet.onnx');
const clip = join(fixtures, 'clip/clip-openclip');

function probeFolder(): string {
  const dir = join(tempDir(), 'probe');
  mkdirSync(dir);
  for (const name of ['brick.png', 'chessboard_RGB.png', 'coffee.png', 'hubble_deep_field.jpg']) {
    copyFileSync(join(fixtures, 'preprocess', name), join(dir, name));
  }
  // A file that claims to be an image but is not: reported and left out, never a crash.
  writeFileSync(join(dir, 'broken.png'), 'not a png');
  return dir;
}

describe('neurodissect dissect', () => {
  const probe = probeFolder();
  const work = tempDir();
  const concepts = join(work, 'concepts.txt');
  writeFileSync(concepts, 'brick\nchessboard\ncoffee\nstars\n\nbrick\n');
  /** `dissect` on the fixtures, writing `out`, with `more` options. */
  const dissect = (out: string, ...more: string[]) =>
    cli('dissect', '--model', model, '--clip', clip, '--probe', probe, '--out', out, ...more);

  it('labels every neuron of the chosen layers and writes a valid Results document', {
    timeout: 60_000,
  }, async () => {
    const out = join(work, 'results.json');
    const result = await cli(
      'dissect',
      '--model',
      model,
      '--layers',
      'layer1,layer4',
      '--clip',
      clip,
      '--probe',
      probe,
      '--concepts',
      concepts,
      '--labelers',
      'clip-dissect,clip-avg',
      '--top-k',
      '2',
      '--top-images',
      '3',
      '--batch-size',
      '2',
      '--out',
      out,
    );
    expect(result.stderr).toMatch(
      /note: .*concepts.txt: dropped 1 blank line\(s\); dropped 1 duplicate\(s\)/,
    );
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(result.stdout).toMatch(
      /dissected 2 layer\(s\) of .*narrow-resnet.onnx on 4 images with 4 concepts \(cpu\)/,
    );
    const results = parseResults(readFileSync(out, 'utf8'));
    expect(results.layers.map((l) => l.name)).toEqual(['layer1', 'layer4']);
    for (const layer of results.layers) {
      expect(layer.neurons).toHaveLength(layer.units);
      for (const neuron of layer.neurons) {
        expect(neuron.labels['clip-dissect'].map((l) => l.label).sort()).toEqual([
          'brick',
          'chessboard',
          'coffee',
          'stars',
        ]);
        expect(neuron.labels['clip-avg'].length).toBeGreaterThan(0);
        expect(neuron.topImages).toHaveLength(3);
      }
    }
    expect(results.run.runtime).toEqual({ name: 'onnxruntime-node', executionProvider: 'cpu' });
    // No absolute path of this machine: the model's file name, and its path relative to the Results.
    expect(results.model.name).toBe('narrow-resnet.onnx');
    // Relative to the Results when the two share a folder below the root, else the file's name.
    expect(results.model.uri).toMatch(/^((\.\.\/)+[^/].*\/)?narrow-resnet\.onnx$/);
    expect(results.model.uri).not.toContain(fixtures);
    expect(results.concepts.name).toBe('concepts.txt');
    expect(results.probe.images.map((i) => i.id).sort()).toEqual([
      'brick.png',
      'chessboard_RGB.png',
      'coffee.png',
      'hubble_deep_field.jpg',
    ]);
    expect(existsSync(join(work, '.neurodissect-cache'))).toBe(true);
    expect(results.failures).toEqual([
      expect.objectContaining({ stage: 'read-image', message: expect.stringMatching(/^broken\.png: /) }),
    ]);

    // --resume keeps finished layers; the cached features make a re-run cheap and identical.
    const again = await cli(
      'dissect',
      '--model',
      model,
      '--layers',
      'layer1,layer4',
      '--clip',
      clip,
      '--probe',
      probe,
      '--concepts',
      concepts,
      '--labelers',
      'clip-dissect,clip-avg',
      '--top-k',
      '2',
      '--top-images',
      '3',
      '--out',
      out,
      '--resume',
    );
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/resuming: 2 finished layer\(s\) in /);
    expect(parseResults(readFileSync(out, 'utf8')).layers).toEqual(results.layers);

    // A corrupt cache entry is dropped with a warning on stderr and recomputed, to the same labels.
    const cacheDir = join(work, '.neurodissect-cache');
    const entries = readdirSync(cacheDir, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.npy'),
    );
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) writeFileSync(join(cacheDir, entry), 'not an npy file');
    const fresh = join(work, 'recomputed.json');
    const recomputed = await dissect(
      fresh,
      ...['--layers', 'layer1,layer4', '--concepts', concepts, '--labelers', 'clip-dissect,clip-avg'],
      ...['--top-k', '2', '--top-images', '3'],
    );
    expect(recomputed.code, recomputed.stderr).toBe(0);
    expect(recomputed.stderr).toMatch(
      /^warning: Dropped the corrupt cache entry \S+ \(.+\); it will be recomputed\.$/m,
    );
    expect(parseResults(readFileSync(fresh, 'utf8')).layers).toEqual(results.layers);
  });

  it('says in one line when the queue is unreachable or the options do not fit a distributed run', async () => {
    const out = join(work, 'queued.json');
    const base = ['--layers', 'layer1', '--concepts', concepts, '--labelers', 'clip-dissect'];
    // Port 9 (discard) on loopback: nothing listens there.
    expect(await dissect(out, ...base, '--queue', 'redis://127.0.0.1:9')).toMatchObject({
      code: 2,
      stderr:
        'neurodissect: --queue: cannot reach Redis at redis://127.0.0.1:9 (ECONNREFUSED); start redis-server there or give the right --queue\n',
    });
    expect(await dissect(out, ...base, '--queue', 'localhost:6379')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(
        /^neurodissect: --queue: localhost:6379 is not a Redis URL; give redis:\/\/HOST:PORT/,
      ),
    });
    expect(await dissect(out, ...base, '--shards', '4')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--shards: .*give --queue redis:\/\/HOST:PORT too/),
    });
    expect(await dissect(out, ...base, '--queue', 'redis://127.0.0.1:9', '--no-cache')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--no-cache: a distributed run shares its features through the cache/),
    });
    expect(await cli('worker', '--queue', 'redis://127.0.0.1:9')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(
        /^neurodissect: --queue: cannot reach Redis at redis:\/\/127.0.0.1:9 \(ECONNREFUSED\)/,
      ),
    });
    expect(existsSync(out)).toBe(false);
  });

  it('feeds a Broden-format probe whole by default (its masks cover the frame), others as the preset crops', {
    timeout: 60_000,
  }, async () => {
    const broden = join(work, 'broden');
    await writeToyWorld(broden, { seed: 2, count: 4 });
    const run = async (probeArg: string, out: string) => {
      const result = await cli(
        'dissect',
        '--model',
        model,
        '--layers',
        'layer1',
        '--probe',
        probeArg,
        '--concepts',
        concepts,
        '--labelers',
        'broden-label',
        '--no-cache',
        '--out',
        join(work, out),
      );
      expect(result.code, result.stderr).toBe(0);
      return parseResults(readFileSync(join(work, out), 'utf8')).run.parameters?.preprocessing;
    };
    expect(await run(`broden:${broden}`, 'broden.json')).toMatchObject({ resizeShorter: 224, crop: 224 });
    expect(await run(probe, 'folder.json')).toMatchObject({ resizeShorter: 256, crop: 224 });
  });

  it('says which file it tried and what to check when no probe image can be read', async () => {
    const broken = join(tempDir(), 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'a.png'), 'not a png');
    writeFileSync(join(broken, 'b.jpg'), 'not a jpeg');
    const result = await cli(
      'dissect',
      '--model',
      model,
      '--layers',
      'layer1',
      '--probe',
      broken,
      '--concepts',
      concepts,
      '--labelers',
      'broden-label',
      '--no-cache',
      '--out',
      join(work, 'unreadable.json'),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /\nneurodissect: No image of the probe set broken could be read: all 2 failed, the first with: The image \S+a\.png could not be decoded .*replace or remove it\.\n$/,
    );
  });

  it('says when --model or --concepts is a folder', async () => {
    const base = [
      '--layers',
      'layer1',
      '--probe',
      probe,
      '--labelers',
      'broden-label',
      '--out',
      join(work, 'f.json'),
    ];
    expect(await cli('dissect', '--model', model, '--concepts', work, ...base)).toMatchObject({
      code: 2,
      stderr: `neurodissect: --concepts: ${work} is a folder; give the concept list (one concept per line)\n`,
    });
    expect(await cli('dissect', '--model', work, '--concepts', concepts, ...base)).toMatchObject({
      code: 2,
      stderr: `neurodissect: --model: ${work} is a folder; give the model file (.onnx)\n`,
    });
  });

  it('gives NetDissect the full frame of a 224-px Broden probe by default, and refuses a crop that would misalign its masks', {
    timeout: 60_000,
  }, async () => {
    const world = join(tempDir(), 'world224');
    await writeToyWorld(world, { seed: 4, count: 6, size: 224 });
    // NetDissect on layer1 of the 224-px world, colours and objects only.
    const netdissect = (...more: string[]) =>
      cli(
        'dissect',
        '--model',
        model,
        '--layers',
        'layer1',
        '--probe',
        `broden:${world}`,
        '--concepts',
        concepts,
        '--labelers',
        'netdissect',
        '--categories',
        'color,object',
        '--no-cache',
        ...more,
      );
    const run = async (out: string, ...more: string[]) => {
      const result = await netdissect('--out', join(work, out), ...more);
      expect(result.code, result.stderr).toBe(0);
      return parseResults(readFileSync(join(work, out), 'utf8'));
    };
    const byDefault = await run('nd-default.json');
    const fullFrame = await run('nd-224.json', '--input-size', '224');
    expect(byDefault.layers).toEqual(fullFrame.layers);
    expect(byDefault.labelers[0].options.categories).toEqual(['color', 'object']);
    expect(byDefault.layers[0].neurons.some((n) => n.labels.netdissect.length > 0)).toBe(true);
    // The looser union rule on request: recorded, and every IoU at most Network Dissection's.
    const annotated = await run('nd-annotated.json', '--union', 'annotated');
    expect(annotated.labelers[0].options.union).toBe('annotated');
    expect(byDefault.labelers[0].options.union).toBeUndefined();
    const best = (doc: typeof byDefault) =>
      doc.layers[0].neurons.map((n) => n.labels.netdissect[0]?.score ?? 0);
    const loose = best(annotated);
    for (const [unit, iou] of best(byDefault).entries()) expect(loose[unit]).toBeLessThanOrEqual(iou + 1e-12);
    expect(loose.some((iou, unit) => iou < best(byDefault)[unit])).toBe(true);
    // A library user asking for the imagenet crop (256 → 224) with NetDissect is refused.
    const spec = await dissectionSpecFromFiles({
      model,
      probe: `broden:${world}`,
      concepts,
      layers: ['layer1'],
      preprocessing: PREPROCESS_PRESETS.imagenet,
      labelers: ['netdissect'],
    });
    const runtime = await createNodeRuntime();
    try {
      await expect(openDissection(spec, createNodeDissectionEnvironment({ runtime }))).rejects.toThrow(
        /netdissect compares activation maps with masks that cover the whole image, but the preprocessing crops its centre \(resize 256, crop 224\)/,
      );
    } finally {
      await runtime.dispose();
    }
    expect(await netdissect('--categories', 'colour', '--out', join(work, 'x.json'))).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(
        /--categories: "colour" is not a Broden category; use any of color, object/,
      ),
    });
  });

  it('reports an execution provider that cannot run under --ep, in one line', async () => {
    // This machine has onnxruntime's CPU provider only: CUDA's libraries are not installed.
    const out = join(work, 'cuda.json');
    const result = await dissect(
      out,
      ...['--layers', 'layer4', '--concepts', concepts, '--labelers', 'clip-avg'],
      ...['--ep', 'cuda,cpu', '--strict', '--no-cache'],
    );
    expect(result.code).toBe(2);
    const ours = result.stderr.split('\n').filter((line) => line.startsWith('neurodissect:'));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(
      /^neurodissect: --ep: the execution provider "cuda" is not available \(.+\); install its libraries \(docs\/gpu\.md\), or drop --strict to fall back to cpu$/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('with no provider left, says how to fall back; a fallback that ran is noted', async () => {
    const out = join(work, 'cuda-only.json');
    const only = await dissect(
      out,
      ...['--layers', 'layer4', '--concepts', concepts, '--labelers', 'clip-avg'],
      ...['--ep', 'cuda', '--strict', '--no-cache'],
    );
    expect(only.code).toBe(2);
    expect(only.stderr.split('\n').filter((line) => line.startsWith('neurodissect:'))).toEqual([
      expect.stringMatching(
        /^neurodissect: --ep: the execution provider "cuda" is not available \(.+\); install its libraries \(docs\/gpu\.md\), or run with --ep cuda,cpu to fall back to the CPU$/,
      ),
    ]);
    const fellBack = await dissect(
      join(work, 'cuda-cpu.json'),
      ...[
        '--layers',
        'layer4',
        '--concepts',
        concepts,
        '--labelers',
        'clip-avg',
        '--null',
        '0',
        '--held-out',
        '0',
      ],
      ...['--ep', 'cuda,cpu', '--no-cache'],
    );
    expect(fellBack.code).toBe(0);
    expect(fellBack.stderr).toMatch(
      /note: --ep: cuda is not available for the target model \(.+\); it runs on cpu \(docs\/gpu\.md\)\n/,
    );
    expect(fellBack.stdout).toMatch(/\(cpu\)\n/);
  });

  it('names an unknown layer with the closest ones, and exits 2', async () => {
    const result = await cli(
      'dissect',
      '--model',
      model,
      '--layers',
      'layer9',
      '--clip',
      clip,
      '--probe',
      probe,
      '--concepts',
      concepts,
      '--out',
      join(work, 'x.json'),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^neurodissect: --layers: .*layer9.*layer.*List them with `neurodissect layers --model FILE`/,
    );
  });

  it('rejects a missing model, probe folder or CLIP with one line', async () => {
    const base = ['--layers', 'layer1', '--concepts', concepts, '--out', join(work, 'x.json')];
    expect(
      await cli('dissect', '--model', 'none.onnx', '--clip', clip, '--probe', probe, ...base),
    ).toMatchObject({
      code: 2,
      stderr: 'neurodissect: --model: file not found: none.onnx\n',
    });
    expect(
      await cli('dissect', '--model', model, '--clip', clip, '--probe', join(work, 'nope'), ...base),
    ).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--probe: .*nope is not a folder/),
    });
    expect(await cli('dissect', '--model', model, '--probe', probe, ...base)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--clip: The labelers clip-dissect need a CLIP model/),
    });
  });

  it.each([
    [['--layers', 'layer1,layer1'], /--layers: layer1 is named twice/],
    [['--layers', 'layer1', '--batch-size', '0'], /--batch-size: 0 is not a positive integer/],
    [['--layers', 'layer1', '--top-images', '-3'], /--top-images: -3 is not a positive integer/],
    [['--layers', 'layer1', '--top-labels', '0'], /--top-labels: 0 is not a positive integer/],
    [['--layers', 'layer1', '--top-k', '0'], /--top-k: 0 is not a positive integer/],
    [['--layers', 'layer1', '--top-k', '99'], /--top-k: 99 is larger than the probe set \(5 images\)/],
  ])('rejects %j up front with one line and exit 2', async (args, message) => {
    const out = join(work, 'rejected.json');
    const result = await dissect(out, '--concepts', concepts, ...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    // One error line (a note about the CLIP's fixed text length may come before it).
    expect(
      result.stderr.split('\n').filter((line) => !line.startsWith('note: ') && line !== ''),
    ).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it('resumes only the same job (another job is computed afresh, its file kept beside), and draws the kept layers’ heatmaps', {
    timeout: 60_000,
  }, async () => {
    const out = join(work, 'partial.json');
    const job = (conceptFile: string) => [
      '--layers',
      'layer1,layer4',
      '--concepts',
      conceptFile,
      '--top-k',
      '2',
      '--top-images',
      '3',
    ];
    const run = (conceptFile: string, ...more: string[]) => dissect(out, ...job(conceptFile), ...more);
    expect((await run(concepts, '--heatmaps')).code).toBe(0);
    const full = parseResults(readFileSync(out, 'utf8'));
    // An interrupted run saves layers before their heatmaps are drawn.
    const partial = structuredClone(full);
    partial.layers = partial.layers.slice(0, 1);
    for (const neuron of partial.layers[0].neurons) for (const top of neuron.topImages) delete top.heatmap;
    const saved = JSON.stringify(partial);
    writeFileSync(out, saved);

    const others = join(work, 'other-concepts.txt');
    writeFileSync(others, 'dog\ncat\n');
    // Other inputs: every layer is computed afresh, and the earlier file is kept beside.
    const mismatch = await run(others, '--resume');
    expect(mismatch.code, mismatch.stderr).toBe(0);
    expect(mismatch.stderr).toMatch(
      /resuming: .*partial\.json was made with other inputs \(the concept set differ\); every layer is computed again \(the earlier file is kept as .*partial\.json\.previous-[0-9T-]+Z(-\d+)?\)/,
    );
    const keptAs = /kept as (\S+)\)/.exec(mismatch.stderr)![1];
    expect(readFileSync(keptAs, 'utf8')).toBe(saved);
    const recomputed = parseResults(readFileSync(out, 'utf8'));
    expect(recomputed.concepts.items).toEqual(['dog', 'cat']);
    expect(recomputed.layers.map((l) => l.name)).toEqual(['layer1', 'layer4']);
    writeFileSync(out, saved);

    // CLIP's images preprocessed as OpenAI's CLIP does: recorded, and not mixed with the folder's.
    expect(full.run.parameters.clip).toMatchObject({ hash: expect.stringMatching(/^sha256:/) });
    const openai = await run(concepts, '--resume', '--clip-preprocess', 'openai');
    expect(openai.code, openai.stderr).toBe(0);
    expect(openai.stderr).toMatch(/other inputs \(the CLIP model or its preprocessing differ\)/);
    expect(parseResults(readFileSync(out, 'utf8')).run.parameters.clip).toMatchObject({
      preprocessing: 'openai',
    });
    writeFileSync(out, saved);

    const resumed = await run(concepts, '--resume', '--heatmaps');
    expect(resumed.code).toBe(0);
    const done = parseResults(readFileSync(out, 'utf8'));
    expect(done.layers.map((l) => l.name)).toEqual(['layer1', 'layer4']);
    for (const layer of done.layers)
      for (const neuron of layer.neurons)
        expect(neuron.topImages.every((top) => top.heatmap?.startsWith('data:image/'))).toBe(true);

    writeFileSync(out, saved.slice(0, 100));
    const truncated = await run(concepts, '--resume');
    expect(truncated.code).toBe(2);
    expect(truncated.stderr).toMatch(/neurodissect: --resume: .*partial\.json cannot be resumed/);
    expect(truncated.stderr.split('\n').filter((l) => l.startsWith('neurodissect:'))).toHaveLength(1);

    const folder = await dissect(work, ...job(concepts));
    expect(folder).toMatchObject({ code: 2, stderr: expect.stringMatching(/--out: .* is a folder/) });
  });

  it('refuses an --out another run is writing, and takes over a lock whose process is gone', async () => {
    const out = join(work, 'locked.json');
    const run = () => dissect(out, '--concepts', concepts, '--layers', 'layer1', '--top-k', '2');
    writeFileSync(`${out}.lock`, String(process.ppid));
    const busy = await run();
    expect(busy.code).toBe(2);
    expect(busy.stderr).toContain(`--out: another run (pid ${process.ppid}) is writing ${out}`);
    expect(existsSync(out)).toBe(false);
    writeFileSync(`${out}.lock`, '999999999');
    expect((await run()).code).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(existsSync(`${out}.lock`)).toBe(false);
  });
});
