// Compiles src/kernels/*.wat to src/kernels/*.wasm.gen.ts (the bytes, base64) with wabt.
// Run after editing a .wat file: `pnpm --filter @neurodissect/core build:wasm`. The output is committed.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import wabtInit from 'wabt';

const dir = new URL('../src/kernels/', import.meta.url);
const wabt = await wabtInit();
for (const file of readdirSync(dir).filter((f) => f.endsWith('.wat'))) {
  const features = { simd: true, threads: true };
  const text = readFileSync(new URL(file, dir), 'utf8');
  const name = file.replace(/\.wat$/, '');
  const constant = name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  let out = `// Generated from ${file} by scripts/build-wasm.mjs; do not edit.\n`;
  // Two builds: one importing a shared memory (worker threads), one a plain memory (no
  // cross-origin isolation needed in browsers).
  for (const [suffix, source] of [
    ['SharedBase64', text],
    ['Base64', text.replace(/\(memory 1 65536 shared\)/, '(memory 1)')],
  ]) {
    const module = wabt.parseWat(file, source, features);
    module.validate(features);
    const { buffer } = module.toBinary({});
    out += `export const ${constant}${suffix} =\n  '${Buffer.from(buffer).toString('base64')}';\n`;
    console.log(`${file} (${suffix}): ${buffer.length} bytes`);
  }
  writeFileSync(new URL(`${name}.wasm.gen.ts`, dir), out);
}
