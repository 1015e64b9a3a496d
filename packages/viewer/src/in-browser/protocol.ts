import type { ProgressEvent, Results, SimilarityName } from '@neurodissect/core';

import type { LabelerName } from '@neurodissect/labelers';

/** Where the target model comes from. */
export type InBrowserTargetSource =
  /** The toy world's target CNN, served with the site. */
  | { kind: 'toyworld' }
  /** An `.onnx` file the user picked. */
  | { kind: 'file'; file: Blob; name: string };

/** Where the CLIP model comes from. */
export type InBrowserClipSource =
  | { kind: 'toyworld' }
  /**
   * The files of a CLIP folder in the Hugging Face layout the user picked, by their path inside
   * it (`onnx/vision_model.onnx`, `onnx/text_model.onnx`, `tokenizer.json`,
   * `preprocessor_config.json`).
   */
  | { kind: 'files'; files: { path: string; file: Blob }[] };

/** Where the probe images come from. */
export type InBrowserProbeSource =
  /** A toy world generated in the page (with its annotations: every labeler works). */
  | { kind: 'toyworld'; seed: number; count: number }
  /** Images the user picked (a folder), by their path inside it. */
  | { kind: 'files'; files: { path: string; file: Blob }[] };

/** One dissection to run in the worker. Everything is structured-cloneable. */
export interface InBrowserJob {
  target: InBrowserTargetSource;
  clip?: InBrowserClipSource;
  probe: InBrowserProbeSource;
  /** The concept list: one concept per line. */
  concepts: string;
  /** The concept set's name recorded in the Results. */
  conceptsName: string;
  layers: string[];
  labelers: LabelerName[];
  /** CLIP-Dissect's similarity function. @defaultValue 'soft_wpmi' */
  similarity?: SimilarityName;
  /** Target preprocessing: a preset, and optionally the input side (resize shorter side, crop). */
  preset: 'imagenet' | 'clip';
  inputSize?: number;
  /** Execution providers in order of preference. @defaultValue ['webgpu', 'wasm'] */
  executionProviders?: ('webgpu' | 'wasm')[];
  /** Fail instead of falling back to a later provider. */
  strict?: boolean;
  /** @defaultValue 16 */
  batchSize?: number;
  /** @defaultValue 20 */
  topImages?: number;
  /** @defaultValue 10 */
  topLabels?: number;
  /** Attach activation heatmaps to the top images. @defaultValue true */
  heatmaps?: boolean;
  /**
   * Keep activations and embeddings in this browser's IndexedDB, so a re-run with the same
   * model, images and layers skips inference. @defaultValue true
   */
  cache?: boolean;
  /** Absolute URLs the worker loads from. */
  urls: {
    /** onnxruntime-web's `.wasm`/`.mjs` files, ending in `/`. */
    ort: string;
    /** The toy world's models folder (holding `target/` and `clip/`), ending in `/`. */
    toyWorld?: string;
  };
}

/** Page → worker: run a job, cancel it, or list a target model's layers. */
export type ToWorker =
  | { type: 'run'; job: InBrowserJob }
  | { type: 'cancel' }
  | { type: 'list-layers'; target: InBrowserTargetSource; urls: InBrowserJob['urls'] };

/** Worker → page. */
export type FromWorker =
  | { type: 'progress'; event: ProgressEvent }
  /** A step started, in words (loading models, generating the toy world, …). */
  | { type: 'status'; message: string }
  /** A layer finished: the Results so far. */
  | { type: 'layer'; results: Results }
  | { type: 'done'; results: Results; seconds: number }
  /** The layers a target model offers (answer to `list-layers`). */
  | { type: 'layers'; layers: { name: string; shape?: (number | string)[] }[] }
  /** The run failed or was cancelled; `partial` holds the layers that finished. */
  | { type: 'error'; message: string; code?: string; cancelled: boolean; partial?: Results };
