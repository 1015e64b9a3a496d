import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  clipModelHash,
  conceptSetHash,
  createDissectionSpec,
  type DissectionEnvironment,
  type DissectionSpec,
  type DissectionSpecInput,
  ErrorCode,
  NeurodissectError,
  type ProbeDataset,
  probeContentHash,
} from '@neurodissect/core';
import { createLabelersByName, type LabelersByNameOptions } from '@neurodissect/labelers';
import {
  createBrodenDataset,
  createImageFolderDataset,
  detectClipLayout,
  type FileWarning,
  hashFile,
  type NodeRuntime,
  type PreprocessConfig,
  preprocessBatch,
  readConceptSetFile,
} from '@neurodissect/runtime-node';

/** Options of {@link openProbeUri}. */
export interface OpenProbeOptions {
  /**
   * Receives a warning per file of an image folder that is skipped (not an image, a link that
   * leads out of it), and for a Broden index that lists an image twice or unknown label numbers.
   */
  onWarning?: (warning: FileWarning) => void;
  /** The most pixels a probe image may have; larger ones fail their read. @defaultValue 50 megapixels */
  maxPixels?: number;
}

/**
 * Opens a probe set by URI: `broden:DIR` (a Broden-format set), or a folder (Broden-format when it
 * holds an `index.csv`, else a folder of images). Either reads only files inside its folder.
 * @throws `ND_FILE_NOT_FOUND` when the folder does not exist.
 */
export async function openProbeUri(uri: string, options: OpenProbeOptions = {}): Promise<ProbeDataset> {
  const broden = uri.startsWith('broden:');
  const root = broden ? uri.slice('broden:'.length) : uri;
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new NeurodissectError(
      ErrorCode.FileNotFound,
      `${root} is not a folder; give a folder of images or broden:DIR`,
      { details: { path: root } },
    );
  }
  if (broden || existsSync(join(root, 'index.csv')))
    return createBrodenDataset({ root, maxPixels: options.maxPixels, onWarning: options.onWarning });
  return createImageFolderDataset({ root, onWarning: options.onWarning, maxPixels: options.maxPixels });
}

/**
 * Files' content hashes (`sha256:…`), each computed once per path, size and modification time.
 * Pass one to {@link dissectionSpecFromFiles} and {@link createNodeDissectionEnvironment} so that
 * building a spec and opening it (the CLI does both) hashes each model file once.
 */
export interface FileHashes {
  of(path: string): Promise<string>;
}

/** A new, empty {@link FileHashes}. */
export function createFileHashes(): FileHashes {
  const known = new Map<string, Promise<string>>();
  return {
    of(path) {
      const stat = statSync(path);
      const key = `${resolve(path)}\0${stat.size}\0${stat.mtimeMs}`;
      let hash = known.get(key);
      if (hash === undefined) {
        hash = hashFile(path).then((hex) => `sha256:${hex}`);
        hash.catch(() => known.delete(key));
        known.set(key, hash);
      }
      return hash;
    },
  };
}

/** Options of {@link createNodeDissectionEnvironment}. */
export interface NodeDissectionEnvironmentOptions {
  /** The runtime that loads the models and scores (`createNodeRuntime`). */
  runtime: NodeRuntime;
  /** The most pixels a probe image may have; larger ones are left out (listed as failures). @defaultValue 50 megapixels */
  maxPixels?: number;
  /** Where model files' hashes are kept. @defaultValue a new {@link createFileHashes} */
  hashes?: FileHashes;
}

/**
 * A {@link DissectionEnvironment} on Node: models and concept lists are files, the probe set a
 * folder ({@link openProbeUri}), labelers come from `@neurodissect/labelers` by name. Content
 * hashes are cached per file (path, size, modification time).
 */
