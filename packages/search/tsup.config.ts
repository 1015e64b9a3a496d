import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

// stemmer is ESM-only; bundling it keeps the CommonJS build loadable on every Node 20.
export default defineConfig(packageBuild({ index: 'src/index.ts' }, { noExternal: ['stemmer'] }));
