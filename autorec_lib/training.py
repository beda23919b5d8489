"""The training loop shared by both frameworks: progress bar, history, best epoch, early stopping.

A framework supplies a *learner*: an object with ``train_epoch(rng) -> loss``,
``predict(users, items) -> ratings``, ``get_weights()``/``set_weights()`` that move NumPy copies
of its parameters, and ``set_learning_rate(lr)`` for a learning-rate schedule. Everything else here is plain Python and NumPy.
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from . import distributed
from .config import TrainConfig
from .metrics import Evaluation, known_pairs, scored, with_default
from .splits import Split


class Learner(Protocol):
    def train_epoch(self, rng: np.random.Generator) -> float: ...
    def set_learning_rate(self, lr: float) -> None: ...
    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray: ...
    def get_weights(self) -> dict[str, np.ndarray]: ...
    def set_weights(self, weights: dict[str, np.ndarray]) -> None: ...


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; ``history`` holds the epochs before it."""

    def __init__(self, message: str, history: "History"):
        super().__init__(message)
        self.history = history


@dataclass
class History:
    """Per-epoch records (``epoch``, ``train_loss``, ``valid_rmse``, ``test_rmse``, ``seconds``,
    ``eval_seconds``): ``seconds`` is training alone, ``eval_seconds`` the scoring after it."""

    records: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.records).set_index("epoch") if self.records else pd.DataFrame()

    @property
    def seconds_per_epoch(self) -> float:
        return float(np.mean([r["seconds"] for r in self.records])) if self.records else float("nan")

    @property
    def eval_seconds_per_epoch(self) -> float:
        """Mean seconds of the per-epoch evaluation (validation and test from one prediction pass)."""
        timed = [r["eval_seconds"] for r in self.records if "eval_seconds" in r]
        return float(np.mean(timed)) if timed else float("nan")

    def plot(self, ax=None, label: str = "", test: bool = False):
        """Learning curves: validation RMSE by epoch, best epoch marked; with ``test=True`` the test
        RMSE too (for a model whose settings are all chosen: never look at it while choosing)."""
        from matplotlib.ticker import MaxNLocator

        if ax is None:
            import matplotlib.pyplot as plt

            ax = plt.subplots(figsize=(6, 3.5))[1]
        frame = self.frame()
        prefix = f"{label} " if label else ""
        for column, style in (("valid_rmse", "-"), ("test_rmse", "--"))[:2 if test else 1]:
            if column in frame and frame[column].notna().any():
                ax.plot(frame.index, frame[column], style, label=f"{prefix}{column.split('_')[0]}")
        if self.best_epoch is not None:
            ax.axvline(self.best_epoch, color="grey", lw=0.8, ls=":")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel("RMSE")
        ax.legend()
        return ax


class NotebookLine:
    """A file for tqdm that redraws one plain-text line in place in a Jupyter output.

    No widget is involved, and the line is finally replaced by a one-line summary, so a notebook
    stored after running shows that summary, not a bar frozen part-way.
    """

    encoding = "utf-8"  # tqdm draws its Unicode bar only into files that declare an encoding

    def __init__(self):
        from IPython.display import display

        self.handle = display({"text/plain": ""}, raw=True, display_id=True)

    def write(self, text: str) -> None:
        text = text.replace("\r", "").strip()
        if text:
            self.handle.update({"text/plain": text}, raw=True)

    def flush(self) -> None:
        pass


def progress_file():
    """Where the progress bar goes: a :class:`NotebookLine` inside a Jupyter kernel, else stderr."""
    try:
        from IPython import get_ipython
    except ImportError:
        return sys.stderr
    shell = get_ipython()
    return NotebookLine() if getattr(shell, "kernel", None) is not None else sys.stderr


