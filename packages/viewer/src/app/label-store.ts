import { createLabelSession, type LabelSession } from './label-session';

/** Where label mode keeps its sessions: the browser's IndexedDB. */
export interface LabelStore {
  /** The annotator's session on a Results document, or a new one. */
  load(identity: string, annotator: string): Promise<LabelSession>;
  /** Saves a session (resolves once it is written). */
  save(session: LabelSession): Promise<void>;
  /** The annotator who labelled this Results document last, if any. */
  lastAnnotator(identity: string): Promise<string | undefined>;
  setLastAnnotator(identity: string, annotator: string): Promise<void>;
}

const DATABASE = 'neurodissect-label-mode';
const SESSIONS = 'sessions';
const SETTINGS = 'settings';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/**
 * The IndexedDB store: one record per Results identity and annotator, written whole after every
 * decision (a session is small), in a transaction that has completed when `save` resolves.
 */
export function createIndexedDbLabelStore(factory: IDBFactory = indexedDB): LabelStore {
  let opened: Promise<IDBDatabase> | undefined;
  const database = () => {
    opened ??= new Promise<IDBDatabase>((resolve, reject) => {
      const open = factory.open(DATABASE, 1);
      open.onupgradeneeded = () => {
        open.result.createObjectStore(SESSIONS);
        open.result.createObjectStore(SETTINGS);
      };
      open.onsuccess = () => resolve(open.result);
      open.onerror = () =>
        reject(
          new Error(
            `This browser refused to open its storage (${open.error?.message ?? 'IndexedDB unavailable'}); labels cannot be kept.`,
          ),
        );
    });
    opened.catch(() => {
      opened = undefined;
    });
    return opened;
  };
  const key = (identity: string, annotator: string) => `${identity}\u0000${annotator}`;

  async function write(store: string, k: string, value: unknown): Promise<void> {
    const db = await database();
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(store, 'readwrite');
      tx.objectStore(store).put(value, k);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB write failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB write aborted'));
    });
  }
  async function read<T>(store: string, k: string): Promise<T | undefined> {
    const db = await database();
    return (await request(db.transaction(store, 'readonly').objectStore(store).get(k))) as T | undefined;
  }

  return {
    async load(identity, annotator) {
      const stored = await read<LabelSession>(SESSIONS, key(identity, annotator));
      return stored ?? createLabelSession(identity, annotator);
    },
    save: (session) => write(SESSIONS, key(session.identity, session.annotator), session),
    lastAnnotator: (identity) => read<string>(SETTINGS, `annotator\u0000${identity}`),
    setLastAnnotator: (identity, annotator) => write(SETTINGS, `annotator\u0000${identity}`, annotator),
  };
}
