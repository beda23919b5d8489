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
import itertools
import json
import sys
from pathlib import Path

from .checkpoint import CheckpointError
from .config import ACTIVATIONS, FRAMEWORKS, INPUTS, MODEL_TYPES, OPTIMIZERS, RunConfig, course_config
from .datasets import DATASETS, DataError
from .files import write_atomically
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
    t.add_argument("--model", choices=MODEL_TYPES, default="autorec", help="which model type to train")
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
    t.add_argument("--force", action="store_true", help="replace an earlier run's files of the same name in --out")
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
        if field in changes and not (hasattr(config.net, field) or hasattr(config.train, field)):
            raise ValueError(f"--{flag.replace('_', '-')} does not apply to --model {args.model}")
    return config.replace(**changes)


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
    and again, and every later full collection would walk them once more. :func:`gc.freeze` leaves
    them out of every later collection; objects made afterwards are collected as usual.

    Measured on the whole ``python -m autorec_lib train --epochs 3 --patience 3 --no-progress``
    process (ML-100K, the course's I-AutoRec; a shell wrapper read its JSON back, the same on both
    sides), without and with, alternated (A B A B ...),
    ``OMP_NUM_THREADS=1``, 2026-12-05, this course's shared 2-core CPU; CPU seconds (user + system),
    the ratio's median over the pairs (their range). Without this context, 10 pairs, load 6.3 → 7.0:
    3.37 s against 2.94 s, 1.15 (1.09–1.24). Without it and without :func:`run`'s freeze at exit,
    12 pairs, load 7.7 → 6.7: 4.36 s against 3.11 s, 1.40 (1.28–1.56), wall 8.2 s against 6.1 s; with
    the default 2 threads, 12 pairs, load 6.7 → 8.5: CPU 1.18 (0.86–1.84).
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
    out = Path(args.out)
    stem = f"{args.model}-{args.variant}-{args.framework}-{args.dataset}-{args.split}-seed{args.seed}"
    taken = [p.name for p in _outputs(out, stem) if p.exists()]
    if taken and not args.force:
        raise ValueError(f"{out} already holds {', '.join(taken)} from an earlier run; pass --force to replace "
                         "them, or --out another folder")
    data = datasets.load(args.dataset, args.data_path)
    split = splits.make_split(data, args.split, args.test_fraction, args.valid_fraction, args.seed)
    result = experiment.train(data, split, config=config, progress=not args.no_progress)
    if not world.is_main:
        return 0
    summary = {**result.summary(), "dataset": args.dataset, "split": args.split,
               "world_size": world.size, "history": result.history.records}
    from matplotlib.figure import Figure  # a figure of its own: no pyplot, no GUI backend

    figure = Figure(figsize=(6, 3.5))
    ax = result.history.plot(figure.subplots(), label=f"{args.model} {args.variant}", test=True)
    ax.set_title(f"{stem}: test RMSE {result.test_rmse:.4f}")
    figure.tight_layout()
    writers = {".json": lambda path, overwrite: write_atomically(
                   path, lambda f: f.write(json.dumps(summary, indent=2).encode()), overwrite),
               ".png": lambda path, overwrite: write_atomically(
                   path, lambda f: figure.savefig(f, format="png", dpi=100), overwrite),
               ".npz": result.save}
    written = _write_new(out, stem, writers, args.force)
    print(f"best epoch {result.history.best_epoch} of {len(result.history.records)}, "
          f"{result.history.seconds_per_epoch:.2f} s/epoch on {result.device}; "
          f"{result.scores['test'].n_default} test ratings got the default rating")
    if written != stem:
        print(f"note: another run wrote {stem}.* into {out} while this one trained; this run's files are "
              f"{written}.*")
    print(f"wrote {out / written}.json, .png and .npz")
    print(f"test RMSE: {result.test_rmse:.4f}")
    return 0


def _outputs(out: Path, stem: str) -> list[Path]:
    return [out / f"{stem}{suffix}" for suffix in (".json", ".png", ".npz")]


def _write_new(out: Path, stem: str, writers: dict, force: bool) -> str:
    """Write every output under ``stem`` (replacing earlier files only with ``force``); when another
    process took a name meanwhile, under ``stem-2``, ``stem-3``, ...: a result is never lost. Returns
    the stem used."""
    for attempt in itertools.count(1):
        name = stem if attempt == 1 else f"{stem}-{attempt}"
        done = []
        try:
            for suffix, write in writers.items():
                done.append(write(out / f"{name}{suffix}", force))
            return name
        except FileExistsError:
            for path in done:  # this run's own files under a name it cannot have whole
                path.unlink(missing_ok=True)


def recommend_command(args) -> int:
    from .trained import load

    model = load(args.checkpoint)
    table = model.recommend(args.user, args.n)
    print(f"top {len(table)} movies for user {args.user} ({model.config.label}, {model.dataset}):")
    for rank, row in enumerate(table.itertuples(index=False), 1):
        print(f"{rank:>3}. {row.title}  (item {row.item_id}, predicted {row.score:.2f})")
    return 0


def evaluate_command(args) -> int:
    from . import datasets
    from .trained import load

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
    # the process ends here: no last collection need walk every object the libraries made. Without
    # this line (the command of _long_lived's docstring, 10 pairs, OMP_NUM_THREADS=1, load 5.2 → 6.3,
    # 2026-12-05) the process took 3.10 CPU seconds against 2.87, 1.08 (1.03–1.15)
    gc.freeze()
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ValueError, KeyError, DataError, CheckpointError, ImportError, RuntimeError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {message}", file=sys.stderr)
        return 2
