"""Record the exercises' reference answers (what ``make reference`` runs).

For notebook 06 this is the study behind its exercises, the same design for every setting (hidden
size, activation pair, depth, dropout): I-AutoRec on ML-100K's 80/10/10 random split (seed 0),
trained with :func:`autorec_lib.exercises.ch06.run` under the exercise protocol (plateau learning
rate, early stopping on validation).

1. λ is chosen for each setting on the validation RMSE of seed 0, over ``ch06.LAMBDA_GRID``
   among the runs that stopped early; where the best λ lies on an edge of the grid, the grid is
   extended past it (by the grid's own factor, up to EXTEND times).
2. The chosen λ is trained with seeds 0-4 (a new initialisation and batch order each, the same
   split). Where their standard deviation exceeds ``ch06.WIDE_SD``, seeds 5-7 join them: these
   5 or 8 *reference seeds* give the mean and the tolerance of the checks.
3. Five more seeds, which the tolerance never sees, are trained the same way; a test holds each
   of them inside the tolerance (the reference solution passes on seeds it never used).
   A run that reaches the epoch cap is kept and marked: the study stores how much it still
   improved in its last LATE epochs ("late_gain"), and a test bounds it.
4. The reference seeds are trained again with ``ch06.LONGER`` times the patience and the epoch
   cap; the study stores how far that moves the mean, beside the seed standard deviation.

The test RMSE is recorded only after λ has been chosen, to set beside the paper's table; it
chooses nothing. Every finished run is cached (one JSON line each, in ``build/``), so an
interrupted study continues where it stopped; ``--jobs 2`` trains two settings at once (one
process per core; set OMP_NUM_THREADS=1). A chapter module with a ``record_reference(data)``
function is recorded too.

    OMP_NUM_THREADS=1 python scripts/record_references.py [--jobs N] [ch06 ...]
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np

from autorec_lib import datasets, splits
from autorec_lib.exercises import ch06, reference
from autorec_lib.experiment import train

EXTEND = 3
N_REFERENCE, N_REFERENCE_WIDE, N_UNSEEN = 5, 8, 5
# The learning-curve exercise: the example of a run that stopped early too soon
# (identity/identity, λ 1000, seed 4), under a constant learning rate and under the protocol.
CURVE_SETTING = ("activations", ("identity", "identity"))
CURVE_LAM, CURVE_SEED = 1000.0, 4
ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = ROOT / "autorec_lib" / "exercises" / "reference"  # the source tree's copy, read by the checks
CACHE_DIR = ROOT / "build"


def write_reference(chapter: str, values: dict, folder: Path = REFERENCE_DIR) -> Path:
    """Store a chapter's reference answers atomically in the repository (``reference/<chapter>.json``)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{chapter}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(values, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)
    return path


def settings() -> dict[str, dict]:
    """Every setting of notebook 06, by group and key: the model options it trains with."""
    keys = {"hidden": ch06.HIDDEN_SIZES, "activations": ch06.ACTIVATION_PAIRS, "deep": ("deep",),
            "dropout": ch06.DROPOUTS}
    return {group: {ch06.key(k): ch06.model_options(group, k) for k in ks} for group, ks in keys.items()}


def option_tag(options: dict) -> str:
    return json.dumps(sorted((k, list(v) if isinstance(v, tuple) else v) for k, v in options.items()))


def protocol_id() -> str:
    """A short fingerprint of the exercise protocol (every training setting but seed and λ): runs
    cached under another protocol are never reused."""
    cfg = {k: v for k, v in ch06.train_config().as_dict().items() if k not in ("seed", "lam")}
    return hashlib.sha256(json.dumps([cfg, ch06.LONGER], sort_keys=True).encode()).hexdigest()[:10]


class RunCache:
    """Finished runs, one JSON line each in ``build/ch06-runs-<protocol>-<pid>.jsonl`` (one file per
    process): settings shared by two groups (hidden 500 is also sigmoid/identity) train once, and
    an interrupted study resumes where it stopped."""

    def __init__(self, folder: Path = CACHE_DIR):
        self.folder = folder
        protocol = protocol_id()
        self.path = folder / f"ch06-runs-{protocol}-{os.getpid()}.jsonl"
        self.runs = {}
        for path in sorted(folder.glob(f"ch06-runs-{protocol}-*.jsonl")):
            for line in path.read_text().splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:  # a line cut short by an interruption
                    continue
                self.runs[entry.pop("tag")] = entry

    def run(self, data, split, options: dict, seed: int, lam: float, longer: bool = False, **protocol) -> dict:
        """One run (from the cache when it is there); ``protocol`` changes the training settings."""
        tag = json.dumps([option_tag(options), seed, lam, longer, sorted(protocol.items())])
        if tag not in self.runs:
            start = time.perf_counter()
            if protocol:
                cfg = ch06.train_config(seed, ch06.lambda_for(lam, options["decoder"], data.scale), longer)
                result = train(data, split, "autorec", "item", progress=False, eval_test=False,
                                    **{**cfg.as_dict(), **protocol, **options})
            else:
                result = ch06.run(data, split, seed=seed, lam=lam, longer=longer, **options)
            records = result.history.records
            self.runs[tag] = {"valid": result.scores["valid"].rmse, "test": result.test_rmse,
                              "best_epoch": result.history.best_epoch, "epochs": len(records),
                              "stopped_early": result.history.stopped_early,
                              "curve": [round(r["valid_rmse"], 5) for r in records],
                              "lr": [r["lr"] for r in records], "seconds": time.perf_counter() - start}
            self.folder.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as f:
                f.write(json.dumps({"tag": tag, **self.runs[tag]}) + "\n")
            print(f"  {options} seed {seed} λ {lam:g}{' longer' if longer else ''}{protocol or ''}: valid "
                  f"{self.runs[tag]['valid']:.4f} (best epoch {self.runs[tag]['best_epoch']} of "
                  f"{self.runs[tag]['epochs']}, {self.runs[tag]['seconds']:.0f} s)", flush=True)
        return self.runs[tag]


