import { existsSync, readdirSync } from 'node:fs';
import { realpath, rm } from 'node:fs/promises';
import { dirname, isAbsolute, relative, sep } from 'node:path';
import { NeurodissectError, type Results } from '@neurodissect/core';
import { toyWorldModelPaths } from '@neurodissect/toyworld/node';
import { buildSite, type SiteBuildReport, type Thumbnailer } from '@neurodissect/viewer/build';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { requireOutputFolder } from '../files';
import type { CliIo } from '../io';
import { integer } from '../option-parsers';
import { createProgressRenderer } from '../progress-bar';
import { readResultsFile } from '../results-reader';

/** Options of `neurodissect site`, as parsed. */
export interface SiteCommandOptions {
  results: string;
  out: string;
  imageRoot?: string;
  /** The URL the probe images' paths are appended to. */
  imageBase?: string;
  /** The folder `neurodissect eval --out` wrote for the same Results. */
  report?: string;
  thumbnailSize: number;
  title?: string;
  /** Add the "Dissect in your browser" page. */
  dissectPage?: boolean;
  /** With the page: carry the toy world's models (so it runs the toy world with nothing picked). */
  toyworldModels?: boolean;
  /** Show images the Results name by http(s) URL from their servers. */
  allowRemoteImages?: boolean;
}

const REMOTE_IMAGE = /^https?:\/\//i;

/**
 * The Results with their remote images (http and https URLs) made placeholders: a site shows an
 * image from another server only when asked (each visit would reach that server).
 */
function withoutRemoteImages(results: Results): { results: Results; remote: Map<string, string> } {
  const remote = new Map<string, string>();
  const images = results.probe.images.map((image, index) => {
    if (!REMOTE_IMAGE.test(image.uri)) return image;
    // A scheme-like name, so neither --image-root nor --image-base resolves it to an image.
    const placeholder = `remote-image-not-loaded:${index}`;
    remote.set(placeholder, image.uri);
    return { ...image, id: image.id, uri: placeholder };
  });
  if (remote.size === 0) return { results, remote };
  return { results: { ...results, probe: { ...results.probe, images } }, remote };
}

/**
 * Thumbnails with sharp: auto-rotated, fitted inside size×size (never enlarged), WebP. Loads sharp
 * on first use. Given `imageRoot`, it reads only files inside it: a symbolic link that leads out of
 * it is refused (the image is shown as a placeholder).
 */
export function sharpThumbnailer(imageRoot?: string): Thumbnailer {
  let loaded: Promise<typeof import('sharp')> | undefined;
  let realRoot: Promise<string> | undefined;
  return {
    extension: 'webp',
    async create(path, size) {
      if (imageRoot !== undefined) {
        realRoot ??= realpath(imageRoot);
        const real = await realpath(path);
        const rel = relative(await realRoot, real);
        if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
          throw new Error(`it leads outside --image-root (to ${real})`);
        }
      }
      loaded ??= import('sharp');
      const sharp = (await loaded).default;
      return sharp(path)
        .rotate()
        .resize(size, size, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 80 })
        .toBuffer();
    },
  };
}

