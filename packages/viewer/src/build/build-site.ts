import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  ErrorCode,
  NeurodissectError,
  type OperationOptions,
  type Results,
  throwIfAborted,
} from '@neurodissect/core';
import { shownImages, siteContentFromResults } from '../site-content';
import {
  type MissingImageReason,
  missingImageText,
  type SiteImage,
  type SiteInBrowser,
  siteDataScript,
} from '../site-data';
import { APP_FILES, defaultAppDir, IN_BROWSER_WORKER } from './app-dir';
import { indexHtml } from './index-html';
import { REPORT_FOLDER, siteReportFiles } from './site-report';

/** Makes a small image from an image file (the CLI passes one built on sharp). */
export interface Thumbnailer {
  /** The file extension of what {@link Thumbnailer.create} returns, without the dot, e.g. `webp`. */
  extension: string;
  /** Reads the image at `path` and returns it encoded, fitting inside `size`×`size` pixels. */
  create(path: string, size: number): Promise<Uint8Array>;
}

/** Options of {@link buildSite}. */
export interface BuildSiteOptions extends OperationOptions {
  /** The Results document to show. */
  results: Results;
  /** The folder to write; created when absent. It must be empty or a site built before (which is replaced). */
  outDir: string;
  /** Where the probe images' relative paths are resolved. Without it every local image is a placeholder. */
  imageRoot?: string;
  /**
   * An `http(s)` URL the probe images' relative paths are appended to (`imageBase + path`, each
   * path segment URI-encoded), for images on a web server: the site shows and links those URLs.
   * With `imageRoot` as well, an image found there gets a thumbnail and links to its URL.
   * @defaultValue none
   */
  imageBase?: string;
  /**
   * The folder `neurodissect eval --out` wrote for the same Results: the site carries the report
   * (`report/`, each layer and neuron linked to its page), links to it and shows its ground-truth
   * accuracy beside the score-based counts. @defaultValue no report
   */
  report?: string;
  /** Where the Results file is: heatmap paths are relative to it. Without it only data-URI heatmaps are kept. */
  resultsDir?: string;
  /** Makes the thumbnails. @defaultValue none: images are copied as they are */
  thumbnailer?: Thumbnailer;
  /** Thumbnail size in pixels (longest side). @defaultValue 112 */
  thumbnailSize?: number;
  /** Images read at the same time. @defaultValue 4 */
  concurrency?: number;
  /** The site's title. @defaultValue the model's name */
  title?: string;
  /** The bundled browser app (`app.js`, `app.css`). @defaultValue this package's `dist/site` */
  appDir?: string;
  /**
   * Interpretability thresholds of the layer summaries for every labeler. @defaultValue each
   * labeler's published ones (soft-WPMI 0.3 / 0.2 / 0.1, NetDissect's IoU 0.04), none for others
   */
  thresholds?: number[];
  /**
   * Adds the "Dissect in your browser" page: the dissection worker, onnxruntime-web's WebAssembly
   * files (about 28 MB) and, with `toyWorldModels`, the toy world's models (about 9 MB) so the page
   * can dissect the toy world with nothing picked. @defaultValue no such page
   */
  inBrowser?: InBrowserSiteOptions;
}

/** Options of the site's "Dissect in your browser" page. */
export interface InBrowserSiteOptions {
  /** The toy world's models folder (`@neurodissect/toyworld`'s `models/`), to serve with the site. */
  toyWorldModels?: string;
  /** Where onnxruntime-web's files are. @defaultValue the installed onnxruntime-web's `dist/` */
  ortDir?: string;
}

/** onnxruntime-web's files the page loads (its default bundle: WebGPU and WebAssembly, threads). */
export const ORT_WEB_FILES = ['ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.jsep.mjs'] as const;
/** The toy world's model files the page loads, relative to its models folder. */
export const TOYWORLD_MODEL_FILES = [
  'target/toy-resnet.onnx',
  'clip/onnx/vision_model.onnx',
  'clip/onnx/text_model.onnx',
  'clip/tokenizer.json',
  'clip/preprocessor_config.json',
] as const;

