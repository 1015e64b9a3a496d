import { createSearchIndex, type SearchIndex } from '@neurodissect/search';
import type { Route } from '../route';
import type { SiteContent } from '../site-content';
import {
  assembleResults,
  type SiteInBrowser,
  type SiteLayerData,
  type SiteLayerEntry,
  type SiteManifest,
} from '../site-data';
import type { DataLoader } from './data-loader';
import type { LabelStore } from './label-store';

/** What every page renderer gets: the manifest, data access and navigation. */
export interface AppContext {
  manifest: SiteManifest;
  /** The manifest entry of a layer, by name. */
  layer(name: string): SiteLayerEntry | undefined;
  /** A layer's neurons and images. */
  layerData(name: string): Promise<SiteLayerData>;
  /** A search index over the given layers (every layer when absent); built once per set. */
  searchIndex(layers?: readonly string[]): Promise<SearchIndex>;
  /** Goes to a route, adding a history entry (or replacing the current one). */
  navigate(route: Route, options?: { replace?: boolean }): void;
  /** The site's "Dissect in your browser" page, when it has one. */
  inBrowser?: SiteInBrowser;
  /** Shows other content (results dissected in this page) instead of the site's own, from the overview. */
  open(content: Pick<SiteContent, 'manifest' | 'layers' | 'concepts'>): void;
  /** The concept set's words; when the site does not carry them, every label of its layers. Loaded once. */
  conceptWords(): Promise<string[]>;
  /** Where label mode keeps its decisions. */
  labelStore?: LabelStore;
}

/** Builds the {@link AppContext} over a loaded manifest. */
export function createAppContext(
  manifest: SiteManifest,
  loader: DataLoader,
  navigate: AppContext['navigate'],
  open: AppContext['open'] = () => {
    throw new Error('This site cannot open other results.');
  },
  labelStore?: LabelStore,
): AppContext {
  const byName = new Map(manifest.layers.map((l) => [l.name, l]));
  const indexes = new Map<string, Promise<SearchIndex>>();
  let words: Promise<string[]> | undefined;

  function layerData(name: string): Promise<SiteLayerData> {
    const entry = byName.get(name);
    if (entry === undefined) return Promise.reject(new Error(`The site has no layer "${name}".`));
    return loader.layer(entry.key);
  }

  return {
    manifest,
    layer: (name) => byName.get(name),
    layerData,
    searchIndex(layers) {
      const names = layers ?? manifest.layers.map((l) => l.name);
      const key = names.join('\u0000');
      let index = indexes.get(key);
      if (index === undefined) {
        index = Promise.all(names.map(layerData)).then((data) =>
          createSearchIndex(assembleResults(manifest, data)),
        );
        index.catch(() => indexes.delete(key));
        indexes.set(key, index);
      }
      return index;
    },
    navigate,
    ...(manifest.inBrowser === undefined ? {} : { inBrowser: manifest.inBrowser }),
    open,
    conceptWords() {
      words ??= (
        manifest.conceptList === undefined
          ? Promise.reject(new Error('no concept list'))
          : loader.concepts(manifest.conceptList).then((c) => c.concepts)
      ).catch(async () => {
        const all = new Set<string>();
        for (const layer of await Promise.all(manifest.layers.map((l) => layerData(l.name))))
          for (const neuron of layer.neurons)
            for (const labels of Object.values(neuron.labels)) for (const l of labels) all.add(l.label);
        return [...all].sort();
      });
      words.catch(() => {
        words = undefined;
      });
      return words;
    },
    ...(labelStore === undefined ? {} : { labelStore }),
  };
}
