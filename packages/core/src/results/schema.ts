import { z } from 'zod';

/** The format tag every Results document carries. */
export const RESULTS_FORMAT = 'neurodissect.results';
/** The version this library writes. */
export const RESULTS_VERSION = 2;

/** A content hash, `<algorithm>:<hex>` (e.g. `sha256:…`). */
export const ContentHashSchema = z
  .string()
  .regex(/^[a-z0-9-]+:[0-9a-f]+$/, 'expected "<algorithm>:<hex digest>", e.g. "sha256:ab12…"');

/** One label a labeler gave a neuron. */
export const ScoredLabelSchema = z.object({
  /** The concept, as it appears in the concept set. */
  label: z.string(),
  /** The labeler's score (higher is better; scales differ between labelers). */
  score: z.number(),
  /** Index into the concept set, when the label comes from it. */
  concept: z.number().int().nonnegative().optional(),
  /** How many top images voted for the label (CLIP-avg, Broden-label). */
  votes: z.number().int().nonnegative().optional(),
});

/** One of a neuron's top activating images. */
export const TopImageSchema = z.object({
  /** Index into `probe.images`. */
  image: z.number().int().nonnegative(),
  /** The summarised activation of the neuron on this image (absent when the source did not record it, e.g. imports). */
  activation: z.number().optional(),
  /** A small activation heatmap: a data URI or a path relative to the Results file. */
  heatmap: z.string().optional(),
});

/** How far one labeler's best label of a neuron can be believed (see docs/trust.md). */
export const LabelTrustSchema = z.object({
  /**
   * The best label's score against the layer's permutation null: `p` is the share of random
   * pseudo-neurons (random image orderings) scoring at least as high, `(1 + #{null ≥ s}) / (1 + R)`;
   * `q` the Benjamini–Hochberg q-value within the layer and labeler.
   */
  significance: z.object({ p: z.number().min(0).max(1), q: z.number().min(0).max(1) }).optional(),
  /**
   * Under bootstrap resamples of the probe images: the share whose best label equals this one
   * (`top1`) and the share that keep it among their first five (`top5`), over `resamples` resamples.
   */
  stability: z
    .object({
      top1: z.number().min(0).max(1),
      top5: z.number().min(0).max(1),
      resamples: z.number().int().positive(),
    })
    .optional(),
  /**
   * Labels chosen on the other folds, measured on held-out images: the Pearson correlation between
   * the neuron's activation summary and the held-out label's CLIP presence (image–text cosine),
   * averaged over folds.
   */
  heldOut: z
    .object({
      correlation: z.number().min(-1).max(1),
      /**
       * Where the label is one of the probe set's annotation labels: the correlation with its
       * annotated share of each held-out image, and the average precision of ranking the held-out
       * images by activation to find those that show it.
       */
      maskCorrelation: z.number().min(-1).max(1).optional(),
      auprc: z.number().min(0).max(1).optional(),
    })
    .optional(),
});

/** A layer's trust figures for one labeler: the null it was tested against and layer-wide means. */
export const LayerTrustSchema = z.object({
  /** The permutation null: its pseudo-neurons, seed, and quantiles of their best scores. */
  null: z
    .object({
      permutations: z.number().int().positive(),
      seed: z.number().int().nonnegative(),
      /** Best-score quantiles of the pseudo-neurons at 0.5, 0.95 and 0.99. */
      quantiles: z.object({ q50: z.number(), q95: z.number(), q99: z.number() }),
    })
    .optional(),
  /** Neurons with `q < 0.05`, of the neurons tested. */
  significant: z.number().int().nonnegative().optional(),
  tested: z.number().int().nonnegative().optional(),
  /** Mean held-out correlation over neurons, and the same for labels of random other neurons. */
  heldOut: z
    .object({
      correlation: z.number(),
      baseline: z.number(),
      folds: z.number().int().min(2),
      neurons: z.number().int().nonnegative(),
      /** The same from the annotation masks, over the neurons whose label is an annotation label. */
      annotations: z
        .object({ correlation: z.number(), auprc: z.number(), neurons: z.number().int().nonnegative() })
        .optional(),
    })
    .optional(),
});

