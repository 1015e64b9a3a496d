import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ErrorCode, NeurodissectError } from '@neurodissect/core';

/** Whether `path` is `root` or lies below it (both absolute and normalised). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Confinement of a probe set's files to its folder: names from an index file may not climb out of
 * it, nor lead out of it through a symbolic link. `where` names what gave the name (a row).
 */
export function createProbeRoot(root: string) {
  const lexical = resolve(root);
  let real: Promise<string> | undefined;
  const outside = (name: string, where: string, target?: string) =>
    new NeurodissectError(
      ErrorCode.InvalidFormat,
      `${where} names ${name}, which ${target === undefined ? 'is outside' : `leads outside`} the probe folder ${root}${target === undefined ? '' : ` (to ${target})`}; a probe set may only name files inside its folder.`,
      { details: { path: target ?? resolve(lexical, name) } },
    );
  return {
    /** `name` (relative to `base`, itself inside the root) as a path; refused when it climbs out. */
    path(base: string, name: string, where: string): string {
      const path = resolve(lexical, base, name);
      if (isAbsolute(name) || !isInside(lexical, path)) throw outside(name, where);
      return path;
    },
    /** Refuses `path` when a symbolic link on it leads outside the root; a missing file passes (its read fails). */
    async check(path: string, name: string, where: string): Promise<void> {
      real ??= realpath(lexical).catch(() => lexical);
      let target: string;
      try {
        target = await realpath(path);
      } catch {
        return;
      }
      if (!isInside(await real, target)) throw outside(name, where, target);
    },
  };
}
