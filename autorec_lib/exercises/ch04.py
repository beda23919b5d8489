"""Check functions for the exercises of notebook 04 (AutoRec in PyTorch).

Every check recomputes the right answer from the data and the learner's own trained objects
(a ``Result``'s history, scores and model, the training ratings); none needs a stored reference
and none reads test ratings: the scores a check recomputes are on the validation split.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import fail, number, passed, valid_rmse
from ..config import course_config
from ..metrics import evaluate, top_n

# Exercise 1: the Rprop run, stated in the notebook (Adam's budget and patience, the course's λ).
RPROP = {"optimizer": "rprop", "lr": 1e-3, "lam": 100.0, "epochs": 150, "patience": 10}
OPTIMIZER_ROWS = ("Adam", "Rprop")
OPTIMIZER_COLUMNS = ("epochs run", "best epoch", "train seconds", "valid RMSE")
# Exercise 2 and 3.
N_RECS = 10
RARE_BELOW = 10  # "fewer than 10 training ratings"
RARE_KEYS = ("n ratings", "I-AutoRec", "biased MF")
RMSE_TOL = 1e-6  # recomputed with the same code on the same float32 predictions: equal up to rounding


def _result(value, what: str):
    """Refuse anything that is not an ``experiment.Result``."""
    for attr in ("config", "history", "scores", "learner"):
        if not hasattr(value, attr):
            fail(f"{what} should be the Result that experiment.train returns, got {type(value).__name__}")
    return value


def _is_i_autorec(result, what: str) -> None:
    if result.config.model_type != "autorec" or result.config.variant != "item":
        fail(f"{what} is a {result.config.model_type} ({result.config.variant}) model; this exercise is about I-AutoRec "
             "(model 'autorec', variant 'item')")


def _number_array(values, what: str) -> np.ndarray:
    """A float64 array of finite numbers, refused otherwise."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        fail(f"{what} should hold numbers")
    if not np.all(np.isfinite(array)):
        fail(f"{what} holds NaN or infinite values")
    return array


def _train_seconds(result) -> float:
    return float(sum(r["seconds"] for r in result.history.records))


# --------------------------------------------------------------------------------------------
# Exercise 1: Rprop, full batch, against Adam
# --------------------------------------------------------------------------------------------

def _check_rprop_run(rprop, split, data) -> None:
    _is_i_autorec(rprop, "rprop")
    cfg = rprop.config.train
    if cfg.optimizer != "rprop":
        fail(f"rprop was trained with optimizer {cfg.optimizer!r}: pass optimizer='rprop' to experiment.train")
    model = course_config("autorec", "item").net
    want = {k: getattr(model, k) for k in ("hidden", "encoder", "decoder", "dropout")}
    got = {k: getattr(rprop.config.net, k, None) for k in want}
    got["hidden"], want["hidden"] = tuple(np.atleast_1d(got["hidden"])), tuple(np.atleast_1d(want["hidden"]))
    if got != want:
        fail(f"rprop's model is {got}, not the course's I-AutoRec {want}: change only the optimizer")
    for key in ("lr", "lam", "patience"):
        if not math.isclose(getattr(cfg, key), RPROP[key]):
            fail(f"rprop was trained with {key} = {getattr(cfg, key)!r}; the exercise sets {key} = {RPROP[key]!r} "
                 "(the same objective and patience as Adam, so that only the optimizer differs)")
    if cfg.epochs < RPROP["epochs"]:
        fail(f"rprop's budget was {cfg.epochs} epochs; give it at least Adam's {RPROP['epochs']}")
    learner = rprop.learner
    n_rows = learner.matrix.shape[0]
    if learner.batch_size != n_rows:
        fail(f"rprop trained on batches of {learner.batch_size} movies, not all {n_rows} at once (full batch)")
    history = rprop.history
    if not history.records or history.best_epoch is None:
        fail("rprop has no training history: train it with experiment.train")
    if not (history.stopped_early or len(history.records) == cfg.epochs):
        fail(f"rprop ran {len(history.records)} epochs, neither to early stopping nor to its budget of {cfg.epochs}")
    valid_rmse(rprop, split, data.scale, "rprop")


def _check_adam_run(adam, split, data) -> None:
    _is_i_autorec(adam, "the Adam result")
    cfg = adam.config.train
    if cfg.optimizer != "adam":
        fail(f"the Adam result was trained with optimizer {cfg.optimizer!r}: pass results['I-AutoRec']")
    if not math.isclose(cfg.lam, RPROP["lam"]) or cfg.patience != RPROP["patience"]:
        fail("the Adam result was not trained with the course's λ and patience: pass results['I-AutoRec']")
    valid_rmse(adam, split, data.scale, "the Adam result")


