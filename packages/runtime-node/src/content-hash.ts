import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ErrorCode, NeurodissectError, type ProbeItem } from '@neurodissect/core';

/** SHA-256 of bytes or a string (UTF-8), as lowercase hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * SHA-256 of a file's contents, as lowercase hex (bare: feature keys take it so; the Results take
 * {@link contentHashOfFile}'s `sha256:…`), streamed (model files can be gigabytes).
 * @throws `ND_FILE_NOT_FOUND` naming the file when it cannot be read.
 */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (cause) {
    throw new NeurodissectError(
      ErrorCode.FileNotFound,
      `The file ${path} could not be read to hash it; check the path.`,
      {
        cause,
        details: { path },
      },
    );
  }
  return hash.digest('hex');
}

/**
 * A file's content hash as the Results and dissection specs record it: `sha256:` and the
 * lowercase hex of {@link hashFile} (what `createDissection`'s `target.hash` takes).
 * @throws `ND_FILE_NOT_FOUND` naming the file when it cannot be read.
 */
export async function contentHashOfFile(path: string): Promise<string> {
  return `sha256:${await hashFile(path)}`;
}

// JSON with object keys sorted at every level, so equal values always hash equally.
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new TypeError(`A content-hash key part holds ${value}; use finite numbers.`);
    }
    if (value === undefined || typeof value === 'function' || typeof value === 'bigint') {
      throw new TypeError(`A content-hash key part holds a ${typeof value}; use JSON values.`);
    }
    return JSON.stringify(value);
  }
  if (ArrayBuffer.isView(value)) return canonicalJson(Array.from(value as unknown as ArrayLike<number>));
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * What a cached feature was computed from. Every field that changes the feature must be here;
 * use content hashes ({@link hashFile}, {@link hashProbeManifest}) rather than paths.
 */
export interface FeatureKeyParts {
  /** What the feature is, e.g. `activations`, `image-embeddings`, `text-embeddings`. */
  readonly kind: string;
  /** SHA-256 of the model file(s). */
  readonly model: string;
  /** The layer, for activations. */
  readonly layer?: string;
  /** The activation summary (`mean`, `max`, …), for activations. */
  readonly summary?: string;
  /** SHA-256 of the probe manifest ({@link hashProbeManifest}), for image features. */
  readonly probeManifest?: string;
  /** The preprocessing (a preset name or config), for image features. */
  readonly preprocessing?: unknown;
  /** SHA-256 of the concept list, for text embeddings. */
  readonly concepts?: string;
  /** Anything else that changes the result. */
  readonly [other: string]: unknown;
}

/**
 * The content-hash key of a feature: SHA-256 (hex) of the canonical JSON of its parts, so the
 * order of fields does not matter and any changed part gives a new key.
 */
export function featureKey(parts: FeatureKeyParts): string {
  return sha256Hex(canonicalJson({ v: 1, ...parts }));
}

/**
 * SHA-256 of a probe set's manifest: its items' ids and uris in order, and each image's content
 * hash when given (`contentHashes[i]` for item i), so reordering, renaming or (with content
 * hashes) editing an image changes it.
 */
export function hashProbeManifest(items: readonly ProbeItem[], contentHashes?: readonly string[]): string {
  if (contentHashes && contentHashes.length !== items.length) {
    throw new RangeError(`${contentHashes.length} content hashes for ${items.length} items.`);
  }
  return sha256Hex(
    canonicalJson(items.map((item, i) => [item.id, item.uri, ...(contentHashes ? [contentHashes[i]] : [])])),
  );
}
