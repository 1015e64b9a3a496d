// `neurodissect dissect` end to end on the toy world: wall time and peak RSS of the process (GNU
// time), on a fresh feature cache.
//
//   node packages/cli/bench/dissect-command.mjs --count 1000 --labelers clip-dissect,netdissect
//   node packages/cli/bench/dissect-command.mjs --count 16000 --layers layer1 --labelers netdissect
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toyWorldConceptList } from '@neurodissect/toyworld';
import { measured, toyWorldDissectCommand } from './measure.mjs';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    layers: { type: 'string', default: 'layer1,layer2,layer3,layer4' },
    labelers: { type: 'string', default: 'clip-dissect,clip-avg,broden-label,netdissect' },
    similarity: { type: 'string', default: 'soft_wpmi' },
    json: { type: 'string' },
  },
});
const root = new URL('../../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'neurodissect-dissect-bench-'));
const cli = join(root, 'packages/cli/bin/neurodissect.mjs');

function run(label, command, { timed = true } = {}) {
  if (timed) return measured(label, command, { cwd: root, work });
  console.log(`$ ${command.join(' ')}`);
  const result = spawnSync(command[0], command.slice(1), {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`${label} failed (exit ${result.status})`);
  return undefined;
}

try {
  const probe = join(work, 'world');
  run('generate', ['node', cli, 'toyworld', 'generate', '--out', probe, '--count', args.count], {
    measure: false,
  });
  const concepts = join(work, 'concepts.txt');
  writeFileSync(concepts, `${toyWorldConceptList().join('\n')}\n`);
  const figures = run(
    'dissect',
    toyWorldDissectCommand(cli, {
      probe,
      concepts,
      layers: args.layers,
      labelers: args.labelers,
      similarity: args.similarity,
      cache: join(work, 'cache'),
      out: join(work, 'results.json'),
    }),
  );
  const report = { images: Number(args.count), layers: args.layers, labelers: args.labelers, ...figures };
  console.log(
    `neurodissect dissect, toy world of ${args.count} images, ${args.layers}, ${args.labelers}: ${figures.wallSeconds} s, peak RSS ${figures.peakRssMiB} MiB, CPU ${figures.cpu} (${(Number(args.count) / figures.wallSeconds).toFixed(0)} images/s end to end)`,
  );
  if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2));
} finally {
  rmSync(work, { recursive: true, force: true });
}
