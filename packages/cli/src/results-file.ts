import { copyFile, constants as fsConstants, link, readFile, rm, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { isNeurodissectError, parseResults, type Results } from '@neurodissect/core';
import { writeFileAtomic } from '@neurodissect/runtime-node';
import { CliError } from './cli-error';
import { pathForDocument } from './files';

/**
 * The Results file a `dissect` run writes, and the rule that keeps whatever was there before:
 * OUT is replaced only atomically, and only by Results that hold every layer and labeler it held
 * (a run that finished at least as much), or after the old file was kept aside under a name that
 * never collides (`OUT.previous-TIME`, numbered when taken). Until a run holds what OUT held, its
 * saves go to the side file `OUT.partial`, which `--resume` continues from.
 */
export interface ResultsFile {
  readonly out: string;
  /** The side file: saves of a run that does not yet hold what OUT held. */
  readonly side: string;
  /** The Results to resume from (OUT's, or the side file's when there is one), with `--resume`. */
  readonly resume: Results | undefined;
  /** The file `resume` was read from. */
  readonly resumedFrom: string | undefined;
  /** Keeps the resumed file aside (it was made from other inputs); returns the name it is kept as. */
  keepResumedAside(): Promise<string>;
  /** Saves a run's Results so far (a layer finished). */
  save(results: Results): Promise<void>;
  /** Saves the finished Results to OUT; returns the name an uncovered earlier OUT is kept as, if any. */
  finish(results: Results): Promise<string | undefined>;
  /** Where this run's finished layers are now (`undefined`: none saved yet). */
  readonly saved: string | undefined;
  /** What an interruption leaves, for its one-line message. */
  describeInterruption(): string;
}

/** What a file held before this run: its Results, or `'unreadable'` (not a Results document). */
type Held = Results | 'unreadable' | undefined;

async function readHeld(path: string): Promise<{ held: Held; problem?: string }> {
  let text: string;
  try {
    if (!(await stat(path)).isFile()) return { held: 'unreadable', problem: 'not a file' };
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { held: undefined };
    throw error;
  }
  try {
    return { held: parseResults(text, path) };
  } catch (error) {
    if (!isNeurodissectError(error)) throw error;
    return { held: 'unreadable', problem: error.message.split('\n')[0] };
  }
}

/** Whether `next` holds every layer and labeler that `held` holds. */
export function resultsCover(next: Results, held: Held): boolean {
  if (held === undefined) return true;
  if (held === 'unreadable') return false;
  const layers = new Set(next.layers.map((l) => l.name));
  const labelers = new Set(next.labelers.map((l) => l.id));
  return held.layers.every((l) => layers.has(l.name)) && held.labelers.every((l) => labelers.has(l.id));
}

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

/**
 * Keeps `path` under `PATH.previous-TIME` (then `-2`, `-3`, … when taken): a hard link where the
 * file system allows, else an exclusive copy; an existing file is never overwritten.
 */
export async function keepAside(path: string, now = new Date()): Promise<string> {
  const base = `${path}.previous-${stamp(now)}`;
  for (let n = 1; n < 1000; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`;
    try {
      await link(path, candidate);
      return candidate;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'EMLINK') throw error;
    }
    try {
      await copyFile(path, candidate, fsConstants.COPYFILE_EXCL);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new CliError(`--out: could not find a free name to keep ${path} aside (${base}…)`);
}

const layerCount = (results: Results) => `${results.layers.length} layer(s)`;

/**
 * Opens OUT for a run: reads what it (and an interrupted run's side file) hold, and the Results to
 * resume from when `resume` is set. `note` receives the lines that say what was kept where.
 * @throws a CLI error when `--resume` names a file that is not a Results document.
 */
export async function openResultsFile(
  out: string,
  options: {
    resume: boolean;
    note: (line: string) => void;
    /** Files and folders whose absolute paths the stored messages name relative to OUT instead. */
    paths?: readonly string[];
  },
): Promise<ResultsFile> {
  const recorded = recordedPaths(out, options.paths ?? []);
  const side = `${out}.partial`;
  const files = new Map<string, Held>();
  const problems = new Map<string, string | undefined>();
  for (const path of [out, side]) {
    const { held, problem } = await readHeld(path);
    files.set(path, held);
    problems.set(path, problem);
  }
  let resume: Results | undefined;
  let resumedFrom: string | undefined;
  if (options.resume) {
    // An interrupted run's side file is newer than OUT: it is continued first.
    resumedFrom = files.get(side) !== undefined ? side : files.get(out) !== undefined ? out : undefined;
    if (resumedFrom !== undefined) {
      const held = files.get(resumedFrom);
      if (held === 'unreadable') {
        throw new CliError(
          `--resume: ${resumedFrom} cannot be resumed (${problems.get(resumedFrom)}); move it away or run without --resume`,
        );
      }
      resume = held;
      options.note(
        resumedFrom === side
          ? `resuming: ${layerCount(held!)} finished by an interrupted run in ${side} (${out} is kept as it was until this run holds what it holds)`
          : `resuming: ${held!.layers.length} finished layer(s) in ${out}`,
      );
    }
  }
  // Files this run wrote, or kept aside: replacing them loses nothing.
  const free = new Set<string>();
  let saved: string | undefined;

  /** Replaces `path` atomically, keeping aside first what it held that `results` does not. */
  const replace = async (path: string, results: Results): Promise<string | undefined> => {
    let keptAs: string | undefined;
    if (!free.has(path) && !resultsCover(results, files.get(path))) {
      keptAs = await keepAside(path);
      const held = files.get(path);
      options.note(
        held === 'unreadable' || held === undefined
          ? `note: ${path} is not a Results document; it is kept as ${keptAs}`
          : `note: ${path} held ${describeHeld(held)} that this run does not; it is kept as ${keptAs}`,
      );
    }
    await writeFileAtomic(path, JSON.stringify(recorded(results)));
    free.add(path);
    saved = path;
    return keptAs;
  };
  const dropSide = async () => {
    if (free.has(side) || (resumedFrom === side && files.get(side) !== undefined)) {
      await rm(side, { force: true });
      free.delete(side);
    }
  };

  return {
    out,
    side,
    resume,
    resumedFrom,
    get saved() {
      return saved;
    },
    async keepResumedAside() {
      const from = resumedFrom ?? out;
      const keptAs = await keepAside(from);
      free.add(from);
      if (from === side) {
        // The side file is kept aside: it is no longer a run to continue, and is removed.
        await rm(side, { force: true });
        files.set(side, undefined);
      }
      return keptAs;
    },
    async save(results) {
      if (free.has(out) || resultsCover(results, files.get(out))) {
        await replace(out, results);
        await dropSide();
      } else {
        await replace(side, results);
      }
    },
    async finish(results) {
      const keptAs = await replace(out, results);
      await dropSide();
      return keptAs;
    },
    describeInterruption() {
      if (saved === out)
        return `interrupted; the finished layers are in ${out}: run again with --resume to continue`;
      const untouched = files.get(out) !== undefined ? `${out} is left as it was` : `${out} was not written`;
      if (saved === side) {
        return `interrupted; ${untouched}; this run's finished layers are in ${side}: run again with --resume to continue from them`;
      }
      if (resume !== undefined && resumedFrom !== undefined && !free.has(resumedFrom)) {
        return `interrupted before another layer was finished; the finished layers are still in ${resumedFrom}: run again with --resume to continue`;
      }
      return `interrupted before any layer was finished; ${untouched}`;
    },
  };
}

/**
 * The Results with the absolute paths of `paths` in their failure messages written relative to
 * the document (as {@link pathForDocument} records paths), so a Results file names no folder of
 * the machine that made it.
 */
function recordedPaths(out: string, paths: readonly string[]): (results: Results) => Results {
  const roots = [...new Set(paths.map((p) => resolve(p)))]
    .filter((p) => p !== sep)
    .sort((a, b) => b.length - a.length)
    .map((p) => [p, pathForDocument(p, out)] as const);
  return (results) => {
    if (roots.length === 0 || results.failures.length === 0) return results;
    const failures = results.failures.map((failure) => {
      let message = failure.message;
      for (const [absolute, relative] of roots) message = message.split(absolute).join(relative);
      return message === failure.message ? failure : { ...failure, message };
    });
    return { ...results, failures };
  };
}

function describeHeld(held: Results): string {
  return `${layerCount(held)} (${held.layers.map((l) => l.name).join(', ')}) of ${held.labelers.map((l) => l.id).join(', ')}`;
}
