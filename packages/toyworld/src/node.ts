import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type OperationOptions, throwIfAborted } from '@neurodissect/core';
import { type ToyWorldBrodenOptions, toyWorldBrodenFiles } from './broden-format';
import { resolveToyWorldOptions } from './generate';

/** Options of {@link writeToyWorld}. */
export interface WriteToyWorldOptions extends ToyWorldBrodenOptions, OperationOptions {}

/** What {@link writeToyWorld} wrote. */
export interface WrittenToyWorld {
  /** The dataset root (holds `index.csv`). */
  readonly dir: string;
  readonly count: number;
  readonly files: number;
}

/**
 * Writes a toy world in Broden's layout to `dir` (created if needed; existing files of the same
 * names are overwritten). Reports progress per image and honours `signal`.
 */
export async function writeToyWorld(
  dir: string,
  options: WriteToyWorldOptions = {},
): Promise<WrittenToyWorld> {
  const { count } = resolveToyWorldOptions(options);
  const made = new Set<string>();
  let files = 0;
  let images = 0;
  for (const file of toyWorldBrodenFiles(options)) {
    throwIfAborted(options.signal);
    const path = join(dir, file.path);
    const parent = dirname(path);
    if (!made.has(parent)) {
      await mkdir(parent, { recursive: true });
      made.add(parent);
    }
    await writeFile(path, file.data);
    files++;
    if (file.path.endsWith('_object.png')) {
      images++;
      options.onProgress?.({ stage: 'toyworld', done: images, total: count });
    }
  }
  return { dir, count, files };
}

/** Filesystem paths of the models committed with this package (see `models/MODEL_CARD.md`). */
export interface ToyWorldModelPaths {
  /** The folder holding everything below. */
  readonly root: string;
  /** The target CNN (torchvision ResNet naming: `layer1`…`layer4`, `fc`); input `[N, 3, 64, 64]`. */
  readonly targetModel: string;
  /** The toy CLIP in the Hugging Face layout (`onnx/vision_model.onnx`, `onnx/text_model.onnx`, …). */
  readonly clipDir: string;
  /** Ground truth, CSV `layer,unit,label` (empty label = non-interpretable). */
  readonly groundTruth: string;
  /** The training figures as JSON. */
  readonly trainingReport: string;
}

/** Locates the committed toy-world models (works from `src/` and from the built `dist/`). */
export function toyWorldModelPaths(): ToyWorldModelPaths {
  // src/ and dist/ are both one level below the package root.
  const root = fileURLToPath(new URL('../models/', import.meta.url));
  return {
    root,
    targetModel: join(root, 'target', 'toy-resnet.onnx'),
    clipDir: join(root, 'clip'),
    groundTruth: join(root, 'ground-truth.csv'),
    trainingReport: join(root, 'training-report.json'),
  };
}
