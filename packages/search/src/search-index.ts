import {
  boundedEditDistance,
  describeChoices,
  ErrorCode,
  NeurodissectError,
  normalizeLabel,
  type Results,
  type ResultsNeuron,
  type ScoredLabel,
  scoreScaleOf,
} from '@neurodissect/core';
import {
  type ConceptEmbeddings,
  type NearConcept,
  nearestConcepts,
  type PreparedEmbeddings,
  prepareEmbeddings,
  unitVector,
  type Vector,
} from './concept-embeddings';
import { defaultMaxDistance } from './edit-distance';
import { buildLabelPostings, type LabelEntry, type LabelPostings, type Posting } from './label-postings';
import { type LayerSummary, type LayerSummaryOptions, summarizeLayer } from './layer-summary';
import { isSignificant } from './significance';
import { findSimilarNeurons, type SimilarNeuron, type SimilarNeuronsOptions } from './similar-neurons';
import { stemLabel } from './stem-label';

/** How a query is matched against labels. */
export type MatchMode = 'exact' | 'stem' | 'fuzzy' | 'semantic';

/** Every {@link MatchMode}, in the order the CLI lists them. */
export const MATCH_MODES: readonly MatchMode[] = ['exact', 'stem', 'fuzzy', 'semantic'];

/**
 * How the hits of a layer are ordered: `score`, by the matching label's score (highest first), as
 * the CLIP-Dissect report's figures list them; `rank`, by the label's rank among the neuron's
 * labels (best first), then by score.
 */
export type HitOrder = 'score' | 'rank';

/** Every {@link HitOrder}, the default first. */
export const HIT_ORDERS: readonly HitOrder[] = ['score', 'rank'];

/** Options of {@link createSearchIndex}. */
export interface SearchIndexOptions {
  /** Concept text embeddings; without them, `semantic` search throws an error saying how to enable it. */
  embeddings?: ConceptEmbeddings;
}

/** Options of {@link SearchIndex.search}. */
export interface SearchOptions {
  /**
   * `exact`: the label equals the query, ignoring case, `_` and extra spaces. `stem`: every word has
   * the same Porter stem (stripe, stripes, striped). `fuzzy`: at most `maxDistance` typos
   * (insertions, deletions, substitutions, adjacent transpositions). `semantic`: the labels whose
   * concept embeddings are nearest to the query's.
   * @defaultValue 'exact'
   */
  match?: MatchMode;
  /** Layers to search, by name. @defaultValue every layer, in document order */
  layers?: readonly string[];
  /**
   * Labelers whose labels are searched, by id. Scores of different labelers are on different
   * scales, so a search looks at one labeler at a time unless told otherwise.
   * @defaultValue the run's primary labeler (the first in the Results)
   */
  labelers?: readonly string[];
  /** At most this many hits per layer (counts still cover every match). @defaultValue no limit */
  top?: number;
  /**
   * How each layer's hits are ordered (see {@link HitOrder}); ties go by unit.
   * @defaultValue 'score'
   */
  order?: HitOrder;
  /**
   * `exact` and `stem`: when nothing matches, how many of the closest labels (by edit distance)
   * {@link SearchResult.closest} offers. @defaultValue 5
   */
  closest?: number;
  /**
   * Keep only the neurons whose best label from the labeler is significant (q below
   * {@link SIGNIFICANCE_LEVEL} against the layer's permutation null; see {@link isSignificant}).
   * Neurons without significance figures for that labeler are left out. Counts, `total` and
   * `byLabeler` cover the kept neurons only.
   * @defaultValue false
   */
  significant?: boolean;
  /** `fuzzy`: typos allowed. @defaultValue 0 below 4 characters, 1 up to 7, 2 from 8 */
  maxDistance?: number;
  /** `semantic`: how many nearest concepts count as matches. @defaultValue 10 */
  neighbours?: number;
  /** `semantic`: the least cosine similarity for a concept to count. @defaultValue 0 */
  minSimilarity?: number;
  /** `semantic`: the query's embedding, when the caller has computed it already. */
  queryEmbedding?: Vector;
}

