"""Exports the module-path fixtures (dev-time only; see DEVELOPERS.md).

torchvision's ResNet-50 and a ResNet-18 wrapped in another module (`self.backbone`), random
weights, evaluation mode, exported by `torch.onnx.export` without their parameters
(`export_params=False`: the graph's node names are what the test reads, and the files stay a few
tens of KB). Beside each graph, the names and types `named_modules()` prints, which
`parseOnnxGraph` must list (BatchNorms excepted: the exporter folds them into their convolutions).

Run with Debian's torch: /usr/bin/python3 packages/model-io/scripts/export-module-path-fixtures.py
"""
import json
import pathlib

import torch
import torchvision
from torch import nn

OUT = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "module-paths"


class Wrapped(nn.Module):
    """A backbone inside another module, with a numbered head after it."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = torchvision.models.resnet18(weights=None)
        self.head = nn.Sequential(nn.Linear(1000, 10), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


def main() -> None:
    torch.manual_seed(0)
    OUT.mkdir(parents=True, exist_ok=True)
    modules = {}
    for name, model in [("resnet50", torchvision.models.resnet50(weights=None)), ("wrapped-resnet18", Wrapped())]:
        model.eval()
        torch.onnx.export(
            model,
            torch.zeros(1, 3, 224, 224),
            OUT / f"{name}.onnx",
            export_params=False,
            opset_version=13,
            input_names=["input"],
            output_names=["output"],
        )
        modules[name] = [[path, type(module).__name__] for path, module in model.named_modules() if path]
    (OUT / "named-modules.json").write_text(
        json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__, "modules": modules}, indent=1)
        + "\n"
    )


if __name__ == "__main__":
    main()
