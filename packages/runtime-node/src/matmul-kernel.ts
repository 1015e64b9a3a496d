import { availableParallelism } from 'node:os';
import { createMatrix, type MatmulKernel, type Matrix } from '@neurodissect/core';
import { type OnnxTypes, onnx } from '@neurodissect/model-io';
import * as ort from 'onnxruntime-node';

/** Options of {@link createOrtMatmulKernel}. */
export interface OrtMatmulOptions {
  /** Threads onnxruntime may use for one product. @defaultValue the machine's available parallelism */
  threads?: number;
}

/** A {@link MatmulKernel} backed by onnxruntime, with a `dispose()` that releases its sessions. */
export interface OrtMatmulKernel extends MatmulKernel {
  dispose(): Promise<void>;
}

/** An ONNX model computing `Y = A·Bᵀ` (Gemm with transB) with `B` as a constant initializer. */
function productModel(b: Matrix): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'neurodissect',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'a_times_b_transposed',
      node: [
        {
          opType: 'Gemm',
          input: ['A', 'B'],
          output: ['Y'],
          attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
        },
      ],
      initializer: [
        {
          name: 'B',
          dataType: onnx.TensorProto.DataType.FLOAT,
          dims: [b.rows, b.cols],
          rawData: new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength),
        },
      ],
      input: [tensorInfo('A', ['n', b.cols])],
      output: [tensorInfo('Y', ['n', b.rows])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function tensorInfo(name: string, dims: (string | number)[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/**
 * `A·Bᵀ` on onnxruntime's CPU provider (multi-threaded, vectorised SGEMM). One session is built
 * per distinct `B` (the concept embeddings, typically), holding it as a constant, so repeated
 * products with new blocks of `A` pay only for the product.
 */
export function createOrtMatmulKernel(options: OrtMatmulOptions = {}): OrtMatmulKernel {
  const sessions = new Map<Float32Array, Promise<ort.InferenceSession>>();
  const threads = options.threads ?? availableParallelism();
  const sessionFor = (b: Matrix) => {
    let session = sessions.get(b.data);
    if (!session) {
      session = ort.InferenceSession.create(productModel(b), {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        // Each block's output is handed to JavaScript and dropped; an arena would keep the peak.
        enableCpuMemArena: false,
        // An explicit thread count: onnxruntime's own default ran this product at half the speed
        // of two explicit threads on a 2-core machine. No spinning: between blocks the cores go to
        // the scoring threads.
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        extra: { session: { intra_op: { allow_spinning: process.env.ND_SPIN ?? '0' } } },
      });
      sessions.set(b.data, session);
    }
    return session;
  };
  const kernel = async (a: Matrix, b: Matrix): Promise<Matrix> => {
    if (a.cols !== b.cols) {
      throw new RangeError(`Inner dimensions differ: A is ${a.rows}×${a.cols}, B is ${b.rows}×${b.cols}.`);
    }
    if (a.rows === 0) return createMatrix(0, b.rows);
    const session = await sessionFor(b);
    const { Y } = await session.run({ A: new ort.Tensor('float32', a.data, [a.rows, a.cols]) });
    return createMatrix(a.rows, b.rows, Y.data as Float32Array);
  };
  return Object.assign(kernel, {
    async dispose() {
      const pending = [...sessions.values()];
      sessions.clear();
      await Promise.all(pending.map(async (s) => (await s).release()));
    },
  });
}