/** What {@link buildSite} wrote. */
export interface SiteBuildReport {
  outDir: string;
  /** Every file written, relative to `outDir`, sorted. */
  files: string[];
  layers: number;
  neurons: number;
  images: {
    /** Distinct images among the neurons' top images. */
    shown: number;
    /** Of those, images with a thumbnail (local ones written, remote URLs linked). */
    thumbnails: number;
    /** Of those, images shown from their URL (remote in the Results or under `imageBase`). */
    remote: number;
    /** Of those, images shown as a placeholder, with the reason, at most 20 (see `missingCount`). */
    missing: { uri: string; reason: string }[];
    missingCount: number;
  };
  heatmaps: { kept: number; dropped: number };
  /** Whether the site has the "Dissect in your browser" page. */
  inBrowser: boolean;
}

// BMP is what core's heatmaps are (`data:image/bmp`, see @neurodissect/core's pipeline/heatmap).
const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp|bmp);base64,[A-Za-z0-9+/=]+$/;
const REMOTE = /^https?:\/\//i;
const SITE_MARKER = join('data', 'site.js');
/** Written first, so a build interrupted half-way (a full disk, Ctrl-C) is still known as ours. */
const BUILD_MARKER = '.neurodissect-site';
const SITE_ENTRIES = [
  BUILD_MARKER,
  'index.html',
  ...APP_FILES,
  IN_BROWSER_WORKER,
  'ort',
  'models',
  'data',
  'thumbs',
  'heatmaps',
  REPORT_FOLDER,
];

function invalid(message: string, details: Record<string, unknown> = {}): NeurodissectError {
  return new NeurodissectError(ErrorCode.InvalidOption, message, { details });
}

