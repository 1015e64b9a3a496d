import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { toyWorldConceptList, toyWorldVocabulary } from '@neurodissect/toyworld';
import { toyWorldModelPaths, writeToyWorld } from '@neurodissect/toyworld/node';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliIo } from '../io';
import { integer } from '../option-parsers';
import { createProgressRenderer } from '../progress-bar';
import { dissectCommand } from './dissect';
import { evalCommand } from './eval';
import { serveCommand } from './serve';
import { siteCommand } from './site';

/**
 * CLIP-Dissect's similarity function on the toy world: soft-WPMI, the method and default of
 * CLIP-Dissect, over the full vocabulary (thousands of words, as soft-WPMI is built for).
 */
export const TOYWORLD_SIMILARITY = 'soft_wpmi';

/**
 * The demo's concept sets: `full`, the world's words, their near-words and 10,679 common English
 * words ({@link toyWorldVocabulary}); `world`, the world's 25 concepts and 30 distractor words.
 */
export const DEMO_VOCABULARIES = {
  full: toyWorldVocabulary,
  world: toyWorldConceptList,
} as const;

/** Options of `neurodissect demo`, as parsed. */
export interface DemoCommandOptions {
  out: string;
  count: number;
  seed: number;
  labelers: string;
  similarity: string;
  /** `full` (default) or `world`: {@link DEMO_VOCABULARIES}. */
  vocabulary?: string;
  serve?: boolean;
  port: number;
  host: string;
  /** Pseudo-neurons of each layer's permutation null. */
  null: number;
  /** Bootstrap resamples for stability. */
  stability: number;
  /** Held-out folds. */
  heldOut: number;
  /** Seeds the trust measures (the world's seed is `seed`). */
  trustSeed: number;
}

/**
 * `neurodissect demo`: the whole job on the embedded toy world, offline: generate a Broden-format
 * probe set, dissect the toy target CNN's layers with the toy CLIP and every labeler, evaluate the
 * labels against the world's ground truth, and build the site (and serve it with `--serve`).
 */
