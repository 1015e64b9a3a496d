import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, NeurodissectError, type Results } from '@neurodissect/core';
import { EvalReportSchema, type Figure, figureSpecs, formatHtmlReport } from '@neurodissect/eval';
import type { SiteReport } from '../site-data';

/** The folder of the site that holds the evaluation report. */
export const REPORT_FOLDER = 'report';

/** What the site carries of an eval report: its manifest entry and the files to write. */
export interface SiteReportFiles {
  entry: SiteReport;
  /** Path in the site → content. */
  files: Map<string, string>;
}

/**
 * Reads `neurodissect eval --out DIR`'s `report.json` (and the figures beside it) and makes the
 * site's copy: `report/index.html`, the same report with each layer and neuron linked to its site
 * page, and `report/report.json`; plus the ground-truth accuracy the overview shows.
 */
export async function siteReportFiles(dir: string, results: Results): Promise<SiteReportFiles> {
  const path = join(dir, 'report.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new NeurodissectError(
      ErrorCode.FileNotFound,
      `${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); give the folder neurodissect eval --out wrote.`,
      { details: { path }, cause: error },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new NeurodissectError(
      ErrorCode.InvalidFormat,
      `${path} is not JSON; give the folder neurodissect eval --out wrote.`,
      {
        details: { path },
        cause: error,
      },
    );
  }
  const parsed = EvalReportSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new NeurodissectError(
      ErrorCode.InvalidFormat,
      `${path} is not an eval report this version reads (${issue?.path.join('.') || 'document'}: ${issue?.message}); run neurodissect eval again.`,
      { details: { path, issues: parsed.error.issues } },
    );
  }
  const report = parsed.data;
  // The figures eval wrote beside the report; a missing one is left out.
  const figures: Figure[] = [];
  for (const { spec: _, ...figure } of figureSpecs(report)) {
    const svg = await readFile(join(dir, figure.file), 'utf8').catch(() => undefined);
    if (svg?.startsWith('<svg')) figures.push({ ...figure, svg });
  }
  const units = Object.fromEntries(results.layers.map((l) => [l.name, l.neurons.map((n) => n.unit)]));
  const files = new Map<string, string>([
    [
      `${REPORT_FOLDER}/index.html`,
      formatHtmlReport(report, { figures, site: { href: '../index.html', units } }),
    ],
    [`${REPORT_FOLDER}/report.json`, text],
  ]);
  const entry: SiteReport = {
    href: `${REPORT_FOLDER}/index.html`,
    groundTruth:
      report.groundTruth === null
        ? null
        : { source: report.groundTruth.source, neurons: report.groundTruth.neurons },
    accuracy: report.labelers.flatMap((labeler) =>
      labeler.layers.flatMap((layer) =>
        layer.accuracy === undefined
          ? []
          : [
              {
                labeler: labeler.id,
                layer: layer.layer,
                top1: layer.accuracy.top1,
                top5: layer.accuracy.top5,
                interpretable: layer.accuracy.interpretable,
                total: layer.accuracy.total,
              },
            ],
      ),
    ),
  };
  return { entry, files };
}
