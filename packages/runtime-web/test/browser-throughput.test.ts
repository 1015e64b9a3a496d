// Images/s of runtime-web per provider in headless Chromium (WebGPU on the software adapter, and
// WASM), timed inside the page. Skipped unless NEURODISSECT_WEB_BENCH names a JSON file for the
// figures (tests do not print): `NEURODISSECT_WEB_BENCH=/tmp/web-bench.json pnpm exec vitest run
// packages/runtime-web/test/browser-throughput.test.ts`.
import { writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, DYNAMIC_RESNET_PATH, startBrowserHarness } from './browser/harness';
import { callPage, createRemoteRuntime } from './browser/remote-runtime';

const OUT = process.env.NEURODISSECT_WEB_BENCH;
const ROUNDS = Number(process.env.NEURODISSECT_WEB_BENCH_ROUNDS ?? 3);
const BATCH = 8;
/** Target-model input side: 224 as the fixture's export, or smaller through the symbolic-size copy. */
const SIZE = Number(process.env.NEURODISSECT_WEB_BENCH_SIZE ?? 224);
let harness: BrowserHarness | undefined;
const figures: Record<string, unknown> = { batch: BATCH, rounds: ROUNDS, size: SIZE };

afterAll(async () => {
  if (OUT) await writeFile(OUT, JSON.stringify(figures, null, 2));
  await harness?.close();
});

describe.skipIf(!OUT)('runtime-web throughput', () => {
  it.each(['wasm', 'webgpu'] as const)(
    '%s: narrow ResNet layer1-4 + fc and the CLIP image tower',
    async (provider) => {
      harness ??= await startBrowserHarness();
      const runtime = await createRemoteRuntime(harness.page, {
        executionProviders: [provider],
        strict: true,
        origin: harness.origin,
      });
      const result = await callPage(harness.page, 'benchmark', runtime.id, {
        targetUri: SIZE === 224 ? '/fixtures/resnet/narrow-resnet.onnx' : DYNAMIC_RESNET_PATH,
        layers: ['layer1', 'layer2', 'layer3', 'layer4', 'fc'],
        clipUri: '/fixtures/clip/clip-hf',
        batch: BATCH,
        rounds: ROUNDS,
        size: SIZE,
      });
      await runtime.dispose();
      expect(result.provider).toBe(provider);
      figures[provider] = result;
    },
    600_000,
  );
});