/** `path` resolved under `root`, or undefined when it would leave the root. */
function inside(root: string, path: string): string | undefined {
  if (isAbsolute(path) || path.includes('\0')) return undefined;
  const full = resolve(root, path);
  const rel = relative(root, full);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return full;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Empties `outDir` of a previous site, refusing a folder that holds anything else. */
async function prepareOutDir(outDir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(outDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(outDir, { recursive: true });
    return;
  }
  if (entries.length === 0) return;
  const foreign = entries.filter((e) => !SITE_ENTRIES.includes(e));
  const ours = (await isFile(join(outDir, SITE_MARKER))) || (await isFile(join(outDir, BUILD_MARKER)));
  if (!ours || foreign.length > 0) {
    throw invalid(
      `${outDir} is not empty and is not a site built before (it holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); give a new or empty folder.`,
      { outDir },
    );
  }
  for (const entry of entries) await rm(join(outDir, entry), { recursive: true, force: true });
}

function defaultOrtDir(): string {
  return dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
}

/** Copies what the in-browser page needs into the site; returns the manifest's `inBrowser`. */
async function writeInBrowserFiles(
  options: InBrowserSiteOptions,
  appDir: string,
  copy: (from: string, to: string) => Promise<void>,
): Promise<SiteInBrowser> {
  const rebuild = 'build the viewer ("pnpm --filter @neurodissect/viewer build")';
  const reinstall = 'reinstall onnxruntime-web';
  const toyHint = "give the toy world's models folder (@neurodissect/toyworld's models/)";
  // [from, to, what to do when `from` is missing]
  const sources: [string, string, string][] = [[join(appDir, IN_BROWSER_WORKER), IN_BROWSER_WORKER, rebuild]];
  const ortDir = options.ortDir ?? defaultOrtDir();
  for (const file of ORT_WEB_FILES) sources.push([join(ortDir, file), `ort/${file}`, reinstall]);
  if (options.toyWorldModels !== undefined) {
    for (const file of TOYWORLD_MODEL_FILES)
      sources.push([join(options.toyWorldModels, file), `models/toyworld/${file}`, toyHint]);
  }
  for (const [from, , fix] of sources) {
    if (!(await isFile(from))) {
      throw new NeurodissectError(
        ErrorCode.FileNotFound,
        `The in-browser page needs ${from}, which is missing; ${fix}.`,
        { details: { path: from } },
      );
    }
  }
  for (const [from, to] of sources) await copy(from, to);
  return {
    worker: IN_BROWSER_WORKER,
    ort: 'ort/',
    ...(options.toyWorldModels === undefined ? {} : { toyWorld: 'models/toyworld/' }),
  };
}

/** `base` as a URL ending in `/`, or an error saying what is wrong with it. */
export function normalizeImageBase(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw invalid(
      `The image base "${base}" is not a URL; give an http(s) address, e.g. https://example.org/broden1_224/.`,
      {
        imageBase: base,
      },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalid(
      `The image base "${base}" is not an http(s) address; give one, e.g. https://example.org/broden1_224/.`,
      {
        imageBase: base,
      },
    );
  if (url.search !== '' || url.hash !== '')
    throw invalid(`The image base "${base}" has a query or fragment; give the folder's address only.`, {
      imageBase: base,
    });
  const href = url.href;
  return href.endsWith('/') ? href : `${href}/`;
}

/**
 * The URL of probe path `path` under `base` (a URL ending in `/`), or undefined when the path is
 * absolute or climbs out of it.
 */
export function imageUrl(base: string, path: string): string | undefined {
  const parts = path.split(/[\\/]/).filter((p) => p !== '' && p !== '.');
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('/') || parts.length === 0 || parts.includes('..'))
    return undefined;
  return base + parts.map(encodeURIComponent).join('/');
}

/** Runs `work` on every item, at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Builds the static site for a Results document: `index.html`, the browser app, `data/site.js`
 * (the overview and layer summaries) and one `data/layer-N.js` per layer (so a page loads only
 * the layers it shows), `thumbs/` with a thumbnail of every top image found under `imageRoot`,
 * and `heatmaps/` with the heatmap files found beside the Results. Images that cannot be found
 * are recorded with the reason and shown as a placeholder with their path.
 */
export async function buildSite(options: BuildSiteOptions): Promise<SiteBuildReport> {
  const { results, signal, onProgress } = options;
  const size = options.thumbnailSize ?? 112;
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(size) || size < 8 || size > 2048)
    throw new RangeError(`thumbnailSize must be an integer from 8 to 2048, got ${size}`);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  const outDir = resolve(options.outDir);
  const appDir = options.appDir ?? defaultAppDir();
  for (const file of APP_FILES) {
    if (!(await isFile(join(appDir, file)))) {
      throw new NeurodissectError(
        ErrorCode.FileNotFound,
        `The viewer's browser app is missing (${join(appDir, file)}); build it with "pnpm --filter @neurodissect/viewer build".`,
        { details: { appDir } },
      );
    }
  }
  const imageBase = options.imageBase === undefined ? undefined : normalizeImageBase(options.imageBase);
  if (
    options.imageRoot !== undefined &&
    !(await stat(options.imageRoot).catch(() => undefined))?.isDirectory()
  ) {
    throw new NeurodissectError(
      ErrorCode.FileNotFound,
      `The image root ${options.imageRoot} is not a folder; give the folder the Results' image paths are relative to.`,
      { details: { imageRoot: options.imageRoot } },
    );
  }
  // Read before anything is written, so a bad report leaves the folder as it was.
  const report = options.report === undefined ? undefined : await siteReportFiles(options.report, results);
  throwIfAborted(signal);
  await prepareOutDir(outDir);
  await writeFile(
    join(outDir, BUILD_MARKER),
    'a site built by neurodissect; `neurodissect site` may replace this folder\n',
  );

  const written: string[] = [];
  const write = async (path: string, data: string | Uint8Array) => {
    await mkdir(join(outDir, path, '..'), { recursive: true });
    await writeFile(join(outDir, path), data);
    written.push(path.split(sep).join('/'));
  };

  const copy = async (from: string, to: string) => {
    await mkdir(join(outDir, to, '..'), { recursive: true });
    await copyFile(from, join(outDir, to));
    written.push(to);
  };
  const inBrowser = options.inBrowser
    ? await writeInBrowserFiles(options.inBrowser, appDir, copy)
    : undefined;
  const title = options.title ?? results.model.name;
  await write(
    'index.html',
    indexHtml(title, {
      inBrowser: inBrowser !== undefined,
      ...(report ? { report: report.entry.href } : {}),
    }),
  );
  for (const file of APP_FILES) {
    await copyFile(join(appDir, file), join(outDir, file));
    written.push(file);
  }

  // Thumbnails of every image that some neuron shows.
  const indices = shownImages(results);
  const siteImages = new Map<number, SiteImage>();
  const missing: { uri: string; reason: string }[] = [];
  let missingCount = 0;
  let thumbnails = 0;
  let remote = 0;
  let done = 0;
  const imageRoot = options.imageRoot === undefined ? undefined : resolve(options.imageRoot);
  const miss = (image: SiteImage, reason: MissingImageReason, error?: string) => {
    image.missing = reason;
    if (error !== undefined) image.error = error;
    missingCount++;
    if (missing.length < 20) missing.push({ uri: image.uri, reason: missingImageText(image) });
  };
  await pool(indices, concurrency, async (index) => {
    throwIfAborted(signal);
    const entry = results.probe.images[index];
    const image: SiteImage = entry.id === entry.uri ? { uri: entry.uri } : { uri: entry.uri, id: entry.id };
    siteImages.set(index, image);
    const url = REMOTE.test(entry.uri)
      ? entry.uri
      : imageBase === undefined
        ? undefined
        : imageUrl(imageBase, entry.uri);
    if (url !== undefined) {
      image.href = url;
      remote++;
    }
    const path = imageRoot === undefined || url === entry.uri ? undefined : inside(imageRoot, entry.uri);
    const local = path !== undefined && (await isFile(path));
    if (!local && url !== undefined) {
      image.thumb = url;
      thumbnails++;
    } else if (imageRoot === undefined) {
      miss(image, imageBase === undefined ? 'no-image-root' : 'outside-root');
    } else {
      if (path === undefined) miss(image, 'outside-root');
      else if (!local) miss(image, 'not-found');
      else {
        try {
          const extension = options.thumbnailer?.extension ?? extname(path).slice(1).toLowerCase();
          const data = options.thumbnailer
            ? await options.thumbnailer.create(path, size)
            : await readFile(path);
          const name = `thumbs/${index}.${extension.replace(/[^a-z0-9]/gi, '') || 'img'}`;
          await write(name, data);
          image.thumb = name;
          thumbnails++;
        } catch (error) {
          miss(image, 'unreadable', (error as Error).message.split('\n')[0]);
        }
      }
    }
    done++;
    if (done % 256 === 0 || done === indices.length)
      onProgress?.({ stage: 'thumbnails', done, total: indices.length });
  });

  // Heatmaps: data URIs stay inline, files beside the Results are copied, the rest are dropped.
  const heatmapPaths = new Map<string, string | undefined>();
  const resultsDir = options.resultsDir === undefined ? undefined : resolve(options.resultsDir);
  const heatmapOf = async (heatmap: string): Promise<string | undefined> => {
    if (DATA_IMAGE.test(heatmap)) return heatmap;
    if (resultsDir === undefined) return undefined;
    if (heatmapPaths.has(heatmap)) return heatmapPaths.get(heatmap);
    const path = inside(resultsDir, heatmap);
    let name: string | undefined;
    const extension = path === undefined ? '' : extname(path).slice(1).toLowerCase();
    if (
      path !== undefined &&
      ['png', 'jpg', 'jpeg', 'webp', 'gif', 'bmp'].includes(extension) &&
      (await isFile(path))
    ) {
      name = `heatmaps/${heatmapPaths.size}.${extension}`;
      await write(name, await readFile(path));
    }
    heatmapPaths.set(heatmap, name);
    return name;
  };

  const content = await siteContentFromResults(results, {
    title,
    thresholds: options.thresholds,
    image: (index) => siteImages.get(index)!,
    heatmap: heatmapOf,
    extra: {
      ...(inBrowser ? { inBrowser } : {}),
      ...(report ? { report: report.entry } : {}),
      ...(imageBase === undefined && imageRoot === undefined
        ? {}
        : {
            imageSource: {
              ...(imageBase === undefined ? {} : { base: imageBase }),
              ...(imageRoot === undefined ? {} : { local: true }),
            },
          }),
    },
  });
  for (const [li, data] of content.layers.entries()) {
    throwIfAborted(signal);
    const key = content.manifest.layers[li].key;
    await write(join('data', `${key}.js`), siteDataScript(key, data));
    onProgress?.({ stage: 'site-data', done: li + 1, total: results.layers.length });
  }
  for (const [path, text] of report?.files ?? []) await write(path, text);
  const manifest = content.manifest;
  if (content.concepts && manifest.conceptList)
    await write(
      join('data', `${manifest.conceptList}.js`),
      siteDataScript(manifest.conceptList, content.concepts),
    );
  await write(SITE_MARKER, siteDataScript('site', manifest));

  return {
    outDir,
    files: written.sort(),
    layers: results.layers.length,
    neurons: results.layers.reduce((n, l) => n + l.neurons.length, 0),
    images: { shown: indices.length, thumbnails, remote, missing, missingCount },
    heatmaps: content.heatmaps,
    inBrowser: inBrowser !== undefined,
  };
}
