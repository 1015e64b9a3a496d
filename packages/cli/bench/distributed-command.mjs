// `neurodissect dissect --queue` with 1, 2 and 3 `neurodissect worker` processes on this machine,
// beside a local `neurodissect dissect` of the same job: wall time and peak RSS of the coordinator
// (GNU time), shards per second, and the bytes each kind of shard read and wrote (from the
// workers' log lines). Starts its own redis-server on a free loopback port.
//
//   node packages/cli/bench/distributed-command.mjs --count 1000 --workers 1,2,3 --shards 8
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
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
    workers: { type: 'string', default: '1,2,3' },
    shards: { type: 'string', default: '8' },
    json: { type: 'string' },
  },
});
const root = new URL('../../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'neurodissect-distributed-bench-'));
const cli = join(root, 'packages/cli/bin/neurodissect.mjs');

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const port = await freePort();
const redis = spawn(
  'redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  { stdio: 'ignore' },
);
const url = `redis://127.0.0.1:${port}`;
const mib = (bytes) => (bytes / 2 ** 20).toFixed(2);

try {
  await sleep(500);
  const probe = join(work, 'world');
  spawnSync('node', [cli, 'toyworld', 'generate', '--out', probe, '--count', args.count], {
    cwd: root,
    stdio: 'inherit',
  });
  const concepts = join(work, 'concepts.txt');
  writeFileSync(concepts, `${toyWorldConceptList().join('\n')}\n`);
  const job = (out, cache) =>
    toyWorldDissectCommand(cli, {
      probe,
      concepts,
      layers: args.layers,
      labelers: args.labelers,
      cache: join(work, cache),
      out: join(work, out),
    });
  const rows = [];
  const local = measured('local', job('local.json', 'cache-local'), { cwd: root, work });
  rows.push({ run: 'local dissect (one process)', ...local });

  for (const count of args.workers.split(',').map(Number)) {
    const logs = [];
    const workers = Array.from({ length: count }, (_, i) => {
      const child = spawn('node', [cli, 'worker', '--queue', url], {
        cwd: root,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      logs[i] = '';
      child.stderr.on('data', (chunk) => (logs[i] += chunk));
      return child;
    });
    while (!logs.every((log) => log.includes('listening'))) await sleep(50);
    const figures = measured(
      `workers-${count}`,
      [...job(`distributed-${count}.json`, `cache-${count}`), '--queue', url, '--shards', args.shards],
      { cwd: root, work },
    );
    for (const worker of workers) worker.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))));
    // "shard <run>.<kind>.… done in S s: read X MiB, wrote Y MiB"
    const traffic = {};
    for (const match of logs
      .join('')
      .matchAll(/shard \w+\.(\w+)\S* done in ([\d.]+) s: read ([\d.]+) MiB, wrote ([\d.]+) MiB/g)) {
      traffic[match[1]] ??= { shards: 0, seconds: 0, readMiB: 0, writtenMiB: 0 };
      const kind = traffic[match[1]];
      kind.shards++;
      kind.seconds += Number(match[2]);
      kind.readMiB += Number(match[3]);
      kind.writtenMiB += Number(match[4]);
    }
    const shards = Object.values(traffic).reduce((n, k) => n + k.shards, 0);
    rows.push({
      run: `dissect --queue, ${count} worker(s)`,
      ...figures,
      shards,
      shardsPerSecond: Number((shards / figures.wallSeconds).toFixed(2)),
      traffic,
    });
  }
  console.log(
    `\ntoy world of ${args.count} images, ${args.layers}, ${args.labelers}, --shards ${args.shards}:`,
  );
  for (const row of rows) {
    const speed =
      row.shardsPerSecond === undefined ? '' : `, ${row.shards} shards, ${row.shardsPerSecond} shards/s`;
    console.log(
      `  ${row.run}: ${row.wallSeconds} s, coordinator peak RSS ${row.peakRssMiB} MiB${speed} (${(rows[0].wallSeconds / row.wallSeconds).toFixed(2)}× the local run's speed)`,
    );
    for (const [kind, t] of Object.entries(row.traffic ?? {})) {
      console.log(
        `    ${kind}: ${t.shards} shards, mean ${(t.seconds / t.shards).toFixed(2)} s, read ${mib((t.readMiB * 2 ** 20) / t.shards)} MiB and wrote ${mib((t.writtenMiB * 2 ** 20) / t.shards)} MiB per shard`,
      );
    }
  }
  if (args.json) writeFileSync(args.json, JSON.stringify(rows, null, 2));
} finally {
  redis.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
