import { dirname, join, resolve } from 'node:path';
import {
  type Comparison,
  compareDissections,
  comparisonRefusal,
  conceptSetFromList,
  createDissection,
  isNeurodissectError,
  type Labeler,
  type Matrix,
  type Results,
  summaryFeatureKey,
} from '@neurodissect/core';
import { escapeHtml } from '@neurodissect/eval';
import { openProbeUri } from '@neurodissect/jobs';
import {
  contentHashOfFile,
  createFileFeatureStore,
  createNodeRuntime,
  type FileFeatureStore,
  targetPreprocessing,
} from '@neurodissect/runtime-node';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { requireOutputFolder, writeOutput } from '../files';
import type { CliIo } from '../io';
import { createProgressRenderer } from '../progress-bar';
import { readResultsFile } from '../results-reader';

/** Options of `neurodissect compare`, as parsed. */
export interface CompareCommandOptions {
  /** The feature cache both dissections wrote (default: `.neurodissect-cache` beside A). */
  cache?: string;
  /** The probe set both were dissected on, to recompute summaries missing from the cache. */
  probe?: string;
  /** Where A's and B's models are (default: their Results' `model.uri`, relative to the Results). */
  modelA?: string;
  modelB?: string;
  /** The correlation from which matched units count as the same unit. */
  threshold: number;
  out: string;
}

/** One side: its file, Results and the layers whose summaries the cache lacks. */
interface Side {
  name: 'A' | 'B';
  file: string;
  results: Results;
  keys: Map<string, string>;
}

const rowsOf = (results: Results) => results.probe.images.length;

async function cachedSummaries(
  store: FileFeatureStore,
  side: Side,
  layer: string,
): Promise<Matrix | undefined> {
  const hit = await store.get(side.keys.get(layer)!);
  if (hit?.tensor.dims.length !== 2 || hit.tensor.dims[0] !== rowsOf(side.results)) return undefined;
  return { rows: hit.tensor.dims[0], cols: hit.tensor.dims[1], data: hit.tensor.data };
}

/**
 * Recomputes one side's missing summaries into the store, as `dissect` computes them (the same
 * pipeline and cache keys): the model from the Results' `model.uri` (relative to the Results),
 * checked against its hash, and the probe set given.
 */
async function recompute(
  side: Side,
  layers: readonly string[],
  probeUri: string,
  model: string | undefined,
  store: FileFeatureStore,
  io: CliIo,
) {
  const { results } = side;
  const option = `--model-${side.name.toLowerCase()}`;
  const uri = model ?? results.model.uri;
  if (uri === undefined)
    throw new CliError(`${side.file}: the Results do not say where the model is; give ${option}`);
  const modelPath = model ?? resolve(dirname(side.file), uri);
  const hash = await contentHashOfFile(modelPath).catch(() => {
    throw new CliError(
      `${option}: ${side.file}'s model ${modelPath} cannot be read; give ${option} FILE to recompute`,
    );
  });
  if (hash !== results.model.hash)
    throw new CliError(
      `${option}: ${modelPath} is not the model ${side.file} was dissected with (content differs)`,
    );
  const { preprocessing: recorded, summary } = results.run.parameters as {
    preprocessing?: unknown;
    summary?: string;
  };
  const prep = targetPreprocessing(recorded as Parameters<typeof targetPreprocessing>[0]);
  if (prep.preprocessing !== JSON.stringify(recorded))
    throw new CliError(
      `${side.file}: its preprocessing cannot be reproduced here; run dissect again with --cache`,
    );
  const probe = await openProbeUri(probeUri);
  const runtime = await createNodeRuntime();
  const target = await runtime.loadTargetModel({ uri: modelPath });
  const none: Labeler = {
    id: 'none',
    version: '0',
    requires: ['activations'],
    options: {},
    label: async (context) => Array.from({ length: context.activations.cols }, () => []),
  };
  const progress = createProgressRenderer(io);
  try {
    const dissection = createDissection({
      target: {
        model: target,
        name: results.model.name,
        hash,
        ...prep,
        summary: (summary ?? 'auto') as 'auto',
      },
      layers,
      probe,
      concepts: { ...conceptSetFromList(['none']), name: 'none' },
      labelers: [none],
      store,
      kernels: runtime,
      trust: false,
      relations: false,
      onProgress: progress.onProgress,
    });
    const done = await dissection.run();
    if (done.probe.hash !== results.probe.hash)
      throw new CliError(`--probe: ${probeUri} is not the probe set ${side.file} was dissected on`);
  } finally {
    progress.stop();
    await target.dispose();
    await runtime.dispose();
  }
}

const signed = (r: number) => (Number.isFinite(r) ? r.toFixed(2) : '–');

/** The report's sections, rendered as Markdown and as HTML. */
interface Section {
  title: string;
  lines?: string[];
  table?: { head: string[]; rows: string[][] };
}

