import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { onnx, parseOnnxGraph, withExtraOutputs } from '../src/index';

// runtime-node's narrow torchvision ResNet (made by its scripts/export-fixture-resnet.py): one
// output, `logits`, and no recorded shapes of intermediate tensors.
const bytes = readFileSync(fixturePath('runtime-node', 'resnet', 'narrow-resnet.onnx'));

describe('withExtraOutputs', () => {
  const graph = parseOnnxGraph(bytes);
  const layer1 = graph.layers.find((l) => l.name === 'layer1')!.tensor;
  const maxpool = graph.layers.find((l) => l.name === 'maxpool')!.tensor;

  it('appends the tensors not yet output, as float32 of unknown shape, and leaves the model as it was', () => {
    const edited = parseOnnxGraph(withExtraOutputs(graph, ['logits', layer1, maxpool])).model.graph!;
    expect(edited.output!.map((o) => o.name)).toEqual(['logits', layer1, maxpool]);
    for (const output of edited.output!.slice(1)) {
      expect(output.type!.tensorType!.elemType).toBe(onnx.TensorProto.DataType.FLOAT);
      expect(output.type!.tensorType!.shape).toBeFalsy();
    }
    // Same nodes and weights; the parsed original is untouched.
    expect(edited.node!.length).toBe(graph.model.graph!.node!.length);
    expect(edited.initializer!.map((t) => t.name)).toEqual(
      graph.model.graph!.initializer!.map((t) => t.name),
    );
    expect(graph.model.graph!.output!.map((o) => o.name)).toEqual(['logits']);
    expect(parseOnnxGraph(bytes).model.graph!.output!.length).toBe(1);
  });

  it("declares a tensor with its recorded value info's type and shape", () => {
    const recorded = parseOnnxGraph(bytes);
    const info = onnx.ValueInfoProto.create({
      name: layer1,
      type: {
        tensorType: {
          elemType: onnx.TensorProto.DataType.FLOAT16,
          shape: { dim: [{ dimParam: 'batch' }, { dimValue: 8 }, { dimValue: 56 }, { dimValue: 56 }] },
        },
      },
    });
    recorded.model.graph!.valueInfo = [info];
    const output = parseOnnxGraph(withExtraOutputs(recorded, [layer1])).model.graph!.output![1];
    expect(output.name).toBe(layer1);
    expect(output.type!.tensorType!.elemType).toBe(onnx.TensorProto.DataType.FLOAT16);
    expect(output.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual([
      'batch',
      8,
      56,
      56,
    ]);
  });
});
