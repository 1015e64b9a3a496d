import onnxProto, { type onnx as OnnxTypes } from 'onnx-proto';

/**
 * onnx-proto's `onnx` namespace. The package is CommonJS, which Node's ESM loader cannot read
 * named exports from, so the value comes from its default export; use {@link OnnxTypes} for types.
 */
export const onnx: typeof OnnxTypes = onnxProto.onnx;
export type { OnnxTypes };
