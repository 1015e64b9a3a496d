"""Exports a CLIP folder whose text tower has ViT-B/16 CLIP's size (12 pre-LN blocks of width 512,
8 heads, causal attention, 49,408-token vocabulary, 77 positions, 512-d projection) with seeded
random weights, in the OpenCLIP layout, for measuring concept-embedding speed at full size (dev-time
only; nothing here is committed). `--sequence dynamic` exports the sequence axis as dynamic (as
the Hugging Face exports do), `--sequence fixed` at 77. The image tower is a stand-in (a strided
convolution, pooled and projected): it exists only so the folder loads.

    /usr/bin/python3 packages/runtime-node/scripts/export-clip-b16-text.py --out /tmp/b16 --sequence dynamic
    neurodissect embed --clip /tmp/b16 --concepts words.txt --out T.npy
"""
import argparse
import pathlib

import torch
from torch import nn

CONTEXT, WIDTH, HEADS, LAYERS, VOCAB, EMBED = 77, 512, 8, 12, 49408, 512


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(WIDTH)
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
        self.out_proj = nn.Linear(WIDTH, WIDTH)
        self.ln_2 = nn.LayerNorm(WIDTH)
        self.mlp = nn.Sequential(nn.Linear(WIDTH, 4 * WIDTH), nn.GELU(), nn.Linear(4 * WIDTH, WIDTH))

    def forward(self, x, mask):
        n, length, _ = x.shape
        head = WIDTH // HEADS
        q, k, v = self.qkv(self.ln_1(x)).split(WIDTH, dim=-1)
        q, k, v = (t.reshape(n, length, HEADS, head).transpose(1, 2) for t in (q, k, v))
        attention = ((q @ k.transpose(-1, -2)) / head**0.5 + mask).softmax(dim=-1) @ v
        x = x + self.out_proj(attention.transpose(1, 2).reshape(n, length, WIDTH))
        return x + self.mlp(self.ln_2(x))


class TextTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embedding = nn.Embedding(VOCAB, WIDTH)
        self.positional_embedding = nn.Parameter(torch.randn(CONTEXT, WIDTH) * 0.01)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln_final = nn.LayerNorm(WIDTH)
        self.proj = nn.Linear(WIDTH, EMBED, bias=False)
        self.register_buffer("causal", torch.full((CONTEXT, CONTEXT), float("-inf")).triu(1))

    def forward(self, text):
        length = text.shape[1]
        x = self.token_embedding(text) + self.positional_embedding[:length]
        mask = self.causal[:length, :length]
        for block in self.blocks:
            x = block(x, mask)
        x = self.ln_final(x)
        return self.proj(x[torch.arange(x.shape[0]), text.argmax(dim=-1)])


class ImageStandIn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 64, kernel_size=16, stride=16)
        self.proj = nn.Linear(64, EMBED)

    def forward(self, image):
        return self.proj(self.conv(image).mean(dim=(2, 3)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--sequence", choices=["dynamic", "fixed"], default="dynamic")
    args = parser.parse_args()
    torch.manual_seed(0)
    args.out.mkdir(parents=True, exist_ok=True)
    text, image = TextTower().eval(), ImageStandIn().eval()
    ids = torch.zeros(1, CONTEXT, dtype=torch.int64)
    ids[0, :3] = torch.tensor([49406, 320, 49407])
    axes = {0: "batch", 1: "sequence"} if args.sequence == "dynamic" else {0: "batch"}
    with torch.no_grad():
        torch.onnx.export(text, ids, args.out / "textual.onnx", input_names=["text"],
                          output_names=["text_features"], dynamic_axes={"text": axes, "text_features": {0: "batch"}},
                          opset_version=14, do_constant_folding=True)
        torch.onnx.export(image, torch.zeros(1, 3, 224, 224), args.out / "visual.onnx", input_names=["image"],
                          output_names=["image_features"],
                          dynamic_axes={"image": {0: "batch"}, "image_features": {0: "batch"}}, opset_version=14)


if __name__ == "__main__":
    main()
