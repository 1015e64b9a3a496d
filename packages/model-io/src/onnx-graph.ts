import type { LayerInfo } from '@neurodissect/core';
import onnxProto from 'onnx-proto';

// onnx-proto is CommonJS with `module.exports = $root`; Node's ESM loader only offers it as default.
const { onnx } = onnxProto;
type ModelProto = InstanceType<typeof onnx.ModelProto>;
type TypeProtoLike = Parameters<typeof onnx.TypeProto.create>[0];

/** A parsed ONNX model with the layers that can be exposed as outputs. */
export interface OnnxGraph {
  readonly model: ModelProto;
  /** The graph's real inputs (initializers excluded), with their shapes. */
  readonly inputs: readonly { name: string; shape: (number | string)[] }[];
  /** Selectable layers by module path, in graph order of their first node (a module before its children); each one's tensor is its last node's output. */
  readonly layers: readonly LayerInfo[];
  /** Every tensor produced by a node, for selection by tensor name. */
  readonly tensors: ReadonlySet<string>;
}

function dimsOf(type: TypeProtoLike | null | undefined): (number | string)[] | undefined {
  const dims = type?.tensorType?.shape?.dim;
  if (!dims) return undefined;
  return dims.map((d) => (d.dimParam ? d.dimParam : d.dimValue != null ? Number(d.dimValue) : '?'));
}

/**
 * The module path PyTorch's exporter encodes in a node name. Scopes are written as
 * `/layer1/layer1.0/downsample/downsample.0/Conv`: each segment is a module's attribute name, and a
 * child of a numbered container is written as the container's name plus its number
 * (`downsample.0`), which extends the parent path rather than appending to it
 * (`layer1.0.downsample.0`, not `layer1.0.downsample.downsample.0`). A segment that already extends
 * the parent path (`layer1.0` under `layer1`) is a full path. The last segment is the operator, not
 * a module. Returns `''` for nodes outside any module.
 *
 * A module called more than once (torchvision's Bottleneck calls its one `relu` three times) gets
 * scopes `relu`, `relu_1`, `relu_2`: given the paths already `seen` in graph order, a `name_N`
 * segment whose `name` was seen under the same parent is that module's N+1-th call.
 */
export function modulePathOfNode(
  nodeName: string,
  seen?: ReadonlySet<string> | ReadonlyMap<string, unknown>,
): string {
  if (!nodeName.startsWith('/')) return '';
  const segments = nodeName.split('/').slice(1, -1);
  let path = '';
  for (const segment of segments) {
    if (!segment) continue;
    if (!path || segment.startsWith(`${path}.`)) {
      path = repeatedCall(segment, seen) ?? segment;
      continue;
    }
    // `name.3` (or `name.3.1`) under a path ending in `name`: the numbered child of `name`.
    const numbered = /^([^.]+)((?:\.\d+)+)$/.exec(segment);
    const last = path.slice(path.lastIndexOf('.') + 1);
    const child = numbered && numbered[1] === last ? `${path}${numbered[2]}` : `${path}.${segment}`;
    path = repeatedCall(child, seen) ?? child;
  }
  return path;
}

/** `a.relu_2` → `a.relu` when `a.relu` was seen before (a later call of the same module). */
function repeatedCall(
  path: string,
  seen: ReadonlySet<string> | ReadonlyMap<string, unknown> | undefined,
): string | undefined {
  const call = /^(.*)_\d+$/.exec(path);
  return call && seen?.has(call[1]) ? call[1] : undefined;
}

/** Decodes an ONNX model and finds its selectable layers. */
export function parseOnnxGraph(bytes: Uint8Array): OnnxGraph {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Error('the model has no graph');
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const inputs = (graph.input ?? [])
    .filter((i) => !initializers.has(i.name ?? ''))
    .map((i) => ({ name: i.name ?? '', shape: dimsOf(i.type) ?? [] }));

  const shapes = new Map<string, (number | string)[]>();
  for (const info of [...(graph.valueInfo ?? []), ...(graph.output ?? [])]) {
    const dims = dimsOf(info.type);
    if (info.name && dims) shapes.set(info.name, dims);
  }

  // Last node (in graph order, which ONNX requires to be topological) of every module scope.
  const lastOutput = new Map<string, string>();
  const order: string[] = [];
  const tensors = new Set<string>();
  for (const node of graph.node ?? []) {
    const output = node.output?.[0];
    if (!output) continue;
    for (const o of node.output ?? []) if (o) tensors.add(o);
    const path = modulePathOfNode(node.name ?? '', lastOutput);
    if (!path) continue;
    const parts = path.split('.');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('.');
      // `layer1.0` is both a prefix chain (`layer1` → `layer1.0`); skip prefixes that are not scopes.
      if (!isScopePrefix(path, prefix)) continue;
      if (!lastOutput.has(prefix)) order.push(prefix);
      lastOutput.set(prefix, output);
    }
  }
  const layers: LayerInfo[] = order.map((name) => {
    const tensor = lastOutput.get(name)!;
    const shape = shapes.get(tensor);
    return shape ? { name, tensor, shape } : { name, tensor };
  });
  return { model, inputs, layers, tensors };
}

// Every dotted prefix of a module path is itself a module (`layer1`, `layer1.0`, `layer1.0.conv1`).
function isScopePrefix(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`);
}

/** Serialises a copy of the model whose graph also outputs `tensors` (float32 unless known). */
export function withExtraOutputs(graph: OnnxGraph, tensors: readonly string[]): Uint8Array {
  const original = graph.model.graph!;
  const existing = new Set((original.output ?? []).map((o) => o.name));
  const known = new Map((original.valueInfo ?? []).map((v) => [v.name ?? '', v]));
  const extra = tensors
    .filter((name) => !existing.has(name))
    .map(
      (name) =>
        known.get(name) ??
        onnx.ValueInfoProto.create({
          name,
          type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } },
        }),
    );
  // A shallow copy: the initializers (the bulk of the bytes) are shared, not duplicated.
  const model = onnx.ModelProto.create({
    ...graph.model,
    graph: onnx.GraphProto.create({ ...original, output: [...(original.output ?? []), ...extra] }),
  });
  return onnx.ModelProto.encode(model).finish();
}