function sections(c: Comparison, files: { a: string; b: string }): Section[] {
  const out: Section[] = [];
  out.push({
    title: 'Models',
    lines: [
      `A: ${c.a.name} (${files.a}); B: ${c.b.name} (${files.b}); probe set ${c.probe.name}, ${c.probe.images} images.`,
      c.sameArchitecture
        ? 'Same architecture: unit i of A is unit i of B (a unit that moved is followed to its mutual best match).'
        : 'Different architectures: units are matched by the correlation of their activations.',
    ],
  });
  out.push({
    title: 'Layer similarity (linear CKA) and mutual matches',
    table: {
      head: ['A layer', 'B layer', 'CKA', `mutual matches (r ≥ ${c.threshold})`, 'units of A'],
      rows: c.layers.map((p) => [
        p.a,
        p.b,
        signed(p.cka),
        String(p.matches.filter((m) => m.mutual && m.r >= c.threshold).length),
        String(p.matches.length),
      ]),
    },
  });
  if (c.sameArchitecture) {
    out.push({
      title: `Label drift (${c.drift.length} of ${c.units.length} units)`,
      lines:
        c.drift.length === 0
          ? ['No unit changed its label.']
          : c.drift.map((u) => {
              const changed = Object.entries(u.labels)
                .filter(([, l]) => l.a !== l.b)
                .map(([id, l]) => `${id}: was *${l.a ?? 'none'}*, is now *${l.b ?? 'none'}*`);
              const moved = u.counterpart === u.unit ? '' : ` (now #${u.counterpart})`;
              return `${u.layer} #${u.unit}${moved} ${changed.join('; ')}, r = ${signed(u.r)}`;
            }),
    });
  }
  const labelers = c.agreement.map((a) => a.labeler);
  out.push({
    title: `Units both models share (${c.shared.length})`,
    table: {
      head: ['A', 'B', 'r', ...labelers.map((id) => `${id}: A / B`)],
      rows: c.shared.map((s) => [
        `${s.layerA} #${s.unitA}`,
        `${s.layerB} #${s.unitB}`,
        signed(s.r),
        ...labelers.map((id) => `${s.labels[id]?.a ?? '–'} / ${s.labels[id]?.b ?? '–'}`),
      ]),
    },
  });
  out.push({
    title: 'Label agreement of shared units',
    table: {
      head: ['labeler', 'shared units', 'same label', 'share'],
      rows: c.agreement.map((a) => [a.labeler, String(a.shared), String(a.agree), a.share.toFixed(2)]),
    },
  });
  for (const [title, only] of [
    ['Concepts only A has a detector for', c.onlyA],
    ['Concepts only B has a detector for', c.onlyB],
  ] as const) {
    out.push({
      title,
      lines:
        only.length === 0
          ? ['None.']
          : only.map(
              (o) =>
                `${o.labeler}: *${o.concept}* (${o.units.map((u) => `${u.layer} #${u.unit}`).join(', ')})`,
            ),
    });
  }
  return out;
}

function markdown(all: Section[]): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const parts = ['# Comparison of two dissections', ''];
  for (const s of all) {
    parts.push(`## ${s.title}`, '');
    for (const line of s.lines ?? []) parts.push(`- ${line}`);
    if (s.table) {
      parts.push(`| ${s.table.head.map(cell).join(' | ')} |`, `|${s.table.head.map(() => '---').join('|')}|`);
      for (const row of s.table.rows) parts.push(`| ${row.map(cell).join(' | ')} |`);
    }
    parts.push('');
  }
  return parts.join('\n');
}

