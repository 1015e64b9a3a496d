import { createMatrix, createRandom, topKPerColumn } from '@neurodissect/core';

const m = createMatrix(63305, 1024);
const r = createRandom(1);
for (let i = 0; i < m.data.length; i++) m.data[i] = r();
for (let rep = 0; rep < 3; rep++) {
  const t = performance.now();
  topKPerColumn(m, 100);
  console.log((performance.now() - t).toFixed(0), 'ms');
}