def choose_lambda(data, split, options: dict, cache: RunCache) -> tuple[float, dict]:
    """λ with the lowest seed-0 validation RMSE among the grid's runs that stopped early."""
    grid = list(ch06.LAMBDA_GRID)
    runs = {lam: cache.run(data, split, options, 0, lam) for lam in grid}

    def best() -> float:
        converged = [lam for lam in grid if runs[lam]["stopped_early"]]
        if not converged:
            raise RuntimeError(f"no λ of the grid converged for {options}: raise ch06.MAX_EPOCHS")
        return min(converged, key=lambda lam: runs[lam]["valid"])

    for _ in range(EXTEND):
        lam = best()
        if lam == grid[-1]:
            grid.append(grid[-1] * grid[-1] / grid[-2])
        elif lam == grid[0]:
            grid.insert(0, grid[0] * grid[0] / grid[1])
        else:
            break
        new = grid[-1] if lam == grid[-2] else grid[0]
        runs[new] = cache.run(data, split, options, 0, new)
    return best(), {lam: runs[lam] for lam in grid}


LATE = 500  # a run that reached the epoch cap: how much its best validation RMSE fell in its last LATE epochs


def late_gain(run: dict) -> float | None:
    """For a run that reached the epoch cap, the fall of its best validation RMSE over its last
    LATE epochs (how far from converged it still was); None for a run that stopped early."""
    if run["stopped_early"]:
        return None
    return min(run["curve"][:-LATE]) - min(run["curve"])


def study(data, split, options: dict, cache: RunCache) -> dict:
    """One setting: λ chosen on validation, the reference and unseen seeds, and the longer runs."""
    lam, grid = choose_lambda(data, split, options, cache)
    first = [cache.run(data, split, options, seed, lam) for seed in range(N_REFERENCE)]
    n_ref = N_REFERENCE_WIDE if np.std([r["valid"] for r in first], ddof=1) > ch06.WIDE_SD else N_REFERENCE
    seeds = list(range(n_ref + N_UNSEEN))
    runs = [cache.run(data, split, options, seed, lam) for seed in seeds]
    longer = [cache.run(data, split, options, seed, lam, longer=True) for seed in seeds[:n_ref]]
    ref = [r["valid"] for r in runs[:n_ref]]
    mean, sd = float(np.mean(ref)), float(np.std(ref, ddof=1))
    longer_mean = float(np.mean([r["valid"] for r in longer]))
    return {"lam": lam, "grid_valid_seed0": {f"{x:g}": r["valid"] for x, r in grid.items()},
            "grid_stopped_early_seed0": {f"{x:g}": r["stopped_early"] for x, r in grid.items()},
            "grid_best_epoch_seed0": {f"{x:g}": r["best_epoch"] for x, r in grid.items()},
            "seeds": seeds, "n_reference": n_ref, "valid": [r["valid"] for r in runs],
            "test": [r["test"] for r in runs], "best_epochs": [r["best_epoch"] for r in runs],
            "epochs_run": [r["epochs"] for r in runs], "stopped_early": [r["stopped_early"] for r in runs],
            "seconds": [round(r["seconds"], 1) for r in runs],
            "late_gain": [late_gain(r) for r in runs],
            "mean": mean, "sd": sd,
            "longer": {"patience": ch06.PATIENCE * ch06.LONGER, "max_epochs": ch06.MAX_EPOCHS * ch06.LONGER,
                       "seeds": seeds[:n_ref], "valid": [r["valid"] for r in longer],
                       "best_epochs": [r["best_epoch"] for r in longer],
                       "epochs_run": [r["epochs"] for r in longer],
                       "stopped_early": [r["stopped_early"] for r in longer],
                       "mean": longer_mean, "shift": longer_mean - mean}}


