/**
 * The sample a ground truth was drawn from: `perLayer` neurons of each layer, drawn at random with
 * `seed`. A ground truth labelled on a sample says so, and the report gives its accuracies with
 * intervals and as "a sample of n of K".
 */
export interface GroundTruthSample {
  /** The seed the sample was drawn with. */
  seed: number;
  /** Neurons drawn per layer (all of a layer that has fewer). */
  perLayer: number;
  /** Per layer: how many neurons were drawn, of how many the layer has. */
  layers: { layer: string; drawn: number; of: number }[];
}

/**
 * How a ground truth was made, as its file's header comment records it (the site's label mode
 * writes one). Every field is optional: a file without the comment has none of them.
 */
export interface GroundTruthAnnotation {
  /** Who labelled the neurons. */
  annotator?: string;
  /** How many of the file's neurons were labelled in blind mode (no labeler's labels shown). */
  blindNeurons?: number;
  /** The labeler whose top labels the annotator was offered (outside blind mode). */
  shownLabeler?: string;
  /** The sample the neurons were drawn from; absent when they were not sampled. */
  sample?: GroundTruthSample;
  /** The Results document labelled: its model and when it was made. */
  results?: { model: string; createdAt: string };
}

/** The ground truth of one neuron. */
export interface GroundTruthEntry {
  layer: string;
  /** 0-based unit index. */
  unit: number;
  /** The concept the neuron detects, or `null` when it is not interpretable. */
  label: string | null;
}

/** A ground truth: one entry per neuron that was annotated. */
export interface GroundTruth {
  entries: GroundTruthEntry[];
  /** Where it came from, for messages and the report. */
  source: string;
  /** How it was made (annotator, blind mode, sample), from the CSV's header comment. */
  annotation?: GroundTruthAnnotation;
}

/** Options of {@link parseGroundTruth}. */
export interface GroundTruthOptions {
  /** The file, for messages. @defaultValue 'ground-truth' */
  source?: string;
  /** `csv` or `json`; by default JSON when the text starts with `[` or `{`, else CSV. */
  format?: 'csv' | 'json';
  /**
   * Labels that mean "non-interpretable" (compared case-insensitively), besides the empty label.
   * @defaultValue ['non-interpretable']
   */
  nonInterpretableMarkers?: readonly string[];
  /** Report and skip malformed CSV rows instead of failing. @defaultValue false */
  lenient?: boolean;
  /** Receives one `file:line: problem` message per skipped row (lenient mode). */
  onSkip?: (message: string) => void;
}
