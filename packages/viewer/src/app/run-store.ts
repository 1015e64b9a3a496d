import type { SiteContent } from '../site-content';
import type { SiteLayerData } from '../site-data';

/** What a run dissected in the browser shows: the site content built from its Results. */
export type RunContent = Pick<SiteContent, 'manifest' | 'layers' | 'concepts'>;

/** Where runs dissected in the browser are kept, so their addresses (`#/run/ID/…`) survive a reload. */
export interface RunStore {
  /** Keeps a run under `id`, with its thumbnails (at most 224 px; resolves once it is written). */
  save(id: string, content: RunContent): Promise<void>;
  /** The run kept under `id`, its thumbnails as new object URLs; undefined when there is none. */
  load(id: string): Promise<RunContent | undefined>;
  /** Forgets the run kept under `id`. */
  remove(id: string): Promise<void>;
}

const DATABASE = 'neurodissect-runs';
const RUNS = 'runs';

/** A run as IndexedDB keeps it: the content, and each `blob:` thumbnail's image by its URL then. */
interface StoredRun {
  content: RunContent;
  images: Record<string, Blob>;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/** The longest side of the thumbnails a kept run stores. */
const KEPT_SIZE = 224;

/**
 * The image at a `blob:` URL as a small WebP, drawn through a canvas: the site's content security
 * policy lets it show blob: images but not fetch them, and a thumbnail is all a run shows.
 */
async function thumbnailBlob(url: string): Promise<Blob> {
  const image = new Image();
  image.src = url;
  await image.decode();
  const scale = Math.min(1, KEPT_SIZE / Math.max(image.naturalWidth, image.naturalHeight));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(image.naturalWidth * scale));
  canvas.height = Math.max(1, Math.round(image.naturalHeight * scale));
  canvas.getContext('2d')!.drawImage(image, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve, reject) =>
    canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error('the thumbnail could not be encoded'))),
      'image/webp',
      0.9,
    ),
  );
}

/** The layers with every thumbnail URL passed through `map`. */
function mapThumbs(layers: readonly SiteLayerData[], map: (thumb: string) => string): SiteLayerData[] {
  return layers.map((layer) => ({
    ...layer,
    images: Object.fromEntries(
      Object.entries(layer.images).map(([key, image]) => [
        key,
        image.thumb === undefined ? image : { ...image, thumb: map(image.thumb) },
      ]),
    ),
  }));
}

/**
 * The IndexedDB store of in-browser runs, one record per run: the site content and the images of
 * its `blob:` thumbnails (object URLs do not outlive the page), until the run is removed.
 */
export function createIndexedDbRunStore(factory: IDBFactory = indexedDB): RunStore {
  let opened: Promise<IDBDatabase> | undefined;
  const database = () => {
    opened ??= new Promise<IDBDatabase>((resolve, reject) => {
      const open = factory.open(DATABASE, 1);
      open.onupgradeneeded = () => {
        open.result.createObjectStore(RUNS);
      };
      open.onsuccess = () => resolve(open.result);
      open.onerror = () =>
        reject(
          new Error(
            `This browser refused to open its storage (${open.error?.message ?? 'IndexedDB unavailable'}); the run cannot be kept.`,
          ),
        );
    });
    opened.catch(() => {
      opened = undefined;
    });
    return opened;
  };
  async function transact(mode: IDBTransactionMode, work: (store: IDBObjectStore) => void): Promise<void> {
    const db = await database();
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(RUNS, mode);
      work(tx.objectStore(RUNS));
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB write failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB write aborted'));
    });
  }

  return {
    async save(id, content) {
      const images: Record<string, Blob> = {};
      for (const layer of content.layers) {
        for (const image of Object.values(layer.images)) {
          const thumb = image.thumb;
          if (thumb?.startsWith('blob:') && images[thumb] === undefined)
            images[thumb] = await thumbnailBlob(thumb);
        }
      }
      const stored: StoredRun = { content, images };
      await transact('readwrite', (store) => store.put(stored, id));
    },
    async load(id) {
      const db = await database();
      const stored = (await request(db.transaction(RUNS, 'readonly').objectStore(RUNS).get(id))) as
        | StoredRun
        | undefined;
      if (stored === undefined) return undefined;
      const urls = new Map<string, string>();
      const layers = mapThumbs(stored.content.layers, (thumb) => {
        const blob = stored.images[thumb];
        if (blob === undefined) return thumb;
        let url = urls.get(thumb);
        if (url === undefined) {
          url = URL.createObjectURL(blob);
          urls.set(thumb, url);
        }
        return url;
      });
      return { ...stored.content, layers };
    },
    remove: (id) => transact('readwrite', (store) => store.delete(id)),
  };
}
