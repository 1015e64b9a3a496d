"""Runs CLIP-Dissect's own similarity functions (similarity.py, from a checkout of the reference
repository given by --reference) on .npy inputs, the way its describe_neurons.py does: normalise
the image and text embeddings, P = I_hat @ T_hat.T, then soft_wpmi(P, activations) per layer on
the CPU. Writes each layer's scores as NAME.npy into --out. Dev-time only: the bench runs it with
Debian's torch (/usr/bin/python3) beside `neurodissect score` on the same files.

    /usr/bin/python3 packages/cli/bench/reference_similarity.py --reference DIR --image-emb I.npy \
        --text-emb T.npy --activations layer1=A1.npy [--activations ...] --out DIR [--threads 2]
"""

import argparse
import os
import sys

import numpy as np
import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True)
    parser.add_argument("--image-emb", required=True)
    parser.add_argument("--text-emb", required=True)
    parser.add_argument("--activations", action="append", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--fn", default="soft_wpmi")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="float64 runs the reference's formulas in double precision (an accuracy check)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sys.path.insert(0, args.reference)
    import similarity  # the reference's own file, never copied into this repository

    fn = getattr(similarity, args.fn)
    os.makedirs(args.out, exist_ok=True)
    with torch.no_grad():
        dtype = torch.float64 if args.dtype == "float64" else torch.float32
        images = torch.from_numpy(np.load(args.image_emb)).to(dtype)
        texts = torch.from_numpy(np.load(args.text_emb)).to(dtype)
        images /= images.norm(dim=-1, keepdim=True)
        texts /= texts.norm(dim=-1, keepdim=True)
        clip_feats = images @ texts.T
        del images, texts
        for spec in args.activations:
            name, path = spec.split("=", 1)
            target = torch.from_numpy(np.load(path)).to(dtype)
            scores = fn(clip_feats, target, device="cpu")
            np.save(os.path.join(args.out, name + ".npy"), scores.numpy().astype(np.float32))
            del target, scores


if __name__ == "__main__":
    main()
