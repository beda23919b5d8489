"""Check functions for the exercises of notebook 04 (AutoRec in PyTorch).

Every check recomputes the right answer from the data and the learner's own trained objects
(a ``Result``'s history, scores and model, the training ratings); none needs a stored reference
and none reads test ratings: the scores a check recomputes are on the validation split. A check
looks at a run's stored test RMSE for one purpose only: to say so when a learner hands it in
where a validation number is asked for.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Set as AbstractSet

import numpy as np
import pandas as pd

from . import (CheckFailed, array, changed_settings, course_split, entries, fail, item_autorec, number, passed,
               rating_data, result, trained_on, valid_rmse, whole)
from ..config import course_config
from ..matrix import RatingMatrix
from ..metrics import evaluate, known_pairs, predict_with_default, top_n
from ..objective import OutputScale
from .ch02 import SPLIT_SETTINGS  # the notebooks' random split: the one notebook 02 trains on too

# Exercise 1: predictions read off the reconstruction. The learner's network runs on dense rows, the
# library's on a CPU from the sparse ratings: the same float32 model, its sums taken in another order
# (they agree to about 1e-6); a wrong read moves a prediction by far more.
PREDICTION_TOL = 1e-4
# Exercise 2: a value typed as a float32 (the table's column, or one cell) still names the Result's value
# (float32 keeps 7 significant digits); any real slip is larger.
TABLE_RTOL = 1e-6
# Exercise 2: the Rprop run, stated in the notebook (Adam's budget and patience, the course's λ).
RPROP = {"optimizer": "rprop", "lr": 1e-3, "lam": 100.0, "epochs": 150, "patience": 10}
OPTIMIZER_ROWS = ("Adam", "Rprop")
OPTIMIZER_COLUMNS = ("epochs run", "best epoch", "train seconds", "valid RMSE")
# Exercises 3 and 4.
N_RECS = 10
RARE_BELOW = 10  # "fewer than 10 training ratings"
MODELS = ("I-AutoRec", "biased MF")
RMSE_TOL = 1e-6  # recomputed with the same code on the same float32 predictions: equal up to rounding
# Exercise 3a: scores may be given rounded to 3 decimals, as Sec. 4.4 displays them (recs.round(3)).
SCORE_TOL = 5e-4 + 1e-6


def _train_seconds(result) -> float:
    return float(sum(r["seconds"] for r in result.history.records))


def _net_options(net) -> dict:
    """What makes a model the one it is, besides its data sizes: hidden sizes and activations
    (AutoRec), factors (MF), dropout."""
    options = dataclasses.asdict(net)
    for size in ("n_inputs", "n_users", "n_items"):
        options.pop(size, None)
    if "hidden" in options:
        options["hidden"] = tuple(np.atleast_1d(options["hidden"]).tolist())
    return options


# The runs of Sec. 4.3 that the exercises hand in: (model type, variant), the name the messages use,
# and where the learner finds it.
COURSE_RUNS = {"I-AutoRec": (("autorec", "item"), "results['I-AutoRec'] of Sec. 4.3"),
               "biased MF": (("biased-mf", "item"), "results['biased MF'] of Sec. 4.3")}


def notebook_split(split, data, what: str = "split"):
    """``split``, refused unless it is the notebooks' random split of ``data`` (``SPLIT_SETTINGS["random"]``:
    test and validation fractions 0.1; any seed) with its parts as ``splits.make_split`` made them. Every
    notebook from 02 on makes this split; the checks of chapters 4, 5, 7, 8 and 9 take no other (a right
    solution passes on any seed of it). ``data`` must be ML-100K as its files hold it."""
    rating_data(data, "ml-100k")
    return course_split(split, data, what, "random", **SPLIT_SETTINGS["random"])


def course_run(run, name: str, split, data, what: str, hint: str | None = None,
               ignore: tuple[str, ...] = (), **changes):
    """``run``, refused unless it is the course's ``name`` run (a key of :data:`COURSE_RUNS`) with the
    training ``changes`` an exercise asks for: the course's model and settings (all but the seed, the
    device and the settings named in ``ignore``), trained from a random start to early stopping or to
    its budget, on ``split``, which must be the notebook's random split of ``data`` (ML-100K as its files
    hold it; any seed) with its parts as ``splits.make_split`` made them, and its stored validation score
    still what its model scores there. ``hint`` says what to pass instead (by default, where Sec. 4.3
    made it).

    One guard for every check of this chapter that takes a trained run."""
    (model_type, variant), made_in = COURSE_RUNS[name]
    hint = hint or f"pass {made_in}"
    notebook_split(split, data)
    result(run, what)
    if run.config.model_type != model_type or run.config.variant != variant:
        if model_type == "autorec":
            item_autorec(run, what)
        fail(f"{what} is a {run.config.model_type} model, not {name} ({model_type}): {hint}")
    course = course_config(model_type, variant, **changes)
    if _net_options(run.config.net) != _net_options(course.net):
        fail(f"{what} is not the course's {name} model: {hint}")
    other = changed_settings(run.config.train, course.train, ("seed", "device", "inputs", *ignore))
    if other:
        fail(f"{what} was trained with {other}, not the course's settings: {hint}")
    if getattr(run, "warm_start", False):
        fail(f"{what} started from given weights (init_weights), so its training is not the course's, which "
             f"starts from a random initialisation: {hint}")
    history = run.history
    if not history.records or history.best_epoch is None or not (
            history.stopped_early or len(history.records) == run.config.train.epochs):
        fail(f"{what} did not train to early stopping or to its budget: {hint}")
    trained_on(run, split, what)
    try:
        valid_rmse(run, split, data.scale, what)
    except CheckFailed:  # trained on this very split, so its model or its scores changed since
        fail(f"{what} was trained on the split you passed, but its model no longer scores the validation RMSE "
             "stored with it: was it trained further, or were its weights or scores changed, after "
             f"experiment.train returned it? Train it again and pass the Result as returned: {hint}")
    return run


def rounded(value: float) -> int | None:
    """How many decimals ``value`` has, if it has 3 to 6 (a float64 equal to its value rounded there, or a
    float32 nearest to a value rounded to 3 to 5): most likely a number the learner rounded, as printed;
    else None. A value with fewer decimals (0.5, a guessed 0.9) is not called rounded: it is a guess.

    It reads the learner's value alone, never the expected one, so a message built on it ("looks
    rounded") says nothing about the answer: an earlier version said "rounded" only when the value was
    the expected one rounded, and a guesser recovered the answer digit by digit. A check asks it only
    about a value it has already found wrong; a right value, unrounded, passes before (float32 included:
    an unrounded float32 is nearest to a 5-decimal number about 2 times in 100 above 1, far fewer below,
    and then it is wrong anyway)."""
    value = float(value)
    if not math.isfinite(value):
        return None
    fewest = next((d for d in range(7) if value == round(value, d)
                   or (d <= 5 and value == float(np.float32(round(value, d))))), None)
    return fewest if fewest is not None and fewest >= 3 else None


# --------------------------------------------------------------------------------------------
# Exercise 1: AutoRec's prediction step, by hand
# --------------------------------------------------------------------------------------------

def _reconstruction(run, ratings: pd.DataFrame, data) -> np.ndarray:
    """The run's network fed every movie row of ``ratings`` (rows = movies, columns = users), on the
    rating scale, unclipped."""
    import torch

    model = run.learner.model  # the trained network (see TrainedModel)
    device = next(model.parameters()).device
    matrix = RatingMatrix(ratings, data.n_users, data.n_items, "item")
    model.eval()
    with torch.no_grad():
        rows = torch.from_numpy(matrix.dense(np.arange(data.n_items))[0]).to(device)
        return OutputScale(run.config.net.decoder, data.scale).to_rating(model(rows)).float().cpu().numpy()


def _near(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, atol=PREDICTION_TOL, rtol=0))


def _reconstruction_mistake(rec: np.ndarray, run, split, data) -> str:
    """What most likely went wrong in the learner's reconstruction ``rec`` (of the right shape)."""
    low, high = data.scale
    leaky = _reconstruction(run, pd.concat([split.train, split.valid]), data)
    if _near(rec, leaky) or _near(rec, np.clip(leaky, low, high)):
        return ("the rows fed to the network hold the validation ratings too: a prediction must come from the "
                "TRAINING ratings alone, or the model is shown the very ratings it is scored on")
    return ("it is not the trained network's output for the movie rows of the training matrix: feed every movie "
            "row of `matrix` (the training ratings only, in the order of the movie indices) through "
            "results['I-AutoRec'].learner.model in eval mode, under torch.no_grad()")


