import { join } from 'node:path';
import { isNeurodissectError, parseResults, type Results } from '@neurodissect/core';
import {
  createLabelMatcher,
  type EvalReport,
  EvalReportSchema,
  evaluateFinalLayer,
  evaluateResults,
  type Figure,
  formatHtmlReport,
  formatMarkdownReport,
  formatNumber,
  formatProportion,
  type GroundTruth,
  parseGroundTruth,
  parseSynonyms,
  renderFigures,
} from '@neurodissect/eval';
import { loadClipModel } from '@neurodissect/runtime-node';
import { type Command, InvalidArgumentError } from 'commander';
import { CliError } from '../cli-error';
import { pathForDocument, readInput, requireOutputFolder, writeOutput } from '../files';
import type { CliIo } from '../io';

/** Options of `neurodissect eval`, as parsed. */
export interface EvalCommandOptions {
  results: string;
  /** One ground-truth file, or several (one per annotator: agreement, and tables per annotator). */
  groundTruth?: string | readonly string[];
  synonyms?: string;
  nonInterpretable?: string[];
  thresholds?: [number, number, number];
  labeler?: string[];
  finalLayer?: string;
  classNames?: string;
  /** A CLIP folder: adds the final layer's mean CLIP text cosine between top labels and class names. */
  clip?: string;
  figures: boolean;
  lenient?: boolean;
  out: string;
}

