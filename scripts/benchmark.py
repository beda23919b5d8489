"""Benchmark: accuracy over seeds, speed, and memory at MovieLens-10M scale. Not a test: it prints
tables to quote (and writes them under --out).

    python scripts/benchmark.py                # everything (about half an hour on a 2-core CPU)
    python scripts/benchmark.py --seeds 1 --frameworks torch --skip-10m   # a quick look

Accuracy: ML-100K, 90/10 random split with 10% of training held out for validation (the split and
the initialisation both follow the seed), the course's hyperparameters (chosen on validation by
scripts/tune.py), best epoch by validation RMSE. Speed: training seconds per epoch (evaluation
excluded), training seconds until the test RMSE first reaches 0.90 (read off the recorded curve),
and AutoRec's achieved GFLOP/s against this device's measured float32 matmul rate.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from autorec_lib import datasets, experiment, splits
from autorec_lib.config import TrainConfig

MODELS = [("I-AutoRec", "autorec", "item"), ("U-AutoRec", "autorec", "user"),
          ("biased MF", "biased-mf", "item"), ("MF", "mf", "item")]
TARGET = 0.90


def matmul_gflops(framework: str, device: str, n: int = 2048, repeats: int = 10) -> float:
    """Measured float32 matmul rate of one n×n product (best of ``repeats``)."""
    best = float("inf")
    if framework == "torch":
        import torch
        from autorec_lib.torch_backend import pick_device
        dev = pick_device(device)
        a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
        for _ in range(repeats + 2):
            if dev.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            (a @ b).sum().item()
            best = min(best, time.perf_counter() - start)
    else:
        from mxnet import nd
        from autorec_lib.mxnet_backend import pick_context
        ctx = pick_context(device)
        a, b = nd.random.normal(shape=(n, n), ctx=ctx), nd.random.normal(shape=(n, n), ctx=ctx)
        for _ in range(repeats + 2):
            start = time.perf_counter()
            nd.dot(a, b).sum().asscalar()
            best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


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
    """d2l's AutoRec chapter: hidden 500, 25 epochs, Adam lr 0.002, wd 1e-5, dropout 0.05, batch 256,
    item-based, random 90/10, no validation split (the last epoch is kept).

    d2l's loss is ½·mean over the m users of each row, summed over the batch and divided by the batch
    size; its wd adds 1e-5·W to that gradient. Rescaled to our summed objective, that is
    λ = 2·m·n·wd (n rows), the same Adam update up to ε.
    """
    lam = 2 * data.n_users * data.n_items * 1e-5
    split = splits.make_split(data, "random", 0.1, None, seed=0)
    rows = []
    for fw in frameworks:
        result = experiment.train(data, split, "autorec", "item", fw, progress=False, epochs=25, lr=0.002, lam=lam,
                                  batch_size=256, patience=25, device=device, hidden=500, dropout=0.05)
        rows.append(row("I-AutoRec (d2l setup)", fw, result, peaks[fw]))
        print(json.dumps(rows[-1]), flush=True)
    return pd.DataFrame(rows)


ML10M_SHAPE = (71_567, 10_681)  # users, items


def synthetic_ratings(n_users: int, n_items: int, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` distinct synthetic (user, item, rating) triples shaped like MovieLens-10M.

    Popularity-skewed items (at ML-10M's shape the most popular is rated by about a quarter of
    the users, as in ML-10M), uniform users; duplicate pairs are dropped and the first ``n`` kept.
    """
    rng = np.random.default_rng(seed)
    weights = (np.arange(n_items) + 100.0) ** -0.9
    draw = int(n * 1.05) + 1000
    pairs = pd.DataFrame({"user": rng.integers(0, n_users, draw),
                          "item": rng.choice(n_items, draw, p=weights / weights.sum())})
    frame = pairs.drop_duplicates().iloc[:n].reset_index(drop=True)
    if len(frame) < n:
        raise RuntimeError(f"only {len(frame)} distinct synthetic ratings; raise the oversampling")
    frame["rating"] = rng.integers(1, 6, size=len(frame)).astype(np.float32)
    return frame