def _prediction_mistake(pred: np.ndarray, expected: np.ndarray, rec: np.ndarray, split, data) -> str:
    """What most likely went wrong in ``pred``, read off the (right) reconstruction ``rec``."""
    low, high = data.scale
    users, items = split.valid["user"].to_numpy(), split.valid["item"].to_numpy()
    known = known_pairs(users, items, split.train)
    if pred.min() < low - PREDICTION_TOL or pred.max() > high + PREDICTION_TOL:
        return ("some predictions lie off the rating scale: the evaluation clips every prediction to "
                f"{data.scale}, as the model's identity decoder is not bounded")
    if _near(pred[known], expected[known]) and not _near(pred[~known], expected[~known]):
        return ("the predictions of pairs whose movie (or user) has no training rating are not the evaluation's: "
                "such a pair gets the default rating metrics.DEFAULT_RATING, not the reconstruction of an empty row")
    if _near(np.sort(pred), np.sort(expected)):
        return "the predictions are right but in another order: give them in the order of split.valid's rows"
    swap = (users < data.n_items) & (items < data.n_users)  # where reading [user, item] stays inside the matrix
    if swap.sum() > len(swap) // 2 and _near(pred[swap], np.clip(rec[users[swap], items[swap]], low, high)):
        return ("the entries are read transposed: an I-AutoRec row is a movie, so the prediction for (user u, "
                "movie i) is row i, column u of the reconstruction")
    return ("they are not read off your reconstruction as the evaluation reads it: for each rating of split.valid, "
            "in the order of its rows, take row = movie, column = user, clip, and give a pair whose movie or user "
            "has no training rating the default rating")


