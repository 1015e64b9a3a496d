import {
  clipModelHash,
  conceptSetHash,
  createDissectionSpec,
  ErrorCode,
  NeurodissectError,
  type OperationOptions,
  openDissection,
  type ProbeDataset,
  parseConceptSet,
  probeContentHash,
  type Results,
  sha256,
  throwIfAborted,
} from '@neurodissect/core';
import { createLabelersByName, type LabelersByNameOptions } from '@neurodissect/labelers';
import { type PreprocessConfig, preprocessBatch, preprocessConfigFor } from '@neurodissect/model-io';
import {
  createFileDataset,
  createIndexedDbFeatureStore,
  createWebRuntime,
  readSourceBytes,
  type WebClipModel,
  type WebClipModelFiles,
  type WebTargetModel,
} from '@neurodissect/runtime-web';
import { createToyWorldDataset } from '@neurodissect/toyworld';
import packageJson from '../../package.json' with { type: 'json' };
import { checkInBrowserJob } from './job-checks';
import type { InBrowserClipSource, InBrowserJob } from './protocol';

/** Callbacks of {@link runInBrowserJob}. */
export interface InBrowserJobOptions extends OperationOptions {
  /** A step started, in words. */
  onStatus?(message: string): void;
  /** A layer finished: the Results so far. */
  onLayer?(partial: Results): void;
}

/** The name and version recorded in the Results as the tool. */
export const IN_BROWSER_TOOL = { name: 'neurodissect (in the browser)', version: packageJson.version };

function invalid(message: string): NeurodissectError {
  return new NeurodissectError(ErrorCode.InvalidOption, message);
}

/** The CLIP files of a picked folder, found by their path inside it. */
function clipFilesOf(source: Extract<InBrowserClipSource, { kind: 'files' }>): {
  vision: Blob;
  text: Blob;
  tokenizer: Blob;
  preprocessor?: Blob;
} {
  const find = (...suffixes: string[]) =>
    source.files.find((f) => suffixes.some((s) => f.path === s || f.path.endsWith(`/${s}`)))?.file;
  const vision = find('onnx/vision_model.onnx', 'vision_model.onnx');
  const text = find('onnx/text_model.onnx', 'text_model.onnx');
  const tokenizer = find('tokenizer.json', 'bpe_simple_vocab_16e6.txt.gz', 'bpe_simple_vocab_16e6.txt');
  const missing = [
    vision ? undefined : 'onnx/vision_model.onnx',
    text ? undefined : 'onnx/text_model.onnx',
    tokenizer ? undefined : 'tokenizer.json',
  ].filter(Boolean);
  if (missing.length || !vision || !text || !tokenizer) {
    throw new NeurodissectError(
      ErrorCode.FileNotFound,
      `The CLIP folder lacks ${missing.join(', ')}; pick a folder in the Hugging Face ONNX layout (onnx/vision_model.onnx, onnx/text_model.onnx, tokenizer.json, preprocessor_config.json).`,
    );
  }
  const preprocessor = find('preprocessor_config.json');
  return preprocessor ? { vision, text, tokenizer, preprocessor } : { vision, text, tokenizer };
}

/** Lets the worker's event loop run (so a `cancel` message is seen during long runs). */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * The probe set with a pause for the event loop every few reads: onnxruntime-web's runs resolve
 * as microtasks, so without it a worker would not see a message until the whole run ended.
 */
function yieldingProbe<T extends ProbeDataset>(probe: T, every = 8): T {
  let reads = 0;
  return {
    ...probe,
    async read(index: number, options: OperationOptions = {}) {
      if (++reads % every === 0) await nextTask();
      throwIfAborted(options.signal);
      return probe.read(index, options);
    },
  };
}

function toyWorldUrl(urls: InBrowserJob['urls'], path: string): string {
  if (urls.toyWorld === undefined) {
    throw new NeurodissectError(
      ErrorCode.FileNotFound,
      "This site does not carry the toy world's models; pick your own model files, or build the site with --dissect-page --toyworld-models.",
    );
  }
  return new URL(path, urls.toyWorld).href;
}

async function readTarget(
  target: InBrowserJob['target'],
  urls: InBrowserJob['urls'],
  signal?: AbortSignal,
): Promise<{ bytes: Uint8Array; name: string }> {
  if (target.kind === 'toyworld') {
    const url = toyWorldUrl(urls, 'target/toy-resnet.onnx');
    return { bytes: await readSourceBytes(url, { signal }), name: 'toyworld/target/toy-resnet.onnx' };
  }
  return { bytes: await readSourceBytes(target.file, { signal }), name: target.name };
}

/** The layers a target model offers (module paths or tensor names), with their shapes where known. */
export async function listTargetLayers(
  target: InBrowserJob['target'],
  urls: InBrowserJob['urls'],
): Promise<{ name: string; shape?: (number | string)[] }[]> {
  const runtime = await createWebRuntime({ executionProviders: ['wasm'], wasmPaths: urls.ort });
  const { bytes } = await readTarget(target, urls);
  const model = await runtime.loadTargetModelFrom(bytes);
  try {
    return model.layers.map((l) => (l.shape ? { name: l.name, shape: [...l.shape] } : { name: l.name }));
  } finally {
    await model.dispose();
    await runtime.dispose();
  }
}

