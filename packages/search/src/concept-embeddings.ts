import { ErrorCode, NeurodissectError, normalizeLabel } from '@neurodissect/core';

/** A vector given as a typed array or a plain array of numbers. */
export type Vector = ArrayLike<number>;

/**
 * Text embeddings of concepts (e.g. CLIP text embeddings of the concept set), which enable
 * `semantic` search: a query matches the labels whose embeddings are nearest to its own.
 */
export interface ConceptEmbeddings {
  /**
   * Embedding per concept. Keys are matched to labels after {@link normalizeLabel}, so `Striped`
   * and `striped` are the same concept. All vectors must have the same dimension; they need not
   * be normalised.
   */
  vectors: ReadonlyMap<string, Vector> | Readonly<Record<string, Vector>>;
  /**
   * Embeds free text with the same model, for queries that are not among `vectors` (e.g. a CLIP
   * text encoder). Without it, a semantic query must be one of the embedded concepts or come with
   * `queryEmbedding`.
   */
  embedText?: (text: string) => Vector | Promise<Vector>;
}

/** Label embeddings, unit-normalised, aligned with the labels they belong to. */
export interface PreparedEmbeddings {
  dim: number;
  /** Normalised concept → unit vector. */
  byConcept: Map<string, Float32Array>;
  /** The indexed labels that have an embedding, and their unit vectors (row-major, `dim` wide). */
  labels: string[];
  matrix: Float32Array;
  embedText?: ConceptEmbeddings['embedText'];
}

/** Returns `vector / |vector|` as a Float32Array; throws on a zero or non-finite vector. */
export function unitVector(vector: Vector, what: string): Float32Array {
  const out = Float32Array.from(vector as ArrayLike<number>);
  let norm = 0;
  for (let i = 0; i < out.length; i++) norm += out[i] * out[i];
  norm = Math.sqrt(norm);
  if (!Number.isFinite(norm) || norm === 0) {
    throw new NeurodissectError(
      ErrorCode.NonFiniteValue,
      `The embedding of ${what} is zero or not finite; embed it again or leave it out.`,
      { details: { what } },
    );
  }
  for (let i = 0; i < out.length; i++) out[i] /= norm;
  return out;
}

/** Normalises the concept embeddings and lines up those of the indexed labels. */
export function prepareEmbeddings(
  embeddings: ConceptEmbeddings,
  labels: readonly string[],
): PreparedEmbeddings {
  const source = embeddings.vectors;
  const pairs: [string, Vector][] = source instanceof Map ? [...source.entries()] : Object.entries(source);
  let dim = -1;
  const byConcept = new Map<string, Float32Array>();
  for (const [concept, vector] of pairs) {
    if (dim === -1) dim = vector.length;
    if (vector.length !== dim) {
      throw new NeurodissectError(
        ErrorCode.ShapeMismatch,
        `The embedding of "${concept}" has dimension ${vector.length} but others have ${dim}; embed every concept with the same model.`,
        { details: { concept, dim: vector.length, expected: dim } },
      );
    }
    byConcept.set(normalizeLabel(concept), unitVector(vector, `"${concept}"`));
  }
  const embedded = labels.filter((label) => byConcept.has(label));
  const matrix = new Float32Array(embedded.length * Math.max(dim, 0));
  embedded.forEach((label, i) => {
    matrix.set(byConcept.get(label)!, i * dim);
  });
  return { dim: Math.max(dim, 0), byConcept, labels: embedded, matrix, embedText: embeddings.embedText };
}

/** A label near the query, by cosine similarity of the embeddings. */
export interface NearConcept {
  label: string;
  similarity: number;
}

/** The `limit` labels nearest to a unit query vector with cosine at least `minSimilarity`, nearest first. */
export function nearestConcepts(
  prepared: PreparedEmbeddings,
  query: Float32Array,
  limit: number,
  minSimilarity: number,
): NearConcept[] {
  const { dim, matrix, labels } = prepared;
  const found: NearConcept[] = [];
  for (let i = 0; i < labels.length; i++) {
    let dot = 0;
    const offset = i * dim;
    for (let d = 0; d < dim; d++) dot += matrix[offset + d] * query[d];
    if (dot >= minSimilarity) found.push({ label: labels[i], similarity: dot });
  }
  found.sort((a, b) => b.similarity - a.similarity || (a.label < b.label ? -1 : 1));
  return found.slice(0, limit);
}
