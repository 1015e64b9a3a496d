"""Writes test/fixtures/relations/reference.json: two layers' summaries over the same images and
what numpy says of them (Pearson correlations, linear CKA, mutual best matches), for
packages/core/test/relations.test.ts. Run with Debian's python3-numpy:
/usr/bin/python3 packages/core/scripts/relations-reference.py
"""
import json
import os

import numpy as np

rng = np.random.default_rng(31)
n = 53
a = rng.normal(size=(n, 6)).astype(np.float32)
a[:, 2] = a[:, 0] * 0.8 + rng.normal(size=n).astype(np.float32) * 0.3
a[:, 5] = np.maximum(a[:, 1], 0)  # a ReLU-like unit
b = np.empty((n, 5), dtype=np.float32)
b[:, 0] = a[:, 3] * 2.0 + 1.0  # the same unit, rescaled: r = 1
b[:, 1] = -a[:, 0] + rng.normal(size=n).astype(np.float32) * 0.5
b[:, 2] = rng.normal(size=n).astype(np.float32) * 3 + 10
b[:, 3] = 4.0  # a constant unit: no correlation
b[:, 4] = a[:, 5] + a[:, 1] * 0.2

a64 = a.astype(np.float64)
b64 = b.astype(np.float64)
with np.errstate(invalid="ignore", divide="ignore"):
    r = np.corrcoef(a64.T, b64.T)[: a.shape[1], a.shape[1] :]
xa = a64 - a64.mean(axis=0)
xb = b64 - b64.mean(axis=0)
cka = np.linalg.norm(xa.T @ xb) ** 2 / (np.linalg.norm(xa.T @ xa) * np.linalg.norm(xb.T @ xb))

out = {
    "source": "packages/core/scripts/relations-reference.py (numpy %s, seed 31)" % np.__version__,
    "a": a.tolist(),
    "b": b.tolist(),
    "r": [[None if np.isnan(v) else float(v) for v in row] for row in r],
    "cka": float(cka),
}
path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "relations", "reference.json")
with open(path, "w") as f:
    json.dump(out, f)
    f.write("\n")
