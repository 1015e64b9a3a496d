import type { Results, ResultsNeuron } from '@neurodissect/core';
import { createSearchIndex, type LayerSummary } from '@neurodissect/search';
import {
  SITE_FORMAT,
  SITE_VERSION,
  type SiteConceptList,
  type SiteImage,
  type SiteLayerData,
  type SiteManifest,
} from './site-data';

/** Everything the site shows: the manifest and every layer's data. */
export interface SiteContent {
  manifest: SiteManifest;
  /** One entry per layer, in manifest order (`manifest.layers[i].key` is `layer-i`). */
  layers: SiteLayerData[];
  /** The concept set's words (`data/concepts.js`), when the Results list them. */
  concepts?: SiteConceptList;
  heatmaps: { kept: number; dropped: number };
}

/** The data key of {@link SiteContent.concepts}. */
const CONCEPTS_KEY = 'concepts';

/** Options of {@link siteContentFromResults}. */
export interface SiteContentOptions {
  /** @defaultValue the model's name */
  title?: string;
  /**
   * Interpretability thresholds of the layer summaries for every labeler. @defaultValue each
   * labeler's published ones (soft-WPMI 0.3 / 0.2 / 0.1, NetDissect's IoU 0.04), none for others
   */
  thresholds?: number[];
  /** How probe image `index` is shown (its thumbnail, or why there is none). */
  image(index: number): SiteImage;
  /**
   * What a top image's heatmap becomes in the site (a site path or a data URI), or undefined to
   * drop it. @defaultValue kept as it is
   */
  heatmap?(heatmap: string): string | undefined | Promise<string | undefined>;
  /** Extra manifest fields (e.g. `inBrowser`). */
  extra?: Partial<Pick<SiteManifest, 'inBrowser' | 'imageSource' | 'report'>>;
}

/** The probe images some neuron of `results` shows, ascending. */
export function shownImages(results: Results): number[] {
  const shown = new Set<number>();
  for (const layer of results.layers)
    for (const neuron of layer.neurons) for (const top of neuron.topImages) shown.add(top.image);
  return [...shown].sort((a, b) => a - b);
}

/**
 * The site's manifest and layer data for a Results document: what `buildSite` writes as
 * `data/*.js` files, and what the in-browser dissection shows without writing anything.
 */
export async function siteContentFromResults(
  results: Results,
  options: SiteContentOptions,
): Promise<SiteContent> {
  const shown = shownImages(results);
  const siteImages = new Map(shown.map((index) => [index, options.image(index)]));
  const thresholds = options.thresholds;
  const index = createSearchIndex(results);
  const manifest: SiteManifest = {
    format: SITE_FORMAT,
    version: SITE_VERSION,
    title: options.title ?? results.model.name,
    model: results.model,
    run: {
      kind: results.run.kind,
      createdAt: results.run.createdAt,
      tool: results.run.tool,
      ...(results.run.runtime === undefined ? {} : { runtime: results.run.runtime }),
    },
    probe: { name: results.probe.name, images: results.probe.images.length },
    concepts: { name: results.concepts.name, size: results.concepts.size },
    labelers: results.labelers,
    ...(thresholds ? { thresholds } : {}),
    layers: [],
    failures: results.failures,
    images: {
      shown: shown.length,
      thumbnails: [...siteImages.values()].filter((i) => i.thumb !== undefined).length,
    },
    ...(results.concepts.items ? { conceptList: CONCEPTS_KEY } : {}),
    ...options.extra,
  };
  const layers: SiteLayerData[] = [];
  let kept = 0;
  let dropped = 0;
  for (const [li, layer] of results.layers.entries()) {
    const neurons: ResultsNeuron[] = [];
    const images: Record<string, SiteImage> = {};
    for (const neuron of layer.neurons) {
      const topImages = [];
      for (const top of neuron.topImages) {
        images[top.image] = siteImages.get(top.image)!;
        if (top.heatmap === undefined) {
          topImages.push(top);
          continue;
        }
        const heatmap = options.heatmap ? await options.heatmap(top.heatmap) : top.heatmap;
        const { heatmap: _, ...rest } = top;
        if (heatmap === undefined) dropped++;
        else kept++;
        topImages.push(heatmap === undefined ? rest : { ...rest, heatmap });
      }
      neurons.push({ ...neuron, topImages });
    }
    layers.push({
      format: SITE_FORMAT,
      version: SITE_VERSION,
      layer: layer.name,
      units: layer.units,
      ...(layer.summary === undefined ? {} : { summary: layer.summary }),
      neurons,
      images,
    });
    const summaries: Record<string, LayerSummary> = {};
    for (const labeler of results.labelers)
      summaries[labeler.id] = index.layerSummary(layer.name, {
        labeler: labeler.id,
        ...(thresholds ? { thresholds } : {}),
      });
    manifest.layers.push({
      name: layer.name,
      units: layer.units,
      neurons: layer.neurons.length,
      key: `layer-${li}`,
      unitList: layer.neurons.map((n) => n.unit).sort((a, b) => a - b),
      summaries,
      ...(layer.trust === undefined ? {} : { trust: layer.trust }),
    });
  }
  const items = results.concepts.items;
  return {
    manifest,
    layers,
    ...(items ? { concepts: { format: SITE_FORMAT, version: SITE_VERSION, concepts: [...items] } } : {}),
    heatmaps: { kept, dropped },
  };
}
