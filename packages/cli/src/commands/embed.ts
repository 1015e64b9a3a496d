import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  type ConceptSet,
  createMatrix,
  describeConceptSetChanges,
  isNeurodissectError,
  type Matrix,
  matrixToTensor,
} from '@neurodissect/core';
import {
  loadClipModel,
  type NodeClipModel,
  preprocessBatch,
  readConceptSetFile,
  writeFileAtomic,
  writeNpyFile,
} from '@neurodissect/runtime-node';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { requireOutputFile } from '../files';
import { noteFixedTextLength } from '../fixed-text-length-note';
import {
  openImageFolder,
  preparedImageBatches,
  readImageBatches,
  type SkippedImage,
} from '../image-folder-batches';
import type { CliIo } from '../io';
import { clipPreprocessOption, integer } from '../option-parsers';
import { createProgressRenderer } from '../progress-bar';

/** Options of `neurodissect embed`, as parsed. */
export interface EmbedCommandOptions {
  clip: string;
  images?: string;
  concepts?: string;
  out: string;
  batchSize: number;
  /** `batch` (default) or `context`. */
  textPadding?: string;
  /** `folder` (default) or `openai`. */
  clipPreprocess?: 'folder' | 'openai';
}

function fail(error: unknown, prefix: string): never {
  if (isNeurodissectError(error)) throw new CliError(`${prefix}${error.message.replace(/\s*\n\s*/g, ' ')}`);
  throw error;
}

/** The sidecar naming the rows of `out`: `X.npy` → `X.json`. */
export function embedSidecarPath(out: string): string {
  return `${out.replace(/\.npy$/i, '')}.json`;
}

async function embedImageFolder(
  model: NodeClipModel,
  o: EmbedCommandOptions,
  io: CliIo,
): Promise<{ matrix: Matrix; rows: string[]; skipped: SkippedImage[] }> {
  const skipped: SkippedImage[] = [];
  const dataset = await openImageFolder(o.images!, io, skipped);
  const progress = createProgressRenderer(io);
  const rows: string[] = [];
  const chunks: Float32Array[] = [];
  let done = 0;
  try {
    const batches = preparedImageBatches(readImageBatches(dataset, o.batchSize, io, skipped), (images) =>
      preprocessBatch(images, model.preprocess),
    );
    for await (const batch of batches) {
      done += batch.ids.length;
      if (batch.input) {
        const embeds = await model.embedPixels(batch.input).catch((e) => fail(e, '--clip: '));
        chunks.push(embeds.data);
        rows.push(...batch.ids);
      }
      progress.onProgress({ stage: 'embed-images', done, total: dataset.size });
    }
  } finally {
    progress.stop();
  }
  if (rows.length === 0) {
    throw new CliError(`--images: none of the images in ${o.images} could be read; see the warnings above`);
  }
  const data = new Float32Array(rows.length * model.dim);
  chunks.reduce((offset, chunk) => {
    data.set(chunk, offset);
    return offset + chunk.length;
  }, 0);
  return { matrix: createMatrix(rows.length, model.dim, data), rows, skipped };
}

async function embedConcepts(
  model: NodeClipModel,
  o: EmbedCommandOptions,
  io: CliIo,
): Promise<{ matrix: Matrix; rows: string[] }> {
  const set: ConceptSet = await readConceptSetFile(o.concepts!).catch((e) => fail(e, '--concepts: '));
  const changes = describeConceptSetChanges(set);
  if (changes) io.stderr.write(`note: ${changes}\n`);
  noteFixedTextLength(model, o.textPadding, io);
  const progress = createProgressRenderer(io);
  try {
    const matrix = await model
      .embedTexts(set.concepts, { onProgress: progress.onProgress })
      .catch((e) => fail(e, '--clip: '));
    return { matrix, rows: [...set.concepts] };
  } finally {
    progress.stop();
  }
}

/**
 * `neurodissect embed`: CLIP embeddings (as the model gives them, not normalised) of a folder of
 * images or of a concept list, plus a JSON sidecar naming the rows.
 */
