"""Check functions for the exercises of notebook 08 (Inside AutoRec).

Every check recomputes the right answer from the learner's own trained objects (its weights and
the training matrix it keeps) and the validation split; none needs a stored reference and none
reads test ratings.
"""
from __future__ import annotations

import dataclasses

import math

import numpy as np

import torch

from . import changed_settings, fail, number, passed, whole
from .ch04 import notebook_split, rounded
from .ch05 import trained_on
from ..config import course_config
from ..matrix import RatingMatrix
from ..metrics import evaluate, rmse
from ..objective import autorec_loss
from ..torch_backend import AutoRecLearner, build_model, seed_everything

CODE_TOL = 1e-4  # float32 weights, float32 or float64 arithmetic: equal up to rounding
RMSE_TOL = 1e-6  # the same code on the same float32 predictions
BUDGET = 30  # epochs of every wrong-loss run in Sec. 8.5 and exercise 3
FILL_KEYS = ("valid RMSE", "mean prediction")
# Exercise 3: the first epoch of fill3_learner is replayed here, as train_on runs it (the same seed,
# model and batches, on the CPU): on the course's CPU the replay gave the recorded first-epoch loss
# exactly; 1e-5 leaves room for rounding. A run on another objective (the right one, or another fill
# value) differs from it by far more (measured on ML-100K: the right objective's first loss is a
# fraction of fill 3's, fill mean's differs by more than 10 %).
REPLAY_RTOL = 1e-5
# Exercise 3 is about one fill value, the middle of the rating scale: the check takes no other run.
EXERCISE_FILL = 3.0
# Exercise 3's "mean prediction": the mean of float32 predictions, taken in float32 (NumPy's pairwise sum,
# torch's) or in float64. Measured over 200 draws of 9430 float32 values near 3.3 (the notebook's
# validation pairs): at most 5.1e-7 from the float64 mean, the float32 result's own rounding included.
# 2e-6 leaves 4x room; a value rounded to 4 decimals, as printed, is off by up to 5e-5.
MEAN_TOL = 2e-6


class FilledLoss(AutoRecLearner):
    """I-AutoRec trained on the WRONG objective of Sec. 8.5: every unobserved entry counts as a rating of
    ``fill``. Notebook 08 trains with it (and shows it); exercise 3's check replays it."""

    fill: float = 0.0

    def batch_loss(self, rows: np.ndarray) -> torch.Tensor:
        r, m = self.rows(rows)
        target = r + (1 - m) * self.fill  # unobserved entries get the fill value ...
        everything = torch.ones_like(m)  # ... and every entry is in the loss
        return autorec_loss(self.model(r), target, everything, self.model.weight_matrices(), self.cfg.lam,
                            len(rows) / self.matrix.shape[0])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _i_autorec(result, what: str = "the result"):
    """The learner of a trained course I-AutoRec (one sigmoid hidden layer, identity decoder)."""
    if not all(hasattr(result, a) for a in ("config", "learner")):
        fail(f"{what} should be the Result that experiment.train returns, got {type(result).__name__}")
    if result.config.model_type != "autorec" or result.config.variant != "item":
        fail(f"{what} is a {result.config.model_type} ({result.config.variant}) model; pass the I-AutoRec result `iautorec`")
    cfg = dataclasses.asdict(result.config.net)
    if len(np.atleast_1d(cfg["hidden"])) != 1 or cfg["encoder"] != "sigmoid" or cfg["decoder"] != "identity":
        fail(f"{what} is not the course's I-AutoRec (one sigmoid hidden layer, identity decoder): pass `iautorec`")
    return result.learner


def _movie(title: str, data) -> int:
    found = np.flatnonzero(np.asarray(data.titles) == title)
    if len(found) != 1:
        fail(f"the data holds {len(found)} movies titled {title!r}; load ML-100K with datasets.load('ml-100k')")
    return int(found[0])


