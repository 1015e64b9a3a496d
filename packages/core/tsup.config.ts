import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

export default defineConfig(
  packageBuild({ index: 'src/index.ts', internal: 'src/internal.ts', testing: 'src/testing/index.ts' }),
);