/** At most 80 characters of a user string, for a message. */
function quoteShort(text: string): string {
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** The summary printed after a build. */
export function formatSiteReport(report: SiteBuildReport, outDir: string): string {
  const { images } = report;
  const lines = [
    `Wrote the site to ${outDir}: ${report.layers} layer(s), ${report.neurons} neuron(s), ${images.shown} image(s) (${images.thumbnails} with thumbnails, ${images.missingCount} shown as placeholders${images.remote > 0 ? `; ${images.remote} linked to their web address` : ''}).`,
  ];
  if (images.missingCount > 0) {
    const example = images.missing[0];
    lines.push(
      `  placeholders, e.g. ${quoteShort(example.uri)}: ${quoteShort(example.reason)}${images.missingCount > 1 ? ` (and ${images.missingCount - 1} more)` : ''}`,
    );
  }
  if (report.heatmaps.dropped > 0)
    lines.push(`  ${report.heatmaps.dropped} heatmap(s) not found beside the Results file were left out`);
  lines.push(
    report.inBrowser
      ? `Run: neurodissect serve ${outDir} (the "Dissect in your browser" page needs http; it cannot run from file://)`
      : `Open ${outDir}/index.html in a browser, or run: neurodissect serve ${outDir}`,
  );
  return `${lines.join('\n')}\n`;
}

/** `neurodissect site`: builds the static site for a Results document. */
export async function siteCommand(o: SiteCommandOptions, io: CliIo): Promise<void> {
  requireOutputFolder(o.out, '--out');
  if (o.thumbnailSize < 8 || o.thumbnailSize > 2048)
    throw new CliError(`--thumbnail-size: must be from 8 to 2048 pixels, got ${o.thumbnailSize}`);
  const read = await readResultsFile(o.results, '--results');
  const { results, remote } = o.allowRemoteImages
    ? { results: read, remote: new Map<string, string>() }
    : withoutRemoteImages(read);
  if (remote.size > 0) {
    io.stderr.write(
      `note: ${remote.size} image(s) of the Results are on other servers (e.g. ${quoteShort([...remote.values()][0])}); they are shown as placeholders: add --allow-remote-images to show them (their servers then see every visit)\n`,
    );
  }
  const progress = createProgressRenderer(io);
  // A site that fails half-way (a full disk) is removed when the folder held nothing before.
  const fresh = !existsSync(o.out) || readdirSync(o.out).length === 0;
  let report: SiteBuildReport;
  try {
    report = await buildSite({
      results,
      outDir: o.out,
      imageRoot: o.imageRoot,
      ...(o.imageBase === undefined ? {} : { imageBase: o.imageBase }),
      ...(o.report === undefined ? {} : { report: o.report }),
      resultsDir: dirname(o.results),
      thumbnailer: sharpThumbnailer(o.imageRoot),
      thumbnailSize: o.thumbnailSize,
      title: o.title,
      ...(o.dissectPage || o.toyworldModels
        ? { inBrowser: o.toyworldModels ? { toyWorldModels: toyWorldModelPaths().root } : {} }
        : {}),
      onProgress: progress.onProgress,
    });
  } catch (error) {
    if (!(error instanceof NeurodissectError)) {
      const code = (error as NodeJS.ErrnoException).code;
      if (fresh && typeof code === 'string') {
        await rm(o.out, { recursive: true, force: true });
        const path = (error as NodeJS.ErrnoException).path;
        throw new CliError(
          code === 'ENOSPC'
            ? `--out: no space left to write the site${path ? ` (${path})` : ''}; the half-written ${o.out} was removed: free some space and run again`
            : `--out: could not write the site in ${o.out} (${code}${path ? `: ${path}` : ''}); the half-written folder was removed`,
        );
      }
      throw error;
    }
    const details = error.details as {
      imageRoot?: unknown;
      imageBase?: unknown;
      outDir?: unknown;
      path?: unknown;
    };
    const option =
      details.imageRoot !== undefined
        ? '--image-root'
        : details.imageBase !== undefined
          ? '--image-base'
          : details.outDir !== undefined
            ? '--out'
            : o.report !== undefined && typeof details.path === 'string' && details.path.startsWith(o.report)
              ? '--report'
              : undefined;
    throw new CliError(option === undefined ? error.message : `${option}: ${error.message}`);
  } finally {
    progress.stop();
  }
  report.images.missing = report.images.missing.map((missing) => {
    const uri = remote.get(missing.uri);
    return uri === undefined
      ? missing
      : { uri, reason: 'on another server (--allow-remote-images shows it)' };
  });
  const shown = relative(process.cwd(), report.outDir) || '.';
  io.stdout.write(formatSiteReport(report, shown.startsWith('..') ? report.outDir : shown));
}

/** Adds `site` to the program. */
export function registerSiteCommand(program: Command, io: CliIo): void {
  program
    .command('site')
    .description(
      'Build the interactive site for a Results document: a static folder to open in a browser or serve.',
    )
    .requiredOption('--results <file>', 'the Results document (.json)')
    .requiredOption('--out <dir>', 'the folder to write (new, empty, or a site built before)')
    .option(
      '--image-root <dir>',
      "the folder the Results' image paths are relative to (without it images show as placeholders)",
    )
    .option(
      '--image-base <url>',
      "an http(s) address the Results' image paths are appended to (the site shows and links the images there; with --image-root, local ones get thumbnails)",
    )
    .option(
      '--report <dir>',
      'the folder neurodissect eval --out wrote for these Results: the site carries and links the report and shows its ground-truth accuracy',
    )
    .option('--thumbnail-size <px>', 'thumbnail size, longest side', integer, 112)
    .option('--title <text>', "the site's title (default: the model's name)")
    .option(
      '--dissect-page',
      'add the "Dissect in your browser" page (onnxruntime-web in a worker; adds about 29 MB; needs http: neurodissect serve)',
    )
    .option('--toyworld-models', "with --dissect-page: carry the toy world's models (about 9 MB more)")
    .option(
      '--allow-remote-images',
      'show images the Results name by http(s) URL from their servers (by default they are placeholders: every visit would reach those servers)',
    )
    .action(async (options: SiteCommandOptions) => {
      await siteCommand(options, io);
    });
}
