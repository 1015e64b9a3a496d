// The relations stage's live memory beyond its two inputs, at any N: node --expose-gc
// packages/core/scripts/relations-memory.mjs N K_A K_B (after building core). See docs/relations.md.
import { correlateLayers, createMatrix } from '../dist/index.js';

const [n, ka, kb] = process.argv.slice(2).map(Number);
const fill = (m) => {
  let s = 1;
  for (let i = 0; i < m.data.length; i++) {
    s = (s * 16807) % 2147483647;
    m.data[i] = s / 2147483647;
  }
  return m;
};
const a = fill(createMatrix(n, ka));
const b = fill(createMatrix(n, kb));
const live = () => {
  globalThis.gc();
  const u = process.memoryUsage();
  return u.heapUsed + u.arrayBuffers;
};
const base = live();
let peak = 0;
await correlateLayers(a, b, {
  cka: true,
  onProgress: () => {
    peak = Math.max(peak, live() - base);
  },
});
console.log(
  `N=${n} K=${ka}×${kb}: inputs ${((a.data.byteLength + b.data.byteLength) / 2 ** 20).toFixed(1)} MiB, live memory of the stage beyond them ${(peak / 2 ** 20).toFixed(2)} MiB`,
);