/** One neuron that matched: its best-scoring matching label. */
export interface SearchHit {
  /** The layer's name. */
  layer: string;
  /** The neuron's 0-based unit index. */
  unit: number;
  /** The labeler that gave the label. */
  labeler: string;
  /** The matching label as the labeler wrote it. */
  label: string;
  /** 1-based position of the label among the neuron's labels from that labeler. */
  rank: number;
  /** The labeler's score for the label (scales differ between labelers). */
  score: number;
  /** `fuzzy`: the edit distance between the query and the label. */
  distance?: number;
  /** `semantic`: the cosine similarity between the query's and the label's embeddings. */
  similarity?: number;
  /**
   * The significance of the neuron's best label from this labeler (rank 1, which is the matching
   * label only when `rank` is 1), when the Results carry it: `p` against the layer's permutation
   * null and the Benjamini–Hochberg `q`.
   */
  significance?: { p: number; q: number };
}

/** The hits of one layer, best first. */
export interface LayerHits {
  /** The layer's name. */
  layer: string;
  /** Neurons in the layer that match (also those cut by `top`). */
  count: number;
  hits: SearchHit[];
}

/** A distinct label that matched the query, with how it matched. */
export interface MatchedLabel {
  /** The normalised label. */
  label: string;
  /** How many neurons carry it, in every layer and labeler. */
  occurrences: number;
  /** `fuzzy`: its edit distance from the query. */
  distance?: number;
  /** `semantic`: the cosine similarity of its embedding to the query's. */
  similarity?: number;
}

/** The answer to a concept query. */
export interface SearchResult {
  /** The query as given. */
  query: string;
  match: MatchMode;
  /** The labelers that were searched. */
  labelers: string[];
  /** The labels that matched, closest first for `fuzzy` and `semantic`. */
  matchedLabels: MatchedLabel[];
  /** How the hits are ordered. */
  order: HitOrder;
  /**
   * `exact` and `stem` with no hit: the labels closest to the query (edit distance, then how many
   * neurons carry them), which a `fuzzy` search would find; absent otherwise.
   */
  closest?: MatchedLabel[];
  /** Matching neurons in every searched layer. */
  total: number;
  /**
   * For every labeler of the Results (searched or not), how many neurons of the searched layers
   * it labels with a matching label: what a filter between labelers shows.
   */
  byLabeler: { labeler: string; count: number }[];
  /**
   * One group per searched layer, in document order (also those with no match): one hit per
   * neuron, its best matching label (best rank, then highest score). Hits are ordered by the
   * label's score (highest first), or with `order: 'rank'` by rank, then score; then by unit.
   */
  layers: LayerHits[];
}

/** One top image of a neuron, with the probe entry it points to. */
export interface NeuronImage {
  /** Index into `probe.images`. */
  image: number;
  /** The probe image's id. */
  id: string;
  /** Where the image is: a path relative to an image root, or a URL. */
  uri: string;
  /** The neuron's summarised activation on the image, when recorded. */
  activation?: number;
  /** An activation heatmap (data URI or path relative to the Results file), when recorded. */
  heatmap?: string;
}

/** Everything the Results say about one neuron. */
export interface NeuronView {
  layer: string;
  unit: number;
  /** Ranked labels per labeler id, best first (shared with the Results document: do not modify). */
  labels: Record<string, ScoredLabel[]>;
  /** Top images, most activating first. */
  topImages: NeuronImage[];
  /** Problems the labelers found for this neuron (e.g. non-finite activations). */
  issues: string[];
}

/** A search index over one Results document. Build it with {@link createSearchIndex}. */
export interface SearchIndex {
  /** The indexed document. */
  readonly results: Results;
  /** Layer names, in document order. */
  readonly layers: readonly string[];
  /** Labeler ids, in document order. */
  readonly labelers: readonly string[];
  /** The distinct normalised labels. */
  readonly vocabulary: readonly string[];
  /** Whether concept embeddings were given, so `semantic` search works. */
  readonly semantic: boolean;
  /**
   * Finds the neurons with a label matching `query`, grouped by layer. Synchronous; a `semantic`
   * query whose embedding needs an asynchronous `embedText` must use {@link SearchIndex.searchAsync}.
   */
  search(query: string, options?: SearchOptions): SearchResult;
  /** {@link SearchIndex.search}, awaiting `embedText` for `semantic` queries. */
  searchAsync(query: string, options?: SearchOptions): Promise<SearchResult>;
  /** The neuron `unit` of `layer`; throws an error naming the closest layers or units when absent. */
  neuron(layer: string, unit: number): NeuronView;
  /** The neurons most similar to `unit` of `layer` (see {@link SimilarNeuronsOptions} for the formula). */
  similarNeurons(layer: string, unit: number, options?: SimilarNeuronsOptions): SimilarNeuron[];
  /** Score histogram, label frequencies and interpretability counts of one layer. */
  layerSummary(layer: string, options?: LayerSummaryOptions): LayerSummary;
}

