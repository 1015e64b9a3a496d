import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The files of the bundled browser app, which the site builder copies into every site. */
export const APP_FILES = ['app.js', 'app.css'] as const;

/** The in-browser dissection's worker script, beside the app (copied only into sites with that page). */
export const IN_BROWSER_WORKER = 'dissect-worker.js';

/**
 * The folder holding the bundled browser app (`dist/site` of this package), found from this
 * module's own location so it works from the sources and from `dist`.
 */
export function defaultAppDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name;
      if (name === '@neurodissect/viewer') return join(dir, 'dist', 'site');
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('@neurodissect/viewer: cannot find its own package.json');
    dir = parent;
  }
}
