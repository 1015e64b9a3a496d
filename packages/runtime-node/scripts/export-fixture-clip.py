"""Exports the CLIP-shaped fixture models and their reference embeddings (dev-time only; see DEVELOPERS.md).

Two tiny towers shaped like CLIP's (a ViT image tower: patch embedding, class token, positions,
pre-LN transformer block, final LN on the class token, projection; a text tower: token and
position embeddings, causal pre-LN transformer block, final LN, the features at the end token
(argmax of the ids, as CLIP pools), projection), seeded random weights, written twice with the
same weights:

- `clip-hf/`: the Hugging Face Optimum layout (`onnx/vision_model.onnx`: `pixel_values` →
  `image_embeds`, `last_hidden_state`; `onnx/text_model.onnx`: `input_ids`, `attention_mask` →
  `text_embeds`, `last_hidden_state`; `preprocessor_config.json`). Its `tokenizer.json` is not
  committed (2 MB); tests write it from the bundled vocabulary.
- `clip-openclip/`: the OpenCLIP layout (`visual.onnx`: `image` → `image_features`;
  `textual.onnx`: `text` → `text_features`), no vocabulary file (the loader falls back to the
  bundled one).

To stay small, the image tower averages 4×4 pixel blocks before an 8×8 patch embedding (a 32×32
patch grid like ViT-B/32's 7×7 tokens) and the text tower looks its token embedding up at
`id % 512`. Inputs, outputs, dtypes and shapes are those of the real exports.

`reference.json` holds torch's embeddings of the golden `clip` tensors of the preprocess fixtures
and of texts whose ids come from the golden tokenizer file (one of them longer than 77 tokens, to
check truncation), which the CLIP tests compare against onnxruntime's.

Run with Debian's torch: /usr/bin/python3 packages/runtime-node/scripts/export-fixture-clip.py
"""
import gzip
import json
import pathlib

import numpy as np
import torch
from torch import nn

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE.parent / "test" / "fixtures"
OUT = FIXTURES / "clip"
IMAGES = ["coffee", "chessboard_RGB", "brick", "hubble_deep_field"]
FOX = "the quick brown fox jumps over the lazy dog " * 8
TEXTS = ["dog", "inflatable bounce game", "waterfall-block", FOX]
CONTEXT = 77
WIDTH = 32
HEADS = 2
EMBED = 16
VOCAB_ROWS = 512
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


class Block(nn.Module):
    """A pre-LN transformer block (CLIP's ResidualAttentionBlock) with explicit attention ops."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out_proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))

    def attention(self, x, mask):
        n, length, width = x.shape
        head = width // self.heads
        q, k, v = self.qkv(x).split(width, dim=-1)
        q = q.reshape(n, length, self.heads, head).transpose(1, 2)
        k = k.reshape(n, length, self.heads, head).transpose(1, 2)
        v = v.reshape(n, length, self.heads, head).transpose(1, 2)
        scores = q @ k.transpose(-1, -2) / head**0.5
        if mask is not None:
            scores = scores + mask
        out = scores.softmax(dim=-1) @ v
        return self.out_proj(out.transpose(1, 2).reshape(n, length, width))

    def forward(self, x, mask=None):
        x = x + self.attention(self.ln_1(x), mask)
        return x + self.mlp(self.ln_2(x))


class VisionTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AvgPool2d(4)
        self.conv1 = nn.Conv2d(3, WIDTH, kernel_size=8, stride=8, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(WIDTH) * 0.5)
        self.positional_embedding = nn.Parameter(torch.randn(1 + 7 * 7, WIDTH) * 0.1)
        self.ln_pre = nn.LayerNorm(WIDTH)
        self.block = Block(WIDTH, HEADS)
        self.ln_post = nn.LayerNorm(WIDTH)
        self.proj = nn.Linear(WIDTH, EMBED, bias=False)

    def forward(self, pixel_values):
        x = self.conv1(self.pool(pixel_values))
        x = x.flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(x.shape[0], 1, WIDTH)
        x = self.ln_pre(torch.cat([cls, x], dim=1) + self.positional_embedding)
        hidden = self.block(x)
        return self.proj(self.ln_post(hidden[:, 0])), hidden


class TextTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embedding = nn.Embedding(VOCAB_ROWS, WIDTH)
        self.positional_embedding = nn.Parameter(torch.randn(CONTEXT, WIDTH) * 0.1)
        self.block = Block(WIDTH, HEADS)
        self.ln_final = nn.LayerNorm(WIDTH)
        self.proj = nn.Linear(WIDTH, EMBED, bias=False)
        causal = torch.full((CONTEXT, CONTEXT), -1e4).triu(1)
        self.register_buffer("causal", causal)

    def forward(self, input_ids, attention_mask=None):
        # Any sequence length up to 77 (the Hugging Face export's sequence axis is dynamic).
        length = input_ids.shape[1]
        x = self.token_embedding(torch.remainder(input_ids, VOCAB_ROWS)) + self.positional_embedding[:length]
        mask = self.causal[:length, :length]
        if attention_mask is not None:
            mask = mask + (1.0 - attention_mask.to(torch.float32))[:, None, None, :] * -1e4
        hidden = self.ln_final(self.block(x, mask))
        pooled = hidden[torch.arange(hidden.shape[0]), input_ids.argmax(dim=-1)]
        return self.proj(pooled), hidden


class OpenClipText(nn.Module):
    """The same text tower with OpenCLIP's single input (no attention mask)."""

    def __init__(self, tower: TextTower):
        super().__init__()
        self.tower = tower

    def forward(self, text):
        return self.tower(text)[0]


