// The in-browser dissection's speed against Node's, on the toy world: the demo's job (CLIP-Dissect
// on layer1-layer4, 55 concepts) run by `neurodissect demo` in Node, then by the site's
// "Dissect in your browser" page in headless Chromium: WebAssembly with threads (the page
// cross-origin isolated, as `neurodissect serve` serves it), WebAssembly on one thread, and WebGPU
// on Chromium's software adapter. Skipped unless NEURODISSECT_IN_BROWSER_BENCH names a JSON file for
// the figures (tests do not print); `pnpm bench` runs it and prints them.
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseResults, type Results } from '@neurodissect/core';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureAppBundle } from '../../../scripts/test-setup/app-bundle';
import { launchChromium } from '../../../scripts/test-setup/chromium';
import { startStaticServer } from '../../cli/src/commands/serve';
import { runCli } from '../../cli/src/program';
import { downloadResults } from './browser';

const OUT = process.env.NEURODISSECT_IN_BROWSER_BENCH;
const COUNT = Number(process.env.NEURODISSECT_IN_BROWSER_BENCH_COUNT ?? 1000);
const GPU_COUNT = Number(process.env.NEURODISSECT_IN_BROWSER_BENCH_GPU_COUNT ?? 200);
const figures: Record<string, unknown> = { images: COUNT, labelers: ['clip-dissect'] };
let work: string | undefined;

afterAll(async () => {
  if (OUT) await writeFile(OUT, JSON.stringify(figures, null, 2));
  if (work) rmSync(work, { recursive: true, force: true });
});

function summary(results: Results, seconds: number) {
  const timings = (results.run as { timings?: Record<string, number> }).timings ?? {};
  const stages = Object.values(timings).reduce((a, b) => a + b, 0) / 1000;
  return {
    executionProvider: results.run.runtime?.executionProvider,
    /** Wall time from "Run" to the results (in the page: loading the models included). */
    seconds: Number(seconds.toFixed(2)),
    /** The pipeline's own stages only (inference, labelers, heatmaps). */
    stagesSeconds: Number(stages.toFixed(2)),
    imagesPerSecond: Number((results.probe.images.length / seconds).toFixed(1)),
    stagesMs: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])),
  };
}

async function runInPage(page: Page, url: string, provider: string, count: number) {
  await page.goto(`${url}#/dissect`);
  await page.fill('#probe-count', String(count));
  await page.selectOption('#providers', provider);
  await page.uncheck('#cache-features');
  const started = Date.now();
  await page.click('#run-dissection');
  await page.locator('#open-results').waitFor({ timeout: 1_200_000 });
  const seconds = (Date.now() - started) / 1000;
  const results = await downloadResults(page);
  return { results, seconds, threads: await page.evaluate(() => crossOriginIsolated) };
}

describe.skipIf(!OUT)('in-browser dissection throughput', () => {
  it('the demo job in Node, then in the page', async () => {
    await ensureAppBundle();
    work = mkdtempSync(join(tmpdir(), 'neurodissect-in-browser-bench-'));
    const io = { stdout: { write: () => true }, stderr: { write: () => true } };
    const code = await runCli(
      ['demo', '--out', work, '--count', String(COUNT), '--labelers', 'clip-dissect'],
      io,
    );
    expect(code).toBe(0);
    const node = parseResults(await readFile(join(work, 'results.json'), 'utf8'));
    const nodeTimings = (node.run as { timings?: Record<string, number> }).timings ?? {};
    figures.node = summary(node, Object.values(nodeTimings).reduce((a, b) => a + b, 0) / 1000);

    const isolated = await startStaticServer({ root: join(work, 'site'), port: 0 });
    const plain = await startStaticServer({ root: join(work, 'site'), port: 0, crossOriginIsolation: false });
    const { context, userData } = await launchChromium('the in-browser benchmark', {
      extraArgs: ['--enable-unsafe-webgpu'],
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      page.setDefaultTimeout(60_000);
      const threads = await runInPage(page, isolated.url, 'wasm', COUNT);
      expect(threads.threads).toBe(true);
      figures.wasmThreads = summary(threads.results, threads.seconds);
      const single = await runInPage(page, plain.url, 'wasm', COUNT);
      expect(single.threads).toBe(false);
      figures.wasmOneThread = summary(single.results, single.seconds);
      const gpu = await runInPage(page, isolated.url, 'webgpu', GPU_COUNT);
      figures.webgpuSoftwareAdapter = summary(gpu.results, gpu.seconds);
    } finally {
      await context.close();
      rmSync(userData, { recursive: true, force: true });
      await isolated.close();
      await plain.close();
    }
  }, 3_600_000);
});
