import type { LabelerRun, LayerTrust, Results, ResultsNeuron, RunInfo } from '@neurodissect/core';
import type { LayerSummary } from '@neurodissect/search';

/** The format tag of the site's data files. */
export const SITE_FORMAT = 'neurodissect.site';
/** The version of the site's data files this viewer reads and the builder writes. */
export const SITE_VERSION = 1;
/** The global function every data file calls with its key and content (works from `file://`). */
export const SITE_DATA_CALLBACK = '__neurodissectSiteData';

/** Why an image has no thumbnail. */
export type MissingImageReason = 'no-image-root' | 'not-found' | 'outside-root' | 'unreadable';

/** What each {@link MissingImageReason} means, in words for the placeholder and the build report. */
export const MISSING_IMAGE_REASONS: Record<MissingImageReason, string> = {
  'no-image-root': 'no image root was given when the site was built',
  'not-found': 'not found under the image root',
  'outside-root': 'the path leaves the image root',
  unreadable: 'could not be read',
};

/** One probe image as the site shows it (kept short: a layer holds thousands). */
export interface SiteImage {
  /** The image's path (relative to the image root) or URL, as in the Results. */
  uri: string;
  /** The probe image's id; absent when it equals `uri`. */
  id?: string;
  /** The thumbnail, relative to the site folder, or an `http(s)` URL; absent when there is none. */
  thumb?: string;
  /** The original image's `http(s)` URL, which the tile links to, when it has one. */
  href?: string;
  /** Why there is no thumbnail. */
  missing?: MissingImageReason;
  /** With `unreadable`: the error's first line. */
  error?: string;
}

/** The placeholder's explanation of a missing image. */
export function missingImageText(image: SiteImage): string {
  if (image.missing === undefined) return 'no thumbnail';
  const text = MISSING_IMAGE_REASONS[image.missing] ?? image.missing;
  return image.error === undefined ? text : `${text} (${image.error})`;
}

/** One layer in the site manifest. */
export interface SiteLayerEntry {
  name: string;
  units: number;
  /** Neurons present in the Results. */
  neurons: number;
  /** The data file's key: `data/<key>.js`. */
  key: string;
  /** The units present, ascending (for previous/next and "go to unit"). */
  unitList: number[];
  /** Per labeler id: score histogram, top-26 labels and interpretability counts. */
  summaries: Record<string, LayerSummary>;
  /**
   * Per labeler id, the layer's trust figures as in the Results (significant neurons, the null,
   * held-out means; see docs/trust.md); absent when the Results have none (version 1).
   */
  trust?: Record<string, LayerTrust>;
}

/** `data/site.js`: everything the overview needs, and where each layer's data is. */
export interface SiteManifest {
  format: typeof SITE_FORMAT;
  version: typeof SITE_VERSION;
  title: string;
  model: Results['model'];
  run: Pick<RunInfo, 'kind' | 'createdAt' | 'tool' | 'runtime'>;
  probe: { name: string; images: number };
  concepts: { name: string; size: number };
  labelers: LabelerRun[];
  /** Thresholds given when the site was built, replacing each labeler's published ones. */
  thresholds?: number[];
  layers: SiteLayerEntry[];
  /** Failures recorded in the Results (stage and message). */
  failures: Results['failures'];
  /** How many distinct images appear among the top images, and how many have thumbnails. */
  images: { shown: number; thumbnails: number };
  /** The evaluation report the site carries (`neurodissect site --report`). */
  report?: SiteReport;
  /** Where the top images come from, when the site was built with an image root or base. */
  imageSource?: SiteImageSource;
  /** The "Dissect in your browser" page, when the site was built with it. */
  inBrowser?: SiteInBrowser;
  /**
   * The key of the data file (`data/<key>.js`) holding the concept set's words (a
   * {@link SiteConceptList}), when the Results list them: label mode suggests them.
   */
  conceptList?: string;
}

/** `data/<key>.js` named by {@link SiteManifest.conceptList}: the concept set's words. */
export interface SiteConceptList {
  format: typeof SITE_FORMAT;
  version: typeof SITE_VERSION;
  concepts: string[];
}

