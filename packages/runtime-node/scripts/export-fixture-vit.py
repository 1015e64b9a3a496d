"""Exports the fixture ViT (dev-time only; see DEVELOPERS.md).

torchvision's VisionTransformer with ViT-B/16's geometry (224×224 input, 16×16 patches: 196 patch
tokens and a class token, so its encoder layers output [N, 197, D]) but 2 layers of width 8,
seeded random weights, exported as docs/your-model.md shows (dynamic batch, opset 14). The
attention runs through nn.MultiheadAttention's plain path: torch 1.13's exporter has no ONNX form
for its fused kernel (aten::_native_multi_head_attention), which it takes in eval mode under
no_grad; exporting with gradients enabled keeps the plain path and gives the same outputs.

Run with Debian's torch: /usr/bin/python3 packages/runtime-node/scripts/export-fixture-vit.py
"""
import pathlib

import torch
from torchvision.models.vision_transformer import VisionTransformer

OUT = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "vit"


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(2)
    model = VisionTransformer(
        image_size=224, patch_size=16, num_layers=2, num_heads=2, hidden_dim=8, mlp_dim=16, num_classes=10
    ).eval()
    OUT.mkdir(parents=True, exist_ok=True)
    x = torch.randn(2, 3, 224, 224)
    with torch.enable_grad():
        torch.onnx.export(
            model,
            x,
            OUT / "tiny-vit.onnx",
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=14,
        )
    print(f"wrote {OUT / 'tiny-vit.onnx'}")


if __name__ == "__main__":
    main()
