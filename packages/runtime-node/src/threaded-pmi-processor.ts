import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  disposedError,
  type PmiBlockProcessor,
  type PmiPlan,
  type PmiProcessorFactory,
} from '@neurodissect/core';
import {
  accumulatePmiBlock,
  createPmiMemory,
  planPmiMemory,
  pmiCoefficients,
  pmiKernelBytes,
  writeBlockRows,
} from '@neurodissect/core/internal';

/** Options of {@link createThreadedPmiProcessor}. */
export interface ThreadedPmiOptions {
  /** Worker threads. @defaultValue the machine's available parallelism */
  threads?: number;
}

// The worker runs core's own accumulate function (its source text), over the same shared memory.
const workerSource = (accumulate: string) => `
const { parentPort, workerData: d } = require('node:worker_threads');
const accumulate = ${accumulate};
const kernel = new WebAssembly.Instance(new WebAssembly.Module(d.kernelBytes), { env: { memory: d.memory } }).exports;
parentPort.on('message', (m) => {
  try {
    if (m.op === 'softmax') {
      const rowBytes = d.layout.stride * 4;
      kernel.softmax_rows(d.layout.rowsOffset + m.r0 * rowBytes, m.r1 - m.r0, d.layout.stride, d.a, d.layout.normsOffset + m.r0 * 16);
    } else {
      accumulate(kernel, d.memory.buffer, d.shardLayout, d.offsets, d.slots, m.cursor, m.rows, d.topK, d.k0, d.k1, d.cw);
    }
    parentPort.postMessage(null);
  } catch (error) {
    parentPort.postMessage(String((error && error.stack) || error));
  }
});
`;

/**
 * Runs the SIMD soft-WPMI kernel in worker threads over one shared memory: each worker owns the
 * accumulators of a contiguous range of neurons (a neuron shard) and a share of each block's
 * softmax rows. Sums equal the single-thread processor's exactly (each neuron's terms are added in
 * the same order).
 */
export function createThreadedPmiProcessor(options: ThreadedPmiOptions = {}): PmiProcessorFactory {
  return async (plan: PmiPlan): Promise<PmiBlockProcessor> => {
    const threads = Math.max(1, Math.min(options.threads ?? availableParallelism(), plan.neurons));
    const layout = planPmiMemory(plan.neurons, plan.concepts, plan.blockRows);
    const memory = createPmiMemory(layout, true);
    const kernelBytes = pmiKernelBytes(true);
    const cw = pmiCoefficients(plan.weights, plan.minProb);
    const source = workerSource(accumulatePmiBlock.toString());
    const workers = Array.from({ length: threads }, (_, t) => {
      const k0 = Math.floor((plan.neurons * t) / threads);
      const k1 = Math.floor((plan.neurons * (t + 1)) / threads);
      const shardLayout = { ...layout, accOffset: layout.accOffset + k0 * layout.stride * 8 };
      return new Worker(source, {
        eval: true,
        workerData: {
          memory,
          kernelBytes,
          layout,
          shardLayout,
          offsets: plan.slots.offsets,
          slots: plan.slots.slots,
          topK: plan.topK,
          a: plan.a,
          k0,
          k1,
          cw,
        },
      });
    });
    const call = (worker: Worker, message: object) =>
      new Promise<void>((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        worker.once('error', onError);
        worker.once('message', (result: string | null) => {
          worker.off('error', onError);
          if (result === null) resolve();
          else reject(new Error(`A scoring worker failed: ${result}`));
        });
        worker.postMessage(message);
      });
    let disposed = false;
    return {
      async process(cursor, rows, cosines) {
        if (disposed) throw disposedError('scoring processor', 'create a new one');
        writeBlockRows(memory.buffer, layout, rows, cosines);
        await Promise.all(
          workers.map((w, t) =>
            call(w, {
              op: 'softmax',
              r0: Math.floor((rows * t) / threads),
              r1: Math.floor((rows * (t + 1)) / threads),
            }),
          ),
        );
        await Promise.all(workers.map((w) => call(w, { op: 'accumulate', cursor, rows })));
      },
      async sums() {
        return {
          data: new Float64Array(memory.buffer, layout.accOffset, plan.neurons * layout.stride),
          stride: layout.stride,
        };
      },
      async dispose() {
        if (disposed) return;
        disposed = true;
        await Promise.all(workers.map((w) => w.terminate()));
      },
    };
  };
}
