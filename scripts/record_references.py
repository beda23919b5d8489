"""Record the exercises' reference answers (what ``make reference`` runs).

For notebook 06 this is the full study behind its exercises, the same design for every setting
(hidden size, activation pair, depth, dropout): I-AutoRec on ML-100K's 80/10/10 random split
(seed 0), trained with :func:`autorec_lib.exercises.ch06.run` until early stopping on validation;
λ chosen for each setting on the validation RMSE of seed 0 from ``ch06.LAMBDA_GRID``; then the
chosen λ trained again with seeds 1 and 2 (new initialisation and batch order, same split).
The test RMSE is recorded only after λ has been chosen, to set beside the paper's table; it
chooses nothing. A chapter module with a ``record_reference(data)`` function is recorded too.

    python scripts/record_references.py [ch06 ...]      # about 3 minutes for ch06 on 2 CPU cores
"""
from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from autorec_lib import datasets, splits
from autorec_lib.exercises import ch06

SEEDS = (0, 1, 2)
EXTEND = 3
ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = ROOT / "autorec_lib" / "exercises" / "reference"  # the source tree's copy, read by the checks


def write_reference(chapter: str, values: dict, folder: Path = REFERENCE_DIR) -> Path:
    """Store a chapter's reference answers atomically in the repository (``reference/<chapter>.json``)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{chapter}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    return path


def settings() -> dict[str, dict]:
    """Every setting of notebook 06, by group and key: the model options it trains with."""
    base = {"hidden": (500,), "encoder": "sigmoid", "decoder": "identity", "dropout": 0.0}
    return {
        "activations": {ch06.key(p): {**base, "encoder": p[0], "decoder": p[1]} for p in ch06.ACTIVATION_PAIRS},
        "hidden": {ch06.key(k): {**base, "hidden": (k,)} for k in ch06.HIDDEN_SIZES},
        "deep": {"deep": {**base, "hidden": ch06.DEEP_HIDDEN}},
        "dropout": {ch06.key(p): {**base, "dropout": p} for p in ch06.DROPOUTS},
    }


def study(data, split, options: dict, cache: RunCache) -> dict:
    """λ chosen on seed 0's validation RMSE, then every seed at that λ.

    When the best λ lies on an edge of the grid, the grid is extended past that edge (by the
    grid's own factor, up to EXTEND times), so that no choice is an artefact of where it stopped.
    """
    grid = list(ch06.LAMBDA_GRID)
    valid = {lam: cache.run(data, split, options, 0, lam)["valid"] for lam in grid}
    for _ in range(EXTEND):
        best = min(grid, key=valid.get)
        if best == grid[-1]:
            grid.append(grid[-1] * grid[-1] / grid[-2])
        elif best == grid[0]:
            grid.insert(0, grid[0] * grid[0] / grid[1])
        else:
            break
        lam = grid[-1] if best == grid[-2] else grid[0]
        valid[lam] = cache.run(data, split, options, 0, lam)["valid"]
    lam = min(grid, key=valid.get)
    runs = [cache.run(data, split, options, seed, lam) for seed in SEEDS]
    scores = [r["valid"] for r in runs]
    stopped = {f"{x:g}": cache.run(data, split, options, 0, x)["stopped_early"] for x in grid}
    return {"lam": lam, "grid_valid_seed0": {f"{x:g}": valid[x] for x in grid}, "grid_stopped_early_seed0": stopped,
            "seeds": list(SEEDS),
            "valid": scores, "mean": float(np.mean(scores)), "sd": float(np.std(scores, ddof=1)),
            "test": [r["test"] for r in runs], "test_mean": float(np.mean([r["test"] for r in runs])),
            "best_epochs": [r["best_epoch"] for r in runs], "epochs_run": [r["epochs"] for r in runs],
            "stopped_early": [r["stopped_early"] for r in runs]}


class RunCache:
    """Finished runs, one JSON line each in ``build/``: settings shared by two groups (hidden 500
    is also sigmoid/identity) train once, and an interrupted study resumes where it stopped."""

    def __init__(self, path: Path):
        self.path = path
        self.runs = {}
        if path.exists():
            for line in path.read_text().splitlines():
                entry = json.loads(line)
                self.runs[entry.pop("tag")] = entry

    def run(self, data, split, options: dict, seed: int, lam: float) -> dict:
        tag = json.dumps([sorted(options.items()), seed, lam])
        if tag not in self.runs:
            start = time.perf_counter()
            result = ch06.run(data, split, seed=seed, lam=lam, **options)
            self.runs[tag] = {"valid": result.scores["valid"].rmse, "test": result.test_rmse,
                              "best_epoch": result.history.best_epoch, "epochs": len(result.history.records),
                              "stopped_early": result.history.stopped_early}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as f:
                f.write(json.dumps({"tag": tag, **self.runs[tag]}) + "\n")
            print(f"  {options} seed {seed} λ {lam:g}: valid {self.runs[tag]['valid']:.4f} (best epoch "
                  f"{self.runs[tag]['best_epoch']}, {time.perf_counter() - start:.0f} s)", flush=True)
        return self.runs[tag]


def record_ch06(data) -> dict:
    """The study; the file is rewritten after each group, so a long run can be watched."""
    split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)
    out = {"global_mean_valid": ch06.global_mean_rmse(split),
           "settings": {"scale": list(data.scale), "lr": ch06.LR, "max_epochs": ch06.MAX_EPOCHS, "patience": ch06.PATIENCE,
                        "lambda_grid": list(ch06.LAMBDA_GRID), "seeds": list(SEEDS)}}
    cache = RunCache(ROOT / "build" / "reference-runs.jsonl")
    for group, entries in settings().items():
        out[group] = {}
        for name, options in entries.items():
            print(f"{group} {name}", flush=True)
            out[group][name] = study(data, split, options, cache)
        write_reference("ch06", out)
    return out


def main(argv: list[str]) -> int:
    data = datasets.load("ml-100k")
    chapters = argv or ["ch01", "ch02", "ch03", "ch04", "ch05", "ch06"]
    for chapter in chapters:
        if chapter == "ch06":
            values = record_ch06(data)
        else:
            module = importlib.import_module(f"autorec_lib.exercises.{chapter}")
            if not hasattr(module, "record_reference"):
                continue
            values = module.record_reference(data)
        print(f"wrote {write_reference(chapter, values)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
