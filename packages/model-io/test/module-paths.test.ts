import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseOnnxGraph } from '../src/index';

// Graphs exported by torch.onnx.export (no parameters) beside the module names and types that
// PyTorch's named_modules() prints for the same models (scripts/export-module-path-fixtures.py).
const fixtures = join(import.meta.dirname, 'fixtures', 'module-paths');
const printed = JSON.parse(readFileSync(join(fixtures, 'named-modules.json'), 'utf8')) as {
  modules: Record<string, [path: string, type: string][]>;
};

describe.each(['resnet50', 'wrapped-resnet18'])("%s's layers, against PyTorch's named_modules()", (name) => {
  const layers = parseOnnxGraph(readFileSync(join(fixtures, `${name}.onnx`))).layers.map((l) => l.name);
  const modules = printed.modules[name];

  it('lists every module that survives export under its named_modules() path, and nothing else', () => {
    // The exporter folds each BatchNorm into the convolution before it (docs/parity.md); every
    // other module keeps nodes in the graph.
    const surviving = modules.filter(([, type]) => type !== 'BatchNorm2d').map(([path]) => path);
    expect([...layers].sort()).toEqual([...surviving].sort());
    expect(modules.filter(([, type]) => type === 'BatchNorm2d').length).toBeGreaterThan(0);
  });

  it('lists a module before its children, as named_modules() does, and stages in the order they run', () => {
    const where = (path: string) => layers.indexOf(path);
    const prefix = name === 'resnet50' ? '' : 'backbone.';
    expect(where(`${prefix}layer1`)).toBeLessThan(where(`${prefix}layer1.0`));
    expect(where(`${prefix}layer1.0`)).toBeLessThan(where(`${prefix}layer1.0.conv1`));
    expect(where(`${prefix}layer2.0.downsample`)).toBeGreaterThan(0);
    expect(where(`${prefix}layer2.0.downsample`)).toBeLessThan(where(`${prefix}layer2.0.downsample.0`));
    expect(where(`${prefix}layer2.0.downsample.0`)).toBeLessThan(where(`${prefix}layer3`));
    expect(where(`${prefix}layer4`)).toBeLessThan(where(`${prefix}fc`));
  });

  it("gives a module called several times (a block's one relu) the output of its last call", () => {
    const graph = parseOnnxGraph(readFileSync(join(fixtures, `${name}.onnx`)));
    const tensor = (path: string) => graph.layers.find((l) => l.name === path)?.tensor;
    const block = name === 'resnet50' ? 'layer1.0' : 'backbone.layer1.0';
    expect(tensor(`${block}.relu`)).toBeDefined();
    expect(tensor(`${block}.relu`)).toBe(tensor(block));
  });
});
