// Bundles the browser app (src/app) into dist/site/app.js + app.css: one classic script, so the
// site also works from file://, where module scripts are refused; and the in-browser dissection's
// worker into dist/site/dissect-worker.js.
import { copyFileSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Writes app.js and app.css into `outDir` (atomically: a temporary folder is renamed into place). */
export async function bundleApp(outDir = join(root, 'dist', 'site')) {
  const temp = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(temp, { recursive: true });
  try {
    await build({
      entryPoints: [join(root, 'src', 'app', 'main.ts')],
      outfile: join(temp, 'app.js'),
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: ['chrome110', 'firefox115', 'safari16'],
      conditions: ['@neurodissect/source'],
      minify: true,
      sourcemap: false,
      legalComments: 'none',
      logLevel: 'silent',
    });
    // The in-browser dissection's worker: a module worker, since onnxruntime-web loads its
    // WebAssembly glue with import(). Copied only into sites built with the in-browser page.
    await build({
      entryPoints: [join(root, 'src', 'in-browser', 'dissect-worker.ts')],
      outfile: join(temp, 'dissect-worker.js'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['chrome113', 'firefox115', 'safari16'],
      conditions: ['@neurodissect/source'],
      minify: true,
      sourcemap: false,
      legalComments: 'none',
      logLevel: 'silent',
      // onnxruntime-web's bundle names these Node built-ins behind environment checks.
      external: ['node:*', 'fs', 'path', 'url', 'worker_threads', 'module'],
    });
    copyFileSync(join(root, 'src', 'app', 'app.css'), join(temp, 'app.css'));
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(dirname(outDir), { recursive: true });
    renameSync(temp, outDir);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleApp();
