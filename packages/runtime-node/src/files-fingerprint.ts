import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';

/**
 * A short digest of the files' sizes and modification times, in order: a probe set's
 * `fingerprint`, so that features cached for other images of the same names are not reused.
 * A file that cannot be stat'ed counts as missing (its read reports the error later).
 */
export async function filesFingerprint(paths: readonly string[], concurrency = 64): Promise<string> {
  const parts = new Array<string>(paths.length);
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const i = next++;
      try {
        const info = await stat(paths[i]);
        parts[i] = `${info.size}:${Math.round(info.mtimeMs)}`;
      } catch {
        parts[i] = 'missing';
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  return `files:${createHash('sha256').update(parts.join(',')).digest('hex')}`;
}