export async function demoCommand(o: DemoCommandOptions, io: CliIo, stop?: AbortSignal): Promise<void> {
  const models = toyWorldModelPaths();
  for (const file of [
    models.targetModel,
    join(models.clipDir, 'onnx', 'vision_model.onnx'),
    models.groundTruth,
  ]) {
    if (!existsSync(file)) {
      throw new CliError(
        `the toy-world models are missing from this install (${file}); reinstall @neurodissect/toyworld`,
      );
    }
  }
  const started = Date.now();
  const show = (path: string) => relative(process.cwd(), path) || '.';
  const probe = join(o.out, 'probe');
  const results = join(o.out, 'results.json');
  const report = join(o.out, 'report');
  const site = join(o.out, 'site');

  // The probe set is reused when the same world is already there (seed and count recorded beside it).
  const marker = join(probe, 'neurodissect-demo.json');
  const world = JSON.stringify({ seed: o.seed, count: o.count });
  const reuse = existsSync(marker) && (await readFile(marker, 'utf8')) === world;
  if (reuse) {
    io.stdout.write(`1/4 reusing the toy world in ${show(probe)} (${o.count} images, seed ${o.seed})\n`);
  } else {
    io.stdout.write(
      `1/4 generating the toy world: ${o.count} images (seed ${o.seed}) in Broden's layout → ${show(probe)}\n`,
    );
    await rm(probe, { recursive: true, force: true });
    const progress = createProgressRenderer(io);
    try {
      await writeToyWorld(probe, { seed: o.seed, count: o.count, onProgress: progress.onProgress });
    } finally {
      progress.stop();
    }
    await writeFile(marker, world);
  }
  const vocabulary = DEMO_VOCABULARIES[(o.vocabulary ?? 'full') as keyof typeof DEMO_VOCABULARIES];
  if (vocabulary === undefined) throw new CliError(`--vocabulary: "${o.vocabulary}" is not full or world`);
  const concepts = join(o.out, 'concepts.txt');
  await mkdir(o.out, { recursive: true });
  await writeFile(concepts, `${vocabulary().join('\n')}\n`);

  io.stdout.write(`2/4 dissecting the toy CNN (layer1-layer4) with the toy CLIP and ${o.labelers}\n`);
  await dissectCommand(
    {
      model: models.targetModel,
      layers: 'layer1,layer2,layer3,layer4',
      clip: models.clipDir,
      probe: `broden:${probe}`,
      concepts,
      labelers: o.labelers,
      similarity: o.similarity,
      topImages: 20,
      topLabels: 10,
      batchSize: 50,
      preset: 'imagenet',
      inputSize: 64,
      summary: 'auto',
      ep: 'cpu',
      cache: join(o.out, '.neurodissect-cache'),
      heatmaps: true,
      null: o.null,
      stability: o.stability,
      heldOut: o.heldOut,
      seed: o.trustSeed,
      out: results,
    },
    io,
  );

  io.stdout.write(`3/4 evaluating against the toy world's ground truth → ${show(report)}\n`);
  const evaluation = await evalCommand(
    { results, groundTruth: models.groundTruth, figures: true, out: report },
    io,
  );

  io.stdout.write(`4/4 building the site → ${show(site)}\n`);
  await rm(site, { recursive: true, force: true });
  await siteCommand(
    {
      results,
      out: site,
      imageRoot: probe,
      report,
      thumbnailSize: 112,
      title: 'neurodissect demo: the toy world',
      dissectPage: true,
      toyworldModels: true,
    },
    io,
  );
  const clipDissect = evaluation.labelers.find((l) => l.id === 'clip-dissect') ?? evaluation.labelers[0];
  if (clipDissect) {
    io.stdout.write(`summary: ${clipDissect.id} against the toy world's ground truth\n`);
    for (const layer of clipDissect.layers) {
      const a = layer.accuracy;
      const shown = a
        ? a.interpretable > 0
          ? `${a.interpretable} interpretable, top-1 ${a.top1}/${a.interpretable}, top-5 ${a.top5}/${a.interpretable} (${Math.round((100 * a.top5) / a.interpretable)}%)`
          : '0 interpretable'
        : 'no ground truth';
      const mean = layer.meanMaxScore;
      const score = mean === null ? '' : `, mean top-label score ${mean.toFixed(2)}`;
      const significant = layer.significant == null ? '' : `, ${layer.significant} significant (q < 0.05)`;
      const heldOut = layer.heldOut
        ? `, held-out r ${layer.heldOut.correlation.toFixed(2)} vs ${layer.heldOut.baseline.toFixed(2)} for random labels`
        : '';
      const stable = layer.stability?.byCorrectness;
      const stability =
        stable && stable.top1Correct !== null && stable.incorrectOrNonInterpretable !== null
          ? `, stability ${stable.top1Correct.toFixed(2)} (correct) vs ${stable.incorrectOrNonInterpretable.toFixed(2)}`
          : '';
      io.stdout.write(
        `  ${layer.layer}: ${layer.neurons + layer.unlabelled} neurons, ${shown}${score}${significant}${heldOut}${stability}\n`,
      );
    }
  }
  io.stdout.write(
    `demo finished in ${((Date.now() - started) / 1000).toFixed(0)} s: open ${show(join(report, 'report.html'))} and ${show(join(site, 'index.html'))}${o.serve ? '' : `, or run: neurodissect serve ${show(site)}`}\n`,
  );
  if (o.serve) {
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    stop?.addEventListener('abort', onSignal, { once: true });
    try {
      await serveCommand(site, { port: o.port, host: o.host }, io, controller.signal);
    } finally {
      process.off('SIGINT', onSignal);
    }
  }
}

/** Adds `demo` to the program. */
export function registerDemoCommand(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description(
      'Run the whole job offline on the embedded toy world: generate, dissect, evaluate, build the site.',
    )
    .option('--out <dir>', 'where to write everything', 'neurodissect-demo')
    .option('--count <n>', 'toy-world images', integer, 1000)
    .option('--seed <n>', "the toy world's seed (the ground truth was computed on seed 0)", integer, 0)
    .option('--labelers <names>', 'labelers to run', 'clip-dissect,clip-avg,broden-label,netdissect')
    .option(
      '--similarity <fn>',
      "clip-dissect's similarity function; soft_wpmi assumes thousands of concepts (see the toy world's MODEL_CARD.md)",
      TOYWORLD_SIMILARITY,
    )
    .option(
      '--vocabulary <set>',
      "the concept set: full (the world's words, their near-words and 10,679 common English words) or world (its 55 words)",
      'full',
    )
    .option(
      '--null <r>',
      "pseudo-neurons of each layer's permutation null (0: no significance)",
      integer,
      1000,
    )
    .option('--stability <b>', 'bootstrap resamples for stability (0: off)', integer, 10)
    .option('--held-out <folds>', 'folds for held-out quality (0: off)', integer, 2)
    .option('--trust-seed <n>', 'seeds the null, the resamples and the folds', integer, 0)
    .option('--serve', 'serve the site when done')
    .option('--port <n>', 'port for --serve', integer, 8080)
    .option('--host <host>', 'address for --serve', '127.0.0.1')
    .action(async (options: DemoCommandOptions) => {
      await demoCommand(options, io);
    });
}
