"""The torch side of the forward-pass benchmark: the loop a torch user writes (CLIP-Dissect's
`save_target_activations` and `save_clip_image_features`): PIL decodes each image, torchvision
transforms it, batches go through the model under `torch.no_grad()`; ResNet layers are caught with
forward hooks and mean-pooled over H×W. Prints one JSON line with the wall seconds of the loop
(model loading excluded) and writes the outputs as .npy for comparison.

    /usr/bin/python3 torch_forward.py activations --weights resnet50.pt --layers layer1,layer4 --images DIR --out DIR
    /usr/bin/python3 torch_forward.py embed-images --weights clip-b16/visual.pt --images DIR --out DIR
"""
import argparse
import importlib.util
import json
import os
import pathlib
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


def bench_models():
    spec = importlib.util.spec_from_file_location("export_bench_models", HERE / "export-bench-models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["activations", "embed-images"])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--layers", default="layer1,layer2,layer3,layer4")
    parser.add_argument("--images", required=True)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--mkldnn", action="store_true",
                        help="run Linear layers through oneDNN (Debian's torch has only a generic BLAS)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in pathlib.Path(args.images).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if args.mode == "activations":
        model = torchvision.models.resnet50()
        preprocess = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                                         transforms.Normalize(*IMAGENET)])
        layers = args.layers.split(",")
    else:
        model = bench_models().ClipImageTower()
        preprocess = transforms.Compose([transforms.Resize(224, interpolation=transforms.InterpolationMode.BICUBIC),
                                         transforms.CenterCrop(224), transforms.ToTensor(),
                                         transforms.Normalize(*CLIP)])
        layers = []
    model.load_state_dict(torch.load(args.weights))
    model.eval()
    if args.mkldnn:
        model = torch.utils.mkldnn.to_mkldnn(model)
    caught = {layer: [] for layer in layers}
    for layer in layers:
        model.get_submodule(layer).register_forward_hook(
            lambda module, inputs, output, layer=layer: caught[layer].append(output.mean(dim=(2, 3)).numpy()))
    outputs = []
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(files), args.batch_size):
            batch = torch.stack([preprocess(Image.open(f).convert("RGB")) for f in files[i:i + args.batch_size]])
            out = model(batch)
            if not layers:
                outputs.append(out.numpy())
    seconds = time.perf_counter() - start
    if layers:
        for layer in layers:
            np.save(args.out / f"{layer}.npy", np.concatenate(caught[layer]).astype(np.float32))
    else:
        np.save(args.out / "image-embeddings.npy", np.concatenate(outputs).astype(np.float32))
    print(json.dumps({"mode": args.mode, "images": len(files), "seconds": round(seconds, 2),
                      "imagesPerSecond": round(len(files) / seconds, 2), "threads": args.threads,
                      "mkldnn": args.mkldnn}))


if __name__ == "__main__":
    main()
