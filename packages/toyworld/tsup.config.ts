import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

// shims: the CJS build needs `import.meta.url` to find the committed models in models/.
export default defineConfig(packageBuild({ index: 'src/index.ts', node: 'src/node.ts' }, { shims: true }));