export async function embedCommand(o: EmbedCommandOptions, io: CliIo): Promise<void> {
  if ((o.images === undefined) === (o.concepts === undefined)) {
    throw new CliError('give either --images DIR (image embeddings) or --concepts FILE (text embeddings)');
  }
  if (o.batchSize < 1)
    throw new CliError(`--batch-size: ${o.batchSize} is not a positive integer; use e.g. 32`);
  // Refuse, before any work, an --out that would overwrite something that is not ours.
  requireOutputFile(o.out, '--out', 'give the .npy file to write');
  const sidecarPath = embedSidecarPath(o.out);
  if (existsSync(sidecarPath)) {
    let kind: unknown;
    try {
      kind = (JSON.parse(await readFile(sidecarPath, 'utf8')) as { kind?: unknown }).kind;
    } catch {
      kind = undefined;
    }
    if (kind !== 'images' && kind !== 'concepts') {
      throw new CliError(
        `--out: ${sidecarPath} exists and is not an embeddings sidecar; writing ${o.out} would overwrite it. Choose another --out`,
      );
    }
  }
  const textPadding = o.textPadding ?? 'batch';
  if (textPadding !== 'batch' && textPadding !== 'context') {
    throw new CliError(`--text-padding: "${textPadding}" is not batch or context`);
  }
  const model = await loadClipModel(o.clip, {
    batchSize: o.batchSize,
    textPadding,
    ...(o.clipPreprocess === 'openai' ? { cropRounding: 'half-even' as const } : {}),
  }).catch((e) => fail(e, '--clip: '));
  try {
    const kind = o.images !== undefined ? 'images' : 'concepts';
    const embedded =
      kind === 'images'
        ? await embedImageFolder(model, o, io)
        : { ...(await embedConcepts(model, o, io)), skipped: undefined };
    const { matrix, rows } = embedded;
    const sidecar = embedSidecarPath(o.out);
    await writeNpyFile(o.out, matrixToTensor(matrix));
    await writeFileAtomic(
      sidecar,
      `${JSON.stringify(
        {
          kind,
          clip: o.clip,
          layout: model.layout,
          ...(o.clipPreprocess === 'openai' ? { preprocess: 'openai' } : {}),
          source: kind === 'images' ? o.images : o.concepts,
          shape: [matrix.rows, matrix.cols],
          rows,
          ...(embedded.skipped ? { skipped: embedded.skipped } : {}),
        },
        null,
        2,
      )}\n`,
    );
    const skippedNote = embedded.skipped?.length ? ` (${embedded.skipped.length} file(s) skipped)` : '';
    io.stdout.write(
      `wrote ${o.out}: ${matrix.rows}×${matrix.cols} ${kind === 'images' ? 'image' : 'text'} embeddings (${model.layout} CLIP)${skippedNote}, rows named in ${sidecar}\n`,
    );
  } finally {
    await model.dispose();
  }
}

/** Adds `embed` to the program. */
export function registerEmbedCommand(program: Command, io: CliIo): void {
  program
    .command('embed')
    .description(
      'CLIP embeddings of a folder of images (N×D) or a concept list (M×D), unnormalised, as .npy plus a JSON sidecar naming the rows.',
    )
    .requiredOption('--clip <dir>', 'a CLIP model folder (Hugging Face or OpenCLIP ONNX layout)')
    .addOption(clipPreprocessOption())
    .option('--images <dir>', 'a folder of images (read recursively, in path order)')
    .option('--concepts <file>', 'a concept list, one per line')
    .requiredOption('--out <file>', 'where to write the embeddings (.npy, float32); the sidecar is X.json')
    .option('--batch-size <n>', 'images or texts per batch', integer, 32)
    .option(
      '--text-padding <mode>',
      'batch: sort concepts by token count and run each batch up to its longest (dynamic-length text graphs); context: always 77 tokens',
      'batch',
    )
    .action(async (options: EmbedCommandOptions) => {
      await embedCommand(options, io);
    });
}