function html(all: Section[]): string {
  const inline = (text: string) => escapeHtml(text).replace(/\*([^*]+)\*/g, '<em>$1</em>');
  const body = all
    .map((s) => {
      const lines = s.lines?.length ? `<ul>${s.lines.map((l) => `<li>${inline(l)}</li>`).join('')}</ul>` : '';
      const table = s.table
        ? `<table><thead><tr>${s.table.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${s.table.rows
            .map((row) => `<tr>${row.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`)
            .join('')}</tbody></table>`
        : '';
      return `<section><h2>${escapeHtml(s.title)}</h2>${lines}${table}</section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Comparison of two dissections</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}</style>
</head><body><h1>Comparison of two dissections</h1>
${body}
</body></html>
`;
}

/** `neurodissect compare`: two dissections of one probe set, unit by unit and layer by layer. */
export async function compareCommand(
  a: string,
  b: string,
  o: CompareCommandOptions,
  io: CliIo,
): Promise<Comparison> {
  if (!(o.threshold >= -1 && o.threshold <= 1))
    throw new CliError(`--threshold: ${o.threshold} is not a correlation between -1 and 1`);
  requireOutputFolder(o.out, '--out');
  const ra = await readResultsFile(a, 'A');
  const rb = await readResultsFile(b, 'B');
  const refusal = comparisonRefusal(ra, rb);
  if (refusal) throw new CliError(`compare: ${refusal}`);
  const cache = o.cache ?? join(dirname(a), '.neurodissect-cache');
  const store = createFileFeatureStore({
    directory: cache,
    onWarning: (warning) => io.stderr.write(`warning: ${warning.message}\n`),
  });
  const sides: Side[] = [];
  for (const [name, file, results] of [
    ['A', a, ra],
    ['B', b, rb],
  ] as const) {
    const keys = new Map<string, string>();
    for (const layer of results.layers) {
      const key = await summaryFeatureKey(results, layer.name);
      if (key === undefined)
        throw new CliError(
          `${file}: the Results lack the model's hash; compare dissections made by neurodissect dissect`,
        );
      keys.set(layer.name, key);
    }
    sides.push({ name, file, results, keys });
  }
  // What the cache lacks is recomputed (when the probe set is given) before anything is compared.
  for (const side of sides) {
    const missing: string[] = [];
    for (const layer of side.results.layers)
      if (!(await cachedSummaries(store, side, layer.name))) missing.push(layer.name);
    if (missing.length === 0) continue;
    if (o.probe === undefined)
      throw new CliError(
        `--cache: ${cache} lacks the summaries of ${side.name}'s ${missing.join(', ')}; give the cache dissect used (--cache), or --probe DIR (the probe set both were dissected on) to recompute them`,
      );
    io.stderr.write(`recomputing the summaries of ${side.name}'s ${missing.join(', ')} (not in ${cache})\n`);
    try {
      await recompute(side, missing, o.probe, side.name === 'A' ? o.modelA : o.modelB, store, io);
    } catch (error) {
      if (isNeurodissectError(error)) throw new CliError(`--probe: ${error.message}`);
      throw error;
    }
  }
  const activations = (side: Side) => async (layer: string) => {
    const matrix = await cachedSummaries(store, side, layer);
    if (!matrix)
      throw new CliError(`--cache: the summaries of ${side.name}'s ${layer} went missing from ${cache}`);
    return matrix;
  };
  const runtime = await createNodeRuntime();
  let comparison: Comparison;
  try {
    comparison = await compareDissections(
      { results: ra, activations: activations(sides[0]) },
      { results: rb, activations: activations(sides[1]) },
      { threshold: o.threshold, matmul: runtime.matmul },
    );
  } finally {
    await runtime.dispose();
  }
  const all = sections(comparison, { a, b });
  await writeOutput(join(o.out, 'compare.json'), `${JSON.stringify(comparison, null, 2)}\n`);
  await writeOutput(join(o.out, 'compare.md'), markdown(all));
  await writeOutput(join(o.out, 'compare.html'), html(all));
  const c = comparison;
  io.stdout.write(
    `compared ${c.a.name} (A) and ${c.b.name} (B) on ${c.probe.images} images: ${c.layers.length} layer pair(s), ${c.shared.length} unit(s) of A shared (mutual r ≥ ${c.threshold})${c.sameArchitecture ? `, label drift on ${c.drift.length} of ${c.units.length} units` : ''}\n`,
  );
  for (const u of c.drift.slice(0, 10)) {
    const [id, l] = Object.entries(u.labels).find(([, l]) => l.a !== l.b) ?? [];
    if (id)
      io.stdout.write(
        `  ${u.layer} #${u.unit} was ${l!.a ?? 'unlabelled'}, is now ${l!.b ?? 'unlabelled'}, r = ${signed(u.r)}\n`,
      );
  }
  if (c.drift.length > 10) io.stdout.write(`  … and ${c.drift.length - 10} more (compare.md)\n`);
  io.stdout.write(`wrote ${join(o.out, 'compare.json')}, compare.md and compare.html\n`);
  return comparison;
}

/** Adds `compare` to the program. */
export function registerCompareCommand(program: Command, io: CliIo): void {
  program
    .command('compare')
    .description(
      'Compare two dissections on the same probe set (two models, or two checkpoints of one): matched units, label drift, layer similarity (linear CKA).',
    )
    .argument('<a>', 'the first Results document (.json)')
    .argument('<b>', 'the second Results document (.json)')
    .option('--cache <dir>', 'the feature cache dissect wrote (default: .neurodissect-cache beside A)')
    .option(
      '--probe <dir>',
      'the probe set both were dissected on (folder or broden:DIR), to recompute what the cache lacks',
    )
    .option('--model-a <file>', "A's model, to recompute (default: where A's Results say)")
    .option('--model-b <file>', "B's model, to recompute (default: where B's Results say)")
    .option(
      '--threshold <r>',
      'the correlation from which matched units count as one unit',
      Number.parseFloat,
      0.5,
    )
    .requiredOption('--out <dir>', 'the folder for compare.json, compare.md and compare.html')
    .action(async (a: string, b: string, options: CompareCommandOptions) => {
      await compareCommand(a, b, options, io);
    });
}
