import { defineConfig } from 'vitest/config';

// Tests resolve workspace packages to their TypeScript sources (the `@neurodissect/source`
// export condition), so `vitest` needs no prior build.
export default defineConfig({
  resolve: { conditions: ['@neurodissect/source'] },
  ssr: { resolve: { conditions: ['@neurodissect/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'scripts/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    setupFiles: ['./scripts/test-setup/no-stray-console.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    // Browser pages share this machine's cores with the other test files: give them time to settle.
    expect: { poll: { timeout: 15_000 } },
    benchmark: { include: ['packages/*/bench/**/*.bench.ts'] },
  },
});