def _vector(value, what: str) -> np.ndarray:
    """A 1-D float64 array of finite numbers, refused otherwise."""
    if hasattr(value, "detach"):  # a PyTorch tensor, maybe one that requires grad
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(f"{what} should be an array of numbers, got {type(value).__name__}")
    if array.ndim > 1 and sum(n > 1 for n in array.shape) <= 1:  # one row or one column: (1, 500), (500, 1)
        array = array.reshape(-1)
    if array.ndim != 1:
        fail(f"{what} should be one vector (1-D), got an array of shape {array.shape}; flatten it (.ravel())")
    if not np.all(np.isfinite(array)):
        fail(f"{what} holds NaN or infinite values")
    return array


def _matches(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.allclose(a, b, atol=CODE_TOL, rtol=0)


# --------------------------------------------------------------------------------------------
# Exercise 1: hide a rating, and predict it
# --------------------------------------------------------------------------------------------

def _code_mistake(code: np.ndarray, row: np.ndarray, hidden_row: np.ndarray, w: dict, matrix, movie: int,
                  user: int, data) -> str:
    """What a wrong code is, when it is one of the plausible mistakes; else a general hint."""
    V, mu, W = (w[k].astype(np.float64) for k in ("W0", "b0", "W1"))
    mistakes = [
        (_sigmoid(V @ row + mu), f"this is the code of the full row: set user {user}'s entry to 0 first"),
        (V @ hidden_row + mu, "this is V r + μ before the activation: apply g (the sigmoid)"),
        (_sigmoid(V @ hidden_row), "the encoder has a bias: add μ (b0) before the sigmoid"),
        (_sigmoid(W.T @ hidden_row + mu), "W1 is the decoder (943 × 500); the encoder is W0 (500 × 943)"),
        (hidden_row, "this is the input row itself; the code is the encoder's output"),
    ]
    for wrong, message in mistakes:
        if _matches(code, wrong):
            return message
    everything = matrix.csr.toarray().astype(np.float64)
    everything[:, user] = 0.0
    others = _sigmoid(everything @ V.T + mu)
    close = np.flatnonzero(np.abs(others - code).max(axis=1) <= CODE_TOL)
    close = close[close != movie]
    if len(close):
        other = int(close[0])
        return (f"this is the code of movie index {other} ({data.titles[other]!r}); {data.titles[movie]!r} is "
                f"index {movie} (MovieLens id {data.item_ids[movie]}): index the matrix by movie index")
    return ("compute g(V r + μ) with V = W0 and μ = b0 of learner.get_weights(), r being the movie's row of "
            f"learner.matrix.csr with user {user}'s entry set to 0")


def _lowest_rater(row: np.ndarray, what: str) -> int:
    raters = np.flatnonzero(row)
    if not len(raters):
        fail(f"{what} has no training rating in this model's training matrix")
    return int(raters[np.argmin(row[raters])])


def check_hidden_rating(user, hidden_code, pred_hidden, pred_shown, result, data,
                        title: str = "Star Wars (1977)") -> None:
    """Exercise 1: ``user``, who gave ``title`` its lowest training rating (smallest index among ties);
    the code of ``title``'s training row with that rating hidden (set to 0), and the prediction for
    ``user`` from it (``pred_hidden``) and from the full row (``pred_shown``), not clipped."""
    learner = _i_autorec(result)
    movie = _movie(title, data)
    row = learner.matrix.csr[movie].toarray().ravel().astype(np.float64)
    lowest = _lowest_rater(row, repr(title))
    user = whole(user, "user (a user index)")
    if user != lowest:  # one message for every wrong user: none says how close it came
        fail(f"user {user} is not the user the exercise asks for: look at the movie's row of learner.matrix.csr, "
             "whose columns are user indices counting from 0 (not MovieLens ids; a user without a rating there "
             "has a 0), take the lowest rating among those given, and of the users who gave it, the smallest index")
    w = learner.get_weights()
    hidden_row = row.copy()
    hidden_row[user] = 0.0
    V, mu, W, b = (w[k].astype(np.float64) for k in ("W0", "b0", "W1", "b1"))
    expected = _sigmoid(V @ hidden_row + mu)
    code = _vector(hidden_code, "hidden_code")
    if code.shape != expected.shape:
        what = {data.n_users: "a rating row (the encoder's input) or the decoder's output",
                data.n_items: "one number per movie"}.get(len(code), "not a code")
        fail(f"hidden_code has {len(code)} numbers, {what}; a code has one number per hidden unit, {len(expected)}")
    if not _matches(code, expected):
        fail(f"hidden_code is not the code of {title!r} with user {user}'s rating hidden: "
             + _code_mistake(code, row, hidden_row, w, learner.matrix, movie, user, data))
    want_hidden = float(W[user] @ expected + b[user])
    want_shown = float(W[user] @ _sigmoid(V @ row + mu) + b[user])
    got_hidden = number(pred_hidden, "pred_hidden")
    got_shown = number(pred_shown, "pred_shown")
    for got, want, name in ((got_hidden, want_hidden, "pred_hidden"), (got_shown, want_shown, "pred_shown")):
        if abs(got - want) <= CODE_TOL:
            continue
        low, high = data.scale
        if abs(got - min(max(want, low), high)) <= CODE_TOL:
            fail(f"{name} is clipped; give the raw output of the decoder (not clipped)")
        other = want_shown if name == "pred_hidden" else want_hidden
        if abs(got - other) <= CODE_TOL:
            fail(f"{name} is the prediction from the {'full' if name == 'pred_hidden' else 'hidden'} row: "
                 "are pred_hidden and pred_shown swapped?")
        if rounded(got):
            fail(f"{name} is {got:g}, which looks rounded: give it unrounded (round only what you print)")
        fail(f"{name} is {got:.4f}, which is not entry {user} of the decoder's output W1 z + b1: use "
             f"row {user} of W1 and entry {user} of b1 (the decoder has one output per user)")
    passed(f"user {user} gave {title!r} a {row[user]:g}; the prediction is {want_hidden:.3f} with it hidden, "
           f"{want_shown:.3f} with it shown")


# --------------------------------------------------------------------------------------------
# Exercise 2: neighbours by raw rating rows
# --------------------------------------------------------------------------------------------

def _cosine(rows: np.ndarray, movie: int) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1)
    norms[norms == 0] = 1.0
    return (rows @ rows[movie]) / (norms * norms[movie])


