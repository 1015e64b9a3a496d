"""Trains and exports the toy world's models (dev-time only; see DEVELOPERS.md and models/MODEL_CARD.md).

Reads three toy worlds written by `neurodissect toyworld generate` (Broden layout):
  DATA/train  (seed 1, 20000 images)  training set for both models
  DATA/val    (seed 2, 1000 images)  held-out figures
  DATA/probe  (seed 0, 1000 images)  the default probe set; ground truth is computed on it
and writes, under packages/toyworld/models/:
  target/toy-resnet.onnx     target CNN, torchvision ResNet module names (layer1..layer4, fc)
  clip/onnx/vision_model.onnx, clip/onnx/text_model.onnx, clip/tokenizer.json,
  clip/preprocessor_config.json, clip/config.json   a small CLIP in the Hugging Face layout
  ground-truth.csv           layer,unit,label (NetDissect-style; empty label = non-interpretable)
  training-report.json       every figure the model card quotes

Run with Debian's torch (PyPI is unreachable):
  /usr/bin/python3 packages/toyworld/scripts/train.py --data DATA
Everything is seeded; two runs on the same machine give the same figures.
"""
import argparse
import csv
import gzip
import json
import pathlib
import re
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torchvision.models.resnet import BasicBlock

HERE = pathlib.Path(__file__).resolve().parent
PACKAGE = HERE.parent
MODELS = PACKAGE / "models"
VOCAB = PACKAGE.parent / "runtime-node" / "assets" / "bpe_simple_vocab_16e6.txt.gz"

# Must match src/concepts.ts: label number i + 1 is LABELS[i].
COLORS = ["black", "blue", "brown", "gray", "green", "orange", "pink", "purple", "red", "white", "yellow"]
OBJECTS = ["circle", "square", "triangle", "star", "cross", "ring", "heart", "diamond"]
TEXTURES = ["plain", "striped", "dotted", "checkered", "grid", "zigzag"]
LABELS = COLORS + OBJECTS + TEXTURES
CATEGORY = {**{c: "color" for c in COLORS}, **{o: "object" for o in OBJECTS}, **{t: "texture" for t in TEXTURES}}
N_COLOR, N_OBJECT, N_TEXTURE = len(COLORS), len(OBJECTS), len(TEXTURES)
# A colour counts as present in an image (a training target) from this share of its pixels.
COLOR_PRESENT = 0.02
# The target model's input normalisation: torchvision's ImageNet mean/std (the `imagenet` preset's).
TARGET_MEAN, TARGET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
# The CLIP's: OpenAI CLIP's mean/std (the `clip` preset's), at the world's own size.
CLIP_MEAN, CLIP_STD = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]
SOT, EOT = 49406, 49407
GT_LAYERS = ["layer1", "layer2", "layer3", "layer4"]
# NetDissect: a unit's threshold is the top 0.5% quantile of its activations over the probe set,
# and a unit is interpretable when its best IoU reaches 0.04.
TOP_QUANTILE = 0.005
IOU_FLOOR = 0.04
AUC_FLOOR = 0.95
# Random vocabulary tokens per batch that serve as "unknown word" negatives in the CLIP's word loss.
UNKNOWN_NEGATIVES = 8
# The cosines the text tower is calibrated to on the demo's vocabulary, as a real CLIP's spread: an
# image and a concept it shows, a near-word of that concept, any other word.
SHOWN_COS, NEAR_COS, OTHER_COS = 0.24, 0.215, 0.18


# ---------------------------------------------------------------- data