def fit(learner: Learner, split: Split, scale: tuple[float, float], cfg: TrainConfig, progress: bool = True,
        eval_test: bool = True, desc: str = "train") -> History:
    """Train for up to ``cfg.epochs``, keep the weights of the best **validation** epoch, stop early
    after ``cfg.patience`` epochs without a better validation RMSE.

    With ``cfg.lr_schedule == "plateau"`` the learning rate is multiplied by ``cfg.lr_factor`` each
    time ``cfg.lr_patience`` epochs in a row bring no better validation RMSE: the rule of PyTorch's
    ``ReduceLROnPlateau(mode="min", threshold=0)`` (a test holds the two together), applied here so
    that both frameworks follow it. The test RMSE is recorded for the learning curves only; it never
    picks anything. Without a validation part the last epoch is kept.
    """
    from tqdm.std import tqdm  # plain text, not a widget: stored notebooks show no frozen widget stubs

    rng = np.random.default_rng(cfg.seed)
    history = History()
    best_rmse, best_weights = math.inf, None
    lr, lr_best, lr_bad_epochs = cfg.lr, math.inf, 0
    world = distributed.current()  # in a process group only process 0 evaluates and draws progress
    progress = progress and world.is_main
    out = progress_file() if progress else sys.stderr
    score = PartScorer({"valid": split.valid, "test": split.test if eval_test else None}, split.train, scale)
    bar = tqdm(range(1, cfg.epochs + 1), desc=desc, disable=not progress, leave=False, file=out)
    for epoch in bar:
        start = time.perf_counter()
        loss = learner.train_epoch(rng)
        seconds = time.perf_counter() - start
        if not math.isfinite(loss):
            raise TrainingDiverged(f"training diverged: the loss became {loss} at epoch {epoch}. "
                                   f"Lower the learning rate (now {lr:g}), or raise lambda.", history)
        record = {"epoch": epoch, "train_loss": loss, "seconds": seconds, "lr": lr}
        start = time.perf_counter()
        scores = score(learner.predict) if world.is_main else None
        record.update({f"{part}_rmse": e.rmse for part, e in distributed.from_main(scores).items()})
        record["eval_seconds"] = time.perf_counter() - start
        history.records.append(record)
        bar.set_postfix(loss=f"{loss:.4f}", **({"val_rmse": f"{record['valid_rmse']:.4f}"}
                                               if "valid_rmse" in record else {}))
        current = record.get("valid_rmse", -epoch)  # no validation part: keep the last epoch
        if cfg.lr_schedule == "plateau":
            lr_best, lr_bad_epochs = (current, 0) if current < lr_best else (lr_best, lr_bad_epochs + 1)
            if lr_bad_epochs > cfg.lr_patience:
                lr, lr_bad_epochs = lr * cfg.lr_factor, 0
                learner.set_learning_rate(lr)
        if current < best_rmse:
            best_rmse, best_weights, history.best_epoch = current, learner.get_weights(), epoch
        elif epoch - history.best_epoch >= cfg.patience:
            history.stopped_early = True
            break
    bar.close()
    if isinstance(out, NotebookLine) and history.records:
        ending = "stopped early" if history.stopped_early else "reached the epoch cap"
        best = f", best validation RMSE {best_rmse:.4f} at epoch {history.best_epoch}" if split.valid is not None else ""
        out.write(f"{desc}: {len(history.records)} epochs ({ending}){best}, "
                  f"{sum(r['seconds'] for r in history.records):.1f} s of training")
    if best_weights is not None:
        learner.set_weights(best_weights)
    return history


class PartScorer:
    """Scores held-out parts (validation, test) with ONE call of ``predict`` over all their pairs.

    What does not change between epochs is worked out once: each part's pairs, which of them have
    a user and an item seen in training (the others get the default rating, as in
    :func:`metrics.evaluate`), and the true ratings. Calling the scorer then predicts the union of
    the known pairs, so an autoencoder encodes each needed row once for validation and test alike,
    and gives every part the same :class:`Evaluation` that :func:`metrics.evaluate` would.
    """

    def __init__(self, parts: dict[str, pd.DataFrame | None], train: pd.DataFrame, scale: tuple[float, float]):
        self.scale = scale
        self.parts, known_users, known_items = {}, [], []
        for name, part in parts.items():
            if part is not None:
                users, items = part["user"].to_numpy(), part["item"].to_numpy()
                known = known_pairs(users, items, train)
                self.parts[name] = (known, part["rating"].to_numpy())
                known_users.append(users[known])
                known_items.append(items[known])
        self.users = np.concatenate(known_users) if known_users else np.empty(0, np.int64)
        self.items = np.concatenate(known_items) if known_items else np.empty(0, np.int64)

    def __call__(self, predict) -> dict[str, Evaluation]:
        preds = np.asarray(predict(self.users, self.items)) if len(self.users) else np.empty(0)
        scores, offset = {}, 0
        for name, (known, truth) in self.parts.items():
            n_known = int(known.sum())
            full = with_default(preds[offset:offset + n_known], known, self.scale)
            offset += n_known
            scores[name] = scored(full, truth, len(truth) - n_known)
        return scores


def evaluate_learner(learner: Learner, split: Split, scale: tuple[float, float]) -> dict[str, Evaluation]:
    """Validation (when present) and test scores of a trained learner (one prediction pass; in a
    process group, process 0's, sent to all)."""
    scores = None
    if distributed.current().is_main:
        scores = PartScorer({"test": split.test, "valid": split.valid}, split.train, scale)(learner.predict)
    return distributed.from_main(scores)
