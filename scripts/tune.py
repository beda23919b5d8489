"""Choose the course's default hyperparameters on the **validation** split only.

ML-100K, 90/10 random split (seed 0), 10% of training held out for validation. Prints the
validation RMSE of every grid point and the best per model; the test split is never scored here.

    python scripts/tune.py [--seeds 0 1] [autorec-item autorec-user biased-mf mf ...]
"""
from __future__ import annotations

import itertools
import json
import sys

from autorec_lib import datasets, experiment, splits

# Second round; the first round (lam 0.3..30, lr 1e-3/3e-3, batch 32/128 for I-AutoRec; lam
# 0.02..0.2 for biased MF) pointed towards larger batches, lower learning rates and larger lambda.
GRIDS = {
    "autorec-item": {"lam": [30.0, 100.0, 300.0], "lr": [5e-4, 1e-3], "batch_size": [128, 256]},
    "autorec-user": {"lam": [30.0, 100.0, 300.0], "lr": [5e-4, 1e-3], "batch_size": [32, 128]},
    # third round for U-AutoRec, which over-fits soonest: more lambda, larger batches, dropout
    # (run stopped after 6 of the 8 points: lambda=300 was already clearly worse)
    "autorec-user-3": {"lam": [100.0, 300.0], "lr": [5e-4], "batch_size": [128, 256],
                       "dropout": [0.0, 0.2]},
    # fourth round for U-AutoRec: more dropout and lambda, scored on two seeds' validation splits
    "autorec-user-4": {"lam": [100.0, 200.0], "lr": [5e-4], "batch_size": [128], "dropout": [0.2, 0.5]},
    "autorec-user-5": {"lam": [30.0, 60.0], "lr": [5e-4], "batch_size": [128], "dropout": [0.5, 0.7]},
    # sixth round, on the validation splits of seeds 0-4: a smaller code, more patience
    "autorec-user-6": {"hidden": [300, 500], "patience": [10, 20], "lam": [60.0], "dropout": [0.5]},
    "biased-mf": {"lam": [0.2, 0.3, 0.5], "lr": [5e-3], "n_factors": [64, 128]},
    "mf": {"lam": [0.2, 0.5, 1.0], "lr": [5e-3], "n_factors": [64]},
}


def main(names: list[str], seeds: tuple[int, ...] = (0,)) -> None:
    data = datasets.load("ml-100k")
    # Only train and validation go in: the validation part stands in for the test part.
    tunings = []
    for seed in seeds:
        split = splits.make_split(data, "random", 0.1, 0.1, seed=seed)
        tunings.append(splits.Split(split.train, split.valid, split.valid, "random"))
    for name in names:
        model, variant = ("autorec", name.split("-")[1]) if name.startswith("autorec") else (name, "item")
        grid = GRIDS[name]
        rows = []
        for values in itertools.product(*grid.values()):
            point = dict(zip(grid, values))
            scores, epochs = [], []
            for seed, tuning in zip(seeds, tunings):
                res = experiment.train(data, tuning, model, variant, progress=False, eval_test=False, seed=seed,
                                       **point)
                scores.append(res.scores["valid"].rmse)
                epochs.append(res.history.best_epoch)
            rows.append({**point, "valid_rmse": sum(scores) / len(scores), "best_epoch": epochs})
            print(name, json.dumps(rows[-1]), flush=True)
        best = min(rows, key=lambda r: r["valid_rmse"])
        print("BEST", name, json.dumps(best), flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    seeds = (0,)
    if args[:1] == ["--seeds"]:
        numbers = [a for a in args[1:] if a.isdigit()]
        seeds, args = tuple(map(int, numbers)), args[1 + len(numbers):]
    main(args or list(GRIDS), seeds)
