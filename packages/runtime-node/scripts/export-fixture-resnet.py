"""Exports the fixture ResNet and its reference activations (dev-time only; see DEVELOPERS.md).

Real torchvision ResNet code (BasicBlock, layers [1, 1, 2, 1]) with its stages narrowed 8x so the
ONNX stays well under 1 MB, seeded random weights, eval mode (BatchNorm running stats randomised so
they are not the identity). Feeds the golden `imagenet` tensors of the preprocess fixtures and records,
through forward hooks, each module's output summarised per channel (spatial mean and max), which the
activation test compares against onnxruntime's outputs.

Run with Debian's torch: /usr/bin/python3 packages/runtime-node/scripts/export-fixture-resnet.py
"""
import json
import pathlib

import numpy as np
import torch
from torch import nn
from torchvision.models.resnet import BasicBlock, ResNet

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE.parent / "test" / "fixtures"
OUT = FIXTURES / "resnet"
IMAGES = ["coffee", "chessboard_RGB", "brick", "hubble_deep_field"]
LAYERS = ["relu", "maxpool", "layer1", "layer2", "layer3", "layer3.1", "layer4", "avgpool", "fc"]


class NarrowResNet(ResNet):
    """torchvision's ResNet with every stage 8x narrower (64 → 8 … 512 → 64 channels)."""

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        return super()._make_layer(block, planes // 8, blocks, stride, dilate)


def main() -> None:
    torch.manual_seed(0)
    model = NarrowResNet(BasicBlock, [1, 1, 2, 1], num_classes=10)
    model.fc = nn.Linear(64, 10)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.uniform_(module.bias, -0.2, 0.2)
    model.eval()

    batch = np.stack([
        np.fromfile(FIXTURES / "preprocess" / f"{name}.imagenet.f32", dtype="<f4").reshape(3, 224, 224)
        for name in IMAGES
    ])
    x = torch.from_numpy(batch)

    captured = {}
    modules = dict(model.named_modules())
    for name in LAYERS:
        modules[name].register_forward_hook(lambda _m, _i, out, name=name: captured.__setitem__(name, out.detach()))
    with torch.no_grad():
        model(x)

    summaries = {}
    for name in LAYERS:
        out = captured[name]
        if out.dim() == 4:
            summaries[name] = {
                "shape": list(out.shape),
                "mean": out.mean(dim=(2, 3)).tolist(),
                "max": out.amax(dim=(2, 3)).tolist(),
            }
        else:
            flat = out.flatten(1)
            summaries[name] = {"shape": list(out.shape), "identity": flat.tolist()}

    OUT.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        x[:1],
        OUT / "narrow-resnet.onnx",
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=13,
        do_constant_folding=True,
    )
    (OUT / "activations.json").write_text(json.dumps({
        "torch": torch.__version__,
        "torchvision": __import__("torchvision").__version__,
        "images": [f"{name}.imagenet.f32" for name in IMAGES],
        "layers": summaries,
    }))


if __name__ == "__main__":
    main()