def curves(data, split, cache: RunCache) -> dict:
    """The learning-curve exercise's four runs of one setting and seed: a constant learning rate
    with patience 10 (the old protocol) and 50, and the protocol with its patience and five times it."""
    options = ch06.model_options(*CURVE_SETTING)
    runs = {"constant lr, patience 10": dict(lr_schedule="constant", patience=10),
            "constant lr, patience 50": dict(lr_schedule="constant", patience=50)}
    out = {}
    for name, protocol in runs.items():
        r = cache.run(data, split, options, CURVE_SEED, CURVE_LAM, **protocol)
        out[name] = {"valid_rmse": r["curve"], "lr": r["lr"]}
    for name, longer in ((f"plateau lr, patience {ch06.PATIENCE}", False),
                         (f"plateau lr, patience {ch06.PATIENCE * ch06.LONGER}", True)):
        r = cache.run(data, split, options, CURVE_SEED, CURVE_LAM, longer=longer)
        out[name] = {"valid_rmse": r["curve"], "lr": r["lr"]}
    for c in out.values():
        c.update(setting=ch06.key(CURVE_SETTING[1]), lam=CURVE_LAM, seed=CURVE_SEED)
    return out


def _study_one(options: dict) -> tuple[str, dict]:
    """One setting in a worker process (its own cache file)."""
    data = datasets.load("ml-100k")
    split = the_split(data)
    return option_tag(options), study(data, split, options, RunCache())


def the_split(data):
    return splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)


def record_ch06(data, jobs: int = 1) -> dict:
    split = the_split(data)
    groups = settings()
    unique = {option_tag(o): o for entries in groups.values() for o in entries.values()}
    if jobs > 1:  # the slow learners first, so that the two processes finish together
        order = sorted(unique.values(), key=lambda o: (o["encoder"] != "identity" or o["decoder"] != "identity",
                                                       len(o["hidden"]) == 1, o["hidden"][0] > 50,
                                                       o["encoder"] == "sigmoid"))
        with multiprocessing.get_context("spawn").Pool(jobs) as pool:
            for tag, _ in pool.imap_unordered(_study_one, order):
                print(f"finished {tag}", flush=True)
    cache = RunCache()
    done = {tag: study(data, split, options, cache) for tag, options in unique.items()}
    out = {"global_mean_valid": ch06.global_mean_rmse(split),
           "settings": {"scale": list(data.scale), "lr": ch06.LR, "lr_schedule": ch06.LR_SCHEDULE,
                        "lr_patience": ch06.LR_PATIENCE, "lr_factor": ch06.LR_FACTOR,
                        "max_epochs": ch06.MAX_EPOCHS, "patience": ch06.PATIENCE, "longer": ch06.LONGER,
                        "lambda_grid": list(ch06.LAMBDA_GRID), "wide_sd": ch06.WIDE_SD}}
    for group, entries in groups.items():
        out[group] = {name: done[option_tag(options)] for name, options in entries.items()}
    out["curves"] = curves(data, split, cache)
    return out


def study_table(study: dict) -> str:
    """The stored chapter-6 study as a markdown table (``--table``): what the benchmarks page quotes."""
    paper = {ch06.key(pair): value for pair, value in ch06.PAPER_ML1M.items()}
    paper["deep/deep"] = f"{ch06.PAPER_DEEP_ML1M[1]} (pre-trained)"
    lines = ["| setting | λ (chosen on validation) | validation RMSE, reference seeds (mean ± sd) | unseen seeds "
             "(mean) | 5× patience moves the mean by | test RMSE, reference seeds | paper, ML-1M (test) |",
             "|---|---|---|---|---|---|---|"]
    for group in ("hidden", "activations", "deep", "dropout"):
        order = (lambda name: float(name)) if group in ("hidden", "dropout") else (lambda name: 0)
        for name, entry in sorted(study[group].items(), key=lambda item: order(item[0])):
            n = entry["n_reference"]
            label = {"hidden": f"hidden {name}", "deep": "500-250-500", "dropout": f"dropout {name}"}.get(group, name)
            unseen = entry["valid"][n:]
            lines.append(f"| {label} | {entry['lam']:g} | {entry['mean']:.4f} ± {entry['sd']:.4f} ({n}) | "
                         f"{sum(unseen) / len(unseen):.4f} ({len(unseen)}) | {entry['longer']['shift']:+.4f} | "
                         f"{sum(entry['test'][:n]) / n:.4f} | {paper.get(f'{group}/{name}', paper.get(name, '–'))} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", default=["ch01", "ch02", "ch03", "ch04", "ch05", "ch06"])
    parser.add_argument("--jobs", type=int, default=1, help="processes for ch06's study (one per core)")
    parser.add_argument("--table", action="store_true", help="print the stored ch06 study as a markdown table")
    args = parser.parse_args(argv)
    if args.table:
        print(study_table(reference("ch06")))
        return 0
    data = datasets.load("ml-100k")
    for chapter in args.chapters:
        start = time.perf_counter()
        if chapter == "ch06":
            values = record_ch06(data, args.jobs)
        else:
            module = importlib.import_module(f"autorec_lib.exercises.{chapter}")
            if not hasattr(module, "record_reference"):
                continue
            values = module.record_reference(data)
        print(f"wrote {write_reference(chapter, values)} ({(time.perf_counter() - start) / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
