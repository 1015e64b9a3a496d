import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

// `index` is platform-neutral (routes, escaping, site data types); `build` is the Node-only site
// builder. The browser app itself is bundled by scripts/bundle-app.mjs into dist/site/.
export default defineConfig(
  packageBuild({ index: 'src/index.ts', build: 'src/build/index.ts' }, { shims: true }),
);