def memory_probe(device: str, hidden: int, n: int = 10_000_000, shape: tuple[int, int] = ML10M_SHAPE,
                 sparse: bool | None = None) -> dict:
    """One I-AutoRec epoch on a synthetic MovieLens-10M-shaped set (10M ratings); run in a subprocess.

    ``sparse=None`` lets the library choose (``sparse.use_sparse_inputs``: sparse on a CPU, on a GPU
    above ``sparse.SPARSE_ABOVE`` entries).
    """
    from autorec_lib.matrix import RatingMatrix
    from autorec_lib.sparse import SparseAutoRecLearner
    from autorec_lib.torch_backend import AutoRec, build_learner, pick_device

    n_users, n_items = shape
    frame = synthetic_ratings(n_users, n_items, n)
    after_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    matrix = RatingMatrix(frame, n_users, n_items, "item")
    del frame
    cfg = TrainConfig(epochs=1, batch_size=256, lam=100.0, device=device,
                      inputs={None: "auto", True: "sparse", False: "dense"}[sparse])
    learner = build_learner(AutoRec(n_users, hidden), matrix, None, cfg)
    start = time.perf_counter()
    loss = learner.train_epoch(np.random.default_rng(0))
    seconds = time.perf_counter() - start
    out = {"ratings": int(matrix.nnz), "shape": list(matrix.shape), "hidden": hidden, "batch_size": cfg.batch_size,
           "epoch_s": seconds,
           "sparse_encoder": isinstance(learner, SparseAutoRecLearner), "loss": loss,
           "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
           "rss_after_data_gib": after_data,
           "dense_matrix_would_be_gib": n_users * n_items * 4 / 2**30}
    if pick_device(device).type == "cuda":
        import torch
        out["peak_cuda_gib"] = torch.cuda.max_memory_allocated() / 2**30
    return out


def markdown(frame: pd.DataFrame) -> str:
    """A pandas frame as a Markdown table (index included)."""
    frame = frame.reset_index() if frame.index.name or frame.index.names[0] else frame
    cells = [[f"{v:.4g}" if isinstance(v, float) else str(v) for v in r] for r in frame.itertuples(index=False)]
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    return "\n".join([head, rule] + ["| " + " | ".join(r) + " |" for r in cells])


def fmt(frame: pd.DataFrame, by: list[str]) -> str:
    agg = frame.groupby(by, sort=False).agg(
        test_rmse=("test_rmse", "mean"), test_sd=("test_rmse", "std"), valid_rmse=("valid_rmse", "mean"),
        s_per_epoch=("s_per_epoch", "mean"), s_to_090=("s_to_0.90", "mean"), best_epoch=("best_epoch", "mean"),
        runs=("test_rmse", "size"), **({"gflops": ("gflops", "mean")} if "gflops" in frame else {}))
    return markdown(agg.round(4))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--frameworks", default="torch,mxnet")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", type=Path, default=Path("build/benchmark"))
    p.add_argument("--skip-10m", action="store_true")
    p.add_argument("--memory-probe", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--hidden", type=int, default=500, help="hidden size for the 10M memory probe")
    args = p.parse_args()
    if args.memory_probe:
        print(json.dumps(memory_probe(args.device, args.hidden)))
        return 0
    frameworks = [fw for fw in args.frameworks.split(",") if fw]
    args.out.mkdir(parents=True, exist_ok=True)
    peaks = {fw: matmul_gflops(fw, args.device) for fw in frameworks}
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
    if not args.skip_10m:
        probe = subprocess.run([sys.executable, __file__, "--memory-probe", "--device", args.device,
                                "--hidden", str(args.hidden)], capture_output=True, text=True, check=True)
        mem = json.loads(probe.stdout.strip().splitlines()[-1])
        print(json.dumps(mem), flush=True)
        report += ["", "## One I-AutoRec epoch on a MovieLens-10M-shaped set", "",
                   markdown(pd.Series(mem).rename_axis("measure").to_frame("value"))]
    text = "\n".join(report) + "\n"
    (args.out / "results.md").write_text(text)
    (args.out / "results.json").write_text(json.dumps({k: v.to_dict("records") for k, v in frames.items()}, indent=1))
    print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