def check_prediction_step(reconstruction, valid_pred, my_valid_rmse, run, split, data) -> None:
    """Exercise 1: ``reconstruction``, the trained I-AutoRec's network applied to every movie row of the
    training matrix (movies x users, clipped to the rating scale or not); ``valid_pred``, one prediction
    per rating of ``split.valid`` (in its order), read off it as the evaluation reads it; and
    ``my_valid_rmse``, their RMSE against the validation ratings. Each is compared with what the check
    computes from the same trained model and with the library's own scoring."""
    course_run(run, "I-AutoRec", split, data, "the I-AutoRec result")
    low, high = data.scale
    rec = array(reconstruction, "reconstruction", ndim=2)
    shape = (data.n_items, data.n_users)
    if rec.shape != shape:
        if rec.shape == shape[::-1]:
            fail("reconstruction has a row per user and a column per movie: an I-AutoRec row is a movie, so its "
                 "reconstruction has a row per movie of the training matrix and a column per user")
        fail(f"reconstruction has shape {rec.shape}; it should have a row per movie and a column per user, {shape}")
    own = _reconstruction(run, split.train, data)
    if not (_near(rec, own) or _near(rec, np.clip(own, low, high))):
        fail(f"reconstruction is not right yet: {_reconstruction_mistake(rec, run, split, data)}.")
    n = len(split.valid)
    pred = array(valid_pred, "valid_pred", ndim=1)
    if len(pred) != n:
        fail(f"valid_pred has {len(pred)} predictions, but split.valid has {n} ratings: give one prediction "
             "per validation rating, in the order of split.valid's rows")
    expected, _ = predict_with_default(run.learner.predict, split.valid, split.train, data.scale)
    if not np.allclose(pred, expected, atol=PREDICTION_TOL, rtol=0):
        fail(f"valid_pred is not right yet: {_prediction_mistake(pred, expected, own, split, data)}.")
    truth = split.valid["rating"].to_numpy(np.float64)
    own_rmse = math.sqrt(np.mean((pred - truth) ** 2))
    x = number(my_valid_rmse, "my_valid_rmse", 0.0, 10.0)
    if abs(x - own_rmse) > RMSE_TOL:
        slips = {"the mean absolute error (MAE), not the RMSE": np.mean(np.abs(pred - truth)),
                 "the mean squared error: take its square root": own_rmse ** 2}
        test = run.scores.get("test")  # a run's stored test score, only to name it when it is handed in
        if test is not None:
            slips["the TEST RMSE stored in the result; score the validation predictions"] = test.rmse
        slip = next((s for s, v in slips.items() if abs(x - v) <= RMSE_TOL), None)
        if slip is None and rounded(x):  # few decimals, whatever the right value is: the message tells nothing of it
            fail("my_valid_rmse is rounded: give the RMSE unrounded (round it only where you print it)")
        fail(f"my_valid_rmse = {x:.4f} is " + (slip if slip else
             "not the RMSE of your valid_pred against split.valid's ratings: the square root of the mean squared "
             "difference, over every validation rating"))
    library = evaluate(run.learner.predict, split.valid, split.train, data.scale)
    passed(f"your prediction step scores the trained I-AutoRec {own_rmse:.4f} on the {n} validation ratings, as "
           f"the library's evaluation does ({library.n_default} of them got the default rating)")


