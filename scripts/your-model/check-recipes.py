"""Runs the export recipes of docs/your-model.md as written, then checks each exported model.

Every ```python block of the page runs in a fresh temporary folder; each .onnx it writes is then
run by `neurodissect activations` (the built CLI) on 2 images at once, which a fixed-batch export
would fail. A recipe whose imports are missing (timm) is skipped with a message; without torch the
whole check is skipped with a message. Exit status: 0 when every recipe that ran passed.

Run with Debian's torch: /usr/bin/python3 scripts/your-model/check-recipes.py
"""
import importlib.util
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "your-model.md"
CLI = ROOT / "packages" / "cli" / "dist" / "bin.js"
IMAGES = ROOT / "packages" / "runtime-node" / "test" / "fixtures" / "preprocess"


def main() -> int:
    if importlib.util.find_spec("torch") is None:
        print("skipped: torch is not installed (apt-get install -y python3-torch python3-torchvision)")
        return 0
    if not CLI.exists():
        print(f"{CLI} is missing: build first (pnpm build)")
        return 1
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        images = pathlib.Path(tmp) / "images"
        images.mkdir()
        for name in ["coffee.png", "brick.png"]:
            (images / name).write_bytes((IMAGES / name).read_bytes())
        for index, code in enumerate(blocks, 1):
            needs = sorted(set(re.findall(r"^import ([\w, ]+)", code, re.M)[0].replace(" ", "").split(",")))
            missing = [m for m in needs if importlib.util.find_spec(m) is None]
            if missing:
                print(f"recipe {index}: skipped ({', '.join(missing)} not installed)")
                continue
            work = pathlib.Path(tmp) / f"recipe-{index}"
            work.mkdir()
            run = subprocess.run([sys.executable, "-c", code], cwd=work, capture_output=True, text=True)
            if run.returncode != 0:
                print(f"recipe {index}: FAILED to export\n{run.stderr[-2000:]}")
                failed += 1
                continue
            for model in sorted(work.glob("*.onnx")):
                layers = subprocess.run(
                    ["node", str(CLI), "layers", "--model", str(model), "--json", "--no-run"],
                    capture_output=True, text=True,
                )
                first = re.search(r'"name": "([^"]+)"', layers.stdout)
                if layers.returncode != 0 or not first:
                    print(f"recipe {index}: {model.name}: layers failed\n{layers.stderr}")
                    failed += 1
                    continue
                out = work / "activations"
                acts = subprocess.run(
                    ["node", str(CLI), "activations", "--model", str(model), "--layers", first.group(1),
                     "--images", str(images), "--batch-size", "2", "--out", str(out)],
                    capture_output=True, text=True,
                )
                if acts.returncode != 0:
                    print(f"recipe {index}: {model.name}: a batch of 2 failed\n{acts.stderr}")
                    failed += 1
                else:
                    print(f"recipe {index}: {model.name}: exported, layer {first.group(1)} ran on a batch of 2")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
