import { describeChoices, normalizeLabel, parseConceptSet, type Results } from '@neurodissect/core';
import {
  type ConceptEmbeddings,
  createSearchIndex,
  HIT_ORDERS,
  type HitOrder,
  MATCH_MODES,
  type MatchMode,
  type SearchIndex,
  type SearchResult,
  SIGNIFICANCE_LEVEL,
} from '@neurodissect/search';
import { type Command, Option } from 'commander';
import { CliError } from '../cli-error';
import { readInput, readNpyMatrix } from '../files';
import type { CliIo } from '../io';
import { integer } from '../option-parsers';
import { asCliError, readResultsFile } from '../results-reader';

/** Options of `neurodissect search`, as parsed. */
export interface SearchCommandOptions {
  results: string;
  concept: string;
  layers?: string;
  labeler?: string;
  match: MatchMode;
  order: HitOrder;
  top?: number;
  maxDistance?: number;
  significant?: boolean;
  textEmb?: string;
  concepts?: string;
  json?: boolean;
}

/** Concept embeddings from `--text-emb` (M×D .npy) and `--concepts` (one concept per line, row order). */
async function readEmbeddings(o: SearchCommandOptions): Promise<ConceptEmbeddings | undefined> {
  if (o.textEmb === undefined && o.concepts === undefined) return undefined;
  if (o.textEmb === undefined || o.concepts === undefined) {
    throw new CliError(
      '--text-emb and --concepts go together; give both (the concepts in the order of the rows)',
    );
  }
  const matrix = await readNpyMatrix(o.textEmb, '--text-emb');
  const text = (await readInput(o.concepts, '--concepts')).toString('utf8');
  const set = asCliError(() => parseConceptSet(text, { source: o.concepts }));
  if (set.concepts.length !== matrix.rows) {
    throw new CliError(
      `--concepts: ${o.concepts} has ${set.concepts.length} concepts but ${o.textEmb} has ${matrix.rows} rows; give the concept list the embeddings were made from`,
    );
  }
  const vectors = new Map<string, Float32Array>();
  set.concepts.forEach((concept, i) => {
    const row = matrix.data.subarray(i * matrix.cols, (i + 1) * matrix.cols);
    // A broken row is named here, with its file and concept, before any search.
    if (!row.every(Number.isFinite)) {
      throw new CliError(
        `--text-emb: row ${i} of ${o.textEmb} ("${concept}") holds NaN or ±Infinity; embed that concept again`,
      );
    }
    if (row.every((v) => v === 0)) {
      throw new CliError(
        `--text-emb: row ${i} of ${o.textEmb} ("${concept}") is all zeros, so it has no direction; embed that concept again or leave it out`,
      );
    }
    vectors.set(concept, row);
  });
  return { vectors };
}

/** Characters of a label the text report shows; a longer one is cut (`--json` gives it whole). */
const SHOWN_LABEL = 200;

/** A label as the text report shows it: at most {@link SHOWN_LABEL} characters. */
function shownLabel(label: string): string {
  return label.length > SHOWN_LABEL
    ? `${label.slice(0, SHOWN_LABEL - 1)}… (${label.length} characters)`
    : label;
}

function formatScore(score: number): string {
  return score.toFixed(4);
}

/** A p- or q-value to two significant digits ("0.002", "0.01", "0.35"). */
function formatProbability(value: number): string {
  return String(Number(value.toPrecision(2)));
}

/**
 * The text report: a header, then per layer its count and one line per matching neuron (with the
 * q-value of the neuron's best label when the Results carry it).
 */