def _row_values(result) -> dict[str, float]:
    return {"epochs run": len(result.history.records), "best epoch": result.history.best_epoch,
            "train seconds": _train_seconds(result), "valid RMSE": result.scores["valid"].rmse}


def check_rprop(rprop, optimizers, adam, split, data) -> None:
    """Exercise 1: ``rprop``, I-AutoRec trained full-batch with Rprop as stated; ``optimizers``, a
    DataFrame with rows ``Adam`` and ``Rprop`` and columns ``epochs run``, ``best epoch``,
    ``train seconds`` and ``valid RMSE``, each taken from that optimizer's own Result."""
    rprop = _result(rprop, "rprop")
    adam = _result(adam, "the Adam result")
    _check_rprop_run(rprop, split, data)
    _check_adam_run(adam, split, data)
    if not isinstance(optimizers, pd.DataFrame):
        fail(f"optimizers should be a pandas DataFrame, got {type(optimizers).__name__}")
    if set(optimizers.index) != set(OPTIMIZER_ROWS) or len(optimizers) != 2:
        fail(f"optimizers should have exactly the rows {list(OPTIMIZER_ROWS)}, got {list(optimizers.index)}")
    missing = [c for c in OPTIMIZER_COLUMNS if c not in optimizers.columns]
    if missing:
        fail(f"optimizers lacks the columns {missing}")
    truth = {"Adam": _row_values(adam), "Rprop": _row_values(rprop)}
    other = {"Adam": "Rprop", "Rprop": "Adam"}
    for row in OPTIMIZER_ROWS:
        for column in OPTIMIZER_COLUMNS:
            value = number(optimizers.loc[row, column], f"optimizers.loc[{row!r}, {column!r}]")
            expected = truth[row][column]
            if math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12):
                continue
            if math.isclose(value, truth[other[row]][column], rel_tol=1e-9, abs_tol=1e-12):
                fail(f"optimizers.loc[{row!r}, {column!r}] is {other[row]}'s value: are the rows swapped?")
            result = adam if row == "Adam" else rprop
            if column == "valid RMSE" and math.isclose(value, result.scores["test"].rmse, rel_tol=1e-9):
                fail(f"optimizers.loc[{row!r}, 'valid RMSE'] is the test RMSE; take scores['valid']")
            if column == "train seconds" and math.isclose(value, result.seconds, rel_tol=1e-9):
                fail(f"optimizers.loc[{row!r}, 'train seconds'] includes the evaluations after every "
                     "epoch (Result.seconds); add up the seconds of the history's records")
            if column == "epochs run" and value == result.history.best_epoch:
                fail(f"optimizers.loc[{row!r}, 'epochs run'] is the best epoch; count the epochs in the history")
            fail(f"optimizers.loc[{row!r}, {column!r}] is {value:g}, but that Result says {expected:g}: "
                 "take every value from the optimizer's own Result")
    r, a = truth["Rprop"], truth["Adam"]
    passed(f"full-batch Rprop ran {r['epochs run']} epochs (best {r['best epoch']}, validation RMSE "
           f"{r['valid RMSE']:.4f}); Adam {a['epochs run']} (best {a['best epoch']}, {a['valid RMSE']:.4f})")


# --------------------------------------------------------------------------------------------
# Exercise 2: the user with the fewest training ratings, and how personal their list is
# --------------------------------------------------------------------------------------------

