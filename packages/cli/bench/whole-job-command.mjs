// The whole job beside the reference's pipeline, on the same files, in the same run:
// `neurodissect dissect` of torchvision's ResNet-50 (layers 1-4) with a ViT-B/16-size CLIP (random
// weights, export-bench-models.py) on a toy-world probe set at 224 px × a word list, CLIP-Dissect's
// soft-WPMI, against reference_pipeline.py (torch: the target's hooks, CLIP's image and text
// towers, soft-WPMI, as CLIP-Dissect's describe_neurons.py runs them). Prints each stage's wall
// time, each process's peak RSS, and the per-stage rates extrapolated to Broden's 63,305 images
// (an extrapolation: stated as such). `--netdissect` also times `dissect --labelers netdissect`
// beside `--labelers broden-label` on layer1 of torchvision's ResNet-18 (64 × 56 × 56 maps).
//
//   node packages/cli/bench/whole-job-command.mjs --images 500 --concepts 20000 [--models DIR] [--netdissect]
//   node packages/cli/bench/whole-job-command.mjs --quick      (100 images × 2,000 words)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toyWorldVocabulary } from '@neurodissect/toyworld';
import { measured } from './measure.mjs';

const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '500' },
    concepts: { type: 'string', default: '20000' },
    quick: { type: 'boolean', default: false },
    models: { type: 'string' },
    reference: { type: 'string', default: process.env.NEURODISSECT_REFERENCE_DIR },
    netdissect: { type: 'boolean', default: false },
    'netdissect-images': { type: 'string', default: '600' },
    json: { type: 'string' },
    keep: { type: 'string' },
  },
});
const N = args.quick ? 100 : Number(args.images);
const M = args.quick ? 2000 : Number(args.concepts);
const BRODEN = 63305;
const root = new URL('../../../', import.meta.url).pathname;
const bench = join(root, 'packages/cli/bench');
const cli = join(root, 'packages/cli/bin/neurodissect.mjs');
const work = args.keep ?? mkdtempSync(join(tmpdir(), 'neurodissect-whole-job-'));
const python = '/usr/bin/python3';

function run(command, options = {}) {
  console.log(`$ ${command.join(' ')}`);
  const result = spawnSync(command[0], command.slice(1), {
    cwd: root,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', options.capture ? 'pipe' : 'inherit', 'inherit'],
    ...(options.input === undefined ? {} : { input: options.input }),
    maxBuffer: 1 << 28,
  });
  if (result.status !== 0) throw new Error(`${command.slice(0, 3).join(' ')} failed (exit ${result.status})`);
  return result.stdout?.toString();
}

/** `count` words: the toy world's vocabulary, then two-word phrases of it, deterministic. */
function words(count) {
  const base = [...new Set(toyWorldVocabulary())];
  const out = base.slice(0, count);
  for (let i = 0; out.length < count; i++)
    out.push(`${base[i % base.length]} ${base[(i * 7919 + 13) % base.length]}`);
  return [...new Set(out)].slice(0, count);
}

const fmt = (s) => `${Number(s).toFixed(1)} s`;

