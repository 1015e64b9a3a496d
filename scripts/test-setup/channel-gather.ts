// A copy of an ONNX model whose layer's channels come out in another order: a Gather on the
// channel axis after the layer's output, feeding everything that read it. Named inside the layer's
// module, so the layer (selected by module path) is the gathered tensor. A permutation gives the
// same network with its units renumbered; indices that repeat a channel replace the others.
import { type OnnxTypes, onnx, parseOnnxGraph } from '../../packages/model-io/src/index';

export function gatherChannels(bytes: Uint8Array, layer: string, indices: readonly number[]): Uint8Array {
  const tensor = parseOnnxGraph(bytes).layers.find((l) => l.name === layer)?.tensor;
  if (tensor === undefined) throw new Error(`the model has no layer ${layer}`);
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const nodes = graph.node ?? [];
  const at = nodes.findIndex((n) => (n.output ?? []).includes(tensor));
  const gathered = `${tensor}_gathered`;
  const order = `${layer}_channel_order`;
  for (const n of nodes) n.input = (n.input ?? []).map((input) => (input === tensor ? gathered : input));
  for (const output of graph.output ?? []) if (output.name === tensor) output.name = gathered;
  const data = BigInt64Array.from(indices, (i) => BigInt(i));
  graph.initializer = [
    ...(graph.initializer ?? []),
    {
      name: order,
      dataType: onnx.TensorProto.DataType.INT64,
      dims: [indices.length],
      rawData: new Uint8Array(data.buffer),
    },
  ];
  const gather: OnnxTypes.INodeProto = {
    name: `/${layer}/Gather_channels`,
    opType: 'Gather',
    input: [tensor, order],
    output: [gathered],
    attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
  };
  graph.node = [...nodes.slice(0, at + 1), onnx.NodeProto.create(gather), ...nodes.slice(at + 1)];
  return onnx.ModelProto.encode(model).finish();
}