def _is_top(scores: np.ndarray, answer: np.ndarray, exclude: int | None, larger_is_closer: bool = True) -> bool:
    """Whether ``answer`` lists the best of ``scores`` in order (ties in any order)."""
    s = np.asarray(scores, np.float64) if larger_is_closer else -np.asarray(scores, np.float64)
    if exclude is not None and exclude in answer:
        return False
    ordered = np.all(np.diff(s[answer]) <= 1e-9)
    rest = np.setdiff1d(np.arange(len(s)), np.append(answer, [] if exclude is None else [exclude]))
    return bool(ordered and (len(rest) == 0 or s[answer].min() >= s[rest].max() - 1e-9))


def _index_array(value, n: int, n_items: int, what: str) -> np.ndarray:
    array = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)
    if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
        array = array.astype(np.int64)  # whole numbers given as floats are indices too
    if array.dtype.kind in "US" or array.dtype == object:
        fail(f"{what} should hold movie indices (ints), not titles; data.titles[{what}] gives the titles")
    if array.ndim != 1 or len(array) != n:
        fail(f"{what} should be {n} movie indices in a 1-D array, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.integer):
        fail(f"{what} should hold integer movie indices, got {array.dtype}")
    outside = array[(array < 0) | (array >= n_items)]
    if len(outside):
        fail(f"{what} holds {outside[0]}, not a movie index (0 to {n_items - 1})")
    if len(set(array.tolist())) != n:
        fail(f"{what} lists a movie twice")
    return array.astype(np.int64)


def check_raw_neighbours(fargo_raw, title: str, result, data, n: int = 5) -> None:
    """Exercise 2: the ``n`` movies nearest to ``title`` by cosine similarity of the rows of the
    training matrix (``result.learner.matrix.csr``, one row per movie), most similar first."""
    learner = _i_autorec(result)
    movie = _movie(title, data)
    answer = _index_array(fargo_raw, n, data.n_items, "fargo_raw")
    rows = learner.matrix.csr.toarray().astype(np.float64)
    similarity = _cosine(rows, movie)
    if _is_top(similarity, answer, movie):
        passed(f"the {n} movies nearest to {title!r} by cosine of training rating rows: "
               + "; ".join(np.asarray(data.titles)[answer]))
        return
    if movie in answer:
        fail(f"fargo_raw contains {title!r} itself (index {movie}); leave the movie out of its own neighbours")
    if np.all(answer >= 1) and _is_top(similarity, answer - 1, movie):
        fail("fargo_raw holds MovieLens ids (index + 1); give movie indices")
    distance = ((rows - rows[movie]) ** 2).sum(axis=1)
    if _is_top(distance, answer, movie, larger_is_closer=False):
        fail("these are the nearest movies by Euclidean distance; use cosine similarity (divide by the lengths)")
    if _is_top(rows @ rows[movie], answer, movie):
        fail("these are the movies with the largest dot product; cosine similarity divides by both rows' lengths")
    w = learner.get_weights()
    codes = _sigmoid(rows @ w["W0"].astype(np.float64).T + w["b0"])
    if _is_top(_cosine(codes, movie), answer, movie):
        fail("these are the nearest movies by I-AutoRec's codes; this exercise compares the raw rating rows")
    if movie < rows.shape[1] and answer.max() < rows.shape[1] and _is_top(_cosine(rows.T.copy(), movie), answer, movie):
        fail(f"these are the users nearest to user {movie}: the rows of learner.matrix.csr are movies, its "
             "columns users; compare rows, not columns")
    fail(f"fargo_raw is not the {n} rows most similar to {title!r}'s by cosine similarity, most similar first: "
         "compare the movie's row of learner.matrix.csr with every other row (a row per movie)")


# --------------------------------------------------------------------------------------------
# Exercise 3: the wrong objective with fill value 3
# --------------------------------------------------------------------------------------------

def _first_epoch_again(learner, split, data, fill: float) -> float:
    """The training loss of the first epoch of ``train_on(fill)``, replayed with fill3_learner's seed and
    settings: the model built after seeding PyTorch, a :class:`FilledLoss` on the split's training matrix,
    on the CPU, one epoch in the batch order of that seed."""
    run = course_config("autorec", "item").bind(data.n_users, data.n_items)
    seed_everything(learner.cfg.seed)
    again = FilledLoss(build_model(run.net), RatingMatrix(split.train, data.n_users, data.n_items, "item"),
                       learner.cfg, torch.device("cpu"), data.scale)
    again.fill = fill
    return float(again.train_epoch(np.random.default_rng(learner.cfg.seed)))


def check_fill(fill3, learner, history, fill: float, split, data) -> None:
    """Exercise 3: ``fill3 = {"valid RMSE": ..., "mean prediction": ...}`` of ``learner``, I-AutoRec
    trained on Sec. 8.5's wrong objective (:class:`FilledLoss`) with fill value ``fill`` for at most 30
    epochs, by ``train_on(fill)``, on ``split``'s training ratings. The first epoch is replayed to
    confirm the objective and the start (a run of another objective, relabelled, is refused)."""
    if not isinstance(fill3, dict) or set(fill3) != set(FILL_KEYS):
        fail(f"fill3 should be a dict with exactly the keys {list(FILL_KEYS)}, got "
             f"{sorted(fill3) if isinstance(fill3, dict) else type(fill3).__name__}")
    notebook_split(split, data)
    fill = number(fill, "fill")
    if fill != EXERCISE_FILL:
        fail(f"this exercise is about fill value {EXERCISE_FILL:g} (the middle of the rating scale), but the check was "
             f"called with fill {fill:g}: call it as in the notebook, with {EXERCISE_FILL:g} and the learner and "
             f"history of train_on({EXERCISE_FILL:g})")
    if not hasattr(learner, "fill"):
        fail("fill3_learner was not trained on the wrong objective: train it with train_on(3.0) (a FilledLoss)")
    if not math.isclose(float(learner.fill), fill):
        fail(f"fill3_learner was trained with fill value {learner.fill}, not {fill:g}: train it with train_on(3.0)")
    matrix = getattr(learner, "matrix", None)
    if matrix is None or matrix.variant != "item" or matrix.shape != (data.n_items, data.n_users):
        fail("fill3_learner is not an I-AutoRec learner on this data (one row per movie)")
    trained_on(learner, split, data, "item", "fill3_learner")
    records = getattr(history, "records", None)
    if not records or any("valid_rmse" not in r or "train_loss" not in r for r in records):
        fail("fill3_history should be the History that train_on returns, with a validation RMSE per epoch")
    course = course_config("autorec", "item").train
    settings = getattr(learner, "cfg", None)
    if not isinstance(settings, type(course)):
        fail("fill3_learner has no course training settings (cfg): train it with train_on(3.0)")
    changed = changed_settings(settings, course, ("seed", "device", "inputs", "epochs"))
    if changed:
        fail(f"fill3_learner was trained with other settings than the course's I-AutoRec ({', '.join(changed)}): "
             "train it with train_on(3.0), which changes only the number of epochs")
    if settings.epochs != BUDGET or len(records) > BUDGET:
        fail(f"fill3_learner was allowed {settings.epochs} epochs; give it the budget of Sec. 8.5, {BUDGET} epochs "
             "(train_on's default), so that it compares with the runs there")
    if len(records) < BUDGET and not getattr(history, "stopped_early", False):
        fail(f"fill3_history holds {len(records)} epochs of the {BUDGET} allowed, and training did not stop "
             "early: pass the history of one whole train_on(3.0) run")
    first, again = records[0]["train_loss"], _first_epoch_again(learner, split, data, fill)
    if abs(first - again) > REPLAY_RTOL * abs(again):
        fail(f"fill3_history's first epoch is not fill value {fill:g}'s first epoch, replayed here from the same "
             "seed: pass the learner and the history of one train_on(3.0) call (a learner whose fill was set after "
             "training, or a history of another run, does not show what fill 3 does)")
    valid = evaluate(learner.predict, split.valid, split.train, data.scale)
    if abs(min(r["valid_rmse"] for r in records) - valid.rmse) > RMSE_TOL:
        fail("fill3_learner does not score what its history says on split.valid: pass the learner and the "
             "history of one train_on call, and the split it was trained on")
    raw = learner.predict(split.valid["user"].to_numpy(), split.valid["item"].to_numpy()).astype(np.float64)
    got = number(fill3["valid RMSE"], "fill3['valid RMSE']", 0.0, 10.0)
    if abs(got - valid.rmse) > RMSE_TOL:
        truth = split.valid["rating"].to_numpy()
        if rounded(got):
            fail(f"fill3['valid RMSE'] is {got:g}, which looks rounded: give it unrounded (round only what you print)")
        if abs(got - rmse(np.clip(raw, *data.scale), truth)) <= RMSE_TOL:
            fail("fill3['valid RMSE'] gives the pairs whose user or movie has no training rating the model's own "
                 "prediction: the course gives them the default rating (and clips every prediction to the rating "
                 "scale); score with metrics.evaluate")
        if abs(got - rmse(raw, truth)) <= RMSE_TOL:
            fail("fill3['valid RMSE'] scores the raw predictions: the course clips them to the rating scale and "
                 "gives pairs whose user or movie has no training rating the default rating; score with "
                 "metrics.evaluate")
        fail(f"fill3['valid RMSE'] is {got:.4f}, which is not fill3_learner's validation RMSE: score it with "
             "metrics.evaluate(fill3_learner.predict, split.valid, split.train, data.scale)")
    mean = number(fill3["mean prediction"], "fill3['mean prediction']", -10.0, 20.0)
    if abs(mean - raw.mean()) > MEAN_TOL:
        if rounded(mean):
            fail(f"fill3['mean prediction'] is {mean:g}, which looks rounded: give it unrounded (round only what "
                 "you print)")
        if abs(mean - np.clip(raw, *data.scale).mean()) <= MEAN_TOL:
            fail("fill3['mean prediction'] is the mean of clipped predictions; take the raw ones")
        fail(f"fill3['mean prediction'] is {mean:.4f}, which is not the mean of fill3_learner.predict over the "
             "validation pairs (split.valid's users and items)")
    passed(f"with fill {fill:g} the validation RMSE is {valid.rmse:.4f} and the mean raw prediction on the "
           f"validation pairs {raw.mean():.3f}")
