"""Writes the whole-job benchmark's models with seeded random weights (dev-time only; nothing here is
committed), each as ONNX for neurodissect and as a state dict for the torch reference:

- `resnet50.onnx` / `resnet50.pt`: torchvision's ResNet-50 (dynamic batch); `resnet18.onnx`:
  torchvision's ResNet-18 (the NetDissect pair of `whole-job-command.mjs --netdissect`);
- `clip-b16/`: a CLIP folder in the OpenCLIP layout whose image tower has ViT-B/16 CLIP's size
  (16-px patches at 224 px, 12 pre-LN blocks of width 768, 12 heads, 512-d projection;
  `visual.onnx`, `visual.pt`) and whose text tower is `export-clip-b16-text.py`'s (`textual.onnx`,
  `textual.pt`, dynamic sequence).

    /usr/bin/python3 packages/cli/bench/export-bench-models.py --out /tmp/bench-models

`reference_pipeline.py` builds the same modules (`ClipImageTower`, the text script's `TextTower`,
torchvision's `resnet50`) and loads these state dicts, so both sides run identical weights.
"""
import argparse
import importlib.util
import pathlib

import torch
import torchvision
from torch import nn

HERE = pathlib.Path(__file__).resolve().parent
TEXT_SCRIPT = HERE.parents[1] / "runtime-node" / "scripts" / "export-clip-b16-text.py"


def text_module():
    spec = importlib.util.spec_from_file_location("clip_b16_text", TEXT_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.width, self.heads = width, heads
        self.ln_1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out_proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x):
        n, length, _ = x.shape
        head = self.width // self.heads
        q, k, v = self.qkv(self.ln_1(x)).split(self.width, dim=-1)
        q, k, v = (t.reshape(n, length, self.heads, head).transpose(1, 2) for t in (q, k, v))
        attention = ((q @ k.transpose(-1, -2)) / head**0.5).softmax(dim=-1) @ v
        x = x + self.out_proj(attention.transpose(1, 2).reshape(n, length, self.width))
        return x + self.mlp(self.ln_2(x))


class ClipImageTower(nn.Module):
    """CLIP's ViT-B/16 image tower: patches, class token, positions, ln_pre, blocks, ln_post, projection."""

    def __init__(self, width=768, layers=12, heads=12, patch=16, size=224, embed=512):
        super().__init__()
        grid = size // patch
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(width) * 0.02)
        self.positional_embedding = nn.Parameter(torch.randn(grid * grid + 1, width) * 0.01)
        self.ln_pre = nn.LayerNorm(width)
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Linear(width, embed, bias=False)

    def forward(self, image):
        x = self.conv1(image).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = self.ln_pre(torch.cat([cls, x], dim=1) + self.positional_embedding)
        for block in self.blocks:
            x = block(x)
        return self.proj(self.ln_post(x[:, 0]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True, type=pathlib.Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    clip_dir = args.out / "clip-b16"
    clip_dir.mkdir(exist_ok=True)
    with torch.no_grad():
        torch.manual_seed(0)
        resnet = torchvision.models.resnet50().eval()
        torch.save(resnet.state_dict(), args.out / "resnet50.pt")
        torch.onnx.export(resnet, torch.zeros(1, 3, 224, 224), args.out / "resnet50.onnx",
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=14, do_constant_folding=True)
        torch.manual_seed(3)
        resnet18 = torchvision.models.resnet18().eval()
        torch.onnx.export(resnet18, torch.zeros(1, 3, 224, 224), args.out / "resnet18.onnx",
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=14, do_constant_folding=True)
        torch.manual_seed(1)
        visual = ClipImageTower().eval()
        torch.save(visual.state_dict(), clip_dir / "visual.pt")
        torch.onnx.export(visual, torch.zeros(1, 3, 224, 224), clip_dir / "visual.onnx",
                          input_names=["image"], output_names=["image_features"],
                          dynamic_axes={"image": {0: "batch"}, "image_features": {0: "batch"}},
                          opset_version=14, do_constant_folding=True)
        text = text_module()
        torch.manual_seed(2)
        tower = text.TextTower().eval()
        torch.save(tower.state_dict(), clip_dir / "textual.pt")
        ids = torch.zeros(1, text.CONTEXT, dtype=torch.int64)
        ids[0, :3] = torch.tensor([49406, 320, 49407])
        torch.onnx.export(tower, ids, clip_dir / "textual.onnx", input_names=["text"],
                          output_names=["text_features"],
                          dynamic_axes={"text": {0: "batch", 1: "sequence"}, "text_features": {0: "batch"}},
                          opset_version=14, do_constant_folding=True)


if __name__ == "__main__":
    main()