# --------------------------------------------------------------------------------------------
# Exercise 2: Rprop, full batch, against Adam
# --------------------------------------------------------------------------------------------

def _check_rprop_run(rprop, split, data) -> None:
    item_autorec(rprop, "rprop")
    cfg = rprop.config.train
    if cfg.optimizer != "rprop":
        fail(f"rprop was trained with optimizer {cfg.optimizer!r}: pass optimizer='rprop' to experiment.train")
    got, want = _net_options(rprop.config.net), _net_options(course_config("autorec", "item").net)
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
    # the rest as for every run: Rprop ignores batch_size (it trains full-batch), and a budget above
    # Adam's is allowed (checked above)
    course_run(rprop, "I-AutoRec", split, data, "rprop", ignore=("batch_size", "epochs"),
               hint="train the course's I-AutoRec with experiment.train, changing only the settings the "
                    "exercise gives", optimizer="rprop")


def _row_values(result) -> dict[str, float]:
    return {"epochs run": len(result.history.records), "best epoch": result.history.best_epoch,
            "train seconds": _train_seconds(result), "valid RMSE": result.scores["valid"].rmse}


def check_rprop(rprop, optimizers, adam, split, data) -> None:
    """Exercise 2: ``rprop``, I-AutoRec trained full-batch with Rprop as stated; ``optimizers``, a
    DataFrame with rows ``Adam`` and ``Rprop`` and columns ``epochs run``, ``best epoch``,
    ``train seconds`` and ``valid RMSE``, each taken from that optimizer's own Result."""
    _check_rprop_run(rprop, split, data)
    course_run(adam, "I-AutoRec", split, data, "the Adam result")
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
            same = lambda a, b: math.isclose(a, b, rel_tol=TABLE_RTOL, abs_tol=1e-12)
            if same(value, expected):
                continue
            run = adam if row == "Adam" else rprop
            if column == "best epoch" and value == expected - 1:
                fail(f"optimizers.loc[{row!r}, 'best epoch'] counts the epochs from 0; the history numbers them "
                     "from 1 (the 'epoch' of its records)")
            mirror = number(optimizers.loc[other[row], column], f"optimizers.loc[{other[row]!r}, {column!r}]")
            if same(value, truth[other[row]][column]) and same(mirror, expected):
                fail(f"optimizers.loc[{row!r}, {column!r}] is {other[row]}'s value and the other way round: "
                     "are the rows swapped?")
            test = run.scores.get("test")  # a run's stored test score, only to name it when it is handed in
            if column == "valid RMSE" and test is not None and same(value, test.rmse):
                fail(f"optimizers.loc[{row!r}, 'valid RMSE'] is the test RMSE; take scores['valid']")
            if column in ("train seconds", "valid RMSE") and rounded(value):
                fail(f"optimizers.loc[{row!r}, {column!r}] is rounded: give it unrounded (round only where you "
                     "print it)")
            if column == "train seconds" and same(value, run.seconds):
                fail(f"optimizers.loc[{row!r}, 'train seconds'] includes the evaluations after every "
                     "epoch (Result.seconds); add up the seconds of the history's records")
            if column == "epochs run" and value == run.history.best_epoch:
                fail(f"optimizers.loc[{row!r}, 'epochs run'] is the best epoch; count the epochs in the history")
            fail(f"optimizers.loc[{row!r}, {column!r}] = {value:g} is not what that optimizer's Result says: "
                 "take every value from the optimizer's own Result, unrounded")
    r, a = truth["Rprop"], truth["Adam"]
    passed(f"full-batch Rprop ran {r['epochs run']} epochs (best {r['best epoch']}, validation RMSE "
           f"{r['valid RMSE']:.4f}); Adam {a['epochs run']} (best {a['best epoch']}, {a['valid RMSE']:.4f})")


