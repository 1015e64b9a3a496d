import type { SimilarityName } from '@neurodissect/core';
import { LABELER_NAMES, type LabelerName } from '@neurodissect/labelers';
import { checkInBrowserJob, invalidJobField } from '../../in-browser/job-checks';
import type { InBrowserJob } from '../../in-browser/protocol';

/** A picked file with its path inside the picked folder. */
export interface PickedFile {
  path: string;
  file: Blob;
}

/** What the "Dissect in your browser" form holds, as plain values (no DOM). */
export interface DissectFormValues {
  target: 'toyworld' | 'file';
  /** The picked `.onnx` file, when `target` is `file`. */
  targetFile?: { file: Blob; name: string };
  clip: 'toyworld' | 'files';
  clipFiles: PickedFile[];
  probe: 'toyworld' | 'files';
  /** The toy world's seed and size, as typed. */
  probeSeed: string;
  probeCount: string;
  probeFiles: PickedFile[];
  /** One concept per line. */
  concepts: string;
  /** Comma-separated layer names. */
  layers: string;
  labelers: readonly string[];
  similarity: SimilarityName;
  preset: 'imagenet' | 'clip';
  /** The input side, as typed (empty: the preset's). */
  inputSize: string;
  providers: 'auto' | 'wasm' | 'webgpu';
  cache: boolean;
}

/** The target model the form names, or what is missing. @throws `ND_INVALID_OPTION` */
export function targetFromValues(values: DissectFormValues): InBrowserJob['target'] {
  if (values.target === 'toyworld') return { kind: 'toyworld' };
  if (!values.targetFile) throw invalidJobField('target', 'Pick the target model: an .onnx file.');
  return { kind: 'file', file: values.targetFile.file, name: values.targetFile.name };
}

/**
 * The job the form describes, checked as the worker will check it ({@link checkInBrowserJob}).
 * @throws `ND_INVALID_OPTION` naming what is missing or wrong (`details.field`).
 */
export function jobFromValues(values: DissectFormValues, urls: InBrowserJob['urls']): InBrowserJob {
  const target = targetFromValues(values);
  const clip: InBrowserJob['clip'] =
    values.clip === 'toyworld'
      ? { kind: 'toyworld' }
      : values.clipFiles.length
        ? { kind: 'files', files: values.clipFiles }
        : undefined;
  const probe: InBrowserJob['probe'] =
    values.probe === 'toyworld'
      ? { kind: 'toyworld', seed: Number(values.probeSeed), count: Number(values.probeCount) }
      : { kind: 'files', files: values.probeFiles };
  const inputSize = values.inputSize.trim();
  if (inputSize !== '' && !(Number.isInteger(Number(inputSize)) && Number(inputSize) >= 8))
    throw invalidJobField(
      'inputSize',
      'The input size must be a whole number of pixels, 8 or more (or empty).',
    );
  const job: InBrowserJob = {
    target,
    ...(clip === undefined ? {} : { clip }),
    probe,
    concepts: values.concepts.trim(),
    conceptsName: 'concepts (typed in the page)',
    layers: values.layers
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean),
    labelers: LABELER_NAMES.filter((id): id is LabelerName => values.labelers.includes(id)),
    similarity: values.similarity,
    preset: values.preset,
    ...(inputSize === '' ? {} : { inputSize: Number(inputSize) }),
    executionProviders:
      values.providers === 'wasm'
        ? ['wasm']
        : values.providers === 'webgpu'
          ? ['webgpu']
          : ['webgpu', 'wasm'],
    strict: values.providers === 'webgpu',
    batchSize: 16,
    heatmaps: true,
    cache: values.cache,
    urls,
  };
  checkInBrowserJob(job);
  return job;
}