/** The evaluation report a site carries and what the overview shows of it. */
export interface SiteReport {
  /** The report's page, relative to the site folder. */
  href: string;
  /** The ground truth the report was made against; null when it had none. */
  groundTruth: { source: string; neurons: number } | null;
  /** Per labeler and layer, the report's Table 1 (top-k accuracy against the ground truth). */
  accuracy: SiteAccuracy[];
}

/** One labeler's ground-truth accuracy on one layer (see `@neurodissect/eval`'s Table 1). */
export interface SiteAccuracy {
  labeler: string;
  layer: string;
  /** Neurons whose true label is the best label. */
  top1: number;
  /** Neurons whose true label is among the first five. */
  top5: number;
  /** Neurons the ground truth calls interpretable. */
  interpretable: number;
  /** Neurons with both a ground truth and a prediction. */
  total: number;
}

/** Where a site's images come from (`neurodissect site --image-base`, `--image-root`). */
export interface SiteImageSource {
  /** The URL the probe set's image paths were appended to, ending in `/`. */
  base?: string;
  /** Whether thumbnails were made from a local copy of the images. */
  local?: boolean;
}

/** What the "Dissect in your browser" page of a site loads, relative to the site folder. */
export interface SiteInBrowser {
  /** The dissection worker's script. */
  worker: string;
  /** The folder of onnxruntime-web's `.wasm`/`.mjs` files, ending in `/`. */
  ort: string;
  /** The toy world's models folder (with `target/` and `clip/`), ending in `/`, when the site carries them. */
  toyWorld?: string;
}

/** `data/<key>.js`: one layer's neurons and the images they show. */
export interface SiteLayerData {
  format: typeof SITE_FORMAT;
  version: typeof SITE_VERSION;
  layer: string;
  units: number;
  summary?: Results['layers'][number]['summary'];
  /** The neurons as in the Results; heatmaps are rewritten to site paths or data URIs. */
  neurons: ResultsNeuron[];
  /** Probe image index → image, for every image these neurons show. */
  images: Record<string, SiteImage>;
}

/**
 * The body of a data file: a call of {@link SITE_DATA_CALLBACK} with the key and the JSON. A
 * script rather than JSON so that the site also works when opened from `file://`, where
 * `fetch` is refused. JSON is a subset of JavaScript, so the data stays data.
 */
export function siteDataScript(key: string, data: unknown): string {
  return `${SITE_DATA_CALLBACK}(${JSON.stringify(key)},${JSON.stringify(data)});\n`;
}

/**
 * A Results document holding the given layers of a site (in manifest order), for the search
 * library. Probe images the layers do not show are left as empty entries.
 */
export function assembleResults(manifest: SiteManifest, layers: readonly SiteLayerData[]): Results {
  const images: Results['probe']['images'] = Array.from({ length: manifest.probe.images }, () => ({
    id: '',
    uri: '',
  }));
  for (const layer of layers) {
    for (const [index, image] of Object.entries(layer.images))
      images[Number(index)] = { id: image.id ?? image.uri, uri: image.uri };
  }
  const order = new Map(manifest.layers.map((l, i) => [l.name, i]));
  const sorted = [...layers].sort((a, b) => (order.get(a.layer) ?? 0) - (order.get(b.layer) ?? 0));
  return {
    // The literal rather than core's RESULTS_FORMAT: importing that module would bundle zod.
    format: 'neurodissect.results',
    version: 1,
    run: { ...manifest.run, parameters: {} },
    model: manifest.model,
    probe: { name: manifest.probe.name, images },
    concepts: manifest.concepts,
    labelers: manifest.labelers,
    layers: sorted.map((l) => {
      const trust = manifest.layers[order.get(l.layer) ?? -1]?.trust;
      return {
        name: l.layer,
        units: l.units,
        ...(l.summary === undefined ? {} : { summary: l.summary }),
        neurons: l.neurons,
        ...(trust === undefined ? {} : { trust }),
      };
    }),
    failures: manifest.failures,
  };
}
