"""Command line: ``python -m autorec_lib train [options]``.

With no options it trains I-AutoRec in PyTorch on ML-100K's 90/10 random split (10% of training
held out for validation) with the course's hyperparameters, prints ``test RMSE: 0.xxxx``, and
writes a JSON result and a learning-curve PNG.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from .config import ACTIVATIONS, OPTIMIZERS, TrainConfig
from .datasets import DATASETS, DataError
from .splits import CANONICAL


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m autorec_lib", description="AutoRec course library")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train and evaluate a model",
                       description="Train a model; unset options take the course defaults.")
    t.add_argument("--model", choices=["autorec", "mf", "biased-mf"], default="autorec")
    t.add_argument("--variant", choices=["item", "user"], default="item", help="I-AutoRec or U-AutoRec")
    t.add_argument("--framework", choices=["torch", "mxnet"], default="torch")
    t.add_argument("--dataset", choices=list(DATASETS), default="ml-100k")
    t.add_argument("--data-path", help="folder holding the data set's files (else $AUTOREC_DATA, cache, download)")
    t.add_argument("--split", choices=["random", "holdout", *CANONICAL], default="random")
    t.add_argument("--test-fraction", type=float, default=0.1)
    t.add_argument("--valid-fraction", type=float, default=0.1)
    t.add_argument("--hidden", type=int, nargs="+", help="hidden sizes, e.g. 500 or 500 250 500")
    t.add_argument("--factors", type=int, help="latent factors (MF)")
    t.add_argument("--encoder-activation", choices=ACTIVATIONS)
    t.add_argument("--decoder-activation", choices=ACTIVATIONS)
    t.add_argument("--dropout", type=float)
    t.add_argument("--lambda", dest="lam", type=float, help="the paper's λ (weight regularization)")
    t.add_argument("--lr", type=float)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--optimizer", choices=OPTIMIZERS)
    t.add_argument("--epochs", type=int)
    t.add_argument("--patience", type=int)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto", help="auto, cpu or cuda")
    t.add_argument("--out", default="runs", help="folder for the JSON result, the PNG and the checkpoint")
    t.add_argument("--no-progress", action="store_true")
    return p


def _options(args, chosen: dict) -> tuple[TrainConfig, dict]:
    train = {**chosen["train"], "seed": args.seed, "device": args.device}
    for key in ("lam", "lr", "batch_size", "optimizer", "epochs", "patience"):
        if getattr(args, key) is not None:
            train[key] = getattr(args, key)
    model = dict(chosen["model"])
    flags = {"hidden": args.hidden, "encoder": args.encoder_activation, "decoder": args.decoder_activation,
             "dropout": args.dropout, "n_factors": args.factors}
    for key, value in flags.items():
        if value is not None:
            if key not in model:
                raise ValueError(f"--{key.replace('_', '-')} does not apply to --model {args.model}")
            model[key] = tuple(value) if key == "hidden" else value
    return TrainConfig(**train), model


def _write_json(path: Path, payload: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    with os.fdopen(fd, "w") as f:
        json.dump(payload, f, indent=2)
    os.replace(tmp, path)


def train_command(args) -> int:
    from . import datasets, experiment, splits

    cfg, model_options = _options(args, experiment.defaults(args.model, args.variant))
    data = datasets.load(args.dataset, args.data_path)
    split = splits.make_split(data, args.split, args.test_fraction, args.valid_fraction, args.seed)
    result = experiment.train(data, split, args.model, args.variant, args.framework, cfg,
                              progress=not args.no_progress, **model_options)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{args.model}-{args.variant}-{args.framework}-{args.dataset}-{args.split}-seed{args.seed}"
    summary = {**result.summary(), "dataset": args.dataset, "split": args.split,
               "history": result.history.records}
    _write_json(out / f"{stem}.json", summary)
    result.save(out / f"{stem}.npz")
    import matplotlib

    matplotlib.use("Agg")
    ax = result.history.plot(label=f"{args.model} {args.variant}")
    ax.set_title(f"{stem}: test RMSE {result.test_rmse:.4f}")
    ax.figure.tight_layout()
    ax.figure.savefig(out / f"{stem}.png", dpi=100)
    print(f"best epoch {result.history.best_epoch} of {len(result.history.records)}, "
          f"{result.history.seconds_per_epoch:.2f} s/epoch on {result.device}; "
          f"{result.scores['test'].n_default} test ratings got the default rating")
    print(f"wrote {out / stem}.json, .png and .npz")
    print(f"test RMSE: {result.test_rmse:.4f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return train_command(args)
    except (ValueError, DataError, ImportError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
