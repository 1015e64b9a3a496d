import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

// shims: the CJS build needs `import.meta.url` to find the bundled BPE vocabulary in assets/.
export default defineConfig(packageBuild({ index: 'src/index.ts' }, { shims: true }));
