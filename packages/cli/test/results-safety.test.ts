import { existsSync, type FSWatcher, readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseResults } from '@neurodissect/core';
import { afterEach, describe, expect, it } from 'vitest';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { runCli } from '../src/program';
import { cli, tempDir } from './helpers';

// The catalogue's first case: a finished Results file is never lost, whether a later run is
// interrupted (Ctrl-C, here the SIGINT the command listens for) with or without --resume, with the
// same inputs or others.
const fixtures = fixturePath('runtime-node');
const model = join(fixtures, 'resnet/narrow-resnet.onnx');
const clip = join(fixtures, 'clip/clip-openclip');
const probe = join(fixtures, 'preprocess');
const layers = 'layer1,layer2,layer3,layer4';

let watcher: FSWatcher | undefined;
afterEach(() => watcher?.close());

/** Sends the command its SIGINT as soon as the file `name` is written in `dir` (a layer saved). */
function interruptOnWrite(dir: string, file: string): void {
  watcher = watch(dir, (_, name) => {
    if (name === file) {
      watcher?.close();
      watcher = undefined;
      process.emit('SIGINT');
    }
  });
}

describe('a finished Results file is never lost', () => {
  const work = tempDir();
  const conceptsX = join(work, 'concepts.txt');
  const conceptsY = join(work, 'Y.txt');
  writeFileSync(conceptsX, 'brick\nchessboard\ncoffee\nstars\n');
  writeFileSync(conceptsY, 'dog\ncat\nsky\n');
  const dissect = (out: string, concepts: string, ...more: string[]) =>
    cli(
      'dissect',
      '--model',
      model,
      '--clip',
      clip,
      '--probe',
      probe,
      '--layers',
      layers,
      '--concepts',
      concepts,
      '--top-k',
      '2',
      '--top-images',
      '2',
      '--null',
      '0',
      '--held-out',
      '0',
      '--cache',
      join(work, 'cache'),
      '--out',
      out,
      ...more,
    );
  const previousFiles = (out: string) =>
    readdirSync(dirname(out))
      .filter((name) => name.startsWith(`${basename(out)}.previous-`))
      .map((name) => join(dirname(out), name));

  it('(1b) an interrupted run without --resume leaves the complete file as it was, and continues with --resume', {
    timeout: 120_000,
  }, async () => {
    const out = join(work, 'nores', 'results.json');
    expect((await dissect(out, conceptsX)).code).toBe(0);
    const complete = readFileSync(out, 'utf8');
    expect(parseResults(complete).layers).toHaveLength(4);

    interruptOnWrite(dirname(out), 'results.json.partial');
    // Without the cache, the later layers take long enough for the signal to arrive first.
    const interrupted = await dissect(out, conceptsY, '--no-cache');
    expect(interrupted.code, interrupted.stderr).toBe(130);
    expect(interrupted.stderr).toContain(
      `neurodissect: interrupted; ${out} is left as it was; this run's finished layers are in ${out}.partial: run again with --resume to continue from them`,
    );
    expect(readFileSync(out, 'utf8')).toBe(complete);
    const partial = parseResults(readFileSync(`${out}.partial`, 'utf8'));
    expect(partial.layers.length).toBeGreaterThan(0);
    expect(partial.layers.length).toBeLessThan(4);
    expect(partial.concepts.items).toEqual(['dog', 'cat', 'sky']);

    // --resume continues the interrupted run; once it holds every layer, it replaces the file.
    const resumed = await dissect(out, conceptsY, '--resume');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`finished by an interrupted run in ${out}.partial`);
    const done = parseResults(readFileSync(out, 'utf8'));
    expect(done.layers.map((l) => l.name)).toEqual(['layer1', 'layer2', 'layer3', 'layer4']);
    expect(done.concepts.items).toEqual(['dog', 'cat', 'sky']);
    // The layers the interrupted run finished are kept as they were (their labels), not recomputed.
    const labels = (layers: typeof partial.layers) => layers.map((l) => l.neurons.map((n) => n.labels));
    expect(labels(done.layers.slice(0, partial.layers.length))).toEqual(labels(partial.layers));
    expect(existsSync(`${out}.partial`)).toBe(false);
    expect(previousFiles(out)).toEqual([]);
  });

  it('(1a) two interrupted --resume runs with other inputs each keep the earlier file under its own name', {
    timeout: 120_000,
  }, async () => {
    const out = join(work, 'prev', 'results.json');
    expect((await dissect(out, conceptsX)).code).toBe(0);
    const original = readFileSync(out, 'utf8');

    interruptOnWrite(dirname(out), 'results.json');
    const first = await dissect(out, conceptsY, '--resume', '--no-cache');
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toMatch(/the earlier file is kept as .*results\.json\.previous-\S+\)/);
    const afterFirst = readFileSync(out, 'utf8');

    interruptOnWrite(dirname(out), 'results.json');
    const second = await dissect(out, conceptsX, '--resume', '--no-cache');
    expect(second.code, second.stderr).toBe(130);

    const kept = previousFiles(out).map((path) => readFileSync(path, 'utf8'));
    expect(kept).toHaveLength(2);
    expect(kept).toContain(original);
    expect(kept).toContain(afterFirst);
    expect(parseResults(original).layers).toHaveLength(4);
  });

  it('a finished run that holds fewer layers keeps the earlier file aside; one that holds as many replaces it', {
    timeout: 120_000,
  }, async () => {
    const out = join(work, 'fewer', 'results.json');
    expect((await dissect(out, conceptsX)).code).toBe(0);
    const original = readFileSync(out, 'utf8');
    const fewer = await dissect(out, conceptsX, '--layers', 'layer1');
    expect(fewer.code, fewer.stderr).toBe(0);
    expect(fewer.stderr).toMatch(
      /note: .*results\.json held 4 layer\(s\) \(layer1, layer2, layer3, layer4\) of clip-dissect that this run does not; it is kept as .*results\.json\.previous-/,
    );
    expect(parseResults(readFileSync(out, 'utf8')).layers).toHaveLength(1);
    expect(previousFiles(out).map((path) => readFileSync(path, 'utf8'))).toEqual([original]);

    // The same job again holds everything the file held: replaced, nothing kept aside.
    const again = await dissect(out, conceptsX, '--layers', 'layer1');
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('kept as');
    expect(previousFiles(out)).toHaveLength(1);
  });

  it('a file that is not a Results document is kept aside before it is replaced; Ctrl-C before any layer says nothing was written', {
    timeout: 120_000,
  }, async () => {
    const out = join(work, 'other', 'results.json');
    const foreign = join(work, 'other', 'notes.json');
    const none = join(work, 'other', 'none.json');
    expect((await dissect(foreign, conceptsX, '--layers', 'layer1')).code).toBe(0);
    writeFileSync(out, '{"format":"something else"}');
    const result = await dissect(out, conceptsX, '--layers', 'layer1');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/results\.json is not a Results document; it is kept as /);
    expect(previousFiles(out).map((path) => readFileSync(path, 'utf8'))).toEqual([
      '{"format":"something else"}',
    ]);

    // Interrupted before its first layer is saved: the message says nothing exists.
    // Interrupted while CLIP loads (its note is the signal), before its first layer is saved.
    let stderr = '';
    const code = await runCli(
      [
        'dissect',
        '--model',
        model,
        '--clip',
        clip,
        '--probe',
        probe,
        '--layers',
        layers,
        '--concepts',
        conceptsX,
        '--no-cache',
        '--out',
        none,
      ],
      {
        stdout: { write: () => true },
        stderr: {
          write: (text: string) => {
            stderr += text;
            if (text.includes('takes a fixed 77 tokens')) process.emit('SIGINT');
            return true;
          },
        },
      },
    );
    const early = { code, stderr };
    expect(early.code, early.stderr).toBe(130);
    expect(early.stderr).toContain(
      `neurodissect: interrupted before any layer was finished; ${none} was not written`,
    );
    expect(existsSync(none)).toBe(false);
  });
});