# --------------------------------------------------------------------------------------------
# Exercise 3: the user with the fewest training ratings, and how personal their list is
# --------------------------------------------------------------------------------------------

def _recommended(recs, what: str, data) -> np.ndarray:
    """The movie indices of a top-10 frame: ``TrainedModel.recommend``'s (MovieLens ``item_id``s) or
    ``metrics.recommend``'s (indices in ``item``), after its structure is checked."""
    if not isinstance(recs, pd.DataFrame):
        fail(f"{what} should be a pandas DataFrame (as recommend returns), got {type(recs).__name__}")
    column = "item_id" if "item_id" in recs.columns else "item"
    if column not in recs.columns or "score" not in recs.columns:
        fail(f"{what} needs the columns 'item_id' (MovieLens ids) and 'score', got {list(recs.columns)}")
    if len(recs) != N_RECS:
        fail(f"{what} has {len(recs)} rows; a top-{N_RECS} has {N_RECS}")
    values = array(recs[column], f"{what}[{column!r}]")
    if not np.all(values == np.round(values)):
        fail(f"{what}[{column!r}] should hold whole numbers (movie ids)")
    values = values.astype(np.int64)
    if column == "item":
        known = (values >= 0) & (values < data.n_items)
        items = values
    else:
        items = np.minimum(np.searchsorted(data.item_ids, values), data.n_items - 1)
        known = data.item_ids[items] == values
    if not known.all():
        indices = "" if column == "item" or not np.all((values >= 0) & (values < data.n_items)) else (
            ": are these movie indices? The column 'item_id' holds MovieLens ids (data.item_ids[index])")
        fail(f"{what}[{column!r}] holds {values[~known][0]}, which is no movie of {data.name}{indices}")
    if len(set(items.tolist())) != N_RECS:
        fail(f"{what} recommends some movie twice: the {N_RECS} movies must be distinct")
    return items.astype(np.int64)


def check_few_ratings_recommendations(few_user, few_recs, run, split, data) -> None:
    """Exercise 3a: ``few_user``, the index of a user with the fewest ratings in ``split.train``;
    ``few_recs``, that user's top 10 from the I-AutoRec ``run``: unrated movies, best first, scores
    clipped to the rating scale."""
    course_run(run, "I-AutoRec", split, data, "the I-AutoRec result")
    user = whole(few_user, "few_user (a user index)", 0, data.n_users - 1)
    counts = np.bincount(split.train["user"].to_numpy(), minlength=data.n_users)
    if counts[user] != counts.min():
        fail(f"user {user} has {counts[user]} ratings in split.train, and some users have fewer. Count each "
             "user's ratings in the training split (not all ratings), and take a user with the fewest.")
    items = _recommended(few_recs, "few_recs", data)
    scores = array(few_recs["score"], "few_recs['score']")
    low, high = data.scale
    everything = np.arange(data.n_items)
    predicted = np.clip(run.learner.predict(np.full(data.n_items, user), everything), low, high)
    fits = lambda movies: bool(np.allclose(scores, predicted[movies], atol=SCORE_TOL, rtol=0))  # noqa: E731
    if "item_id" in few_recs.columns and not fits(items):
        given = array(few_recs["item_id"], "few_recs['item_id']").astype(np.int64)
        if np.all((given >= 0) & (given < data.n_items)) and fits(given):
            fail("few_recs's 'item_id' column holds movie indices, not MovieLens ids: give the ids "
                 "(data.item_ids[index]), as the trained model's recommend does")
    rated = split.train.loc[split.train["user"] == user, "item"].to_numpy()
    already = np.intersect1d(items, rated)
    if len(already):
        fail(f"few_recs contains {len(already)} movie(s) user {user} already rated in training: "
             "leave the rated movies out")
    if scores.min() < low or scores.max() > high:
        fail(f"few_recs's scores run from {scores.min():.3f} to {scores.max():.3f}, off the rating scale "
             f"{data.scale}: clip them as the evaluation does")
    if np.any(np.diff(scores) > 0):
        fail("few_recs is not sorted best first: sort by score, highest first")
    if not fits(items):
        coarse = any(np.allclose(scores, np.round(predicted[items], d), atol=1e-6) for d in (0, 1, 2))
        fail("few_recs's scores are rounded to fewer than 3 decimals: keep at least 3" if coarse else
             f"few_recs's scores are not the model's clipped predictions for user {user}: recommend for "
             "few_user with the trained I-AutoRec")
    others = np.setdiff1d(everything, np.concatenate([items, rated]))
    if len(others) and predicted[others].max() > predicted[items].min() + 1e-6:
        fail(f"some movie unrated by user {user} is predicted higher than your 10th pick: few_recs is not the "
             f"top {N_RECS} of the movies they have not rated")
    passed(f"user {user} has the fewest training ratings ({counts.min()}); few_recs is their top {N_RECS} "
           "among unrated movies, best first, on the rating scale")


