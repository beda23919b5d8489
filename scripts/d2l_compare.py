"""Our AutoRec against Dive into Deep Learning's AutoRec chapter, every run a process of its own.

d2l's setup: I-AutoRec, hidden 500, sigmoid encoder, dropout 0.05, Adam lr 0.002, weight decay
1e-5 (our λ = 2·m·n·wd = 31.7, see :mod:`autorec_lib.objective`), batch 256, 25 epochs, each
followed by an evaluation, on a random 90/10 split. Three parts:

1. **d2l's chapter**, as the book runs it (``scripts/d2l_chapter.py``, in d2l's own environment):
   its training loop's seconds (``train_recsys_rating``), its test RMSE, the split it drew.
2. **Our loop on d2l's split**, PyTorch and MXNet each in a process of its own (this script's
   ``--ours``), ``--runs`` times each, alternated: the median seconds of our loop (25 epochs, each
   with its evaluation), the test RMSE by the course's metric and by d2l's (raw reconstructions, no
   clipping, no default rating). d2l's loop time is the median over its runs in parts 1 and 3.
3. **Whole processes**, alternated (d2l, ours, d2l, ours, ...): d2l's chapter script against
   ``python -m autorec_lib train`` with d2l's setup (its own seeded 90/10 split), start-up, imports,
   data loading, training and every output it writes included; wall seconds, median of ``--runs``,
   and the median of the paired ratios.

Neither framework is timed in a process that imported the other. d2l pins NumPy 1.23.5, so it
lives in an environment of its own (see ``scripts/d2l_chapter.py``); ours is this interpreter's::

    python3.11 -m venv .venv-d2l && .venv-d2l/bin/pip install mxnet==1.9.1 d2l==1.0.3
    python scripts/d2l_compare.py --d2l-python .venv-d2l/bin/python      # = make d2l (a few minutes)

Writes ``results.json`` and ``results.md`` under ``--out``. Not a test: a benchmark to quote.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HIDDEN, EPOCHS, LR, WD, DROPOUT, BATCH = 500, 25, 0.002, 1e-5, 0.05, 256
ML100K_USERS, ML100K_ITEMS = 943, 1682
LAMBDA = round(2 * ML100K_USERS * ML100K_ITEMS * WD, 1)  # 31.7
# d2l's setup as our run's settings (RunConfig fields; scripts/benchmark.py trains it too): every
# epoch is kept (patience = epochs), since d2l has no validation split
D2L_SETUP = {"hidden": HIDDEN, "dropout": DROPOUT, "lr": LR, "lam": LAMBDA, "batch_size": BATCH, "epochs": EPOCHS,
             "patience": EPOCHS}
# `python -m autorec_lib train` with d2l's setup and the library's defaults otherwise (on a CPU the
# encoder reads only the ratings and the decoder computes only the rated entries)
OURS_CLI = ["-m", "autorec_lib", "train", "--hidden", str(HIDDEN), "--dropout", str(DROPOUT), "--lr", str(LR),
            "--lambda", str(LAMBDA), "--batch-size", str(BATCH), "--epochs", str(EPOCHS), "--patience", str(EPOCHS),
            "--valid-fraction", "0", "--test-fraction", "0.1", "--no-progress"]


def ours_on_d2l_split(framework: str, split_file: Path) -> dict:
    """Our library on d2l's split in this process (one framework only): loop seconds and test RMSEs."""
    import pandas as pd

    from autorec_lib import datasets, experiment, splits
    from autorec_lib.metrics import rmse

    data = datasets.load("ml-100k")
    arrays = np.load(split_file)
    part = lambda name: data.index_ratings(pd.DataFrame({c: arrays[f"{name}_{c}"] for c in
                                                         ("user_id", "item_id", "rating", "timestamp")}))
    split = splits.Split(part("train"), part("test"), None, "d2l-random")
    result = experiment.train(data, split, "autorec", "item", framework, progress=False, **D2L_SETUP)
    records = result.history.records
    raw = result.learner.predict(split.test["user"].to_numpy(), split.test["item"].to_numpy())
    return {"implementation": f"autorec_lib {framework}",
            "loop_s": sum(r["seconds"] + r["eval_seconds"] for r in records),
            "train_s": sum(r["seconds"] for r in records), "eval_s": sum(r["eval_seconds"] for r in records),
            "test_rmse": result.test_rmse, "test_rmse_d2l_metric": rmse(raw, split.test["rating"].to_numpy())}