export function createNodeDissectionEnvironment(
  options: NodeDissectionEnvironmentOptions,
): DissectionEnvironment {
  const { runtime } = options;
  const hashes = options.hashes ?? createFileHashes();
  const hashOf = (path: string) => hashes.of(path);
  return {
    async loadTarget(uri) {
      if (!existsSync(uri)) {
        throw new NeurodissectError(ErrorCode.FileNotFound, `file not found: ${uri}`, {
          details: { path: uri },
        });
      }
      const hash = await hashOf(uri);
      const model = await runtime.loadTargetModel({ uri });
      return { model, hash, executionProvider: model.executionProvider };
    },
    async loadClip(uri, clipOptions) {
      // OpenAI's CLIP preprocessing splits an odd crop margin with Python's round (half to even).
      const model = await runtime.loadClipModel({
        uri,
        ...(clipOptions?.preprocess === 'openai' ? { cropRounding: 'half-even' as const } : {}),
      });
      const hash = await clipModelHash(await hashOf(model.files.vision), await hashOf(model.files.text));
      return { model, hash };
    },
    openProbe: (uri) => openProbeUri(uri, { maxPixels: options.maxPixels }),
    readConcepts: (uri) => readConceptSetFile(uri),
    prepare: (images, preprocessing) => preprocessBatch(images, preprocessing as PreprocessConfig),
    createLabelers: (names, shared) =>
      createLabelersByName(names, {
        ...(shared as LabelersByNameOptions),
        matmul: runtime.matmul,
        pmiProcessor: runtime.pmiProcessor,
      }),
    kernels: runtime,
    runtimeName: runtime.name,
  };
}

/** What {@link dissectionSpecFromFiles} takes: {@link DissectionSpecInput} with files for sources. */
export interface DissectionFiles extends Omit<DissectionSpecInput, 'model' | 'clip' | 'probe' | 'concepts'> {
  /** The target model (.onnx). */
  model: string;
  /** A CLIP model folder, when a labeler needs CLIP. */
  clip?: string;
  /** A probe folder or `broden:DIR` ({@link openProbeUri}). */
  probe: string;
  /** A concept list, one per line. */
  concepts: string;
  /** Receives a warning per probe file that is skipped (see {@link OpenProbeOptions}). */
  onWarning?: (warning: FileWarning) => void;
  /** Where the files' hashes are kept. @defaultValue a new {@link createFileHashes} */
  hashes?: FileHashes;
}

/**
 * A {@link DissectionSpec} for files on this machine: each file hashed, the probe set and concept
 * list opened to hash their content, paths made absolute (so workers on other machines find them
 * on a shared volume mounted at the same place). Errors name the field in `details.field`.
 */
export async function dissectionSpecFromFiles(input: DissectionFiles): Promise<DissectionSpec> {
  const { onWarning, hashes = createFileHashes(), ...files } = input;
  const hashOf = (path: string) => hashes.of(path);
  const named = async <T>(field: string, make: () => Promise<T>): Promise<T> => {
    try {
      return await make();
    } catch (error) {
      if (error instanceof NeurodissectError) {
        throw new NeurodissectError(error.code, error.message, {
          details: { ...error.details, field },
          cause: error,
        });
      }
      throw error;
    }
  };
  const model = await named('model', async () => {
    if (!existsSync(files.model)) {
      throw new NeurodissectError(ErrorCode.FileNotFound, `file not found: ${files.model}`);
    }
    return { uri: resolve(files.model), name: basename(files.model), hash: await hashOf(files.model) };
  });
  const clip =
    files.clip === undefined
      ? undefined
      : await named('clip', async () => {
          const towers = await detectClipLayout(files.clip!);
          return {
            uri: resolve(files.clip!),
            name: basename(resolve(files.clip!)),
            hash: await clipModelHash(await hashOf(towers.vision), await hashOf(towers.text)),
          };
        });
  const probe = await named('probe', async () => {
    const dataset = await openProbeUri(files.probe, { onWarning });
    const broden = files.probe.startsWith('broden:');
    const root = resolve(broden ? files.probe.slice('broden:'.length) : files.probe);
    return {
      uri: broden ? `broden:${root}` : root,
      name: dataset.name,
      hash: await probeContentHash(dataset),
    };
  });
  const concepts = await named('concepts', async () => {
    const set = await readConceptSetFile(files.concepts);
    return {
      uri: resolve(files.concepts),
      name: basename(files.concepts),
      hash: await conceptSetHash(set.concepts),
    };
  });
  return createDissectionSpec({ ...files, model, clip, probe, concepts });
}
