#!/usr/bin/env node
// The `neurodissect` command. The implementation is built into dist/; this file exists in the
// source tree so that package managers can link the command before the first build.
import('../dist/bin.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bin.js')) {
    process.stderr.write('neurodissect: the command is not built yet; run `pnpm build` first.\n');
    process.exit(70);
  }
  throw error;
});
