import {
  SITE_DATA_CALLBACK,
  SITE_FORMAT,
  SITE_VERSION,
  type SiteConceptList,
  type SiteLayerData,
  type SiteManifest,
} from '../site-data';

type Pending = { resolve: (data: unknown) => void; reject: (error: Error) => void };

/** Loads the site's data files (`data/<key>.js`, each a call of the data callback), once each. */
export interface DataLoader {
  manifest(): Promise<SiteManifest>;
  layer(key: string): Promise<SiteLayerData>;
  /** The concept set's words, from the file the manifest's `conceptList` names. */
  concepts(key: string): Promise<SiteConceptList>;
}

/** A loader that injects `<script src="data/KEY.js">` tags: works over http and from `file://`. */
export function createDataLoader(base = 'data/'): DataLoader {
  const pending = new Map<string, Pending>();
  const cache = new Map<string, Promise<unknown>>();
  (window as unknown as Record<string, unknown>)[SITE_DATA_CALLBACK] = (key: string, data: unknown) => {
    pending.get(key)?.resolve(data);
    pending.delete(key);
  };

  function load(key: string): Promise<unknown> {
    const cached = cache.get(key);
    if (cached) return cached;
    const promise = new Promise<unknown>((resolve, reject) => {
      pending.set(key, { resolve, reject });
      const script = document.createElement('script');
      script.src = `${base}${encodeURIComponent(key)}.js`;
      script.async = true;
      script.addEventListener('error', () => {
        pending.delete(key);
        cache.delete(key);
        reject(
          new Error(
            `Could not load ${script.getAttribute('src')}; rebuild the site with "neurodissect site --results FILE --out DIR".`,
          ),
        );
      });
      script.addEventListener('load', () => script.remove());
      document.head.appendChild(script);
    }).then((data) => {
      const d = data as { format?: string; version?: number };
      if (d?.format !== SITE_FORMAT || d.version !== SITE_VERSION) {
        throw new Error(
          `${base}${key}.js is not site data version ${SITE_VERSION}; rebuild the site with this version of neurodissect.`,
        );
      }
      return data;
    });
    cache.set(key, promise);
    return promise;
  }

  return {
    manifest: () => load('site') as Promise<SiteManifest>,
    layer: (key) => load(key) as Promise<SiteLayerData>,
    concepts: (key) => load(key) as Promise<SiteConceptList>,
  };
}

/** A loader over data already in memory (results dissected in this page). */
export function createMemoryLoader(content: {
  manifest: SiteManifest;
  layers: readonly SiteLayerData[];
  concepts?: SiteConceptList;
}): DataLoader {
  const byKey = new Map(content.manifest.layers.map((entry, i) => [entry.key, content.layers[i]]));
  return {
    manifest: async () => content.manifest,
    async layer(key) {
      const data = byKey.get(key);
      if (data === undefined) throw new Error(`These results have no layer data "${key}".`);
      return data;
    },
    async concepts() {
      if (content.concepts === undefined) throw new Error('These results do not list their concepts.');
      return content.concepts;
    },
  };
}