export function formatSearchText(result: SearchResult, options: { significant?: boolean } = {}): string {
  const lines: string[] = [];
  const layersWithHits = result.layers.filter((l) => l.count > 0).length;
  const kept = options.significant ? `, significant only (q < ${SIGNIFICANCE_LEVEL})` : '';
  lines.push(
    `"${shownLabel(result.query)}" (${result.match} match, ${result.labelers.join(', ')}${kept}): ${result.total} neuron(s) in ${layersWithHits} of ${result.layers.length} layer(s)`,
  );
  const others = result.byLabeler.filter((b) => !result.labelers.includes(b.labeler));
  if (others.length > 0) {
    lines.push(
      `other labelers (scores on their own scales; choose with --labeler): ${others.map((b) => `${b.labeler} ${b.count}`).join(', ')}`,
    );
  }
  if (result.match === 'fuzzy' || result.match === 'semantic' || result.match === 'stem') {
    const shown = result.matchedLabels.slice(0, 10).map((m) => {
      if (m.distance !== undefined) return `${m.label} (distance ${m.distance})`;
      if (m.similarity !== undefined) return `${m.label} (similarity ${m.similarity.toFixed(3)})`;
      return m.label;
    });
    const more = result.matchedLabels.length > 10 ? `, … (${result.matchedLabels.length} in all)` : '';
    lines.push(`matched labels: ${shown.length > 0 ? shown.join(', ') : 'none'}${more}`);
  }
  if (result.closest !== undefined && result.closest.length > 0) {
    const near = result.closest.map((m) => `${m.label} (${m.occurrences} neuron(s))`).join(', ');
    lines.push(`no label is "${result.query}"; closest: ${near}; search one of them, or add --match fuzzy`);
  }
  const several = result.labelers.length > 1;
  for (const layer of result.layers) {
    lines.push(`${layer.layer}: ${layer.count} neuron(s)`);
    const width = Math.max(0, ...layer.hits.map((h) => String(h.unit).length));
    for (const hit of layer.hits) {
      const by = several ? `  (${hit.labeler})` : '';
      const q = hit.significance === undefined ? '' : `  q ${formatProbability(hit.significance.q)}`;
      lines.push(
        `  unit ${String(hit.unit).padStart(width)}  ${shownLabel(hit.label)}  rank ${hit.rank}  score ${formatScore(hit.score)}${q}${by}`,
      );
    }
    if (layer.hits.length < layer.count)
      lines.push(`  … ${layer.count - layer.hits.length} more (raise --top to see them)`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The `--json` report: `{ query, match, order, layers: [{ layer, count, hits: [{ unit, label, rank, score }] }] }`
 * (and `closest: [{ label, occurrences, distance }]` when an exact or stemmed search found nothing);
 * hits carry `p` and `q` (of the neuron's best label) when the Results have them, and `labeler`
 * when several labelers were searched; `significant: true` with `--significant`.
 */
export function searchJson(result: SearchResult, options: { significant?: boolean } = {}): unknown {
  const several = result.labelers.length > 1;
  return {
    query: result.query,
    match: result.match,
    order: result.order,
    ...(result.closest === undefined ? {} : { closest: result.closest }),
    ...(options.significant ? { significant: true } : {}),
    layers: result.layers.map((layer) => ({
      layer: layer.layer,
      count: layer.count,
      hits: layer.hits.map((hit) => ({
        unit: hit.unit,
        label: hit.label,
        rank: hit.rank,
        score: hit.score,
        ...(hit.significance === undefined ? {} : { p: hit.significance.p, q: hit.significance.q }),
        ...(several ? { labeler: hit.labeler } : {}),
      })),
    })),
  };
}

/**
 * `--significant` on Results without significance figures for the searched labeler would keep
 * nothing, silently; say why instead.
 */
function requireSignificance(
  results: Results,
  labeler: string | undefined,
  layers: readonly string[] | undefined,
): void {
  const id = labeler ?? results.labelers[0]?.id;
  if (id === undefined) return;
  const searched = results.layers.filter((l) => layers === undefined || layers.includes(l.name));
  if (searched.some((l) => l.neurons.some((n) => n.trust?.[id]?.significance !== undefined))) return;
  throw new CliError(
    `--significant: the Results have no significance figures for ${id}'s labels${layers === undefined ? '' : ` in ${layers.join(', ')}`} (a version 1 document, a run with --null 0, or a labeler that is not tested, such as netdissect); run dissect again with --null, or leave out --significant`,
  );
}

/** `neurodissect search`: finds the neurons whose labels match a concept, per layer, best first. */
export async function searchCommand(o: SearchCommandOptions, io: CliIo): Promise<void> {
  if (o.top !== undefined && o.top < 1) throw new CliError(`--top: must be 1 or more, got ${o.top}`);
  if (o.maxDistance !== undefined && o.maxDistance < 0)
    throw new CliError(`--max-distance: must be 0 or more, got ${o.maxDistance}`);
  if (o.concept.trim() === '')
    throw new CliError('--concept: give a concept to search for, e.g. --concept striped');
  if (o.match !== 'semantic' && (o.textEmb !== undefined || o.concepts !== undefined)) {
    throw new CliError('--text-emb and --concepts are only used with --match semantic');
  }
  if (o.match === 'semantic' && o.textEmb === undefined && o.concepts === undefined) {
    throw new CliError(
      '--match semantic needs concept embeddings: add --text-emb T.npy (CLIP text embeddings, one row per concept) and --concepts FILE (the concepts in row order)',
    );
  }
  const results = await readResultsFile(o.results, '--results');
  const embeddings = await readEmbeddings(o);
  if (embeddings !== undefined) {
    // Semantic search starts from the embedding of the query, which must be one of the rows.
    const embedded = [...(embeddings.vectors as Map<string, Float32Array>).keys()];
    const query = normalizeLabel(o.concept);
    if (!embedded.some((concept) => normalizeLabel(concept) === query)) {
      throw new CliError(
        `--concept: "${o.concept}" is not among the concepts of ${o.concepts} (the rows of ${o.textEmb}), so it has no embedding to search from; ${describeChoices(o.concept, embedded)}, or embed it (neurodissect embed --concepts) and add it to both files`,
      );
    }
  }
  const index: SearchIndex = asCliError(() => createSearchIndex(results, { embeddings }));
  const named = o.layers
    ?.split(',')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const layers = named === undefined || named.length === 0 ? undefined : named;
  // Unknown layers and labelers are named first, by the search itself.
  const result = asCliError(() =>
    index.search(o.concept, {
      match: o.match,
      order: o.order,
      layers,
      labelers: o.labeler === undefined ? undefined : [o.labeler],
      top: o.top,
      maxDistance: o.maxDistance,
      significant: o.significant === true,
    }),
  );
  if (o.significant) requireSignificance(results, o.labeler, layers);
  const shape = { significant: o.significant === true };
  io.stdout.write(
    o.json ? `${JSON.stringify(searchJson(result, shape), null, 2)}\n` : formatSearchText(result, shape),
  );
  const unlabelled = conceptNoNeuronHas(results, o.concept, result.total);
  if (unlabelled && !o.json) io.stderr.write(`note: ${unlabelled}\n`);
}

/**
 * When a search found nothing but the query is one of the concept set's concepts: a note saying
 * so, with how many labels each neuron keeps (a neuron labelled with it further down its list
 * would need more).
 */
export function conceptNoNeuronHas(results: Results, query: string, hits: number): string | undefined {
  const items = results.concepts.items;
  if (hits > 0 || items === undefined) return undefined;
  const wanted = normalizeLabel(query);
  const concept = items.find((item) => normalizeLabel(item) === wanted);
  if (concept === undefined) return undefined;
  let kept = 0;
  for (const layer of results.layers)
    for (const neuron of layer.neurons)
      for (const ranked of Object.values(neuron.labels)) kept = Math.max(kept, ranked.length);
  return `"${concept}" is in the concept set (${items.length} concepts) but in no neuron's top ${kept} labels; dissect keeps more with --top-labels N`;
}

/** Adds `search` to the program. */
export function registerSearchCommand(program: Command, io: CliIo): void {
  program
    .command('search')
    .description(
      "Find the neurons whose labels match a concept: per layer, each neuron's best matching label with its rank and score.",
    )
    .requiredOption('--results <file>', 'the Results document (.json)')
    .requiredOption('--concept <text>', 'the concept to look for, e.g. "striped"')
    .option('--layers <names>', 'comma-separated layers to search (default: all)')
    .option(
      '--labeler <id>',
      "whose labels to search (default: the run's primary labeler, the first in the Results)",
    )
    .addOption(
      new Option(
        '--match <mode>',
        'exact (case-insensitive), stem (stripe/stripes/striped), fuzzy (typos), semantic (needs --text-emb)',
      )
        .choices([...MATCH_MODES])
        .default('exact'),
    )
    .addOption(
      new Option(
        '--order <order>',
        "score: by the matching label's score, as the CLIP-Dissect report lists them; rank: by its rank among the neuron's labels, then score",
      )
        .choices([...HIT_ORDERS])
        .default('score'),
    )
    .option('--top <n>', 'at most N neurons per layer (default: all)', integer)
    .option(
      '--max-distance <n>',
      'fuzzy: typos allowed (default: 0 below 4 letters, 1 up to 7, 2 from 8)',
      integer,
    )
    .option(
      '--significant',
      `keep only neurons whose best label is significant (q < ${SIGNIFICANCE_LEVEL} against the layer's permutation null; see docs/trust.md)`,
    )
    .option('--text-emb <file>', 'semantic: M×D concept text embeddings (.npy)')
    .option('--concepts <file>', 'semantic: the M concepts of --text-emb, one per line, in row order')
    .option(
      '--json',
      'print JSON: { query, match, layers: [{ layer, count, hits: [{ unit, label, rank, score, p?, q? }] }] }',
    )
    .action(async (options: SearchCommandOptions) => {
      await searchCommand(options, io);
    });
}