function thresholdList(value: string): [number, number, number] {
  const parts = value.split(',').map((p) => Number(p.trim()));
  if (
    parts.length !== 3 ||
    parts.some((p) => !Number.isFinite(p)) ||
    !(parts[0] >= parts[1] && parts[1] >= parts[2])
  ) {
    throw new InvalidArgumentError(
      `"${value}" is not HIGH,MEDIUM,LOW with HIGH ≥ MEDIUM ≥ LOW (e.g. 0.3,0.2,0.1).`,
    );
  }
  return parts as [number, number, number];
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Turns a library error about an input file into a one-line CLI error naming the option. */
function asCliError(option: string, error: unknown): never {
  if (isNeurodissectError(error)) throw new CliError(`${option}: ${error.message}`);
  throw error;
}

/** `neurodissect eval`: writes report.md, report.html, report.json and the SVG figures into --out. */
export async function evalCommand(o: EvalCommandOptions, io: CliIo): Promise<EvalReport> {
  requireOutputFolder(o.out, '--out');
  if (o.clip !== undefined && o.finalLayer === undefined) {
    throw new CliError(
      '--clip goes with --final-layer and --class-names (it embeds top labels and class names)',
    );
  }
  if ((o.finalLayer === undefined) !== (o.classNames === undefined)) {
    throw new CliError('--final-layer and --class-names go together; give both');
  }
  let results: Results;
  try {
    results = parseResults((await readInput(o.results, '--results')).toString('utf8'), o.results);
  } catch (error) {
    asCliError('--results', error);
  }
  const groundTruthFiles =
    o.groundTruth === undefined
      ? []
      : typeof o.groundTruth === 'string'
        ? [o.groundTruth]
        : [...o.groundTruth];
  const groundTruths: GroundTruth[] = [];
  for (const file of groundTruthFiles) {
    const text = (await readInput(file, '--ground-truth')).toString('utf8');
    try {
      const parsed = parseGroundTruth(text, {
        source: file,
        ...(o.nonInterpretable ? { nonInterpretableMarkers: o.nonInterpretable } : {}),
        lenient: o.lenient ?? false,
        onSkip: (message) => io.stderr.write(`skipped: ${message}\n`),
      });
      // The report names it relative to itself, never by an absolute path of this machine.
      groundTruths.push({ ...parsed, source: pathForDocument(file, join(o.out, 'report.json')) });
    } catch (error) {
      asCliError('--ground-truth', error);
    }
  }
  for (const groundTruth of groundTruths) {
    const named = groundTruths.length > 1 ? ` ${groundTruth.source}` : '';
    // Rows the Results cannot answer are said, not silently dropped.
    const layers = new Map(results.layers.map((l) => [l.name, new Set(l.neurons.map((n) => n.unit))]));
    const unknownLayers = new Map<string, number>();
    let unknownUnits = 0;
    for (const entry of groundTruth.entries) {
      const units = layers.get(entry.layer);
      if (!units) unknownLayers.set(entry.layer, (unknownLayers.get(entry.layer) ?? 0) + 1);
      else if (!units.has(entry.unit)) unknownUnits++;
    }
    if (unknownLayers.size > 0) {
      io.stderr.write(
        `note: --ground-truth${named} names layers the Results do not have, ignored: ${[...unknownLayers].map(([layer, n]) => `${layer} (${n} rows)`).join(', ')}; the Results have ${[...layers.keys()].join(', ')}\n`,
      );
    }
    if (unknownUnits > 0) {
      io.stderr.write(
        `note: ${unknownUnits} --ground-truth${named} row(s) name units the Results do not hold; they are counted as missing\n`,
      );
    }
  }
  const synonyms =
    o.synonyms === undefined
      ? []
      : parseSynonyms((await readInput(o.synonyms, '--synonyms')).toString('utf8'));
  const known = new Set(results.labelers.map((l) => l.id));
  for (const id of o.labeler ?? []) {
    if (!known.has(id))
      throw new CliError(
        `--labeler: ${o.results} has no labeler "${id}"; it has ${[...known].join(', ') || 'none'}`,
      );
  }
  const matcher = createLabelMatcher({ synonyms });
  const report = evaluateResults(results, {
    matcher,
    ...(groundTruths.length === 0
      ? {}
      : { groundTruth: groundTruths.length === 1 ? groundTruths[0] : groundTruths }),
    ...(o.thresholds
      ? { thresholds: { high: o.thresholds[0], medium: o.thresholds[1], low: o.thresholds[2] } }
      : {}),
    ...(o.labeler ? { labelers: o.labeler } : {}),
  });

  if (o.finalLayer !== undefined && o.classNames !== undefined) {
    const layer = results.layers.find((l) => l.name === o.finalLayer);
    if (!layer)
      throw new CliError(
        `--final-layer: ${o.results} has no layer "${o.finalLayer}"; it has ${results.layers.map((l) => l.name).join(', ')}`,
      );
    // Line i names unit i; repeated names are kept so that units never shift.
    const classNames = (await readInput(o.classNames, '--class-names'))
      .toString('utf8')
      .replace(/^\ufeff/, '')
      .replace(/(\r?\n)+$/, '')
      .split(/\r?\n/);
    if (classNames.length !== layer.units) {
      io.stderr.write(
        `note: ${o.classNames} has ${classNames.length} class names but ${o.finalLayer} has ${layer.units} units; units without a name are not judged\n`,
      );
    }
    // CLIP-Dissect's text-cosine metric needs a text encoder: the CLIP given by --clip.
    const clip =
      o.clip === undefined
        ? undefined
        : await loadClipModel(o.clip).catch((error: unknown) => {
            if (isNeurodissectError(error)) throw new CliError(`--clip: ${error.message}`);
            throw error;
          });
    report.finalLayer = [];
    try {
      for (const labeler of report.labelers) {
        // Class-name synonyms join the user's synonym groups.
        const groups = [...synonyms, ...classNames.map((n) => n.split(',').map((m) => m.trim()))];
        report.finalLayer.push(
          await evaluateFinalLayer({
            layer,
            labeler: labeler.id,
            classNames,
            matcher: createLabelMatcher({ synonyms: groups }),
            ...(clip ? { embedders: { clip: (texts: readonly string[]) => clip.embedTexts(texts) } } : {}),
          }),
        );
      }
    } finally {
      await clip?.dispose();
    }
  }

  const figures: Figure[] = o.figures ? await renderFigures(report) : [];
  const checked = EvalReportSchema.parse(report);
  await writeOutput(join(o.out, 'report.json'), `${JSON.stringify(checked, null, 2)}\n`);
  await writeOutput(join(o.out, 'report.md'), formatMarkdownReport(checked, { figures }));
  await writeOutput(join(o.out, 'report.html'), formatHtmlReport(checked, { figures }));
  for (const figure of figures) await writeOutput(join(o.out, figure.file), figure.svg);

  // The primary labeler's layers on its own scale: counts per level, else the max score's median.
  const scale = checked.labelers.find((l) => l.id === checked.primaryLabeler)?.scale;
  const columns = scale?.levels.length
    ? `${scale.levels.map((level) => `${level.name} ≥ ${level.threshold}`).join('/')}/none`
    : 'median max score (no published thresholds)';
  io.stdout.write(
    `${checked.primaryLabeler ? `labeler ${checked.primaryLabeler} (${scale?.name})` : 'no labeler'}: layer, neurons, mean max score, ${columns}\n`,
  );
  for (const l of checked.layers) {
    const i = l.interpretability;
    const shown = i
      ? [...i.levels, i.none].join('/')
      : l.quantiles
        ? formatNumber(l.quantiles.p50, 4)
        : 'no scores';
    io.stdout.write(
      `  ${l.layer}: ${l.neurons} neurons, mean max score ${formatNumber(l.meanMaxScore, 4)}, ${shown}\n`,
    );
  }
  for (const labeler of checked.labelers) {
    for (const l of labeler.layers) {
      if (!l.accuracy) continue;
      const a = l.accuracy;
      const sample = checked.annotation?.intervals.find(
        (i) => i.labeler === labeler.id && i.layer === l.layer && i.sample !== null,
      );
      io.stdout.write(
        `  ${labeler.id} ${l.layer}: top-1 ${a.top1}, top-3 ${a.top3}, top-5 ${a.top5} of ${a.interpretable} interpretable (${a.total} judged, ${a.missing} missing)${sample?.sample ? `; a sample of ${sample.sample.judged} of ${sample.sample.of}: top-1 ${formatProportion(sample.top1)}, top-5 ${formatProportion(sample.top5)} (95% Wilson)` : ''}\n`,
      );
    }
  }
  for (const g of checked.annotation?.agreement ?? []) {
    io.stdout.write(
      `  agreement ${g.layer} (${g.annotators.join(' / ')}): kappa ${formatNumber(g.kappa)}, same label ${formatNumber(g.labelAgreement)} over ${g.neurons} neurons both labelled\n`,
    );
  }
  for (const f of checked.finalLayer ?? []) {
    io.stdout.write(
      `  final layer ${f.layer} (${f.labeler}): top-1 ${formatNumber(f.top1Accuracy)}, top-5 ${formatNumber(f.top5Accuracy)}, median rank ${formatNumber(f.medianRank, 1)}, ROC-AUC ${formatNumber(f.rocAuc)}${Object.entries(
        f.textSimilarity ?? {},
      )
        .map(([name, value]) => `, ${name} text cosine ${formatNumber(value, 4)}`)
        .join('')} over ${f.neurons} units\n`,
    );
  }
  io.stdout.write(
    `wrote ${join(o.out, 'report.md')}, report.html, report.json and ${figures.length} figure(s)\n`,
  );
  return checked;
}

/** Adds `eval` to the program. */
export function registerEvalCommand(program: Command, io: CliIo): void {
  program
    .command('eval')
    .description(
      "Evaluate a Results document: the report's Tables 1-3 and figures, as Markdown, HTML and JSON.",
    )
    .requiredOption('--results <file>', 'the Results document (.json)')
    .option(
      '--ground-truth <file>',
      'ground truth: CSV layer,unit,label (empty label = non-interpretable) or JSON; repeat it for several annotators (agreement, and the tables per annotator and for the neurons they agree on)',
      collect,
    )
    .option('--synonyms <file>', 'synonym groups, one per line, members separated by commas')
    .option(
      '--non-interpretable <marker>',
      'a ground-truth label meaning non-interpretable (repeatable; default "non-interpretable")',
      collect,
    )
    .option(
      '--thresholds <high,medium,low>',
      "Table 3 max-score thresholds for every labeler (default: each labeler's published ones — soft-WPMI 0.3,0.2,0.1, NetDissect IoU 0.04 — else quantiles)",
      thresholdList,
    )
    .option('--labeler <id>', 'evaluate only this labeler (repeatable)', collect)
    .option('--final-layer <layer>', "a final layer whose units are classes: add CLIP-Dissect's metrics")
    .option('--clip <dir>', "with --final-layer: a CLIP folder for CLIP-Dissect's text-cosine metric")
    .option(
      '--class-names <file>',
      'class name per unit of --final-layer, one per line (e.g. imagenet_labels.txt)',
    )
    .option('--no-figures', 'skip the SVG figures')
    .option('--lenient', 'report and skip malformed ground-truth rows')
    .requiredOption('--out <dir>', 'the directory for report.md, report.html, report.json and the figures')
    .action(async (options: EvalCommandOptions) => {
      await evalCommand(options, io);
    });
}