try {
  const models = args.models ?? join(work, 'models');
  if (
    !existsSync(join(models, 'resnet50.onnx')) ||
    (args.netdissect && !existsSync(join(models, 'resnet18.onnx')))
  )
    run([python, join(bench, 'export-bench-models.py'), '--out', models]);
  const probe = join(work, 'world');
  run(['node', cli, 'toyworld', 'generate', '--out', probe, '--count', String(N), '--size', '224']);
  const concepts = join(work, 'words.txt');
  writeFileSync(concepts, `${words(M).join('\n')}\n`);
  const tokens = join(work, 'tokens.jsonl');
  writeFileSync(tokens, run(['node', cli, 'tokenize'], { capture: true, input: readFileSync(concepts) }));

  const out = join(work, 'results.json');
  const ours = measured(
    'dissect',
    [
      'node',
      cli,
      'dissect',
      '--model',
      join(models, 'resnet50.onnx'),
      '--layers',
      'layer1,layer2,layer3,layer4',
      '--clip',
      join(models, 'clip-b16'),
      '--probe',
      `broden:${probe}`,
      '--concepts',
      concepts,
      '--labelers',
      'clip-dissect',
      '--input-size',
      '224',
      '--null',
      '0',
      '--held-out',
      '0',
      '--no-relations',
      '--cache',
      join(work, 'cache'),
      '--out',
      out,
    ],
    { cwd: root, work },
  );
  const results = JSON.parse(readFileSync(out, 'utf8'));
  const t = results.run.timings ?? {};
  const reference = measured(
    'reference',
    [
      python,
      join(bench, 'reference_pipeline.py'),
      '--models',
      models,
      '--images',
      join(probe, 'images/toyworld'),
      '--tokens',
      tokens,
      '--out',
      join(work, 'reference'),
      ...(args.reference ? ['--reference', args.reference] : []),
    ],
    { cwd: root, work },
  );
  const report = JSON.parse(readFileSync(join(work, 'reference', 'report.json'), 'utf8'));
  const r = report.seconds;
  // Our stages from the Results' timings (milliseconds), the reference's from its own clock.
  const ourStages = {
    forward: (t.features ?? 0) / 1000,
    texts: (t.textEmbeddings ?? 0) / 1000,
    scoring:
      Object.entries(t)
        .filter(([key]) => key.startsWith('label:'))
        .reduce((sum, [, ms]) => sum + ms, 0) / 1000,
  };
  const refStages = {
    forward: r.targetActivations + r.clipImages,
    texts: r.clipTexts,
    scoring: r.similarity,
  };
  // Extrapolated to Broden's images: the forward passes and the scoring grow with the images, the
  // concept set's embeddings do not.
  const scale = BRODEN / N;
  const extrapolate = (s) => s.forward * scale + s.texts;
  let same = 0;
  let neurons = 0;
  for (const layer of results.layers) {
    const theirs = report.best[layer.name];
    for (const neuron of layer.neurons) {
      neurons++;
      if (neuron.labels['clip-dissect']?.[0]?.concept === theirs?.concepts[neuron.unit]) same++;
    }
  }
  const rows = [
    [
      'forward passes: ResNet-50 layers 1-4 and the CLIP image tower',
      ourStages.forward,
      refStages.forward,
      true,
    ],
    [`CLIP text tower, ${M.toLocaleString('en')} words`, ourStages.texts, refStages.texts, false],
    [
      'soft-WPMI of the 3,840 neurons (and, ours, top images and Results)',
      ourStages.scoring,
      refStages.scoring,
      false,
    ],
  ];
  console.log(
    `\nThe whole job: ${N} images × ${M.toLocaleString('en')} words, ResNet-50 layers 1-4 (3,840 neurons) × ViT-B/16-size CLIP, soft-WPMI; the reference's similarity: ${report.similarity === 'similarity.py' ? "CLIP-Dissect's similarity.py" : 'the formulation in torch'}`,
  );
  console.log(
    '| stage | neurodissect dissect | reference (torch) | reference ÷ ours | at 63,305 images (extrapolated): ours, reference |',
  );
  console.log('|---|---|---|---|---|');
  for (const [name, a, b, grows] of rows) {
    const at = grows
      ? `${fmt(a * scale)}, ${fmt(b * scale)}`
      : name.startsWith('soft')
        ? 'measured by the score benchmark at Broden scale'
        : `${fmt(a)}, ${fmt(b)}`;
    console.log(`| ${name} | ${fmt(a)} | ${fmt(b)} | ${(b / a).toFixed(2)}× | ${at} |`);
  }
  console.log(
    `| whole process (wall, peak RSS, CPU) | ${fmt(ours.wallSeconds)}, ${ours.peakRssMiB} MiB, ${ours.cpu} | ${fmt(reference.wallSeconds)}, ${reference.peakRssMiB} MiB, ${reference.cpu} | ${(reference.wallSeconds / ours.wallSeconds).toFixed(2)}× | ${(extrapolate(ourStages) / 3600).toFixed(2)} h, ${(extrapolate(refStages) / 3600).toFixed(2)} h |`,
  );
  console.log(
    `Same best concept for ${same} of ${neurons} neurons (random weights: most neurons' best concepts are near-ties). The extrapolation multiplies the forward passes by 63,305 / ${N} and adds the text tower (scoring is left out: the score benchmark measures it at Broden scale); it is not a measurement.`,
  );
  const summary = { N, M, ours, reference, ourStages, refStages, sameBest: same, neurons };
  if (args.netdissect) summary.netdissect = netdissectPair();
  if (args.json) writeFileSync(args.json, JSON.stringify(summary, null, 2));

  /** `dissect --labelers netdissect` beside `--labelers broden-label`, layer1 of ResNet-18, same probe. */
  function netdissectPair() {
    const count = Number(args['netdissect-images']);
    const world = join(work, 'netdissect-world');
    run(['node', cli, 'toyworld', 'generate', '--out', world, '--count', String(count), '--size', '224']);
    const pair = {};
    for (const labeler of ['broden-label', 'netdissect']) {
      pair[labeler] = measured(
        labeler,
        [
          'node',
          cli,
          'dissect',
          '--model',
          join(models, 'resnet18.onnx'),
          '--layers',
          'layer1',
          '--probe',
          `broden:${world}`,
          '--concepts',
          concepts,
          '--labelers',
          labeler,
          '--input-size',
          '224',
          '--null',
          '0',
          '--held-out',
          '0',
          '--no-relations',
          '--cache',
          join(work, `cache-${labeler}`),
          '--out',
          join(work, `${labeler}.json`),
        ],
        { cwd: root, work },
      );
    }
    const a = pair['broden-label'];
    const b = pair.netdissect;
    console.log(
      `\ndissect on layer1 of ResNet-18 (64 × 56 × 56 maps, ${count} images at 224 px): --labelers broden-label ${fmt(a.wallSeconds)} (${a.peakRssMiB} MiB), --labelers netdissect ${fmt(b.wallSeconds)} (${b.peakRssMiB} MiB): ${(b.wallSeconds / a.wallSeconds).toFixed(2)}×`,
    );
    return pair;
  }
} finally {
  if (!args.keep) rmSync(work, { recursive: true, force: true });
}