class OpenClipVisual(nn.Module):
    def __init__(self, tower: VisionTower):
        super().__init__()
        self.tower = tower

    def forward(self, image):
        return self.tower(image)[0]


def golden_ids() -> dict:
    cases = json.load(gzip.open(FIXTURES / "tokenizer" / "clip-tokens.json.gz"))["cases"]
    by_text = {case["text"]: case["ids"] for case in cases}
    ids = {text: by_text[text] for text in TEXTS}
    # CLIP tokenizes word by word, so the ids of two texts joined by a space are the inner ids of
    # each in turn. FOX has 74 ids; twice it has 146: CLIP keeps 76 and ends on <|endoftext|>.
    fox = by_text[FOX]
    long_text = FOX * 2
    ids[long_text] = [fox[0]] + fox[1:-1] + fox[1:-1] + [fox[-1]]
    return ids


def padded(ids: list) -> tuple:
    kept = ids[:CONTEXT]
    if len(ids) > CONTEXT:
        kept[-1] = ids[-1]
    row = kept + [0] * (CONTEXT - len(kept))
    mask = [1] * len(kept) + [0] * (CONTEXT - len(kept))
    return row, mask


def export(module, args, path, input_names, output_names, dynamic):
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        module,
        args,
        path,
        input_names=input_names,
        output_names=output_names,
        dynamic_axes=dynamic,
        opset_version=14,
        do_constant_folding=True,
    )


def main() -> None:
    torch.manual_seed(0)
    vision = VisionTower().eval()
    text = TextTower().eval()
    for module in (vision, text):
        for name, parameter in module.named_parameters():
            if name.endswith("weight") and parameter.dim() == 1:  # LayerNorm gains, not all ones
                nn.init.uniform_(parameter, 0.5, 1.5)
            elif name.endswith("bias"):
                nn.init.uniform_(parameter, -0.2, 0.2)

    pixels = torch.from_numpy(np.stack([
        np.fromfile(FIXTURES / "preprocess" / f"{name}.clip.f32", dtype="<f4").reshape(3, 224, 224)
        for name in IMAGES
    ]))
    ids = golden_ids()
    rows, masks = zip(*(padded(v) for v in ids.values()))
    input_ids = torch.tensor(rows, dtype=torch.int64)
    attention_mask = torch.tensor(masks, dtype=torch.int64)
    with torch.no_grad():
        image_embeds = vision(pixels)[0]
        text_embeds = text(input_ids, attention_mask)[0]
        text_embeds_causal_only = text(input_ids)[0]
    # With causal attention the padding mask cannot change the end token's features.
    assert torch.allclose(text_embeds, text_embeds_causal_only, atol=1e-6)

    hf = OUT / "clip-hf"
    export(vision, pixels[:1], hf / "onnx" / "vision_model.onnx", ["pixel_values"],
           ["image_embeds", "last_hidden_state"],
           {"pixel_values": {0: "batch_size"}, "image_embeds": {0: "batch_size"},
            "last_hidden_state": {0: "batch_size"}})
    export(text, (input_ids[:1], attention_mask[:1]), hf / "onnx" / "text_model.onnx",
           ["input_ids", "attention_mask"], ["text_embeds", "last_hidden_state"],
           {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "sequence_length"},
            "text_embeds": {0: "batch_size"}, "last_hidden_state": {0: "batch_size", 1: "sequence_length"}})
    (hf / "preprocessor_config.json").write_text(json.dumps({
        "crop_size": {"height": 224, "width": 224},
        "do_center_crop": True,
        "do_convert_rgb": True,
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": CLIP_MEAN,
        "image_processor_type": "CLIPImageProcessor",
        "image_std": CLIP_STD,
        "resample": 3,
        "rescale_factor": 1 / 255,
        "size": {"shortest_edge": 224},
    }, indent=2) + "\n")

    openclip = OUT / "clip-openclip"
    export(OpenClipVisual(vision), pixels[:1], openclip / "visual.onnx", ["image"], ["image_features"],
           {"image": {0: "batch"}, "image_features": {0: "batch"}})
    export(OpenClipText(text), input_ids[:1], openclip / "textual.onnx", ["text"], ["text_features"],
           {"text": {0: "batch"}, "text_features": {0: "batch"}})

    (OUT / "reference.json").write_text(json.dumps({
        "torch": torch.__version__,
        "images": [f"{name}.png" if name != "hubble_deep_field" else f"{name}.jpg" for name in IMAGES],
        "tensors": [f"{name}.clip.f32" for name in IMAGES],
        "imageEmbeds": image_embeds.tolist(),
        "texts": list(ids.keys()),
        "inputIds": [list(r) for r in rows],
        "textEmbeds": text_embeds.tolist(),
    }))


if __name__ == "__main__":
    main()
