"""examples/mlp_digits.py runs as its one command, on tiny settings, and says what it should."""

import json
import os
import subprocess
import sys

import fastact

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "examples", "mlp_digits.py")
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "gelu")


def test_mlp_digits_example(tmp_path):
    # the subprocess imports the fastact these tests import (built in place or installed)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(fastact.__file__)))
    cmd = [sys.executable, SCRIPT, "--epochs", "2", "--hidden", "32", "--layers", "2", "--out", str(tmp_path)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr

    for png in ("learning_curves.png", "activity.png", "time_per_epoch.png"):
        with open(tmp_path / png, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n", png

    rows = [line.split("|")[1].strip() for line in r.stdout.splitlines() if line.startswith("| ")]
    assert rows[1:] == list(ACTIVATIONS)            # the header, then a row per activation

    with open(tmp_path / "results.json") as f:
        res = {row["activation"]: row for row in json.load(f)["rows"]}
    for name, row in res.items():
        assert row["accuracy"] > 0.3, (name, row)   # chance is 0.1; after 2 epochs all are > 0.5
        assert row["max_loss_diff"] < 1e-4, (name, row)   # fastact and NumPy train the same network
        assert row["ms_fastact"] > 0 and row["ms_numpy"] > 0
    for name in ("relu", "leaky_relu", "gelu"):
        assert 0 <= res[name]["dead"] <= 1 and res[name]["saturated"] is None
    for name in ("sigmoid", "tanh"):
        assert 0 <= res[name]["saturated"] <= 1 and res[name]["dead"] is None
    # the vanishing gradient, before any training: sigmoid' <= 1/4 shrinks it layer by layer
    assert res["sigmoid"]["grad_ratio_start"] < res["relu"]["grad_ratio_start"] / 3
