import type { Options } from 'tsup';

/** The one build shape every package shares: ESM + CJS + declarations for each entry. */
export function packageBuild(entry: Record<string, string>, extra: Partial<Options> = {}): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    splitting: false,
    treeshake: true,
    ...extra,
  };
}