/**
 * Runs one dissection entirely in this page or worker: onnxruntime-web for the models, the
 * labelers of `@neurodissect/labelers`, and core's pipeline, as `neurodissect dissect` does in
 * Node. Nothing is uploaded. Honours `signal`; `onLayer` receives the Results after every layer.
 */
export async function runInBrowserJob(
  job: InBrowserJob,
  options: InBrowserJobOptions = {},
): Promise<Results> {
  const { signal, onStatus, onProgress } = options;
  checkInBrowserJob(job);
  const probe = yieldingProbe(
    job.probe.kind === 'toyworld'
      ? createToyWorldDataset({ seed: job.probe.seed, count: job.probe.count })
      : createFileDataset(job.probe.files, { name: 'picked images' }),
  );
  const labelers = createLabelersByName(job.labelers, {
    topLabels: job.topLabels ?? 10,
    similarity: job.similarity ?? 'soft_wpmi',
  });
  const concepts = parseConceptSet(job.concepts, { source: job.conceptsName });
  const needsClip = labelers.some((l) => l.requires.includes('clip'));

  onStatus?.('Starting onnxruntime-web');
  const runtime = await createWebRuntime({
    executionProviders: job.executionProviders,
    strict: job.strict,
    wasmPaths: job.urls.ort,
  });
  let target: WebTargetModel | undefined;
  let clip: WebClipModel | undefined;
  const store = job.cache === false ? undefined : await createIndexedDbFeatureStore();
  try {
    onStatus?.('Loading the target model');
    const { bytes: targetBytes, name: targetName } = await readTarget(job.target, job.urls, signal);
    target = await runtime.loadTargetModelFrom(targetBytes);
    for (const layer of job.layers) target.resolveLayer(layer);
    throwIfAborted(signal);

    let clipHash: string | undefined;
    if (needsClip) {
      if (!job.clip) {
        throw invalid(
          `The labelers ${labelers
            .filter((l) => l.requires.includes('clip'))
            .map((l) => l.id)
            .join(', ')} need a CLIP model; choose the toy world's or pick a CLIP folder.`,
        );
      }
      onStatus?.('Loading the CLIP model');
      const sources =
        job.clip.kind === 'toyworld'
          ? {
              vision: toyWorldUrl(job.urls, 'clip/onnx/vision_model.onnx'),
              text: toyWorldUrl(job.urls, 'clip/onnx/text_model.onnx'),
              tokenizer: toyWorldUrl(job.urls, 'clip/tokenizer.json'),
              preprocessor: toyWorldUrl(job.urls, 'clip/preprocessor_config.json'),
            }
          : clipFilesOf(job.clip);
      const vision = await readSourceBytes(sources.vision, { signal });
      const text = await readSourceBytes(sources.text, { signal });
      const files: WebClipModelFiles = {
        vision,
        text,
        tokenizer: await readSourceBytes(sources.tokenizer, { signal }),
        ...(sources.preprocessor === undefined
          ? {}
          : { preprocessor: await readSourceBytes(sources.preprocessor, { signal }) }),
      };
      clipHash = await clipModelHash(await sha256(vision), await sha256(text));
      clip = await runtime.loadClipModelFrom(files);
    }

    const threads =
      target.executionProvider !== 'wasm'
        ? ''
        : runtime.capabilities.threads
          ? ' with threads'
          : ' on one thread (the page is not cross-origin isolated)';
    onStatus?.(`Dissecting ${job.layers.join(', ')} on ${target.executionProvider}${threads}`);
    // The same spec `neurodissect dissect` builds, so the feature cache is keyed alike.
    const clipName = job.clip?.kind === 'toyworld' ? 'toyworld/clip' : 'picked CLIP';
    const spec = createDissectionSpec({
      model: { uri: targetName, name: targetName, hash: await sha256(targetBytes) },
      clip: clip && clipHash ? { uri: clipName, name: clipName, hash: clipHash } : undefined,
      probe: { uri: probe.name, name: probe.name, hash: await probeContentHash(probe) },
      concepts: {
        uri: job.conceptsName,
        name: job.conceptsName,
        hash: await conceptSetHash(concepts.concepts),
      },
      layers: job.layers,
      preprocessing: preprocessConfigFor(job.preset, job.inputSize),
      labelers: job.labelers,
      topLabels: job.topLabels,
      similarity: job.similarity,
      batchSize: job.batchSize,
      topImages: job.topImages,
      heatmaps: job.heatmaps ?? true,
    });
    const loadedTarget = target;
    const loadedClip = clip;
    const dissection = await openDissection(
      spec,
      {
        loadTarget: async () => ({
          model: loadedTarget,
          hash: spec.model.hash,
          executionProvider: loadedTarget.executionProvider,
        }),
        loadClip: async () => ({ model: loadedClip!, hash: clipHash! }),
        openProbe: async () => probe,
        readConcepts: async () => concepts,
        prepare: (images, preprocessing) => preprocessBatch(images, preprocessing as PreprocessConfig),
        createLabelers: (names, shared) => createLabelersByName(names, shared as LabelersByNameOptions),
        // runtime-web offers no faster kernels: scoring runs on core's single-thread WebAssembly kernel.
        kernels: runtime,
        runtimeName: runtime.name,
      },
      { store, tool: IN_BROWSER_TOOL, signal, onProgress, onLayer: options.onLayer },
    );
    return await dissection.run();
  } finally {
    await clip?.dispose();
    await target?.dispose();
    await runtime.dispose();
    await store?.dispose();
  }
}