def load_world(root: pathlib.Path):
    with open(root / "index.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(root / "captions.csv", newline="") as f:
        captions = {r["image"]: r["caption"] for r in csv.DictReader(f)}
    n = len(rows)
    size = int(rows[0]["ih"])
    images = np.empty((n, size, size, 3), np.uint8)
    color = np.empty((n, size, size), np.int16)
    obj = np.empty((n, size, size), np.int16)
    texture = np.empty(n, np.int64)
    for i, row in enumerate(rows):
        images[i] = np.asarray(Image.open(root / "images" / row["image"]).convert("RGB"))
        for target, column in ((color, "color"), (obj, "object")):
            m = np.asarray(Image.open(root / "images" / row[column]).convert("RGB")).astype(np.int32)
            target[i] = m[:, :, 0] + 256 * m[:, :, 1]
        texture[i] = int(row["texture"])
    caption_list = [captions[r["image"]] for r in rows]
    return {"images": images, "color": color, "object": obj, "texture": texture, "captions": caption_list}


def presence_targets(world):
    """Multi-hot colours and objects, one-hot texture, in label order (25 columns)."""
    n = len(world["texture"])
    y = np.zeros((n, len(LABELS)), np.float32)
    pixels = world["color"][0].size
    for k in range(N_COLOR):
        y[:, k] = ((world["color"] == k + 1).reshape(n, -1).sum(1) / pixels) >= COLOR_PRESENT
    for k in range(N_OBJECT):
        number = N_COLOR + k + 1
        y[:, N_COLOR + k] = (world["object"] == number).reshape(n, -1).any(1)
    y[np.arange(n), world["texture"] - 1] = 1
    return y


def to_tensor(images, mean, std):
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


# ---------------------------------------------------------------- tokenizer (CLIP BPE)


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


class ClipBpe:
    """OpenAI's simple_tokenizer BPE for lowercase ASCII text (all the toy world's captions need)."""

    def __init__(self, path: pathlib.Path):
        lines = gzip.open(path).read().decode("utf-8").split("\n")
        self.merges = lines[1 : 49152 - 256 - 2 + 1]
        self.byte_encoder = bytes_to_unicode()
        symbols = list(self.byte_encoder.values())
        vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m.split(" ")) for m in self.merges]
        vocab += ["<|startoftext|>", "<|endoftext|>"]
        self.vocab = vocab
        self.encoder = {t: i for i, t in enumerate(vocab)}
        self.ranks = {tuple(m.split(" ")): i for i, m in enumerate(self.merges)}

    def bpe(self, token):
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = tuple(merged)
        return word

    def encode(self, text: str):
        import re

        ids = [SOT]
        for token in re.findall(r"[a-z]+|[0-9]|[^\sa-z0-9]+", text.lower().strip()):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(token))
        return ids + [EOT]

    def batch(self, texts, length=None):
        encoded = [self.encode(t) for t in texts]
        length = length or max(len(e) for e in encoded)
        out = np.zeros((len(texts), length), np.int64)  # padded with 0, as clip.tokenize does
        for i, e in enumerate(encoded):
            out[i, : len(e)] = e
        return torch.from_numpy(out)

    def tokenizer_json(self):
        """The Hugging Face tokenizer.json of CLIP (same structure as runtime-node's clipTokenizerJsonFromBpe)."""
        split = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"

        def special(i, content):
            return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
                    "normalized": True, "special": True}

        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [special(SOT, "<|startoftext|>"), special(EOT, "<|endoftext|>")],
            "normalizer": {"type": "Sequence", "normalizers": [
                {"type": "NFC"}, {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "}, {"type": "Lowercase"}]},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": split}, "behavior": "Removed", "invert": True},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
            "post_processor": {"type": "RobertaProcessing", "sep": ["<|endoftext|>", EOT], "cls": ["<|startoftext|>", SOT],
                               "trim_offsets": False, "add_prefix_space": False},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": "<|endoftext|>", "continuing_subword_prefix": "",
                      "end_of_word_suffix": "</w>", "fuse_unk": False, "byte_fallback": False,
                      "vocab": self.encoder, "merges": self.merges},
        }


# ---------------------------------------------------------------- models


