import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toyWorldConceptList } from '@neurodissect/toyworld';
import { toyWorldModelPaths, writeToyWorld } from '@neurodissect/toyworld/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { startRedis } from './redis-server';

// The catalogue's Redis faults through the commands users run (the built binary): one line and
// exit 2 after --redis-timeout, and a worker sent SIGTERM without Redis stops within seconds.
const root = new URL('../../../', import.meta.url).pathname;
const bin = join(root, 'packages/cli/dist/bin.js');

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

/** Seconds until the process exits, at most `limit`; `undefined` if it is still running then (it is killed). */
async function exitWithin(
  running: Running,
  limit: number,
): Promise<{ code: number | null; seconds: number } | undefined> {
  const started = Date.now();
  const code = await Promise.race([
    running.exit,
    new Promise<'late'>((r) => setTimeout(() => r('late'), limit * 1000)),
  ]);
  if (code === 'late') {
    running.child.kill('SIGKILL');
    return undefined;
  }
  return { code, seconds: (Date.now() - started) / 1000 };
}

describe('the commands without Redis', () => {
  let work: string;
  beforeAll(async () => {
    expect(existsSync(bin), 'build first: pnpm build').toBe(true);
    work = await mkdtemp(join(tmpdir(), 'neurodissect-redis-cli-'));
    await writeToyWorld(join(work, 'probe'), { seed: 5, count: 8 });
    writeFileSync(join(work, 'concepts.txt'), toyWorldConceptList().join('\n'));
  }, 60_000);

  it('worker --redis-timeout: one line and exit 2 once Redis has been away that long', async () => {
    const redis = await startRedis();
    const worker = start(['worker', '--queue', redis.url, '--redis-timeout', '2']);
    await until(() => worker.output().includes('listening on'), 30_000, 'the worker');
    await redis.stop();
    const exited = await exitWithin(worker, 15);
    expect(exited?.code, worker.output()).toBe(2);
    const lines = worker.output().trim().split('\n');
    expect(lines.filter((l) => l.startsWith('neurodissect:'))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^neurodissect: --queue: Redis at ${redis.url} has not answered for 2 s( \\(\\w+\\))?; what was finished is kept in the feature store: start redis-server again and run the same command to go on \\(--redis-timeout SECONDS waits longer\\)$`,
        ),
      ),
    ]);
    expect(lines.filter((l) => / waiting for Redis at /.test(l))).toHaveLength(1);
    expect(lines.filter((l) => / worker error: /.test(l))).toEqual([]);
  }, 60_000);

  it('worker sent SIGTERM while Redis is away stops within seconds', async () => {
    const redis = await startRedis();
    const worker = start(['worker', '--queue', redis.url]);
    await until(() => worker.output().includes('listening on'), 30_000, 'the worker');
    await redis.stop();
    await until(() => worker.output().includes('waiting for Redis'), 15_000, 'the wait');
    worker.child.kill('SIGTERM');
    const exited = await exitWithin(worker, 10);
    expect(exited, worker.output()).toBeDefined();
    expect(exited!.code).toBe(0);
    expect(exited!.seconds).toBeLessThan(6);
    expect(worker.output()).toMatch(
      /SIGTERM: finishing the shards under way, then stopping\n.* worker stopped\n$/,
    );
  }, 60_000);

  it('dissect --queue says it waits for Redis, then gives up after --redis-timeout with one line and exit 2', async () => {
    const redis = await startRedis();
    const models = toyWorldModelPaths();
    // No worker: the coordinator waits for its shards, then Redis goes away.
    const coordinator = start([
      'dissect',
      '--model',
      models.targetModel,
      '--layers',
      'layer1',
      '--probe',
      `broden:${join(work, 'probe')}`,
      '--concepts',
      join(work, 'concepts.txt'),
      '--labelers',
      'broden-label',
      '--input-size',
      '64',
      '--queue',
      redis.url,
      '--cache',
      join(work, 'cache'),
      '--redis-timeout',
      '2',
      '--out',
      join(work, 'results.json'),
    ]);
    await new Promise((r) => setTimeout(r, 4000));
    await redis.stop();
    const exited = await exitWithin(coordinator, 20);
    expect(exited?.code, coordinator.output()).toBe(2);
    const lines = coordinator.output().trim().split('\n');
    expect(lines).toContain(
      `waiting for Redis at ${redis.url} (it does not answer); giving up after 2 s without it`,
    );
    expect(lines.filter((l) => l.startsWith('neurodissect:'))).toEqual([
      expect.stringMatching(
        new RegExp(`^neurodissect: --queue: Redis at ${redis.url} has not answered for 2 s`),
      ),
    ]);
    expect(existsSync(join(work, 'results.json'))).toBe(false);
  }, 60_000);
});
