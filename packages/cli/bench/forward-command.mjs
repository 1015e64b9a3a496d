// Forward passes beside torch, on the same files, paired: each round runs `neurodissect activations`
// (torchvision's ResNet-50, layers 1-4, random weights) then torch's own loop on it
// (torch_forward.py), then `neurodissect embed --images` (a ViT-B/16-size CLIP image tower) then
// torch's loop on that, back to back, so a busy machine slows both sides of a pair alike. Prints
// each pair's wall and CPU seconds and the median of the per-pair speed-ups, and checks the
// outputs agree. Needs Debian's torch (`apt-get install -y python3-torch python3-torchvision`).
// Debian's torch has only a generic BLAS, so its Linear layers run far below its oneDNN
// convolutions' speed: the ViT loop converts them to oneDNN (`--mkldnn`), torch's fastest here,
// so that comparison is with torch at its best.
//
//   node packages/cli/bench/forward-command.mjs --images 200 --rounds 3 [--models DIR] [--json F]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseNpy } from '@neurodissect/core';
import { measured } from './measure.mjs';

const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '200' },
    'vit-images': { type: 'string' },
    rounds: { type: 'string', default: '3' },
    'batch-size': { type: 'string', default: '16' },
    models: { type: 'string' },
    json: { type: 'string' },
  },
});
const root = new URL('../../../', import.meta.url).pathname;
const bench = join(root, 'packages/cli/bench');
const cli = join(root, 'packages/cli/bin/neurodissect.mjs');
const work = mkdtempSync(join(tmpdir(), 'neurodissect-forward-bench-'));
const python = '/usr/bin/python3';

function run(command) {
  console.log(`$ ${command.join(' ')}`);
  const result = spawnSync(command[0], command.slice(1), {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`${command.slice(0, 3).join(' ')} failed (exit ${result.status})`);
}

/** Writes `count` toy-world images at 224 px as JPEG files (quality 90) into a folder of their own. */
async function writeImages(count, dir) {
  const sharp = (await import('sharp')).default;
  const world = join(work, `world-${count}`);
  run(['node', cli, 'toyworld', 'generate', '--out', world, '--count', String(count), '--size', '224']);
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const name = String(i).padStart(6, '0');
    await sharp(join(world, 'images/toyworld', `${name}.png`))
      .jpeg({ quality: 90 })
      .toFile(join(dir, `${name}.jpg`));
  }
  rmSync(world, { recursive: true, force: true });
  return dir;
}

const maxDifference = (a, b) => {
  const x = parseNpy(readFileSync(a)).data;
  const y = parseNpy(readFileSync(b)).data;
  if (x.length !== y.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / (1 + Math.abs(y[i])));
  return worst;
};
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

try {
  const models = args.models ?? join(work, 'models');
  if (!existsSync(join(models, 'resnet50.onnx')))
    run([python, join(bench, 'export-bench-models.py'), '--out', models]);
  const images = await writeImages(Number(args.images), join(work, 'images'));
  const vitCount = Number(args['vit-images'] ?? args.images);
  const vitImages =
    vitCount === Number(args.images) ? images : await writeImages(vitCount, join(work, 'vit'));
  const batch = args['batch-size'];
  const jobs = {
    resnet: {
      title: `ResNet-50 layers 1-4, ${args.images} images`,
      images: Number(args.images),
      ours: (out) => [
        'node',
        cli,
        'activations',
        '--model',
        join(models, 'resnet50.onnx'),
        '--layers',
        'layer1,layer2,layer3,layer4',
        '--images',
        images,
        '--batch-size',
        batch,
        '--out',
        out,
      ],
      torch: (out) => [
        python,
        join(bench, 'torch_forward.py'),
        'activations',
        '--weights',
        join(models, 'resnet50.pt'),
        '--images',
        images,
        '--batch-size',
        batch,
        '--out',
        out,
      ],
      compare: (ours, torch) => maxDifference(join(ours, 'layer4.npy'), join(torch, 'layer4.npy')),
    },
    vit: {
      title: `ViT-B/16-size CLIP image tower, ${vitCount} images`,
      images: vitCount,
      ours: (out) => [
        'node',
        cli,
        'embed',
        '--clip',
        join(models, 'clip-b16'),
        '--images',
        vitImages,
        '--batch-size',
        batch,
        '--out',
        join(out, 'image-embeddings.npy'),
      ],
      torch: (out) => [
        python,
        join(bench, 'torch_forward.py'),
        'embed-images',
        '--weights',
        join(models, 'clip-b16/visual.pt'),
        '--images',
        vitImages,
        '--batch-size',
        batch,
        '--out',
        out,
        '--mkldnn',
      ],
      compare: (ours, torch) =>
        maxDifference(join(ours, 'image-embeddings.npy'), join(torch, 'image-embeddings.npy')),
    },
  };
  const report = {};
  for (const [name, job] of Object.entries(jobs)) {
    const pairs = [];
    for (let round = 0; round < Number(args.rounds); round++) {
      const ours = join(work, `${name}-ours`);
      const torch = join(work, `${name}-torch`);
      mkdirSync(ours, { recursive: true });
      const a = measured(`${name}-ours-${round}`, job.ours(ours), { cwd: root, work });
      const b = measured(`${name}-torch-${round}`, job.torch(torch), { cwd: root, work });
      pairs.push({
        ours: a,
        torch: b,
        speedup: b.wallSeconds / a.wallSeconds,
        cpuRatio: b.cpuSeconds / a.cpuSeconds,
      });
      if (round === 0) report[`${name}Difference`] = job.compare(ours, torch);
    }
    report[name] = pairs;
    console.log(`\n${job.title}, batch ${batch}, pairs run back to back:`);
    console.log('| pair | neurodissect | torch | torch ÷ neurodissect (wall) | (CPU seconds) |');
    console.log('|---|---|---|---|---|');
    pairs.forEach((p, i) => {
      const side = (m) =>
        `${m.wallSeconds} s (${(job.images / m.wallSeconds).toFixed(1)} img/s), CPU ${m.cpu}, ${m.cpuSeconds} CPU s, ${m.peakRssMiB} MiB`;
      console.log(
        `| ${i + 1} | ${side(p.ours)} | ${side(p.torch)} | ${p.speedup.toFixed(2)}× | ${p.cpuRatio.toFixed(2)}× |`,
      );
    });
    console.log(
      `median speed-up ${median(pairs.map((p) => p.speedup)).toFixed(2)}× (wall), ${median(pairs.map((p) => p.cpuRatio)).toFixed(2)}× (CPU seconds); outputs agree to ${report[`${name}Difference`].toExponential(1)} (relative)`,
    );
  }
  if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2));
} finally {
  rmSync(work, { recursive: true, force: true });
}
