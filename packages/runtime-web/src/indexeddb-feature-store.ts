import type { FeatureStore, StoredFeature, Tensor } from '@neurodissect/core';
import { disposedError } from '@neurodissect/core';
import { createMemoryFeatureStore } from './memory-feature-store';

/** Options for {@link createIndexedDbFeatureStore}. */
export interface IndexedDbFeatureStoreOptions {
  /**
   * The IndexedDB database (one object store, `features`).
   * @defaultValue `'neurodissect-features'`
   */
  database?: string;
}

/** A {@link FeatureStore} in the browser, and which backing it got. */
export interface WebFeatureStore extends FeatureStore {
  /** `indexeddb`, or `memory` where IndexedDB is unavailable (private windows, some workers). */
  readonly backing: 'indexeddb' | 'memory';
  /** Why IndexedDB was not used, when `backing` is `memory`. */
  readonly fallbackReason?: string;
  /** Closes the database; idempotent. */
  dispose(): Promise<void>;
}

const STORE = 'features';

interface Entry {
  readonly dims: number[];
  /** The tensor's bytes (a copy). */
  readonly data: ArrayBuffer;
  readonly meta: Record<string, unknown>;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function openDatabase(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(name, 1);
    open.onupgradeneeded = () => {
      if (!open.result.objectStoreNames.contains(STORE)) open.result.createObjectStore(STORE);
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
    open.onblocked = () => reject(new Error('the database is blocked by another tab'));
  });
}

/**
 * A {@link FeatureStore} in IndexedDB, so features survive reloads of the page; keys are the
 * pipeline's content-hash keys. Each `put` is one transaction, so an entry is written whole or
 * not at all. Where IndexedDB cannot be opened, it falls back to memory and says so in `backing`.
 */
export async function createIndexedDbFeatureStore(
  options: IndexedDbFeatureStoreOptions = {},
): Promise<WebFeatureStore> {
  const name = options.database ?? 'neurodissect-features';
  let db: IDBDatabase;
  try {
    if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available here');
    db = await openDatabase(name);
  } catch (cause) {
    const memory = createMemoryFeatureStore();
    return {
      backing: 'memory',
      fallbackReason: (cause as Error).message ?? String(cause),
      get: (key) => memory.get(key),
      put: (key, tensor, meta) => memory.put(key, tensor, meta),
      async dispose() {
        memory.clear();
      },
    };
  }
  let closed = false;
  const assertOpen = () => {
    if (closed) throw disposedError('feature store', 'create another');
  };
  return {
    backing: 'indexeddb',
    async get(key): Promise<StoredFeature | undefined> {
      assertOpen();
      const entry = (await request(db.transaction(STORE, 'readonly').objectStore(STORE).get(key))) as
        | Entry
        | undefined;
      if (!entry) return undefined;
      return {
        tensor: { dtype: 'float32', dims: entry.dims, data: new Float32Array(entry.data) },
        meta: entry.meta,
      };
    },
    async put(key, tensor: Tensor<'float32'>, meta) {
      assertOpen();
      const entry: Entry = {
        dims: [...tensor.dims],
        data: tensor.data.slice().buffer as ArrayBuffer,
        meta: { ...meta },
      };
      const transaction = db.transaction(STORE, 'readwrite');
      transaction.objectStore(STORE).put(entry, key);
      await new Promise<void>((resolve, reject) => {
        transaction.oncomplete = () => resolve();
        transaction.onerror = () => reject(transaction.error);
        transaction.onabort = () => reject(transaction.error ?? new Error('the write was aborted'));
      });
    },
    async dispose() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
