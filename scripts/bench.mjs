// `pnpm bench`: every benchmark, one after another, each in its own process (so each reports its
// own peak memory). `pnpm bench -- --quick` runs the same benchmarks at small sizes.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const quick = process.argv.includes('--quick');
const root = new URL('../', import.meta.url).pathname;

const reference = process.env.NEURODISSECT_REFERENCE_DIR;
const referenceArgs = reference ? ['--reference', reference] : [];
const against = reference ? "CLIP-Dissect's similarity.py (torch)" : 'the reference formulation in Node';
const runs = [
  {
    title: `neurodissect score, N=20,000 images × M=20,000 concepts × K=512 neurons (D=512), beside ${against}`,
    command: [
      'node',
      'packages/cli/bench/score-command.mjs',
      '--images',
      quick ? '4000' : '20000',
      '--concepts',
      quick ? '4000' : '20000',
      '--layers',
      '512',
      ...referenceArgs,
    ],
  },
  {
    title: `neurodissect score at Broden scale: ResNet-50 layers 1-4 (3,840 neurons), N=63,305, M=20,000, D=512, one call, beside ${against}`,
    command: [
      'node',
      'packages/cli/bench/score-command.mjs',
      '--images',
      quick ? '6000' : '63305',
      '--concepts',
      quick ? '4000' : '20000',
      '--layers',
      '256,512,1024,2048',
      ...referenceArgs,
    ],
  },
  {
    title: `the permutation null's cost: neurodissect score --null 0 beside --null 1000 at Broden scale (ResNet-50 layers 1-4, N=63,305, M=20,000), and its calibration on noise`,
    command: [
      'node',
      'packages/cli/bench/score-command.mjs',
      '--images',
      quick ? '6000' : '63305',
      '--concepts',
      quick ? '4000' : '20000',
      '--layers',
      '256,512,1024,2048',
      '--null-overhead',
    ],
  },
  {
    title: `neurodissect dissect on the toy world (${quick ? 200 : 1000} images, layers 1-4, every labeler)`,
    command: ['node', 'packages/cli/bench/dissect-command.mjs', '--count', quick ? '200' : '1000'],
  },
  {
    title: `neurodissect dissect --labelers netdissect on layer1 of a ${quick ? '2,000' : '16,000'}-image toy world (bounded memory)`,
    command: [
      'node',
      'packages/cli/bench/dissect-command.mjs',
      '--count',
      quick ? '2000' : '16000',
      '--layers',
      'layer1',
      '--labelers',
      'netdissect',
    ],
  },
  {
    title: `forward passes beside torch's own loop, pairs back to back: neurodissect activations (ResNet-50 layers 1-4, ${quick ? 64 : 500} images) and embed --images (ViT-B/16-size CLIP image tower, ${quick ? 32 : 200} images); needs Debian's torch`,
    command: [
      'node',
      'packages/cli/bench/forward-command.mjs',
      '--images',
      quick ? '64' : '500',
      '--vit-images',
      quick ? '32' : '200',
      '--rounds',
      quick ? '1' : '3',
    ],
  },
  {
    title: `the whole job: neurodissect dissect of ResNet-50 layers 1-4 with a ViT-B/16-size CLIP on ${quick ? '100 images × 2,000' : '500 images × 20,000'} words beside the reference's pipeline in torch, extrapolated to Broden's 63,305 images; NetDissect beside Broden-label on ResNet-18's layer1 (${quick ? 100 : 600} images); needs Debian's torch`,
    command: [
      'node',
      'packages/cli/bench/whole-job-command.mjs',
      ...(quick ? ['--quick', '--netdissect-images', '100'] : ['--images', '500', '--concepts', '20000']),
      '--netdissect',
      ...referenceArgs,
    ],
  },
  {
    title: `neurodissect dissect --queue with 1, 2 and 3 neurodissect worker processes on Redis, beside a local dissect (toy world, ${quick ? 200 : 1000} images)`,
    command: [
      'node',
      'packages/cli/bench/distributed-command.mjs',
      '--count',
      quick ? '200' : '1000',
      '--workers',
      '1,2,3',
    ],
  },
  { title: 'vitest benchmarks (search, runtimes)', command: ['pnpm', 'exec', 'vitest', 'bench', '--run'] },
  {
    title: `the toy-world dissection in Node and in the browser page (${quick ? 200 : 1000} images; needs Chromium)`,
    command: ['pnpm', 'exec', 'vitest', 'run', 'packages/viewer/test/in-browser-throughput.test.ts'],
    figures: '/tmp/neurodissect-in-browser-bench.json',
    env: {
      NEURODISSECT_IN_BROWSER_BENCH: '/tmp/neurodissect-in-browser-bench.json',
      NEURODISSECT_IN_BROWSER_BENCH_COUNT: quick ? '200' : '1000',
      NEURODISSECT_IN_BROWSER_BENCH_GPU_COUNT: quick ? '50' : '200',
    },
  },
];

let failed = false;
for (const run of runs) {
  console.log(`\n## ${run.title}${quick ? ' (quick sizes)' : ''}\n$ ${run.command.join(' ')}`);
  const result = spawnSync(run.command[0], run.command.slice(1), {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...run.env },
  });
  if (result.status !== 0) failed = true;
  else if (run.figures) console.log(readFileSync(run.figures, 'utf8'));
}
process.exitCode = failed ? 1 : 0;