/**
 * The units of another layer whose activation summaries over the probe images correlate most with
 * this neuron's (Pearson `r`, highest first; see docs/relations.md).
 */
export const NeuronRelationSchema = z.object({
  /** The other layer (of this model; it may be one that was not dissected). */
  layer: z.string().min(1),
  /**
   * `from`: the other layer comes before this one and may feed it (this neuron is "driven with"
   * its units); `to`: it comes after (this neuron "drives with" its units).
   */
  direction: z.enum(['from', 'to']),
  units: z.array(z.object({ unit: z.number().int().nonnegative(), r: z.number().min(-1).max(1) })),
});

/** One neuron (a channel of a layer). */
export const NeuronSchema = z.object({
  /** 0-based unit index within the layer. */
  unit: z.number().int().nonnegative(),
  /** Top activating images, most activating first. */
  topImages: z.array(TopImageSchema),
  /** Ranked labels per labeler id, best first. */
  labels: z.record(z.string(), z.array(ScoredLabelSchema)),
  /** Problems found for this neuron (e.g. non-finite activations); such a neuron is never silently labelled. */
  issues: z.array(z.string()).optional(),
  /** How far each labeler's best label can be believed, per labeler id (version 2). */
  trust: z.record(z.string(), LabelTrustSchema).optional(),
  /** The most correlated units of other layers, per layer and direction (version 2). */
  relations: z.array(NeuronRelationSchema).optional(),
});

/** One dissected layer. */
export const LayerSchema = z.object({
  /** The layer as selected (module path or tensor name). */
  name: z.string().min(1),
  /** Number of units (channels) in the layer. */
  units: z.number().int().nonnegative(),
  /** How activation maps were summarised to one value per image. */
  summary: z.enum(['mean', 'max', 'cls', 'identity']).optional(),
  neurons: z.array(NeuronSchema),
  /** Per labeler id: the null its labels were tested against and layer-wide trust figures (version 2). */
  trust: z.record(z.string(), LayerTrustSchema).optional(),
});

/** A labeler that ran, with its options. */
export const LabelerRunSchema = z.object({
  id: z.string().min(1),
  version: z.string(),
  options: z.record(z.string(), z.unknown()),
});

/** A labeler (or other stage) that failed; the other labelers' results are kept. */
export const FailureSchema = z.object({
  stage: z.string(),
  layer: z.string().optional(),
  code: z.string().optional(),
  message: z.string(),
});

/** One probe image. */
export const ImageEntrySchema = z.object({
  id: z.string(),
  /** Where the image is: a path (relative to an image root) or a URL. */
  uri: z.string(),
});

