import { dirname, relative } from 'node:path';
import { NeurodissectError } from '@neurodissect/core';
import { toyWorldModelPaths } from '@neurodissect/toyworld/node';
import { buildSite, type SiteBuildReport, type Thumbnailer } from '@neurodissect/viewer/build';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { requireOutputFolder } from '../files';
import type { CliIo } from '../io';
import { integer } from '../option-parsers';
import { createProgressRenderer } from '../progress-bar';
import { readResultsFile } from './search';

/** Options of `neurodissect site`, as parsed. */
export interface SiteCommandOptions {
  results: string;
  out: string;
  imageRoot?: string;
  thumbnailSize: number;
  title?: string;
  /** Add the "Dissect in your browser" page. */
  dissectPage?: boolean;
  /** With the page: carry the toy world's models (so it runs the toy world with nothing picked). */
  toyworldModels?: boolean;
}

/** Thumbnails with sharp: auto-rotated, fitted inside size×size (never enlarged), WebP. Loads sharp on first use. */
export function sharpThumbnailer(): Thumbnailer {
  let loaded: Promise<typeof import('sharp')> | undefined;
  return {
    extension: 'webp',
    async create(path, size) {
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

/** The summary printed after a build. */
export function formatSiteReport(report: SiteBuildReport, outDir: string): string {
  const { images } = report;
  const lines = [
    `Wrote the site to ${outDir}: ${report.layers} layer(s), ${report.neurons} neuron(s), ${images.shown} image(s) (${images.thumbnails} with thumbnails, ${images.missingCount} shown as placeholders).`,
  ];
  if (images.missingCount > 0) {
    const example = images.missing[0];
    lines.push(
      `  placeholders, e.g. ${example.uri}: ${example.reason}${images.missingCount > 1 ? ` (and ${images.missingCount - 1} more)` : ''}`,
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
  const results = await readResultsFile(o.results, '--results');
  const progress = createProgressRenderer(io);
  let report: SiteBuildReport;
  try {
    report = await buildSite({
      results,
      outDir: o.out,
      imageRoot: o.imageRoot,
      resultsDir: dirname(o.results),
      thumbnailer: sharpThumbnailer(),
      thumbnailSize: o.thumbnailSize,
      title: o.title,
      ...(o.dissectPage || o.toyworldModels
        ? { inBrowser: o.toyworldModels ? { toyWorldModels: toyWorldModelPaths().root } : {} }
        : {}),
      onProgress: progress.onProgress,
    });
  } catch (error) {
    if (!(error instanceof NeurodissectError)) throw error;
    const option =
      error.details.imageRoot !== undefined
        ? '--image-root'
        : error.details.outDir !== undefined
          ? '--out'
          : undefined;
    throw new CliError(option === undefined ? error.message : `${option}: ${error.message}`);
  } finally {
    progress.stop();
  }
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
    .option('--thumbnail-size <px>', 'thumbnail size, longest side', integer, 112)
    .option('--title <text>', "the site's title (default: the model's name)")
    .option(
      '--dissect-page',
      'add the "Dissect in your browser" page (onnxruntime-web in a worker; adds about 29 MB; needs http: neurodissect serve)',
    )
    .option('--toyworld-models', "with --dissect-page: carry the toy world's models (about 9 MB more)")
    .action(async (options: SiteCommandOptions) => {
      await siteCommand(options, io);
    });
}