def _everyones_top(run, data, clip: bool) -> np.ndarray:
    """The movie indices of the 10 highest mean predictions over all users (clipped or not)."""
    users = np.repeat(np.arange(data.n_users), data.n_items)
    items = np.tile(np.arange(data.n_items), data.n_users)
    predicted = run.learner.predict(users, items).reshape(data.n_users, data.n_items).astype(np.float64)
    if clip:
        predicted = np.clip(predicted, *data.scale)
    return top_n(predicted.mean(axis=0), np.array([], dtype=np.int64), N_RECS)


def _id_set(value, what: str) -> set[int]:
    """MovieLens ids given as an array, a list, a pandas Series or a set (any order) as a set of ints."""
    if isinstance(value, AbstractSet):  # a set of ids is a right answer too: their order is no part of it
        value = list(value)
    ids = array(value, what, ndim=1)
    if not np.all(ids == np.round(ids)):
        fail(f"{what} should hold MovieLens movie ids (whole numbers)")
    if len(set(ids.tolist())) != len(ids):
        fail(f"{what} holds some movie twice: give each movie once")
    return set(ids.astype(np.int64).tolist())


def check_overlap(few_shared, everyones_top, few_recs, run, split, data) -> None:
    """Exercise 3b: ``everyones_top``, the MovieLens ids of the 10 movies with the highest mean predicted
    rating over all users (predictions clipped or not; any order, as an array, a list or a set), and
    ``few_shared``, the MovieLens ids of ``few_recs``'s movies that are among them (any order; possibly
    none)."""
    course_run(run, "I-AutoRec", split, data, "the I-AutoRec result")
    if isinstance(everyones_top, AbstractSet):
        everyones_top = list(everyones_top)
    array(everyones_top, "everyones_top", ndim=1, length=N_RECS)
    top = _id_set(everyones_top, "everyones_top")
    expected = [set(_everyones_top(run, data, clip).tolist()) for clip in (False, True)]
    if not any(top == {int(data.item_ids[i]) for i in e} for e in expected):
        if any(top == e for e in expected):
            fail("everyones_top holds movie indices; give their MovieLens ids (data.item_ids[indices]), as "
                 "few_recs's 'item_id' column does")
        fail("everyones_top is not the 10 movies with the highest mean predicted rating over all users: predict "
             "every (user, movie) pair, every movie included, rated or not, and average over the users")
    few = {int(data.item_ids[i]) for i in _recommended(few_recs, "few_recs", data)}
    if np.ndim(few_shared) == 0 and not isinstance(few_shared, (AbstractSet, list)):
        fail("few_shared should be the MovieLens ids of the movies in both lists (an array, a list or a set), "
             f"not {type(few_shared).__name__} {few_shared!r}: the check counts them itself")
    shared = _id_set(few_shared, "few_shared")
    if shared != few & top:
        if not shared <= few:
            fail("few_shared holds movies that are not in few_recs: take the ids of few_recs's movies that are "
                 "also in everyones_top")
        if not shared <= top:
            fail("few_shared holds movies that are not in everyones_top: take the ids of few_recs's movies that "
                 "are also in everyones_top")
        fail("few_shared leaves out some movies that are in both few_recs and everyones_top: compare the "
             "MovieLens ids of the two lists")
    passed(f"{len(shared)} of the {N_RECS} movies in few_recs are among everyone's top {N_RECS}")


# --------------------------------------------------------------------------------------------
# Exercise 4: movies with fewer than 10 training ratings, on the validation split
# --------------------------------------------------------------------------------------------

