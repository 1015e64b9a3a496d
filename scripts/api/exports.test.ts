import { describe, expect, it } from 'vitest';

// Each package's public surface, pinned: a change to what a package exports shows up as a diff of
// scripts/api/<package>.txt (update it with `vitest run scripts/api -u` when the change is meant).
// Only runtime values are listed; types are checked by the packages' own type tests.
const entries: Record<string, () => Promise<Record<string, unknown>>> = {
  core: () => import('../../packages/core/src/index'),
  'core/internal': () => import('../../packages/core/src/internal'),
  'core/testing': () => import('../../packages/core/src/testing/index'),
  'model-io': () => import('../../packages/model-io/src/index'),
  'runtime-node': () => import('../../packages/runtime-node/src/index'),
  'runtime-web': () => import('../../packages/runtime-web/src/index'),
  labelers: () => import('../../packages/labelers/src/index'),
  eval: () => import('../../packages/eval/src/index'),
  search: () => import('../../packages/search/src/index'),
  viewer: () => import('../../packages/viewer/src/index'),
  toyworld: () => import('../../packages/toyworld/src/index'),
  'toyworld/node': () => import('../../packages/toyworld/src/node'),
  jobs: () => import('../../packages/jobs/src/index'),
  cli: () => import('../../packages/cli/src/index'),
};

describe('public surfaces', () => {
  it.each(Object.keys(entries))('%s exports what scripts/api lists', async (name) => {
    const module = await entries[name]();
    const listing = Object.keys(module)
      .sort()
      .map((key) => `${key}: ${typeof module[key]}`)
      .join('\n');
    await expect(`${listing}\n`).toMatchFileSnapshot(`./${name.replace('/', '-')}.txt`);
  });
});
