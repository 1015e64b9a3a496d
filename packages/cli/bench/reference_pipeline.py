"""The reference's whole job in torch, as CLIP-Dissect's describe_neurons.py runs it, on the files
`neurodissect dissect` reads: the target model's activations (forward hooks on layers 1-4,
mean over H×W), CLIP's image features and its text features (token ids padded to 77, as
clip.tokenize gives them; written by `neurodissect tokenize`), each in batches under no_grad, then
soft-WPMI per layer on P = Î·T̂ᵀ: CLIP-Dissect's own similarity.py when --reference names a checkout
of its repository, else the same formulation written out here (softmax of a·P over every image,
each neuron's top-k rows gathered with torch.topk, their logs summed, the layer's prior). Prints
each stage's wall seconds as one JSON line, and writes --out/report.json (the same, with each
neuron's best concept and score per layer) and NAME.npy score matrices.

    /usr/bin/python3 reference_pipeline.py --models DIR --images DIR --tokens T.jsonl --out DIR [--reference REPO]
"""
import argparse
import importlib.util
import json
import os
import pathlib
import sys
import time

import numpy as np
import torch
import torch.utils.mkldnn
import torchvision
from PIL import Image
from torchvision import transforms

HERE = pathlib.Path(__file__).resolve().parent
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
CLIP = ([0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711])
TOP_K, A, LAMBDA, MIN_PROB, P_START, P_END = 100, 10, 1, 1e-7, 0.998, 0.97


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def soft_wpmi(clip_feats, target_feats, top_k=TOP_K):
    """The reference formulation (CLIP-Dissect's paper, eq. for soft-WPMI), written out here."""
    probs = torch.nn.functional.softmax(A * clip_feats, dim=1)
    top_vals, top_ids = torch.topk(target_feats, k=top_k, dim=0)
    weights = torch.linspace(P_START, P_END, top_k, dtype=clip_feats.dtype)
    out = []
    for k in range(target_feats.shape[1]):
        rows = probs[top_ids[:, k]]
        out.append(torch.log(1 + weights[:, None] * (rows - 1) + MIN_PROB).sum(dim=0))
    log_p = torch.stack(out)
    prior = torch.logsumexp(log_p, dim=0, keepdim=True) - np.log(log_p.shape[0])
    return log_p - LAMBDA * prior


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", required=True, type=pathlib.Path)
    parser.add_argument("--images", required=True, type=pathlib.Path)
    parser.add_argument("--count", type=int)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--layers", default="layer1,layer2,layer3,layer4")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--text-batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--reference")
    parser.add_argument("--out", required=True, type=pathlib.Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in args.images.iterdir() if p.suffix == ".png" and "_" not in p.stem)
    files = files[: args.count] if args.count else files
    models = load("export_bench_models", HERE / "export-bench-models.py")
    text = models.text_module()
    resnet = torchvision.models.resnet50()
    resnet.load_state_dict(torch.load(args.models / "resnet50.pt"))
    visual = models.ClipImageTower()
    visual.load_state_dict(torch.load(args.models / "clip-b16" / "visual.pt"))
    textual = text.TextTower()
    textual.load_state_dict(torch.load(args.models / "clip-b16" / "textual.pt"))
    for model in (resnet, visual, textual):
        model.eval()
    # Debian's torch has only a generic BLAS: its Linear layers run through oneDNN instead, torch's
    # fastest here (the ResNet's convolutions already do; its hooks need dense outputs).
    visual = torch.utils.mkldnn.to_mkldnn(visual)
    textual = torch.utils.mkldnn.to_mkldnn(textual)
    layers = args.layers.split(",")
    caught = {layer: [] for layer in layers}
    for layer in layers:
        resnet.get_submodule(layer).register_forward_hook(
            lambda module, inputs, output, layer=layer: caught[layer].append(output.mean(dim=(2, 3))))
    # dissect feeds a Broden-format probe whole: resize to 224, crop 224.
    target_preprocess = transforms.Compose([transforms.Resize(224), transforms.CenterCrop(224),
                                            transforms.ToTensor(), transforms.Normalize(*IMAGENET)])
    clip_preprocess = transforms.Compose([
        transforms.Resize(224, interpolation=transforms.InterpolationMode.BICUBIC), transforms.CenterCrop(224),
        transforms.ToTensor(), transforms.Normalize(*CLIP)])
    timings = {}
    with torch.no_grad():
        # describe_neurons.py saves the target's activations and CLIP's image features in passes of their own.
        start = time.perf_counter()
        for i in range(0, len(files), args.batch_size):
            resnet(torch.stack([target_preprocess(Image.open(f).convert("RGB")) for f in files[i:i + args.batch_size]]))
        timings["targetActivations"] = time.perf_counter() - start
        start = time.perf_counter()
        image_features = []
        for i in range(0, len(files), args.batch_size):
            batch = torch.stack([clip_preprocess(Image.open(f).convert("RGB")) for f in files[i:i + args.batch_size]])
            image_features.append(visual(batch))
        image_features = torch.cat(image_features)
        timings["clipImages"] = time.perf_counter() - start
        start = time.perf_counter()
        with open(args.tokens) as handle:
            ids = torch.tensor([json.loads(line) for line in handle if line.strip()], dtype=torch.int64)
        text_features = torch.cat([textual(ids[i:i + args.text_batch_size])
                                   for i in range(0, len(ids), args.text_batch_size)])
        timings["clipTexts"] = time.perf_counter() - start
        start = time.perf_counter()
        fn = soft_wpmi
        if args.reference:
            sys.path.insert(0, args.reference)
            import similarity  # the reference's own file, never copied into this repository
            fn = lambda clip, target: similarity.soft_wpmi(clip, target, device="cpu")  # noqa: E731
        images = image_features / image_features.norm(dim=-1, keepdim=True)
        texts = text_features / text_features.norm(dim=-1, keepdim=True)
        clip_feats = images @ texts.T
        best = {}
        for layer in layers:
            scores = fn(clip_feats, torch.cat(caught[layer]))
            np.save(args.out / f"{layer}.npy", scores.numpy().astype(np.float32))
            values, concepts = scores.max(dim=1)
            best[layer] = {"concepts": concepts.tolist(), "scores": values.tolist()}
        timings["similarity"] = time.perf_counter() - start
    report = {"images": len(files), "concepts": len(ids), "seconds": timings,
              "similarity": "similarity.py" if args.reference else "formulation", "best": best}
    (args.out / "report.json").write_text(json.dumps(report))
    print(json.dumps({key: value for key, value in report.items() if key != "best"}))


if __name__ == "__main__":
    main()