def median_loop(rows: list[dict]) -> dict:
    """One implementation's runs as one row: the first run's figures, with the median loop time."""
    loop_s = [r["loop_s"] for r in rows]
    return {**rows[0], "loop_s": float(np.median(loop_s)), "loop_s_all": loop_s}


def run_json(command: list[str], env: dict) -> dict:
    """Run a command that prints a JSON line last; return it."""
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def wall(command: list[str], env: dict) -> float:
    """Seconds one whole process takes (its output discarded; a failure stops the benchmark)."""
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--d2l-python", default=str(ROOT / ".venv-d2l/bin/python"),
                        help="an interpreter with d2l 1.0.3 and MXNet 1.9.1")
    parser.add_argument("--runs", type=int, default=3, help="runs of each side: loops, and whole processes")
    parser.add_argument("--out", type=Path, default=ROOT / "build/d2l")
    parser.add_argument("--ours", choices=["torch", "mxnet"], help=argparse.SUPPRESS)  # part 2, in its own process
    parser.add_argument("--split-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ours:
        print(json.dumps(ours_on_d2l_split(args.ours, args.split_file)))
        return

    from autorec_lib import datasets  # only to find the data folder

    data_dir = datasets.load("ml-100k").path
    args.out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    chapter = [args.d2l_python, str(ROOT / "scripts/d2l_chapter.py"), str(data_dir), "--out", str(args.out / "chapter.json")]
    ours_cli = [sys.executable, *OURS_CLI, "--out", str(args.out / "runs")]

    print("1. d2l's chapter", flush=True)
    runs = {"d2l": [run_json(chapter, env)], "torch": [], "mxnet": []}
    print(json.dumps(runs["d2l"][0]), f"\n2. ours on d2l's split, {args.runs} runs each, alternated", flush=True)
    for _ in range(args.runs):
        for framework in ("torch", "mxnet"):
            runs[framework].append(run_json([sys.executable, __file__, "--ours", framework, "--split-file",
                                             str(args.out / "chapter.npz")], env))
            print(json.dumps(runs[framework][-1]), flush=True)

    print(f"3. whole processes, alternated, {args.runs} each", flush=True)
    pairs = []
    for _ in range(args.runs):
        pairs.append((wall(chapter, env), wall(ours_cli, env)))
        runs["d2l"].append(json.loads((args.out / "chapter.json").read_text()))  # its loop, timed again
        print(f"  d2l {pairs[-1][0]:.2f} s, ours {pairs[-1][1]:.2f} s", flush=True)
    loops = [median_loop(runs[name]) for name in ("d2l", "torch", "mxnet")]
    for row in loops:
        row["loop_vs_d2l"] = row["loop_s"] / loops[0]["loop_s"]
    d2l_s, ours_s = np.array(pairs).T
    whole = {"d2l_s_median": float(np.median(d2l_s)), "ours_s_median": float(np.median(ours_s)),
             "ratio_median": float(np.median(ours_s / d2l_s)), "runs": args.runs,
             "d2l_command": " ".join(["python", *(str(Path(a).relative_to(ROOT)) if a.startswith(str(ROOT)) else a
                                                  for a in chapter[1:])]),
             "ours_command": " ".join(["python", *OURS_CLI])}
    result = {"loops": loops, "whole_process": whole, "cpus": len(os.sched_getaffinity(0)),
              "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "unset"), "date": time.strftime("%Y-%m-%d")}
    (args.out / "results.json").write_text(json.dumps(result, indent=1))
    lines = [f"| implementation | loop s (25 epochs + evaluation; median of {len(runs['torch'])} or more) | × d2l "
             "| test RMSE (d2l's metric) |",
             "|---|---|---|---|"]
    lines += [f"| {r['implementation']} | {r['loop_s']:.2f} | {r['loop_vs_d2l']:.2f} | {r['test_rmse_d2l_metric']:.4f} |"
              for r in loops]
    lines += ["", f"Whole processes (median of {args.runs}, alternated): d2l's chapter {whole['d2l_s_median']:.1f} s, "
              f"`python -m autorec_lib train` {whole['ours_s_median']:.1f} s, ratio {whole['ratio_median']:.2f}."]
    (args.out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
