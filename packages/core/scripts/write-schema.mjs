// Writes the Results document's JSON Schema (schema/results-v<N>.json) from the built package:
// `pnpm --filter @neurodissect/core build && pnpm --filter @neurodissect/core schema`. A test fails
// when the committed file differs from the schema the code defines.
import { writeFileSync } from 'node:fs';
import { RESULTS_VERSION, resultsJsonSchema } from '../dist/index.js';

const file = new URL(`../schema/results-v${RESULTS_VERSION}.json`, import.meta.url);
writeFileSync(file, `${JSON.stringify(resultsJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${file.pathname}\n`);
