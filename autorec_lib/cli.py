"""Command line: ``python -m autorec_lib train | recommend | evaluate``.

``train`` with no options trains I-AutoRec in PyTorch on ML-100K's 90/10 random split (10% of
training held out for validation) with the course's hyperparameters, prints the resolved
configuration and ``test RMSE: 0.xxxx``, and writes a JSON result, a learning-curve PNG and a
checkpoint. ``recommend --checkpoint PATH --user ID`` lists a MovieLens user's top movies from a
checkpoint alone; ``evaluate --checkpoint PATH`` rescores it on its split's held-out parts.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys
import tempfile
from pathlib import Path

from .checkpoint import CheckpointError
from .config import ACTIVATIONS, FRAMEWORKS, INPUTS, MODELS, OPTIMIZERS, RunConfig, course_config
from .datasets import DATASETS, DataError
from .splits import CANONICAL

# CLI flag -> RunConfig field, for the flags that change one field of the run
FIELDS = {"hidden": "hidden", "factors": "n_factors", "encoder_activation": "encoder",
          "decoder_activation": "decoder", "dropout": "dropout", "lam": "lam", "lr": "lr",
          "batch_size": "batch_size", "optimizer": "optimizer", "epochs": "epochs", "patience": "patience",
          "seed": "seed", "device": "device", "inputs": "inputs"}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m autorec_lib", description="AutoRec course library")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train and evaluate a model",
                       description="Train a model; unset options take the course defaults.")
    t.add_argument("--model", choices=MODELS, default="autorec")
    t.add_argument("--variant", choices=["item", "user"], default="item", help="I-AutoRec or U-AutoRec")
    t.add_argument("--framework", choices=FRAMEWORKS, default="torch")
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
    t.add_argument("--seed", type=int, default=0, help="seeds the split and the training")
    t.add_argument("--device", default="auto", help="auto, cpu or cuda")
    t.add_argument("--inputs", choices=INPUTS, help="AutoRec's rows as dense rows or sparse ratings (PyTorch; "
                   "auto: sparse on a CPU, on a GPU for large matrices only)")
    t.add_argument("--out", default="runs", help="folder for the JSON result, the PNG and the checkpoint")
    t.add_argument("--no-progress", action="store_true")

    r = sub.add_parser("recommend", help="top movies for a user, from a checkpoint")
    r.add_argument("--checkpoint", required=True, help="a .npz written by `train` or Result.save")
    r.add_argument("--user", type=int, required=True, help="MovieLens user id (as in the data files)")
    r.add_argument("-n", type=int, default=10, help="how many movies")

    e = sub.add_parser("evaluate", help="rescore a checkpoint on its split's validation and test parts")
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--data-path", help="folder holding the data set's files (else $AUTOREC_DATA, cache, download)")

    from .grading.command import add_parser as add_grade_parser  # `grade`: its options live in autorec_lib.grading
    add_grade_parser(sub)
    return p


def run_config(args) -> RunConfig:
    """The course's defaults for ``--model``/``--variant``, changed only where a flag was given."""
    config = course_config(args.model, args.variant, args.framework)
    changes = {field: getattr(args, flag) for flag, field in FIELDS.items() if getattr(args, flag) is not None}
    for flag, field in FIELDS.items():
        applies = hasattr(config.net, field) or hasattr(config.train, field) and (field != "inputs" or config.is_autorec)
        if field in changes and not applies:
            raise ValueError(f"--{flag.replace('_', '-')} does not apply to --model {args.model}")
    return config.replace(**changes)


def _write_json(path: Path, payload: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def train_command(args) -> int:
    from . import distributed

    config = run_config(args)
    world = distributed.from_env() or distributed.World()
    if world.size > 1:  # started by torchrun: join its process group (see autorec_lib.distributed)
        if args.framework != "torch":
            raise ValueError("torchrun trains with PyTorch's DistributedDataParallel: use --framework torch")
        distributed.init(world, config.train.device)
    try:
        return _train(args, config, world)
    finally:
        if world.size > 1:
            distributed.finish()


@contextlib.contextmanager
def _long_lived():
    """Import libraries with the cyclic garbage collector paused, then freeze what they created.

    PyTorch (or MXNet) and matplotlib create hundreds of thousands of objects that live until the
    process ends. While they are being created, CPython's collector walks the growing heap again
    and again, and once more at exit (see :func:`run`): together 1.5 s of a 4.8 s ML-100K run on a
    2-core CPU. :func:`gc.freeze` leaves them out of every later collection; objects made
    afterwards are collected as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _train(args, config, world) -> int:
    from . import backends, datasets, experiment, splits

    with _long_lived():
        backends.get(config.framework)
        if world.is_main:
            import matplotlib.figure  # noqa: F401  (the learning-curve PNG, drawn at the end)
    if world.is_main:
        print("configuration: " + json.dumps(config.as_dict())
              + (f"; {world.size} processes, global batch {config.train.batch_size}" if world.size > 1 else ""))
    data = datasets.load(args.dataset, args.data_path)
    split = splits.make_split(data, args.split, args.test_fraction, args.valid_fraction, args.seed)
    result = experiment.train(data, split, config=config, progress=not args.no_progress)
    if not world.is_main:
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{args.model}-{args.variant}-{args.framework}-{args.dataset}-{args.split}-seed{args.seed}"
    summary = {**result.summary(), "dataset": args.dataset, "split": args.split,
               "world_size": world.size, "history": result.history.records}
    _write_json(out / f"{stem}.json", summary)
    result.save(out / f"{stem}.npz")
    from matplotlib.figure import Figure  # a figure of its own: no pyplot, no GUI backend

    figure = Figure(figsize=(6, 3.5))
    ax = result.history.plot(figure.subplots(), label=f"{args.model} {args.variant}")
    ax.set_title(f"{stem}: test RMSE {result.test_rmse:.4f}")
    figure.tight_layout()
    figure.savefig(out / f"{stem}.png", dpi=100)
    print(f"best epoch {result.history.best_epoch} of {len(result.history.records)}, "
          f"{result.history.seconds_per_epoch:.2f} s/epoch on {result.device}; "
          f"{result.scores['test'].n_default} test ratings got the default rating")
    print(f"wrote {out / stem}.json, .png and .npz")
    print(f"test RMSE: {result.test_rmse:.4f}")
    return 0


def recommend_command(args) -> int:
    from .model import load

    model = load(args.checkpoint)
    table = model.recommend(args.user, args.n)
    print(f"top {len(table)} movies for user {args.user} ({model.config.label}, {model.dataset}):")
    for rank, row in enumerate(table.itertuples(index=False), 1):
        print(f"{rank:>3}. {row.title}  (item {row.item_id}, predicted {row.score:.2f})")
    return 0


def evaluate_command(args) -> int:
    from . import datasets
    from .model import load

    model = load(args.checkpoint)
    data = datasets.load(model.dataset, args.data_path)
    for part, scores in model.evaluate(data).items():
        print(f"{part} RMSE: {scores.rmse:.4f}  MAE: {scores.mae:.4f}  ({scores.n} ratings, "
              f"{scores.n_default} given the default rating)")
    return 0


COMMANDS = {"train": train_command, "recommend": recommend_command, "evaluate": evaluate_command,
            "grade": lambda args: args.run(args)}


def run() -> None:
    """The program (``python -m autorec_lib`` and the ``autorec`` command): :func:`main`, then exit."""
    code = main()
    gc.freeze()  # the process ends here: no last collection need walk every object the libraries made
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ValueError, KeyError, DataError, CheckpointError, ImportError, RuntimeError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {message}", file=sys.stderr)
        return 2