/** How the document was made. */
export const RunSchema = z.object({
  tool: z.object({ name: z.string(), version: z.string() }),
  createdAt: z.iso.datetime({ offset: true }),
  /** `dissect`, `score`, or `import:<format>`. */
  kind: z.string(),
  /** The runtime and the execution provider that actually ran (absent for imports). */
  runtime: z
    .object({
      name: z.string(),
      executionProvider: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  /** Wall time per stage, in milliseconds. */
  timings: z.record(z.string(), z.number().nonnegative()).optional(),
  parameters: z.record(z.string(), z.unknown()),
});

const resultsShape = (version: 1 | 2) =>
  z.object({
    $schema: z.string().optional(),
    format: z.literal(RESULTS_FORMAT),
    version: z.literal(version),
    run: RunSchema,
    model: z.object({ name: z.string(), uri: z.string().optional(), hash: ContentHashSchema.optional() }),
    probe: z.object({
      name: z.string(),
      hash: ContentHashSchema.optional(),
      images: z.array(ImageEntrySchema),
    }),
    concepts: z.object({
      name: z.string(),
      size: z.number().int().nonnegative(),
      hash: ContentHashSchema.optional(),
      items: z.array(z.string()).optional(),
    }),
    labelers: z.array(LabelerRunSchema),
    layers: z.array(LayerSchema),
    failures: z.array(FailureSchema),
  });

function checkReferences(doc: z.infer<ReturnType<typeof resultsShape>>, ctx: z.RefinementCtx): void {
  const labelerIds = new Set(doc.labelers.map((l) => l.id));
  const images = doc.probe.images.length;
  const { size, items } = doc.concepts;
  if (items && items.length !== size) {
    ctx.addIssue({
      code: 'custom',
      path: ['concepts', 'items'],
      message: `lists ${items.length} concepts but concepts.size is ${size}`,
    });
  }
  const layerNames = new Set<string>();
  doc.layers.forEach((layer, li) => {
    if (layerNames.has(layer.name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['layers', li, 'name'],
        message: `layer "${layer.name}" appears twice`,
      });
    }
    layerNames.add(layer.name);
    const seen = new Set<number>();
    layer.neurons.forEach((neuron, ni) => {
      const path = ['layers', li, 'neurons', ni];
      if (neuron.unit >= layer.units) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'unit'],
          message: `unit ${neuron.unit} is outside the layer's ${layer.units} units`,
        });
      }
      if (seen.has(neuron.unit)) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'unit'],
          message: `unit ${neuron.unit} appears twice`,
        });
      }
      seen.add(neuron.unit);
      neuron.topImages.forEach((top, ti) => {
        if (top.image >= images) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'topImages', ti, 'image'],
            message: `image index ${top.image} is outside probe.images (${images} images)`,
          });
        }
      });
      for (const [id, ranked] of Object.entries(neuron.labels)) {
        ranked.forEach((label, r) => {
          if (label.concept === undefined) return;
          const where = [...path, 'labels', id, r, 'concept'];
          if (label.concept >= size) {
            ctx.addIssue({
              code: 'custom',
              path: where,
              message: `concept index ${label.concept} is outside the concept set (${size} concepts)`,
            });
          } else if (items && items[label.concept] !== label.label) {
            ctx.addIssue({
              code: 'custom',
              path: where,
              message: `concept index ${label.concept} is "${items[label.concept]}" in the concept set, but the label says "${label.label}"`,
            });
          }
        });
        if (!labelerIds.has(id)) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'labels', id],
            message: `labeler "${id}" is not listed in labelers`,
          });
        }
      }
      (neuron.relations ?? []).forEach((relation, ri) => {
        const other = doc.layers.find((l) => l.name === relation.layer);
        relation.units.forEach((related, ui) => {
          if (other && related.unit >= other.units) {
            ctx.addIssue({
              code: 'custom',
              path: [...path, 'relations', ri, 'units', ui, 'unit'],
              message: `unit ${related.unit} is outside layer "${other.name}"'s ${other.units} units`,
            });
          }
        });
      });
      for (const id of Object.keys(neuron.trust ?? {})) {
        if (!labelerIds.has(id)) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'trust', id],
            message: `labeler "${id}" is not listed in labelers`,
          });
        }
      }
    });
    for (const id of Object.keys(layer.trust ?? {})) {
      if (!labelerIds.has(id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['layers', li, 'trust', id],
          message: `labeler "${id}" is not listed in labelers`,
        });
      }
    }
  });
}

/** The Results document, version 1 (read through a migration to version 2). */
export const ResultsV1Schema = resultsShape(1).superRefine(checkReferences);

/**
 * The Results document, version 2: version 1 plus how far each label can be believed (`trust` per
 * neuron and per layer) and the relations between neurons of different layers (`relations` per
 * neuron).
 */
export const ResultsV2Schema = resultsShape(2).superRefine(checkReferences);

/** The current Results document. */
export const ResultsSchema = ResultsV2Schema;

/** A Results document (current version). */
export type Results = z.infer<typeof ResultsSchema>;
export type ResultsLayer = z.infer<typeof LayerSchema>;
export type ResultsNeuron = z.infer<typeof NeuronSchema>;
export type ScoredLabel = z.infer<typeof ScoredLabelSchema>;
export type TopImage = z.infer<typeof TopImageSchema>;
export type LabelerRun = z.infer<typeof LabelerRunSchema>;
export type ResultsFailure = z.infer<typeof FailureSchema>;
export type ImageEntry = z.infer<typeof ImageEntrySchema>;
export type RunInfo = z.infer<typeof RunSchema>;
export type LabelTrust = z.infer<typeof LabelTrustSchema>;
export type LayerTrust = z.infer<typeof LayerTrustSchema>;
export type NeuronRelation = z.infer<typeof NeuronRelationSchema>;
