import { describe, expect, it } from 'vitest';
import {
  createMatrix,
  createRandom,
  createWasmPmiProcessor,
  type Matrix,
  similarityFromEmbeddings,
  topKPerColumn,
} from '../src/index';
import {
  createColumnTopK,
  mergePmiSums,
  mergePriorPartials,
  planPmiLayers,
  pmiPriorPartial,
  pmiScoresFromStrided,
  pmiScoresWithPrior,
  scorePmiLayers,
  streamPmi,
} from '../src/internal';

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const random = createRandom(seed);
  const m = createMatrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = random() * 2 - 1;
  return m;
}

const source = similarityFromEmbeddings(randomMatrix(400, 12, 1), randomMatrix(33, 12, 2));
const activations = randomMatrix(400, 10, 3);
const options = { topK: 30 };

async function unsharded(): Promise<Matrix> {
  const out: Matrix[] = [];
  await scorePmiLayers(source, [{ name: 'l', activations }], {
    options,
    blockRows: 50,
    onLayer: (_, s) => void out.push(s),
  });
  return out[0];
}

describe('sharded soft-WPMI merges exactly', () => {
  it('image shards: partial sums of disjoint image ranges add up to the unsharded scores', async () => {
    const plan = planPmiLayers(source, [{ name: 'l', activations }], { options, blockRows: 50 });
    const total = plan.slots.images.length;
    const cuts = [0, 77, 190, total];
    const parts = [];
    for (let s = 0; s < cuts.length - 1; s++) {
      const processor = await createWasmPmiProcessor(plan);
      await streamPmi(source, plan, processor, { from: cuts[s], to: cuts[s + 1] });
      const sums = await processor.sums();
      parts.push({ data: sums.data.slice(), stride: sums.stride });
      await processor.dispose();
    }
    const merged = mergePmiSums(parts);
    const sharded = pmiScoresFromStrided(merged, 0, plan.neurons, plan.concepts, plan.lambda);
    const whole = await unsharded();
    // Float64 sums re-associated across shards: identical once stored as float32.
    expect(Array.from(sharded.data)).toEqual(Array.from(whole.data));
  });

  it('neuron shards: per-shard prior partials merge into the layer prior', async () => {
    const plan = planPmiLayers(source, [{ name: 'l', activations }], { options });
    const processor = await createWasmPmiProcessor(plan);
    await streamPmi(source, plan, processor);
    const sums = await processor.sums();
    const shards = [
      [0, 4],
      [4, 6],
    ] as const;
    const prior = mergePriorPartials(
      shards.map(([first, count]) => pmiPriorPartial(sums, first, count, plan.concepts)),
    );
    const pieces = shards.map(([first, count]) =>
      pmiScoresWithPrior(sums, first, count, plan.concepts, plan.lambda, prior),
    );
    await processor.dispose();
    const whole = await unsharded();
    const joined = new Float32Array([...pieces[0].data, ...pieces[1].data]);
    for (let i = 0; i < joined.length; i++) {
      expect(Math.abs(joined[i] - whole.data[i])).toBeLessThanOrEqual(
        1e-5 * Math.max(1, Math.abs(whole.data[i])),
      );
    }
  });

  it('top-k taken from streamed row blocks equals top-k of the whole matrix', () => {
    const acc = createColumnTopK(10, 30);
    for (let start = 0; start < 400; start += 64) {
      const rows = Math.min(64, 400 - start);
      acc.add(createMatrix(rows, 10, activations.data.subarray(start * 10, (start + rows) * 10)), start);
    }
    const streamed = acc.finish();
    const whole = topKPerColumn(activations, 30);
    expect(Array.from(streamed.indices)).toEqual(Array.from(whole.indices));
  });
});