def _user_index(value, n_users: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        fail(f"few_user should be a user index (an int), got {type(value).__name__} {value!r}")
    if not 0 <= int(value) < n_users:
        fail(f"few_user = {value} is not a user index (0 to {n_users - 1})")
    return int(value)


def _recs_frame(recs, what: str, n_items: int) -> np.ndarray:
    """Structure of a top-N frame; returns its item indices."""
    if not isinstance(recs, pd.DataFrame):
        fail(f"{what} should be a pandas DataFrame (as Result.recommend returns), got {type(recs).__name__}")
    if not {"item", "score"} <= set(recs.columns):
        fail(f"{what} needs the columns 'item' (the movie index) and 'score', got {list(recs.columns)}")
    if len(recs) != N_RECS:
        fail(f"{what} has {len(recs)} rows; a top-{N_RECS} has {N_RECS}")
    items = recs["item"].to_numpy()
    if not np.issubdtype(items.dtype, np.integer) or items.min() < 0 or items.max() >= n_items:
        fail(f"{what}['item'] should hold movie indices 0 to {n_items - 1}")
    if len(set(items.tolist())) != N_RECS:
        fail(f"{what} recommends some movie twice: the {N_RECS} movies must be distinct")
    return items


def check_few_ratings_recommendations(few_user, few_recs, result, split, data) -> None:
    """Exercise 2a: ``few_user``, a user with the fewest ratings in ``split.train``; ``few_recs``,
    that user's top 10 from the I-AutoRec ``result``: unrated movies, best first, scores clipped."""
    result = _result(result, "the I-AutoRec result")
    _is_i_autorec(result, "the result")
    user = _user_index(few_user, data.n_users)
    counts = np.bincount(split.train["user"].to_numpy(), minlength=data.n_users)
    fewest = int(counts.min())
    if counts[user] != fewest:
        some = np.flatnonzero(counts == fewest)[:5].tolist()
        fail(f"user {user} has {counts[user]} ratings in split.train, but the fewest any user has there is "
             f"{fewest} (e.g. users {some}). Count the training ratings, not all ratings, and take the smallest.")
    items = _recs_frame(few_recs, "few_recs", data.n_items)
    rated = split.train.loc[split.train["user"] == user, "item"].to_numpy()
    already = np.intersect1d(items, rated)
    if len(already):
        fail(f"few_recs contains {len(already)} movie(s) user {user} already rated in training "
             f"(e.g. index {already[0]}): leave the rated movies out")
    scores = _number_array(few_recs["score"], "few_recs['score']")
    low, high = data.scale
    if scores.min() < low or scores.max() > high:
        fail(f"few_recs's scores run from {scores.min():.3f} to {scores.max():.3f}, off the rating scale "
             f"{data.scale}: clip them as the evaluation does (np.clip(score, *data.scale))")
    if np.any(np.diff(scores) > 0):
        fail("few_recs is not sorted best first: sort by score, highest first")
    everything = np.arange(data.n_items)
    predicted = np.clip(result.learner.predict(np.full(data.n_items, user), everything), low, high)
    if not np.allclose(scores, predicted[items], atol=1e-5):
        fail(f"few_recs's scores are not the model's clipped predictions for user {user}: recommend for "
             "few_user with the trained I-AutoRec")
    others = np.setdiff1d(everything, np.concatenate([items, rated]))
    if len(others) and predicted[others].max() > scores.min() + 1e-6:
        better = others[np.argmax(predicted[others])]
        fail(f"movie {better} is unrated by user {user} and predicted {predicted[better]:.3f}, higher than "
             f"your 10th pick ({scores.min():.3f}): few_recs is not the top {N_RECS}")
    passed(f"user {user} has the fewest training ratings ({fewest}); few_recs is their top {N_RECS} "
           "among unrated movies, best first, on the rating scale")


def everyones_top(result, data, clip: bool) -> np.ndarray:
    """The 10 movies with the highest mean prediction over all users (clipped or not)."""
    users = np.repeat(np.arange(data.n_users), data.n_items)
    items = np.tile(np.arange(data.n_items), data.n_users)
    predicted = result.learner.predict(users, items).reshape(data.n_users, data.n_items).astype(np.float64)
    if clip:
        predicted = np.clip(predicted, *data.scale)
    return top_n(predicted.mean(axis=0), np.array([], dtype=np.int64), N_RECS)


def check_overlap(few_overlap, few_recs, result, data) -> None:
    """Exercise 2b: how many of ``few_recs``'s movies are among everyone's top 10 (the 10 movies
    with the highest mean predicted rating over all users, predictions clipped or not)."""
    result = _result(result, "the I-AutoRec result")
    _is_i_autorec(result, "the result")
    if isinstance(few_overlap, bool) or not isinstance(few_overlap, (int, np.integer)):
        fail(f"few_overlap should be a count of movies (an int), got {type(few_overlap).__name__} {few_overlap!r}")
    items = set(_recs_frame(few_recs, "few_recs", data.n_items).tolist())
    counts = {clip: len(items & set(everyones_top(result, data, clip).tolist())) for clip in (False, True)}
    if int(few_overlap) not in counts.values():
        fail(f"few_overlap is {few_overlap}, but few_recs shares {counts[False]} movies with everyone's "
             "top 10 (the highest mean predictions over all users, every movie included, rated or not)")
    passed(f"{int(few_overlap)} of the {N_RECS} movies in few_recs are among everyone's top {N_RECS}")


# --------------------------------------------------------------------------------------------
# Exercise 3: movies with fewer than 10 training ratings, on the validation split
# --------------------------------------------------------------------------------------------

def rare_validation(split, data, below: int = RARE_BELOW) -> pd.DataFrame:
    """The validation ratings of movies with fewer than ``below`` training ratings (none counts)."""
    counts = np.bincount(split.train["item"].to_numpy(), minlength=data.n_items)
    return split.valid[counts[split.valid["item"].to_numpy()] < below]


def _diagnose_subset(n: int, split, data) -> str:
    """A hint naming the mistake that gives a subset of ``n`` ratings, when one does."""
    valid_items = split.valid["item"].to_numpy()
    train_counts = np.bincount(split.train["item"].to_numpy(), minlength=data.n_items)
    both = np.bincount(np.concatenate([split.train["item"].to_numpy(), valid_items]), minlength=data.n_items)
    mistakes = {
        int((train_counts[valid_items] <= RARE_BELOW).sum()): "'fewer than 10' means < 10, not <= 10",
        int(((train_counts[valid_items] < RARE_BELOW) & (train_counts[valid_items] > 0)).sum()):
            "movies with no training rating at all have fewer than 10 too: a groupby count leaves them out",
        int((both[valid_items] < RARE_BELOW).sum()): "count each movie's training ratings only, not its validation ones",
        len(split.valid): "keep only the ratings of movies with fewer than 10 training ratings",
    }
    return mistakes.get(n, "count each movie's ratings in split.train (all of its training ratings, and 0 for a "
                           "movie with none), then keep the validation ratings of movies with fewer than 10")


def check_rare_movies(rare, results, split, data) -> None:
    """Exercise 3: ``rare = {"n ratings": ..., "I-AutoRec": ..., "biased MF": ...}``: the size of the
    validation subset of movies with fewer than 10 training ratings, and each model's RMSE on it."""
    if not isinstance(rare, dict) or set(rare) != set(RARE_KEYS):
        fail(f"rare should be a dict with exactly the keys {list(RARE_KEYS)}, got "
             f"{sorted(rare) if isinstance(rare, dict) else type(rare).__name__}")
    if not isinstance(results, dict) or not {"I-AutoRec", "biased MF"} <= set(results):
        fail("pass the dict `results` of Sec. 4.3, with the trained 'I-AutoRec' and 'biased MF'")
    _is_i_autorec(_result(results["I-AutoRec"], "results['I-AutoRec']"), "results['I-AutoRec']")
    if _result(results["biased MF"], "results['biased MF']").config.model_type != "biased-mf":
        fail("results['biased MF'] is not a biased-mf model: pass the dict `results` of Sec. 4.3")
    subset = rare_validation(split, data)
    n = rare["n ratings"]
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        fail(f"rare['n ratings'] should be the number of validation ratings (an int), got {n!r}")
    if int(n) != len(subset):
        fail(f"rare['n ratings'] is {n}, but the validation split holds {len(subset)} ratings of movies with "
             f"fewer than {RARE_BELOW} training ratings. {_diagnose_subset(int(n), split, data)}")
    expected = {name: evaluate(results[name].learner.predict, subset, split.train, data.scale).rmse
                for name in ("I-AutoRec", "biased MF")}
    for name, other in (("I-AutoRec", "biased MF"), ("biased MF", "I-AutoRec")):
        value = number(rare[name], f"rare[{name!r}]", 0.0, 5.0)
        if abs(value - expected[name]) <= RMSE_TOL:
            continue
        if abs(value - expected[other]) <= RMSE_TOL:
            fail(f"rare[{name!r}] is {other}'s RMSE: are the labels swapped?")
        fail(f"rare[{name!r}] is {value:.4f}, but {name} scores {expected[name]:.4f} on that subset with "
             "metrics.evaluate(result.learner.predict, subset, split.train, data.scale) (predictions clipped, "
             "the default rating for a movie with no training rating). Score the validation subset, not test.")
    passed(f"on the {len(subset)} validation ratings of movies with fewer than {RARE_BELOW} training ratings, "
           f"RMSE I-AutoRec {expected['I-AutoRec']:.4f}, biased MF {expected['biased MF']:.4f}")
