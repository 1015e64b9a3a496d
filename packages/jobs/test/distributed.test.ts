import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseResults, type Results } from '@neurodissect/core';
import { toyWorldConceptList } from '@neurodissect/toyworld';
import { toyWorldModelPaths, writeToyWorld } from '@neurodissect/toyworld/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from './redis-server';

const root = new URL('../../../', import.meta.url).pathname;
const bin = join(root, 'packages/cli/dist/bin.js');
const LABELERS = 'clip-dissect,clip-avg,broden-label,netdissect';

/** A CLI process whose output is collected as it comes. */
interface Running {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

function start(args: readonly string[]): Running {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (chunk) => (text += chunk));
  child.stderr!.on('data', (chunk) => (text += chunk));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exit };
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Same images, same labels in the same order, scores within 1e-6, same top images. */
function expectSameResults(distributed: Results, local: Results): void {
  expect(distributed.failures).toEqual(local.failures);
  expect(distributed.probe.images).toEqual(local.probe.images);
  expect(distributed.labelers).toEqual(local.labelers);
  expect(distributed.layers.map((l) => [l.name, l.units])).toEqual(
    local.layers.map((l) => [l.name, l.units]),
  );
  let compared = 0;
  distributed.layers.forEach((layer, l) => {
    layer.neurons.forEach((neuron, n) => {
      const other = local.layers[l].neurons[n];
      expect(neuron.topImages).toEqual(other.topImages);
      for (const id of Object.keys(other.labels)) {
        const mine = neuron.labels[id];
        const theirs = other.labels[id];
        expect(
          mine.map((x) => x.label),
          `${layer.name}#${n} ${id}`,
        ).toEqual(theirs.map((x) => x.label));
        mine.forEach((x, i) => {
          expect(Math.abs(x.score - theirs[i].score)).toBeLessThanOrEqual(1e-6);
          compared++;
        });
      }
    });
  });
  expect(compared).toBeGreaterThan(1000);
}

describe('a dissection spread over worker processes on Redis', () => {
  let redis: TestRedis;
  let work: string;
  let args: string[];
  let local: Results;
  const workers: Running[] = [];
  // The coordinator's command: the local run's, on the queue in four shards.
  const distributed = (out: string) => [
    ...args,
    '--queue',
    redis.url,
    '--shards',
    '4',
    '--cache',
    join(work, 'cache'),
    '--out',
    join(work, out),
  ];

  beforeAll(async () => {
    expect(existsSync(bin), 'build first: pnpm build').toBe(true);
    redis = await startRedis();
    work = await mkdtemp(join(tmpdir(), 'neurodissect-jobs-'));
    await writeToyWorld(join(work, 'probe'), { seed: 3, count: 160 });
    writeFileSync(join(work, 'concepts.txt'), toyWorldConceptList().join('\n'));
    const models = toyWorldModelPaths();
    args = [
      'dissect',
      '--model',
      models.targetModel,
      '--layers',
      'layer1,layer2,layer4',
      '--clip',
      models.clipDir,
      '--probe',
      `broden:${join(work, 'probe')}`,
      '--concepts',
      join(work, 'concepts.txt'),
      '--labelers',
      LABELERS,
      '--similarity',
      'soft_wpmi',
      '--top-k',
      '20',
      '--input-size',
      '64',
      '--batch-size',
      '20',
    ];
    const run = start([...args, '--no-cache', '--out', join(work, 'local.json')]);
    expect(await run.exit, run.output()).toBe(0);
    local = parseResults(readFileSync(join(work, 'local.json'), 'utf8'));
  }, 240_000);

  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await redis?.stop();
  });

  it('gives a local run’s Results though a worker is killed mid-shard', async () => {
    for (let i = 0; i < 3; i++) {
      workers.push(start(['worker', '--queue', redis.url, '--stall-seconds', '4']));
    }
    await until(() => workers.every((w) => w.output().includes('listening')), 60_000, 'the workers');
    const coordinator = start(distributed('distributed.json'));
    // The first worker to start a shard dies before finishing it (opening the run's models alone
    // takes longer than the signal).
    const starter = () => workers.find((w) => /shard \S+ started/.test(w.output()));
    await until(() => starter() !== undefined, 60_000, 'a shard to start');
    const victim = starter()!;
    victim.child.kill('SIGKILL');
    const lost = /shard (\S+) started/.exec(victim.output())![1];
    expect(victim.output()).not.toContain(`shard ${lost} done`);

    expect(await coordinator.exit, coordinator.output()).toBe(0);
    const survivors = workers.filter((w) => w !== victim);
    // The killed worker's shard was done by another worker, once.
    const redone = survivors.filter((w) => w.output().includes(`shard ${lost} done`));
    expect(redone).toHaveLength(1);
    expectSameResults(parseResults(readFileSync(join(work, 'distributed.json'), 'utf8')), local);
    expect(coordinator.output()).toMatch(/dissected 3 layer\(s\)/);
  }, 240_000);

  it('finds every shard of a repeated run in the store, and a worker stops on SIGTERM', async () => {
    const survivors = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    const before = survivors.map((w) => w.output().length);
    const again = start(distributed('again.json'));
    expect(await again.exit, again.output()).toBe(0);
    const logs = survivors.map((w, i) => w.output().slice(before[i])).join('');
    const done = logs.match(/shard \S+ done/g) ?? [];
    expect(done.length).toBeGreaterThan(0);
    expect(logs.match(/\(already in the store\)/g)).toHaveLength(done.length);
    expectSameResults(parseResults(readFileSync(join(work, 'again.json'), 'utf8')), local);

    const worker = survivors[0];
    worker.child.kill('SIGTERM');
    expect(await worker.exit).toBe(0);
    expect(worker.output()).toMatch(/worker stopped/);
  }, 120_000);
});