class ToyResNet(nn.Module):
    """A narrow ResNet built from torchvision's BasicBlock, with torchvision's module names.

    64×64 input: conv1 (3×3, stride 2) → layer1 16ch 32² → layer2 32ch 16² → layer3 64ch 8²
    → layer4 128ch 4² → avgpool → fc (25 logits, label order). No maxpool: at 64 px ResNet's 4×
    stem (stride-2 conv, then maxpool) blurred the shapes' outlines so much that the network never
    learned shape presence.
    """

    def __init__(self, widths=(16, 32, 64, 128), num_classes=len(LABELS)):
        super().__init__()
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(3, widths[0], 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(widths[0], 1)
        self.layer2 = self._make_layer(widths[1], 2)
        self.layer3 = self._make_layer(widths[2], 2)
        self.layer4 = self._make_layer(widths[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[3], num_classes)

    def _make_layer(self, planes, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        block = BasicBlock(self.inplanes, planes, stride, downsample)
        self.inplanes = planes
        return nn.Sequential(block)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class VisionTower(nn.Module):
    """The image tower: the same narrow ResNet backbone as the target CNN (BasicBlock stages of 16,
    32, 64 and 128 channels, no maxpool), trained from its own random start on captions, then global
    average pooling and a projection. (A four-convolution tower saw about 23 px of a 64-px image, too
    little of a shape's outline: it named shapes barely above chance, and soft-WPMI then named the
    colours of units that detect shapes.)"""

    def __init__(self, dim):
        super().__init__()
        backbone = ToyResNet()
        self.conv1, self.bn1, self.relu = backbone.conv1, backbone.bn1, backbone.relu
        self.layer1, self.layer2, self.layer3, self.layer4 = backbone.layer1, backbone.layer2, backbone.layer3, backbone.layer4
        self.proj = nn.Linear(128, dim)

    def forward(self, pixel_values):
        x = self.relu(self.bn1(self.conv1(pixel_values)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.proj(x.mean(dim=(2, 3)))


class TextTower(nn.Module):
    """Bag of CLIP BPE tokens: the mean token embedding before the first <|endoftext|> (start token
    excluded), projected. Only input_ids is needed: the mask is derived from the ids, so any padding
    after <|endoftext|> is ignored."""

    def __init__(self, vocab_size, width, dim):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, width)
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        # A learned offset added to every text's mean token. Tokens the captions never use keep their
        # small random initialisation, so every word the world does not know embeds close to one
        # shared "unknown word" direction (as unrelated words are alike to a real CLIP looking at
        # toy shapes), instead of 49,000 independent random directions that images happen to match.
        self.word_offset = nn.Parameter(torch.randn(width) * 0.2)
        self.proj = nn.Linear(width, dim, bias=False)

    def forward(self, input_ids):
        eot = (input_ids == EOT).to(torch.float32)
        before_end = (torch.cumsum(eot, dim=1) - eot) == 0
        valid = (before_end & (input_ids != EOT) & (input_ids != SOT)).to(torch.float32).unsqueeze(-1)
        summed = (self.token_embedding(input_ids) * valid).sum(1)
        return self.proj(summed / valid.sum(1).clamp(min=1.0) + self.word_offset)


# ---------------------------------------------------------------- training


def batches(n, size, generator):
    order = torch.randperm(n, generator=generator)
    for start in range(0, n, size):
        yield order[start : start + size]


def flip_half(xb, generator):
    """Mirrors a random half of the batch left–right (every concept is mirror-invariant)."""
    flip = torch.rand(len(xb), generator=generator) < 0.5
    return torch.where(flip.view(-1, 1, 1, 1), xb.flip(3), xb)


def train_target(train, val, epochs, generator, log):
    model = ToyResNet()
    x = to_tensor(train["images"], TARGET_MEAN, TARGET_STD)
    y = torch.from_numpy(presence_targets(train))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = epochs * ((len(x) + 127) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.15)
    tex = slice(N_COLOR + N_OBJECT, len(LABELS))
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for idx in batches(len(x), 128, generator):
            logits = model(flip_half(x[idx], generator))
            yb = y[idx]
            # Presence losses summed over their 19 labels (not averaged): averaged, the texture
            # cross-entropy dominates the shared features and presence never leaves its base rate.
            presence = F.binary_cross_entropy_with_logits(logits[:, : N_COLOR + N_OBJECT], yb[:, : N_COLOR + N_OBJECT])
            loss = presence * (N_COLOR + N_OBJECT) + F.cross_entropy(logits[:, tex], yb[:, tex].argmax(1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        log(f"target epoch {epoch + 1}/{epochs}: loss {total / len(x):.4f}")
    model.eval()
    return model, evaluate_target(model, val)


@torch.no_grad()
def evaluate_target(model, world):
    x = to_tensor(world["images"], TARGET_MEAN, TARGET_STD)
    y = presence_targets(world)
    logits = torch.cat([model(x[i : i + 256]) for i in range(0, len(x), 256)]).numpy()
    tex = slice(N_COLOR + N_OBJECT, len(LABELS))
    objects = slice(N_COLOR, N_COLOR + N_OBJECT)
    colors = slice(0, N_COLOR)
    return {
        "textureAccuracy": float((logits[:, tex].argmax(1) == y[:, tex].argmax(1)).mean()),
        # Per-label presence decisions at logit 0 (probability 0.5).
        "objectPresenceAccuracy": float(((logits[:, objects] > 0) == (y[:, objects] > 0.5)).mean()),
        "objectExactSetAccuracy": float(((logits[:, objects] > 0) == (y[:, objects] > 0.5)).all(1).mean()),
        "colorPresenceAccuracy": float(((logits[:, colors] > 0) == (y[:, colors] > 0.5)).mean()),
        # Threshold-free: the AUC of each shape's logit at telling images with the shape from the
        # rest (0.5 = not learned).
        "objectAuc": {o: round(roc_auc(logits[:, N_COLOR + k], y[:, N_COLOR + k]), 4) for k, o in enumerate(OBJECTS)},
    }


def train_clip(train, bpe, epochs, generator, log, dim=64, width=32, word_weight=1.0):
    """Symmetric InfoNCE on the captions, plus a concept-word loss: each image is also scored against
    the 25 bare concept words (the texts CLIP-Dissect uses), with a softmax over each category's
    words whose target mass is shared by the image's concepts of that category. Captions name a
    shape with one token among many, and InfoNCE alone left the shape words near chance (colours and
    textures tell captions apart already); the word loss supervises what 400M captions teach a real
    CLIP. A few random vocabulary tokens per batch join each category's softmax as negatives (target
    0), so images learn to be unlike the "unknown word" direction that unseen words embed near."""
    vision, text = VisionTower(dim), TextTower(len(bpe.vocab), width, dim)
    logit_scale = nn.Parameter(torch.tensor(float(np.log(1 / 0.07))))
    # The word loss's softmax is as sharp as CLIP-Dissect's over concepts (a = 10 on raw cosines,
    # docs/similarity-functions.md), so a concept the image shows must win by a cosine margin that
    # survives there.
    word_scale = torch.tensor(float(np.log(10.0)))
    x = to_tensor(train["images"], CLIP_MEAN, CLIP_STD)
    tokens = bpe.batch(train["captions"])
    words = bpe.batch(LABELS)
    y = torch.from_numpy(presence_targets(train))
    groups = (slice(0, N_COLOR), slice(N_COLOR, N_COLOR + N_OBJECT), slice(N_COLOR + N_OBJECT, len(LABELS)))
    # No weight decay on the token table: rows of words the captions never use must keep their
    # random initialisation (distractor concepts then embed to unrelated directions, not to zero).
    opt = torch.optim.AdamW([
        {"params": list(vision.parameters()) + list(text.proj.parameters()), "weight_decay": 1e-4},
        {"params": [text.token_embedding.weight, text.word_offset, logit_scale], "weight_decay": 0.0},
    ], lr=3e-3)
    steps = epochs * ((len(x) + 255) // 256)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.15)
    for epoch in range(epochs):
        vision.train()
        text.train()
        total = 0.0
        for idx in batches(len(x), 256, generator):
            img = F.normalize(vision(flip_half(x[idx], generator)), dim=-1)
            txt = F.normalize(text(tokens[idx]), dim=-1)
            logits = logit_scale.exp().clamp(max=100) * img @ txt.t()
            target = torch.arange(len(idx))
            loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2
            if word_weight > 0:
                sims = word_scale.exp().clamp(max=100) * img @ F.normalize(text(words), dim=-1).t()
                unknown_ids = torch.randint(0, SOT, (UNKNOWN_NEGATIVES,), generator=generator)
                unknown_tokens = torch.stack([torch.full_like(unknown_ids, SOT), unknown_ids, torch.full_like(unknown_ids, EOT)], 1)
                unknown = word_scale.exp().clamp(max=100) * img @ F.normalize(text(unknown_tokens), dim=-1).t()
                yb = y[idx]
                for g in groups:
                    share = yb[:, g] / yb[:, g].sum(1, keepdim=True).clamp(min=1)
                    has = yb[:, g].sum(1) > 0
                    logp = F.log_softmax(torch.cat([sims[:, g], unknown], 1), 1)[:, : share.shape[1]]
                    loss = loss + word_weight * -(share * logp).sum(1)[has].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        log(f"clip epoch {epoch + 1}/{epochs}: loss {total / len(x):.4f}, scale {logit_scale.exp().item():.1f}")
    vision.eval()
    text.eval()
    return vision, text


def load_vocabulary():
    """The demo's concept set beyond the world's own words, read from the package's sources so the
    script and the package agree: the near-words of each concept (TOYWORLD_NEAR_WORDS in
    src/concepts.ts) and the common English words (src/vocabulary.gen.ts)."""
    concepts = (PACKAGE / "src" / "concepts.ts").read_text()
    block = concepts[concepts.index("TOYWORLD_NEAR_WORDS"):]
    block = block[block.index("{") + 1: block.index("};")]
    near = {m.group(1): re.findall(r"'([^']+)'", m.group(2)) for m in re.finditer(r"(\w+): \[([^\]]*)\]", block)}
    distractors = concepts[concepts.index("TOYWORLD_DISTRACTORS = ["):]
    distractors = re.findall(r"'([^']+)'", distractors[: distractors.index("] as const")])
    gen = (PACKAGE / "src" / "vocabulary.gen.ts").read_text()
    common = json.loads(gen[gen.index("= [") + 2: gen.rindex("]") + 1])
    return near, distractors, common


def calibrate_text(vision, text, train, bpe, generator, log, steps, shown_cos=SHOWN_COS, near_cos=NEAR_COS, other_cos=OTHER_COS,
                   word_spread=None):
    """Calibrates the text tower on the demo's vocabulary, the image tower fixed. Each step scores
    256 training images against the 25 concept words, their near-words and 512 words drawn from the
    rest of the vocabulary, and pulls each cosine towards what a real CLIP gives: SHOWN_COS for a
    concept the image shows, NEAR_COS for a near-word of one, OTHER_COS for every other word. Words
    the captions never use thereby get embeddings of their own (their tokens are trained from a
    random start), at the cosine unrelated words have to images, instead of one shared direction."""
    near, distractors, common = load_vocabulary()
    near_words = [(w, LABELS.index(c)) for c, ws in near.items() for w in ws]
    taken = set(LABELS) | {w for w, _ in near_words}
    others = [w for w in dict.fromkeys(distractors + common) if w not in taken]
    with torch.no_grad():
        x = to_tensor(train["images"], CLIP_MEAN, CLIP_STD)
        img = torch.cat([F.normalize(vision(x[i: i + 1000]), dim=-1) for i in range(0, len(x), 1000)])
    y = torch.from_numpy(presence_targets(train)).to(torch.float32)
    fixed_tokens = bpe.batch(LABELS + [w for w, _ in near_words], 16)
    near_parent = torch.tensor([c for _, c in near_words])
    other_tokens = bpe.batch(others, 16)
    opt = torch.optim.Adam(text.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=steps, pct_start=0.1)
    text.train()
    for step in range(steps):
        idx = torch.randint(0, len(img), (256,), generator=generator)
        pick = torch.randint(0, len(others), (512,), generator=generator)
        emb = F.normalize(text(torch.cat([fixed_tokens, other_tokens[pick]])), dim=-1)
        cos = img[idx] @ emb.t()
        yb = y[idx]
        target = torch.full_like(cos, other_cos)
        target[:, : len(LABELS)] = other_cos + (shown_cos - other_cos) * yb
        target[:, len(LABELS): len(LABELS) + len(near_words)] = other_cos + (near_cos - other_cos) * yb[:, near_parent]
        shown = target > other_cos
        error = (cos - target) ** 2
        loss = error[shown].mean() + error[~shown].mean()
        if word_spread is not None:
            # Optional: unrelated words point their own ways (their cosine to one another near
            # word_spread), in directions the images do not use.
            other = emb[len(fixed_tokens):]
            pairs = other @ other.t()
            off_diagonal = ~torch.eye(len(other), dtype=torch.bool)
            loss = loss + 0.1 * ((pairs[off_diagonal] - word_spread) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % 250 == 0:
            log(f"text calibration step {step + 1}/{steps}: loss {loss.item():.5f}")
    text.eval()
    return {"nearWords": len(near_words), "otherWords": len(others), "steps": steps,
            "targets": {"shown": shown_cos, "near": near_cos, "other": other_cos, "wordSpread": word_spread}}


def vocabulary_figures(vision, text, bpe, world):
    """Held-out cosines over the demo's vocabulary: shown concepts, near-words, other words (mean,
    spread), how alike other words' embeddings are, and how often a concept the image shows is the
    image's best word in its category against the whole vocabulary."""
    near, distractors, common = load_vocabulary()
    vocabulary = list(dict.fromkeys(LABELS + [w for ws in near.values() for w in ws] + distractors + common))
    with torch.no_grad():
        img = F.normalize(vision(to_tensor(world["images"], CLIP_MEAN, CLIP_STD)), dim=-1)
        emb = torch.cat([F.normalize(text(bpe.batch(vocabulary[i: i + 2000])), dim=-1)
                         for i in range(0, len(vocabulary), 2000)])
    cos = (img @ emb.t()).numpy()
    y = presence_targets(world).astype(bool)
    first_other = len(LABELS) + sum(len(ws) for ws in near.values())
    shown = cos[:, : len(LABELS)][y]
    other = cos[:, first_other:]
    sample = emb[first_other:][torch.randperm(len(vocabulary) - first_other, generator=torch.Generator().manual_seed(0))[:500]]
    word_cos = (sample @ sample.t()).numpy()[np.triu_indices(500, 1)]
    best = np.argmax(cos, axis=1)
    return {
        "vocabulary": len(vocabulary),
        "shownConceptCos": {"mean": round(float(shown.mean()), 4), "std": round(float(shown.std()), 4)},
        "otherWordCos": {"mean": round(float(other.mean()), 4), "std": round(float(other.std()), 4),
                         "p99": round(float(np.percentile(other, 99)), 4)},
        "otherWordsPairwiseCos": {"mean": round(float(word_cos.mean()), 4), "p99": round(float(np.percentile(word_cos, 99)), 4)},
        "bestWordIsShownConcept": round(float(np.mean([best[i] < len(LABELS) and y[i, best[i]] for i in range(len(best))])), 4),
    }


def roc_auc(scores, positive):
    """Mann–Whitney AUC (ties get half credit)."""
    positive = positive.astype(bool)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@torch.no_grad()
def evaluate_clip(vision, text, bpe, world):
    """Zero-shot, with the bare concept word as the text (as CLIP-Dissect uses concepts)."""
    x = to_tensor(world["images"], CLIP_MEAN, CLIP_STD)
    img = F.normalize(torch.cat([vision(x[i : i + 256]) for i in range(0, len(x), 256)]), dim=-1)
    words = F.normalize(text(bpe.batch(LABELS)), dim=-1)
    sim = (img @ words.t()).numpy()
    y = presence_targets(world)
    n = len(y)
    result = {}
    for name, cols in (("color", slice(0, N_COLOR)), ("object", slice(N_COLOR, N_COLOR + N_OBJECT)),
                       ("texture", slice(N_COLOR + N_OBJECT, len(LABELS)))):
        s, t = sim[:, cols], y[:, cols]
        top1 = s.argmax(1)
        hit = t[np.arange(n), top1] > 0.5
        aucs = [roc_auc(s[:, k], t[:, k]) for k in range(s.shape[1])]
        result[name] = {
            # Top-1 among the category's words is a concept the image has.
            "top1Accuracy": float(hit.mean()),
            # What a random guess among the category's words would score.
            "chance": float(t.mean(1).mean()),
            "meanAuc": float(np.nanmean(aucs)),
        }
    return result


# ---------------------------------------------------------------- ground truth


@torch.no_grad()
def ground_truth(model, world, log):
    """NetDissect on the probe set: per unit, threshold T = top 0.5% quantile of its activations over
    all images and positions; M = bilinear-upsampled map > T. Pixel concepts (colours, objects):
    IoU = Σ|M ∩ L| / Σ|M ∪ L| over the probe set. Image-level concepts (textures): AUC of the unit's
    per-image mean activation at separating images with the texture from the rest. A unit is labelled
    with its best pixel concept when that IoU ≥ 0.04 (NetDissect's floor), else with its best texture
    when that AUC ≥ 0.95, else it is non-interpretable."""
    x = to_tensor(world["images"], TARGET_MEAN, TARGET_STD)
    size = world["images"].shape[1]
    captured = {}
    modules = dict(model.named_modules())
    hooks = [modules[name].register_forward_hook(lambda _m, _i, out, name=name: captured.setdefault(name, []).append(out))
             for name in GT_LAYERS]
    for i in range(0, len(x), 200):
        model(x[i : i + 200])
    for h in hooks:
        h.remove()
    color = torch.from_numpy(world["color"].astype(np.int64)).reshape(-1)
    obj = torch.from_numpy(world["object"].astype(np.int64)).reshape(-1)
    names = LABELS[: N_COLOR + N_OBJECT]
    # One column per pixel concept over every probe pixel, so that intersections are one product.
    masks = torch.stack([color == k + 1 for k in range(N_COLOR)] + [obj == N_COLOR + k + 1 for k in range(N_OBJECT)], 1)
    masks = masks.to(torch.float32)
    mask_area = masks.sum(0)
    texture = world["texture"]
    rows, details = [], []
    for layer in GT_LAYERS:
        acts = torch.cat(captured[layer])  # N, C, h, w
        channels = acts.shape[1]
        thresholds = torch.quantile(acts.permute(1, 0, 2, 3).reshape(channels, -1), 1 - TOP_QUANTILE, dim=1)
        means = acts.mean(dim=(2, 3)).numpy()
        for start in range(0, channels, 16):
            chunk = acts[:, start : start + 16]
            up = F.interpolate(chunk, size=(size, size), mode="bilinear", align_corners=False)
            fired = (up > thresholds[start : start + 16].view(1, -1, 1, 1)).permute(1, 0, 2, 3).reshape(chunk.shape[1], -1)
            fired = fired.to(torch.float32)
            inter = fired @ masks
            union = fired.sum(1, keepdim=True) + mask_area.view(1, -1) - inter
            iou = (inter / union.clamp(min=1)).numpy()
            for offset in range(chunk.shape[1]):
                unit = start + offset
                best = int(np.argmax(iou[offset]))
                best_iou, best_pixel = float(iou[offset, best]), names[best]
                aucs = [roc_auc(means[:, unit], texture == N_COLOR + N_OBJECT + k + 1) for k in range(N_TEXTURE)]
                best_tex = int(np.argmax(aucs))
                label = ""
                if best_iou >= IOU_FLOOR:
                    label = best_pixel
                elif aucs[best_tex] >= AUC_FLOOR:
                    label = TEXTURES[best_tex]
                rows.append((layer, unit, label))
                details.append({"layer": layer, "unit": unit, "label": label, "bestPixelConcept": best_pixel,
                                "iou": round(best_iou, 4), "bestTexture": TEXTURES[best_tex],
                                "auc": round(aucs[best_tex], 4)})
        labelled = [r for r in rows if r[0] == layer and r[2]]
        log(f"ground truth {layer}: {len(labelled)}/{channels} interpretable")
    return rows, details


# ---------------------------------------------------------------- export


def export_onnx(module, args, path, input_names, output_names, dynamic_axes):
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(module, args, path, input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic_axes, opset_version=13, do_constant_folding=True)


def staged(folder, name, train, empty, log):
    """Runs a training stage, or loads its weights from `folder` when an earlier run saved them there
    (the modules `empty()` makes receive them); saves what it trains."""
    path = folder / f"{name}.pt" if folder else None
    if path is not None and path.exists():
        modules = empty()
        states = torch.load(path)
        for module, state in zip(modules, states):
            if module is not None:
                module.load_state_dict(state)
                module.eval()
        log(f"loaded the {name} stage from {path}")
        return modules
    result = train()
    if path is not None:
        folder.mkdir(parents=True, exist_ok=True)
        torch.save([m.state_dict() if isinstance(m, nn.Module) else None for m in result], path)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=pathlib.Path, help="folder with train/, val/ and probe/")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target-epochs", type=int, default=15)
    parser.add_argument("--clip-epochs", type=int, default=20)
    parser.add_argument("--word-weight", type=float, default=20.0, help="weight of the CLIP's concept-word loss")
    parser.add_argument("--vocabulary-steps", type=int, default=1500,
                        help="steps of the text tower's calibration on the demo's vocabulary (0: none)")
    parser.add_argument("--cosines", type=float, nargs=3, default=[SHOWN_COS, NEAR_COS, OTHER_COS],
                        metavar=("SHOWN", "NEAR", "OTHER"), help="the calibration's target cosines")
    parser.add_argument("--word-spread", type=float, default=None, metavar="COS",
                        help="also pull unrelated words' text embeddings to this cosine to one another "
                             "(default: off; at 0.9 they reach 0.95 apart from 0.998, and layer4 top-5 on the "
                             "shipped world drops from 25/29 to 24/29)")
    parser.add_argument("--out", type=pathlib.Path, default=MODELS)
    parser.add_argument("--checkpoints", type=pathlib.Path,
                        help="folder for the trained weights of each stage: a stage whose weights are there is loaded, "
                             "not trained again (for working on a later stage)")
    args = parser.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    started = time.time()
    log = lambda message: print(f"[{time.time() - started:6.1f}s] {message}", flush=True)  # noqa: E731

    train, val, probe = (load_world(args.data / split) for split in ("train", "val", "probe"))
    log(f"loaded {len(train['texture'])} train, {len(val['texture'])} val, {len(probe['texture'])} probe images")
    bpe = ClipBpe(VOCAB)

    target, target_figures = staged(args.checkpoints, "target", lambda: train_target(train, val, args.target_epochs, generator, log),
                                    lambda: (ToyResNet(), None), log)
    if target_figures is None:
        target_figures = evaluate_target(target, val)
    log(f"target held-out: {target_figures}")
    # Each stage starts from its own seed, so a stage loaded from --checkpoints leaves the next one
    # exactly as a run from scratch trains it.
    torch.manual_seed(args.seed + 1)
    generator = torch.Generator().manual_seed(args.seed + 1)
    vision, text = staged(args.checkpoints, "clip",
                          lambda: train_clip(train, bpe, args.clip_epochs, generator, log, word_weight=args.word_weight),
                          lambda: (VisionTower(64), TextTower(len(bpe.vocab), 32, 64)), log)
    torch.manual_seed(args.seed + 2)
    generator = torch.Generator().manual_seed(args.seed + 2)
    calibration = (calibrate_text(vision, text, train, bpe, generator, log, args.vocabulary_steps, *args.cosines,
                                  word_spread=args.word_spread)
                   if args.vocabulary_steps > 0 else None)
    clip_figures = evaluate_clip(vision, text, bpe, val)
    if calibration is not None:
        calibration["heldOut"] = vocabulary_figures(vision, text, bpe, val)
        log(f"vocabulary calibration held-out: {json.dumps(calibration['heldOut'])}")
    log(f"clip zero-shot held-out: {json.dumps(clip_figures)}")
    rows, details = ground_truth(target, probe, log)

    out = args.out
    size = train["images"].shape[1]
    export_onnx(target, torch.zeros(1, 3, size, size), out / "target" / "toy-resnet.onnx", ["input"], ["logits"],
                {"input": {0: "batch"}, "logits": {0: "batch"}})
    export_onnx(vision, torch.zeros(1, 3, size, size), out / "clip" / "onnx" / "vision_model.onnx", ["pixel_values"],
                ["image_embeds"], {"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"}})
    export_onnx(text, bpe.batch(["a red star"], 77), out / "clip" / "onnx" / "text_model.onnx", ["input_ids"],
                ["text_embeds"], {"input_ids": {0: "batch", 1: "sequence"}, "text_embeds": {0: "batch"}})
    (out / "clip" / "tokenizer.json").write_text(json.dumps(bpe.tokenizer_json(), ensure_ascii=False))
    (out / "clip" / "preprocessor_config.json").write_text(json.dumps({
        "crop_size": {"height": size, "width": size}, "do_center_crop": True, "do_convert_rgb": True,
        "do_normalize": True, "do_rescale": True, "do_resize": True, "image_mean": CLIP_MEAN, "image_std": CLIP_STD,
        "image_processor_type": "CLIPImageProcessor", "resample": 3, "rescale_factor": 1 / 255,
        "size": {"shortest_edge": size}}, indent=2) + "\n")
    (out / "clip" / "config.json").write_text(json.dumps({
        "model_type": "clip", "projection_dim": 64, "_name_or_path": "neurodissect-toyworld-clip",
        "text_config": {"vocab_size": len(bpe.vocab), "max_position_embeddings": 77},
        "vision_config": {"image_size": size}}, indent=2) + "\n")
    with open(out / "ground-truth.csv", "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["layer", "unit", "label"])
        writer.writerows(rows)

    with torch.no_grad():
        x = to_tensor(val["images"][:8], TARGET_MEAN, TARGET_STD)
        xc = to_tensor(val["images"][:8], CLIP_MEAN, CLIP_STD)
        reference = {
            "images": "val (seed 2) images 0-7",
            "targetLogits": target(x).tolist(),
            "imageEmbeds": vision(xc).tolist(),
            "texts": LABELS,
            "textIds": [bpe.encode(t) for t in LABELS + val["captions"][:4]],
            "textEmbeds": text(bpe.batch(LABELS, 77)).tolist(),
        }
    per_layer = {layer: {"units": sum(1 for r in rows if r[0] == layer),
                         "interpretable": sum(1 for r in rows if r[0] == layer and r[2]),
                         "byCategory": {c: sum(1 for r in rows if r[0] == layer and r[2] and CATEGORY[r[2]] == c)
                                        for c in ("color", "object", "texture")}}
                 for layer in GT_LAYERS}
    report = {
        "seed": args.seed,
        "torch": torch.__version__,
        "data": {"train": f"seed 1, {len(train['texture'])} images", "val": "seed 2, 1000 images", "probe": "seed 0, 1000 images",
                 "size": size},
        "epochs": {"target": args.target_epochs, "clip": args.clip_epochs},
        "clipWordWeight": args.word_weight,
        "target": target_figures,
        "clipZeroShot": clip_figures,
        "vocabularyCalibration": calibration,
        "groundTruth": {"topQuantile": TOP_QUANTILE, "iouFloor": IOU_FLOOR, "aucFloor": AUC_FLOOR,
                        "perLayer": per_layer, "units": details},
        "reference": reference,
        "trainingSeconds": round(time.time() - started, 1),
    }
    (out / "training-report.json").write_text(json.dumps(report, indent=1) + "\n")
    log(f"per layer: {json.dumps(per_layer)}")
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