def _pairs(frame: pd.DataFrame) -> set:
    return set(zip(frame["user"].tolist(), frame["item"].tolist()))


def _rare_validation(split, data, below: int = RARE_BELOW) -> pd.DataFrame:
    """The validation ratings of movies with fewer than ``below`` training ratings (none counts)."""
    counts = np.bincount(split.train["item"].to_numpy(), minlength=data.n_items)
    return split.valid[counts[split.valid["item"].to_numpy()] < below]


def _diagnose_subset(pairs: set, split, data) -> str:
    """A hint naming the slip that gives the subset ``pairs``, when one does."""
    valid_items = split.valid["item"].to_numpy()
    train_counts = np.bincount(split.train["item"].to_numpy(), minlength=data.n_items)
    both = np.bincount(np.concatenate([split.train["item"].to_numpy(), valid_items]), minlength=data.n_items)
    slips = {
        "'fewer than 10' means < 10, not <= 10": train_counts[valid_items] <= RARE_BELOW,
        "movies with no training rating at all have fewer than 10 too: a groupby count leaves them out":
            (train_counts[valid_items] < RARE_BELOW) & (train_counts[valid_items] > 0),
        "count each movie's training ratings only, not its validation ones": both[valid_items] < RARE_BELOW,
        "keep only the ratings of movies with fewer than 10 training ratings": np.ones(len(valid_items), bool),
    }
    for slip, keep in slips.items():
        if pairs == _pairs(split.valid[keep]):
            return slip
    return ("count each movie's ratings in split.train (all of its training ratings, and 0 for a movie with "
            "none), then keep the validation ratings of movies with fewer than 10")


def check_rare_movies(rare_valid, rare, results, split, data) -> None:
    """Exercise 4: ``rare_valid``, the ratings of ``split.valid`` whose movie has fewer than 10 ratings
    in ``split.train`` (a DataFrame of validation rows, any order), and ``rare``, a dict with each
    model's RMSE on them: ``{"I-AutoRec": ..., "biased MF": ...}``."""
    entries(rare, MODELS, "rare")
    if not isinstance(results, dict) or not set(MODELS) <= set(results):
        fail("pass the dict `results` of Sec. 4.3, with the trained 'I-AutoRec' and 'biased MF'")
    for name in MODELS:
        course_run(results[name], name, split, data, f"results[{name!r}]")
    if not isinstance(rare_valid, pd.DataFrame) or not {"user", "item"} <= set(rare_valid.columns):
        fail("rare_valid should be a DataFrame of validation ratings, with the columns 'user' and 'item' of "
             f"split.valid; got {type(rare_valid).__name__}")
    pairs = _pairs(rare_valid)
    if len(pairs) != len(rare_valid):
        fail("rare_valid holds some rating twice: keep each validation rating once")
    if not pairs <= _pairs(split.valid):
        fail("rare_valid holds ratings that are not in split.valid: take the subset from the validation "
             "split, not from the training or the test split")
    subset = _rare_validation(split, data)
    if pairs != _pairs(subset):
        fail(f"rare_valid is not the right subset of split.valid: {_diagnose_subset(pairs, split, data)}")
    expected = {name: evaluate(results[name].learner.predict, subset, split.train, data.scale).rmse
                for name in MODELS}
    for name, other in (MODELS, MODELS[::-1]):
        value = number(rare[name], f"rare[{name!r}]", 0.0, 5.0)
        if abs(value - expected[name]) <= RMSE_TOL:
            continue
        if abs(value - expected[other]) <= RMSE_TOL:
            fail(f"rare[{name!r}] is {other}'s RMSE: are the labels swapped?")
        if rounded(value):
            fail(f"rare[{name!r}] is rounded: give the RMSE unrounded (round it only where you print it)")
        fail(f"rare[{name!r}] = {value:.4f} is not {name}'s RMSE on rare_valid as the course scores it: "
             "metrics.evaluate(result.learner.predict, subset, split.train, data.scale) (predictions clipped, the "
             "default rating for a movie with no training rating), on the validation subset, not on test.")
    passed(f"on the {len(subset)} validation ratings of movies with fewer than {RARE_BELOW} training ratings, "
           f"RMSE I-AutoRec {expected['I-AutoRec']:.4f}, biased MF {expected['biased MF']:.4f}")
