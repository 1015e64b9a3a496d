// Node side of the browser tests: bundles page.ts with esbuild, serves it with onnxruntime-web's
// wasm files and the model fixtures from a node:http server, and drives Debian's Chromium (never a
// downloaded browser) through playwright-core. WebGPU runs on Chromium's software adapter.
import { readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { clipTokenizerJsonFromBpe } from '@neurodissect/model-io';
import { build } from 'esbuild';
import onnxProto from 'onnx-proto';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../../../../scripts/test-setup/chromium';
import { CLIP_BPE_VOCABULARY, fixturePath } from '../../../../scripts/test-setup/fixtures';

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = join(here, '../..');
const repoRoot = join(packageRoot, '../..');
/** Served directories, by URL prefix. */
const MOUNTS: Record<string, string> = {
  '/ort/': dirname(createRequire(import.meta.url).resolve('onnxruntime-web')),
  '/fixtures/': `${fixturePath('runtime-node')}/`,
  '/toyworld/': join(repoRoot, 'packages/toyworld/models/'),
};
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.onnx': 'application/octet-stream',
};

/** A running page with the web runtime, and what it printed. */
export interface BrowserHarness {
  readonly page: Page;
  /** Origin of the test server, e.g. `http://127.0.0.1:PORT`. */
  readonly origin: string;
  /** Console errors and warnings and page errors seen so far. */
  readonly consoleProblems: readonly string[];
  close(): Promise<void>;
}

async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [join(here, 'page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@neurodissect/source'],
    write: false,
    logLevel: 'silent',
    // onnxruntime-web's bundle references these Node built-ins behind environment checks.
    external: ['node:*', 'fs', 'path', 'url', 'worker_threads', 'module'],
  });
  return result.outputFiles[0].text;
}

/** The fixture ResNet's URL path with symbolic height and width (see {@link spatiallyDynamicResnet}). */
export const DYNAMIC_RESNET_PATH = '/generated/narrow-resnet-dynamic.onnx';

/**
 * The fixture ResNet (fixed 224×224 input) with its input's height and width made symbolic and its
 * recorded intermediate shapes dropped, so it runs on small images: WebGPU on Chromium's software
 * adapter takes seconds per 224-px image. The weights and operators are untouched.
 */
export function spatiallyDynamicResnet(): Uint8Array {
  const { onnx } = onnxProto;
  const model = onnx.ModelProto.decode(
    readFileSync(fixturePath('runtime-node', 'resnet', 'narrow-resnet.onnx')),
  );
  const graph = model.graph!;
  const dims = graph.input![0].type!.tensorType!.shape!.dim!;
  dims[2] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'height' });
  dims[3] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'width' });
  graph.valueInfo = [];
  return onnx.ModelProto.encode(model).finish();
}

function tokenizerJson(): string {
  // The Hugging Face CLIP fixture has no tokenizer.json (2 MB); serve one from the bundled vocabulary,
  // as runtime-node's tests write one.
  return JSON.stringify(
    clipTokenizerJsonFromBpe(gunzipSync(readFileSync(CLIP_BPE_VOCABULARY)).toString('utf8')),
  );
}

async function serve(bundle: string): Promise<Server> {
  let tokenizer: string | undefined;
  let dynamicResnet: Uint8Array | undefined;
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const send = (status: number, body: string | Uint8Array, type = 'text/plain') => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(body);
    };
    if (path === '/') {
      send(
        200,
        '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>',
        'text/html',
      );
      return;
    }
    if (path === '/page.js') return send(200, bundle, 'text/javascript');
    if (path === '/favicon.ico') return send(204, '');
    if (path === DYNAMIC_RESNET_PATH) {
      dynamicResnet ??= spatiallyDynamicResnet();
      return send(200, dynamicResnet, 'application/octet-stream');
    }
    if (path.endsWith('/clip-hf/tokenizer.json')) {
      tokenizer ??= tokenizerJson();
      return send(200, tokenizer, 'application/json');
    }
    const prefix = Object.keys(MOUNTS).find((p) => path.startsWith(p));
    if (!prefix) return send(404, 'not found');
    const file = normalize(join(MOUNTS[prefix], path.slice(prefix.length)));
    if (!file.startsWith(MOUNTS[prefix])) return send(403, 'forbidden');
    readFile(file).then(
      (bytes) => send(200, bytes, CONTENT_TYPES[extname(file)] ?? 'application/octet-stream'),
      () => send(404, 'not found'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/**
 * Starts the server and Chromium and opens the test page.
 * @throws when Chromium is missing, saying how to install it.
 */
export async function startBrowserHarness(): Promise<BrowserHarness> {
  const server = await serve(await bundlePage());
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let context: BrowserContext;
  let userData: string;
  try {
    // WebGPU on Chromium's software adapter (SwiftShader); a secure context (localhost) exposes it.
    ({ context, userData } = await launchChromium("runtime-web's browser tests", {
      extraArgs: ['--enable-unsafe-webgpu'],
    }));
  } catch (error) {
    server.close();
    throw error;
  }
  const consoleProblems: string[] = [];
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(60_000);
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      consoleProblems.push(`${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => consoleProblems.push(`page error: ${error.message}`));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => 'harness' in globalThis);
  let closed = false;
  return {
    page,
    origin,
    consoleProblems,
    async close() {
      if (closed) return;
      closed = true;
      await context.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(userData, { recursive: true, force: true });
    },
  };
}
