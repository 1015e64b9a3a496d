// Runs a command as its own process under GNU time: wall seconds, peak RSS, CPU share and CPU seconds.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toyWorldModelPaths } from '@neurodissect/toyworld/node';

/** Runs `command` in `cwd`, its timing written to `work/label.time`; throws when it fails. */
export function measured(label, command, { cwd, work }) {
  const timing = join(work, `${label}.time`);
  console.log(`$ ${command.join(' ')}`);
  const result = spawnSync('/usr/bin/time', ['-o', timing, '-f', '%e %M %P %U %S', ...command], {
    cwd,
    stdio: ['ignore', 'inherit', 'pipe'],
    maxBuffer: 1 << 26,
  });
  if (result.status !== 0) {
    process.stderr.write(result.stderr);
    throw new Error(`${label} failed (exit ${result.status})`);
  }
  const [wall, rssKiB, cpu, user, system] = readFileSync(timing, 'utf8').trim().split('\n').at(-1).split(' ');
  return {
    wallSeconds: Number(wall),
    peakRssMiB: Math.round(Number(rssKiB) / 1024),
    cpu,
    // User + system CPU seconds: the work done, less moved by other processes than wall time.
    cpuSeconds: Number((Number(user) + Number(system)).toFixed(2)),
  };
}

/**
 * `node <cli> dissect …` on a toy world written at `probe`, with the toy models, the world's input
 * size and the given layers, labelers, concepts, cache and output (the benchmarks' one job).
 */
export function toyWorldDissectCommand(cli, { probe, concepts, layers, labelers, similarity, cache, out }) {
  const models = toyWorldModelPaths();
  return [
    'node',
    cli,
    'dissect',
    '--model',
    models.targetModel,
    '--layers',
    layers,
    '--clip',
    models.clipDir,
    '--probe',
    `broden:${probe}`,
    '--concepts',
    concepts,
    '--labelers',
    labelers,
    ...(similarity ? ['--similarity', similarity] : []),
    '--input-size',
    '64',
    '--batch-size',
    '50',
    '--cache',
    cache,
    '--out',
    out,
  ];
}