interface Match {
  entry: LabelEntry;
  distance?: number;
  similarity?: number;
}

function invalid(message: string, details: Record<string, unknown> = {}): NeurodissectError {
  return new NeurodissectError(ErrorCode.InvalidOption, message, { details });
}

function positiveInteger(value: number | undefined, name: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
}

/**
 * Builds a search index over a Results document: per distinct normalised label, the postings
 * (layer, neuron, labeler, rank, score) of every neuron that carries it, grouped by stem, so a
 * query only touches the labels it matches. The document is read, never changed; build the index
 * once and query it many times.
 */
export function createSearchIndex(results: Results, options: SearchIndexOptions = {}): SearchIndex {
  const postings: LabelPostings = buildLabelPostings(results);
  const layerNames = results.layers.map((l) => l.name);
  const layerIndex = new Map(layerNames.map((name, i) => [name, i]));
  const embeddings: PreparedEmbeddings | undefined =
    options.embeddings === undefined ? undefined : prepareEmbeddings(options.embeddings, postings.keys);

  function resolveLayer(name: string): number {
    const index = layerIndex.get(name);
    if (index === undefined) {
      throw invalid(`Unknown layer "${name}"; ${describeChoices(name, layerNames)}.`, {
        layer: name,
        layers: layerNames,
      });
    }
    return index;
  }

  function resolveLabelers(ids: readonly string[] | undefined): number[] {
    if (ids === undefined) return postings.labelerIds.map((_, i) => i);
    return ids.map((id) => {
      const index = postings.labelerIds.indexOf(id);
      if (index === -1) {
        throw invalid(`Unknown labeler "${id}"; ${describeChoices(id, postings.labelerIds)}.`, {
          labeler: id,
          labelers: postings.labelerIds,
        });
      }
      return index;
    });
  }

  function resolveNeuron(layer: string, unit: number): { layer: number; neuron: ResultsNeuron } {
    const li = resolveLayer(layer);
    const ni = postings.unitIndex[li].get(unit);
    if (ni === undefined) {
      const units = results.layers[li].neurons.map((n) => n.unit);
      const range = units.length === 0 ? 'it has no neurons' : `its units are ${rangesOf(units)}`;
      throw invalid(`Layer ${layer} has no unit ${unit}; ${range}.`, { layer, unit });
    }
    return { layer: li, neuron: results.layers[li].neurons[ni] };
  }

  function queryEmbeddingSync(query: string, options: SearchOptions): Vector | Promise<Vector> {
    if (options.queryEmbedding !== undefined) return options.queryEmbedding;
    const known = embeddings!.byConcept.get(normalizeLabel(query));
    if (known !== undefined) return known;
    if (embeddings!.embedText === undefined) {
      throw invalid(
        `"${query}" is not among the embedded concepts and no embedText was given; search for an embedded concept, pass queryEmbedding, or give embeddings.embedText.`,
        { query },
      );
    }
    return embeddings!.embedText(query);
  }

  function requireEmbeddings(): void {
    if (embeddings === undefined) {
      throw invalid(
        'Semantic search needs concept embeddings; pass { embeddings: { vectors, embedText } } to createSearchIndex (CLIP text embeddings of the concepts), or use match "exact", "stem" or "fuzzy".',
      );
    }
  }

  function matchLabels(query: string, key: string, options: SearchOptions, queryVector?: Vector): Match[] {
    const match = options.match ?? 'exact';
    switch (match) {
      case 'exact': {
        const entry = postings.entries.get(key);
        return entry ? [{ entry }] : [];
      }
      case 'stem':
        return (postings.byStem.get(stemLabel(key)) ?? []).map((entry) => ({ entry }));
      case 'fuzzy': {
        const max = options.maxDistance ?? defaultMaxDistance(key.length);
        if (!Number.isInteger(max) || max < 0)
          throw new RangeError(`maxDistance must be a non-negative integer, got ${max}`);
        const found: Match[] = [];
        for (const label of postings.keys) {
          const distance = boundedEditDistance(key, label, max);
          if (distance <= max) found.push({ entry: postings.entries.get(label)!, distance });
        }
        found.sort((a, b) => a.distance! - b.distance! || (a.entry.key < b.entry.key ? -1 : 1));
        return found;
      }
      case 'semantic': {
        const limit = options.neighbours ?? 10;
        positiveInteger(limit, 'neighbours');
        const vector = unitVector(queryVector!, `the query "${query}"`);
        if (vector.length !== embeddings!.dim) {
          throw new NeurodissectError(
            ErrorCode.ShapeMismatch,
            `The query embedding has dimension ${vector.length} but the concept embeddings have ${embeddings!.dim}; embed the query with the same model.`,
          );
        }
        return nearestConcepts(embeddings!, vector, limit, options.minSimilarity ?? 0).map(
          (near: NearConcept) => ({
            entry: postings.entries.get(near.label)!,
            similarity: near.similarity,
          }),
        );
      }
      default:
        throw invalid(`Unknown match mode "${match as string}"; use one of ${MATCH_MODES.join(', ')}.`);
    }
  }

  /** The labels nearest `key` by edit distance (then the most used), `key` itself left out. */
  function closestLabels(key: string, limit: number): MatchedLabel[] {
    // A suggestion costs nothing to ignore, so short words get one typo too.
    const max = Math.max(1, defaultMaxDistance(key.length));
    const found: MatchedLabel[] = [];
    for (const label of postings.keys) {
      if (label === key) continue;
      const distance = boundedEditDistance(key, label, max);
      if (distance <= max)
        found.push({ label, occurrences: postings.entries.get(label)!.postings.length, distance });
    }
    found.sort(
      (a, b) => a.distance! - b.distance! || b.occurrences - a.occurrences || (a.label < b.label ? -1 : 1),
    );
    return found.slice(0, limit);
  }

  function run(query: string, options: SearchOptions, queryVector?: Vector): SearchResult {
    const match = options.match ?? 'exact';
    const order = options.order ?? 'score';
    if (!HIT_ORDERS.includes(order))
      throw invalid(`Unknown order "${order as string}"; use one of ${HIT_ORDERS.join(', ')}.`);
    const key = normalizeLabel(query);
    if (key === '') throw invalid('The query is empty; give a concept, e.g. "striped".');
    positiveInteger(options.top, 'top');
    positiveInteger(options.closest, 'closest');
    const layers = (options.layers ?? layerNames).map(resolveLayer);
    const labelers = resolveLabelers(options.labelers ?? postings.labelerIds.slice(0, 1));
    const layerWanted = new Uint8Array(layerNames.length);
    for (const li of layers) layerWanted[li] = 1;
    const labelerWanted = new Uint8Array(postings.labelerIds.length);
    for (const l of labelers) labelerWanted[l] = 1;

    const matches = matchLabels(query, key, options, queryVector);
    // Per labeler, the matching neurons of the searched layers (as layer·neuron keys).
    const perLabeler = postings.labelerIds.map(() => new Set<number>());
    // Per layer, neuron → its best matching posting (best rank, then highest score).
    const best = new Map<number, Map<number, { posting: Posting; match: Match }>>();
    const neuronOf = (posting: Posting) => results.layers[posting.layer].neurons[posting.neuron];
    for (const m of matches) {
      for (const posting of m.entry.postings) {
        if (!layerWanted[posting.layer]) continue;
        if (options.significant && !isSignificant(neuronOf(posting), postings.labelerIds[posting.labeler]))
          continue;
        perLabeler[posting.labeler].add(posting.layer * 1_000_000_000 + posting.neuron);
        if (!labelerWanted[posting.labeler]) continue;
        let neurons = best.get(posting.layer);
        if (neurons === undefined) {
          neurons = new Map();
          best.set(posting.layer, neurons);
        }
        const current = neurons.get(posting.neuron);
        if (
          current === undefined ||
          posting.rank < current.posting.rank ||
          (posting.rank === current.posting.rank && posting.score > current.posting.score)
        ) {
          neurons.set(posting.neuron, { posting, match: m });
        }
      }
    }

    let total = 0;
    const groups: LayerHits[] = layers.map((li) => {
      const neurons = results.layers[li].neurons;
      const found = [...(best.get(li)?.values() ?? [])];
      found.sort(
        (a, b) =>
          (order === 'rank' ? a.posting.rank - b.posting.rank : 0) ||
          b.posting.score - a.posting.score ||
          a.posting.rank - b.posting.rank ||
          neurons[a.posting.neuron].unit - neurons[b.posting.neuron].unit ||
          a.posting.labeler - b.posting.labeler,
      );
      total += found.length;
      const shown = options.top === undefined ? found : found.slice(0, options.top);
      return {
        layer: layerNames[li],
        count: found.length,
        hits: shown.map(({ posting, match: m }) => {
          const hit: SearchHit = {
            layer: layerNames[li],
            unit: neurons[posting.neuron].unit,
            labeler: postings.labelerIds[posting.labeler],
            label: posting.label,
            rank: posting.rank + 1,
            score: posting.score,
          };
          if (m.distance !== undefined) hit.distance = m.distance;
          if (m.similarity !== undefined) hit.similarity = m.similarity;
          const significance = neurons[posting.neuron].trust?.[hit.labeler]?.significance;
          if (significance !== undefined) hit.significance = { p: significance.p, q: significance.q };
          return hit;
        }),
      };
    });

    const closest =
      total === 0 && (match === 'exact' || match === 'stem')
        ? closestLabels(key, options.closest ?? 5)
        : undefined;
    return {
      query,
      match,
      order,
      ...(closest === undefined ? {} : { closest }),
      labelers: labelers.map((l) => postings.labelerIds[l]),
      byLabeler: postings.labelerIds.map((labeler, l) => ({ labeler, count: perLabeler[l].size })),
      matchedLabels: matches.map((m) => {
        const label: MatchedLabel = { label: m.entry.key, occurrences: m.entry.postings.length };
        if (m.distance !== undefined) label.distance = m.distance;
        if (m.similarity !== undefined) label.similarity = m.similarity;
        return label;
      }),
      total,
      layers: groups,
    };
  }

  let imageNeurons: Map<number, [number, number][]> | undefined;

  return {
    results,
    layers: layerNames,
    labelers: postings.labelerIds,
    vocabulary: postings.keys,
    semantic: embeddings !== undefined,

    search(query, options = {}) {
      if ((options.match ?? 'exact') !== 'semantic') return run(query, options);
      requireEmbeddings();
      const vector = queryEmbeddingSync(query, options);
      if (vector instanceof Promise) {
        vector.catch(() => {});
        throw invalid(
          'embedText returned a Promise; call searchAsync for semantic queries that need embedding.',
        );
      }
      return run(query, options, vector);
    },

    async searchAsync(query, options = {}) {
      if ((options.match ?? 'exact') !== 'semantic') return run(query, options);
      requireEmbeddings();
      return run(query, options, await queryEmbeddingSync(query, options));
    },

    neuron(layer, unit) {
      const { neuron } = resolveNeuron(layer, unit);
      return {
        layer,
        unit,
        labels: neuron.labels,
        topImages: neuron.topImages.map((top) => {
          const entry = results.probe.images[top.image];
          const image: NeuronImage = { image: top.image, id: entry.id, uri: entry.uri };
          if (top.activation !== undefined) image.activation = top.activation;
          if (top.heatmap !== undefined) image.heatmap = top.heatmap;
          return image;
        }),
        issues: neuron.issues ?? [],
      };
    },

    similarNeurons(layer, unit, options = {}) {
      const target = resolveNeuron(layer, unit);
      const layers = (options.layers ?? [layer]).map(resolveLayer);
      const labelers = resolveLabelers(options.labelers);
      if (imageNeurons === undefined) {
        imageNeurons = new Map();
        results.layers.forEach((l, li) => {
          l.neurons.forEach((n, ni) => {
            for (const top of n.topImages) {
              const list = imageNeurons!.get(top.image);
              if (list) list.push([li, ni]);
              else imageNeurons!.set(top.image, [[li, ni]]);
            }
          });
        });
      }
      return findSimilarNeurons({
        results,
        postings,
        imageNeurons,
        target,
        layers,
        labelers: labelers.map((l) => postings.labelerIds[l]),
        options,
      });
    },

    layerSummary(layer, options = {}) {
      const li = resolveLayer(layer);
      const labeler = options.labeler ?? postings.labelerIds[0];
      if (labeler === undefined)
        throw invalid('The Results have no labelers, so there are no labels to summarise.');
      resolveLabelers([labeler]);
      const run = results.labelers.find((l) => l.id === labeler);
      return summarizeLayer(
        results.layers[li],
        labeler,
        options,
        scoreScaleOf(run ?? { id: labeler, options: {} }),
      );
    },
  };
}

/** "0–2047" or "0–9, 12, 15–20": the units present, as ranges. */
function rangesOf(units: readonly number[]): string {
  const sorted = [...units].sort((a, b) => a - b);
  const parts: string[] = [];
  let start = sorted[0];
  let previous = sorted[0];
  for (let i = 1; i <= sorted.length; i++) {
    const unit = sorted[i];
    if (unit === previous + 1) {
      previous = unit;
      continue;
    }
    parts.push(start === previous ? `${start}` : `${start}–${previous}`);
    start = unit;
    previous = unit;
  }
  return parts.length > 6 ? `${parts.slice(0, 6).join(', ')}, … (${sorted.length} units)` : parts.join(', ');
}
