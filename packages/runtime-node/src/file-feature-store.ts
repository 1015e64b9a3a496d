import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ErrorCode,
  type FeatureStore,
  parseNpy,
  type StoredFeature,
  serializeNpy,
  type Tensor,
} from '@neurodissect/core';
import { sha256Hex } from './content-hash';
import { writeFileAtomic } from './files';
import type { FileWarning } from './image-folder-dataset';

/** Options for {@link createFileFeatureStore}. */
export interface FileFeatureStoreOptions {
  /** The cache directory (created on the first write). */
  directory: string;
  /** Receives a warning (code `ND_CORRUPT_CACHE_ENTRY`) for each corrupt entry that is dropped. */
  onWarning?: (warning: FileWarning) => void;
}

/** A {@link FeatureStore} of `.npy` files with JSON sidecars in a directory. */
export interface FileFeatureStore extends FeatureStore {
  readonly directory: string;
  /** Removes an entry (no error when absent). */
  delete(key: string): Promise<void>;
  /**
   * The stored feature, or the result of `compute` (then stored). A corrupt entry counts as
   * absent.
   */
  getOrCompute(
    key: string,
    compute: () => Promise<{ tensor: Tensor<'float32'>; meta: Record<string, unknown> }>,
  ): Promise<StoredFeature & { cached: boolean }>;
}

const FORMAT = 'neurodissect-feature/2';
/** Entries of the first format: their metadata was not checksummed. */
const FORMAT_1 = 'neurodissect-feature/1';
const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

interface Sidecar {
  format: typeof FORMAT;
  key: string;
  dims: number[];
  payloadBytes: number;
  payloadSha256: string;
  meta: Record<string, unknown>;
  /** SHA-256 of the sidecar's JSON without this field: its metadata is covered as its payload is. */
  sidecarSha256: string;
}

/** The checksum of a sidecar's other fields, as they are written. */
function sidecarChecksum(sidecar: Omit<Sidecar, 'sidecarSha256'>): string {
  const { format, key, dims, payloadBytes, payloadSha256, meta } = sidecar;
  return sha256Hex(Buffer.from(JSON.stringify({ format, key, dims, payloadBytes, payloadSha256, meta })));
}

function isSidecar(value: unknown, key: string): value is Sidecar {
  const v = value as Partial<Sidecar> | null;
  return (
    !!v &&
    v.format === FORMAT &&
    v.key === key &&
    Array.isArray(v.dims) &&
    v.dims.every((d) => Number.isInteger(d) && d >= 0) &&
    typeof v.payloadBytes === 'number' &&
    typeof v.payloadSha256 === 'string' &&
    typeof v.sidecarSha256 === 'string' &&
    !!v.meta &&
    typeof v.meta === 'object'
  );
}

/**
 * A feature cache in a directory, keyed by content hash (see `featureKey`). Each entry is
 * `<key>.npy` (float32) and `<key>.json` (dims, the payload's SHA-256, the caller's meta, and a
 * SHA-256 of all of these), both written atomically, payload first, so a reader sees a sidecar
 * only once its payload is complete. Reading verifies the payload and the metadata against their
 * checksums: a truncated or altered entry (its labels edited in the sidecar, say) is dropped (with
 * a warning) and reported as absent, so it is recomputed rather than trusted.
 */
export function createFileFeatureStore(options: FileFeatureStoreOptions): FileFeatureStore {
  const { directory } = options;
  const paths = (key: string) => {
    if (!KEY.test(key)) {
      throw new TypeError(`Feature key "${key}" must be 1–200 characters of A–Z, a–z, 0–9, '.', '_', '-'.`);
    }
    // Two-character shards keep directories small when caches hold many entries.
    const folder = join(directory, key.slice(0, 2));
    return { npy: join(folder, `${key}.npy`), json: join(folder, `${key}.json`) };
  };

  const drop = async (key: string, reason: string) => {
    const { npy, json } = paths(key);
    await Promise.all([rm(json, { force: true }), rm(npy, { force: true })]);
    options.onWarning?.({
      code: ErrorCode.CorruptCacheEntry,
      message: `Dropped the corrupt cache entry ${key} (${reason}); it will be recomputed.`,
      path: npy,
    });
  };

  const get = async (key: string): Promise<StoredFeature | undefined> => {
    const { npy, json } = paths(key);
    let sidecarText: string;
    try {
      sidecarText = await readFile(json, 'utf8');
    } catch {
      return undefined;
    }
    let sidecar: unknown;
    try {
      sidecar = JSON.parse(sidecarText);
    } catch {
      await drop(key, 'unreadable sidecar');
      return undefined;
    }
    if ((sidecar as { format?: unknown } | null)?.format === FORMAT_1) {
      // Written by an earlier version, whose metadata had no checksum: recomputed, without a warning.
      await Promise.all([rm(json, { force: true }), rm(npy, { force: true })]);
      return undefined;
    }
    if (!isSidecar(sidecar, key)) {
      await drop(key, 'sidecar of an unknown format');
      return undefined;
    }
    if (sidecarChecksum(sidecar) !== sidecar.sidecarSha256) {
      await drop(key, 'its metadata does not match its checksum');
      return undefined;
    }
    let payload: Buffer;
    try {
      payload = await readFile(npy);
    } catch {
      await drop(key, 'payload missing');
      return undefined;
    }
    if (payload.byteLength !== sidecar.payloadBytes || sha256Hex(payload) !== sidecar.payloadSha256) {
      await drop(key, 'payload does not match its checksum');
      return undefined;
    }
    let tensor: Tensor<'float32' | 'float64' | 'int64'>;
    try {
      tensor = parseNpy(payload, npy);
    } catch {
      await drop(key, 'payload is not a .npy array');
      return undefined;
    }
    if (tensor.dtype !== 'float32' || tensor.dims.join(',') !== sidecar.dims.join(',')) {
      await drop(key, 'payload shape or dtype differs from its sidecar');
      return undefined;
    }
    return { tensor: tensor as Tensor<'float32'>, meta: sidecar.meta };
  };

  const put = async (
    key: string,
    tensor: Tensor<'float32'>,
    meta: Record<string, unknown>,
  ): Promise<void> => {
    const { npy, json } = paths(key);
    const payload = serializeNpy(tensor);
    const fields: Omit<Sidecar, 'sidecarSha256'> = {
      format: FORMAT,
      key,
      dims: [...tensor.dims],
      payloadBytes: payload.byteLength,
      payloadSha256: sha256Hex(payload),
      // JSON.stringify of what JSON.parse reads back is what was written: one checksum for both.
      meta,
    };
    const sidecar: Sidecar = { ...fields, sidecarSha256: sidecarChecksum(fields) };
    await writeFileAtomic(npy, payload);
    await writeFileAtomic(json, `${JSON.stringify(sidecar)}\n`);
  };

  return {
    directory,
    get,
    put,
    async delete(key) {
      const { npy, json } = paths(key);
      await rm(json, { force: true });
      await rm(npy, { force: true });
    },
    async getOrCompute(key, compute) {
      const stored = await get(key);
      if (stored) return { ...stored, cached: true };
      const { tensor, meta } = await compute();
      await put(key, tensor, meta);
      return { tensor, meta, cached: false };
    },
  };
}
