import { describe, expect, it } from 'vitest';
import { modulePathOfNode } from '../src/index';

describe('modulePathOfNode', () => {
  it.each([
    // torchvision's ResNet as torch.onnx.export names its nodes
    ['/conv1/Conv', 'conv1'],
    ['/layer1/layer1.0/conv1/Conv', 'layer1.0.conv1'],
    ['/layer1/layer1.0/Relu', 'layer1.0'],
    ['/layer1/layer1.0/downsample/downsample.0/Conv', 'layer1.0.downsample.0'],
    ['/layer4/layer4.2/conv3/Conv', 'layer4.2.conv3'],
    // a model wrapped in another module (self.backbone = resnet18)
    ['/backbone/layer1/layer1.0/conv1/Conv', 'backbone.layer1.0.conv1'],
    ['/backbone/layer1/layer1.0/downsample/downsample.0/Conv', 'backbone.layer1.0.downsample.0'],
    // nested numbered containers, a top-level Sequential, and names that only look numbered
    ['/features/features.10/Conv', 'features.10'],
    ['/features/features.3/features.3.1/Conv', 'features.3.1'],
    ['/0/1/Relu', '0.1'],
    ['/block/conv.x/Conv', 'block.conv.x'],
    ['/encoder/layer.0/attention/Softmax', 'encoder.layer.0.attention'],
    ['Conv_12', ''],
    ['/Conv', ''],
    ['/Flatten', ''],
  ])('%s → %s', (node, path) => {
    expect(modulePathOfNode(node)).toBe(path);
  });
});
