"""Benchmark: accuracy over seeds, with each run's speed. Not a test: it prints tables to quote (and
writes them under --out).

    python scripts/benchmark.py                # everything (about half an hour on a 2-core CPU)
    python scripts/benchmark.py --seeds 1 --frameworks torch   # a quick look

Accuracy: ML-100K, 90/10 random split with 10% of training held out for validation (the split and
the initialisation both follow the seed), the course's hyperparameters (chosen on validation by
scripts/tune.py), best epoch by validation RMSE. Speed: training seconds per epoch (evaluation
excluded), training seconds until the test RMSE first reaches 0.90 (read off the recorded curve),
and AutoRec's achieved GFLOP/s against this device's measured float32 matmul rate. Speed against
its floors, and the MovieLens-10M-shaped epoch, are ``scripts/speed.py``'s (whose matmul rate and
table writer this script uses).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from autorec_lib import datasets, experiment, splits

from d2l_compare import D2L_SETUP  # noqa: E402  (beside this script: python puts scripts/ first on sys.path)
from speed import markdown, matmul_rate  # noqa: E402

MODELS = [("I-AutoRec", "autorec", "item"), ("U-AutoRec", "autorec", "user"),
          ("biased MF", "biased-mf", "item"), ("MF", "mf", "item")]
TARGET = 0.90


def time_to_target(history, target: float = TARGET) -> float:
    elapsed = 0.0
    for record in history.records:
        elapsed += record["seconds"]
        if record.get("test_rmse", np.inf) <= target:
            return elapsed
    return float("nan")


def row(label: str, framework: str, result, peak: float) -> dict:
    spe = result.history.seconds_per_epoch
    out = {"model": label, "framework": framework, "device": result.device, "test_rmse": result.test_rmse,
           "valid_rmse": result.scores["valid"].rmse if "valid" in result.scores else float("nan"),
           "best_epoch": result.history.best_epoch, "s_per_epoch": spe,
           "s_to_0.90": time_to_target(result.history), "train_s": result.seconds}
    if result.config.is_autorec:
        flops = result.config.net.flops_per_epoch(result.learner.matrix.shape[0])
        out["gflops"] = flops / spe / 1e9
        out["pct_of_matmul"] = 100 * out["gflops"] / peak
    return out


def accuracy(data, frameworks, seeds, device, peaks) -> pd.DataFrame:
    rows = []
    for label, model, variant in MODELS:
        for fw in frameworks:
            for seed in seeds:
                split = splits.make_split(data, "random", 0.1, 0.1, seed=seed)
                result = experiment.train(data, split, model, variant, fw, progress=False, seed=seed, device=device)
                rows.append({**row(label, fw, result, peaks[fw]), "seed": seed})
                print(json.dumps(rows[-1]), flush=True)
    return pd.DataFrame(rows)


def canonical(data, frameworks, device, peaks) -> pd.DataFrame:
    rows = []
    split = splits.make_split(data, "u1", valid_fraction=0.1, seed=0)
    for label, model, variant in MODELS[:3]:
        for fw in frameworks:
            result = experiment.train(data, split, model, variant, fw, progress=False, device=device)
            rows.append(row(label, fw, result, peaks[fw]))
            print(json.dumps(rows[-1]), flush=True)
    return pd.DataFrame(rows)


def d2l_setup(data, frameworks, device, peaks) -> pd.DataFrame:
    """d2l's AutoRec chapter as ``scripts/d2l_compare.py`` sets it up (:data:`d2l_compare.D2L_SETUP`:
    hidden 500, 25 epochs, Adam lr 0.002, λ = 2·m·n·wd for d2l's wd 1e-5, dropout 0.05, batch 256),
    item-based, random 90/10, no validation split (the last epoch is kept)."""
    split = splits.make_split(data, "random", 0.1, None, seed=0)
    rows = []
    for fw in frameworks:
        result = experiment.train(data, split, "autorec", "item", fw, progress=False, device=device, **D2L_SETUP)
        rows.append(row("I-AutoRec (d2l setup)", fw, result, peaks[fw]))
        print(json.dumps(rows[-1]), flush=True)
    return pd.DataFrame(rows)


def fmt(frame: pd.DataFrame, by: list[str]) -> str:
    agg = frame.groupby(by, sort=False).agg(
        test_rmse=("test_rmse", "mean"), test_sd=("test_rmse", "std"), valid_rmse=("valid_rmse", "mean"),
        s_per_epoch=("s_per_epoch", "mean"), s_to_090=("s_to_0.90", "mean"), best_epoch=("best_epoch", "mean"),
        runs=("test_rmse", "size"), **({"gflops": ("gflops", "mean")} if "gflops" in frame else {}))
    table = agg.round(4).reset_index()
    return markdown(table.to_dict("records"), list(table.columns))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--frameworks", default="torch,mxnet")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", type=Path, default=Path("build/benchmark"))
    args = p.parse_args()
    frameworks = [fw for fw in args.frameworks.split(",") if fw]
    args.out.mkdir(parents=True, exist_ok=True)
    peaks = {fw: matmul_rate(args.device, framework=fw) / 1e9 for fw in frameworks}
    print("float32 2048x2048 matmul: " + ", ".join(f"{fw} {g:.0f} GFLOP/s" for fw, g in peaks.items()), flush=True)
    data = datasets.load("ml-100k")
    report = [f"# Benchmark ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPU cores, device {args.device})",
              "", "float32 matmul: " + ", ".join(f"{fw} {g:.0f} GFLOP/s" for fw, g in peaks.items())]
    seeds = list(range(args.seeds))
    acc = accuracy(data, frameworks, seeds, args.device, peaks)
    report += ["", f"## ML-100K, 90/10 random split, {len(seeds)} seeds (mean, sd)", "", fmt(acc, ["model", "framework"])]
    can = canonical(data, frameworks, args.device, peaks)
    report += ["", "## ML-100K canonical u1 split (seed 0)", "", fmt(can, ["model", "framework"])]
    d2l = d2l_setup(data, frameworks, args.device, peaks)
    report += ["", "## d2l's AutoRec setup with our code", "", fmt(d2l, ["model", "framework"])]
    frames = {"accuracy": acc, "u1": can, "d2l": d2l}
    text = "\n".join(report) + "\n"
    (args.out / "results.md").write_text(text)
    (args.out / "results.json").write_text(json.dumps({k: v.to_dict("records") for k, v in frames.items()}, indent=1))
    print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
