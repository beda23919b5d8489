"""Check functions for the exercises of notebook 02 (matrix factorization).

Every exercise trains biased MF with :func:`autorec_lib.experiment.train`, so a check receives the
learner's :class:`~autorec_lib.experiment.Result` objects and verifies them before any number:
the data (ML-100K as its files hold it), the split (the course's random split, or ``u1``, with its
parts as its spec rebuilds them, any seed), the model and the configuration it was built and
trained with (the course defaults, except the one setting the exercise changes; a config that does
not describe the learner the run carries, e.g. whose weights have other shapes, or a warm start, is
refused), that its history ends where its settings end a run (early stopping or the epoch budget), that
the run was trained on that split (the split it records and its learner's own training ratings), and
that its validation score is the one the check recomputes from the learner's own
model on that split's validation part. The learner's numbers must then equal what the check
computes from those runs (exactly, up to float rounding). Nothing is compared with a stored
reference, so no tolerance depends on a seed.

No check reads a test rating (``split.test`` is never touched), and nothing is chosen by a test
score. The exercises pass ``eval_test=False``, which only drops the per-epoch test curve:
``experiment.train`` still scores the test part once at the end, in ``result.scores["test"]``. A
check looks at that stored number for one purpose only: when a learner's answer equals it, the
failure message can say that the test RMSE was used where the validation RMSE was asked for.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from .. import experiment, metrics
from ..config import course_config
from ..datasets import RatingData
from ..splits import Split
from . import (changed_settings, course_split, fail, finished_training, number, passed, rating_data, same_setting,
               shown, trained_on, valid_rmse, whole)
from . import result as result_of_train

MODEL = "biased-mf"
FACTORS = (4, 16, 128)  # Exercise 1
SPLITS = ("random", "u1")  # Exercise 3
# The splits of the notebook, by name (any seed): make_split's arguments besides the data.
SPLIT_SETTINGS = {"random": {"test_fraction": 0.1, "valid_fraction": 0.1}, "u1": {"valid_fraction": 0.1}}
EXACT = 1e-6  # recomputed RMSEs agree to float32 rounding; any real mistake is far larger
KEY_RTOL = 1e-6  # a key typed as float32 (0.2 -> 0.2000000030) still names 0.2


def _defaults():
    return course_config(MODEL)


def _data_and_split(data, split, name: str, what: str):
    """The data (ML-100K as loaded) and ``split``, the notebook's split ``name`` (any seed), both intact."""
    rating_data(data, "ml-100k")
    return course_split(split, data, what, name, **SPLIT_SETTINGS[name])


def _run(result, what: str, split: Split, n_factors: int | None = None, lam: float | None = None):
    """``result`` must be a biased-MF Result trained on ``split`` with the course defaults (but
    ``n_factors``/``lam``)."""
    result_of_train(result, what)
    if result.config.model_type != MODEL or not getattr(result.config.net, "biased", False):
        fail(f"{what} is a {result.config.model_type!r} model; train {MODEL!r}: experiment.train(data, split, {MODEL!r}, ...)")
    want_factors = _defaults().net.n_factors if n_factors is None else n_factors
    if getattr(result.config.net, "n_factors", None) != want_factors:
        fail(f"{what} was built with n_factors={getattr(result.config.net, 'n_factors', None)}, expected {want_factors}. "
             "Are two labels swapped?")
    course = dataclasses.replace(_defaults().train, **({} if lam is None else {"lam": lam}))
    wrong = changed_settings(result.config.train, course)
    if wrong:
        fail(f"{what} was trained with {wrong}; the exercise keeps the course defaults for those settings"
             + ("" if lam is None else f" (and lam={lam})") + f": print course_config({MODEL!r}).train to see them")
    trained_on(result, split, what)
    finished_training(result, what, "pass the Result exactly as experiment.train returned it, and train again "
                                    "to change a setting")
    return result


def _score(value, result, expected: float, what: str, others: dict | None = None) -> float:
    """The learner's validation RMSE for one run: equal to ``expected``; name the likely mix-up if not."""
    x = number(value, what, 0.0, 10.0)
    if abs(x - expected) <= EXACT:
        return x
    if abs(x - result.test_rmse) <= EXACT:
        fail(f"{what} = {x:.4f} is the TEST RMSE of that run. Compare models on the validation split: "
             "result.scores['valid'].rmse")
    for label, other in (others or {}).items():
        if abs(x - other) <= EXACT:
            fail(f"{what} = {x:.4f} is the validation RMSE of the run for {label}: labels swapped?")
    fail(f"{what} = {x:.4f} is not that run's validation RMSE: take it from the run itself "
         "(result.scores['valid'].rmse), unrounded")


def _key(key, keys: tuple):
    """The one of ``keys`` that ``key`` names (typed as it may be: ``4.0``, ``"4"``, ``np.float32(0.2)``, a 0-d
    tensor), or None."""
    if isinstance(keys[0], str):
        return str(key) if isinstance(key, str) and str(key) in keys else None
    if isinstance(key, (bool, np.bool_)):
        return None
    try:
        x = float(key)
    except (TypeError, ValueError):
        return None
    return next((k for k in keys if math.isclose(x, k, rel_tol=KEY_RTOL, abs_tol=1e-12)), None)


def _keyed(mapping, keys: tuple, what: str) -> dict:
    """``mapping`` as a dict keyed by ``keys``, refused unless each of its keys names a different one of them."""
    if hasattr(mapping, "to_dict") and not isinstance(mapping, dict):
        mapping = mapping.to_dict()
    if not isinstance(mapping, dict):
        fail(f"{what} should be a dict keyed by {list(keys)}, got {type(mapping).__name__}")
    out = {_key(k, keys): v for k, v in mapping.items()}
    if None in out or len(out) != len(mapping) or len(out) != len(keys):
        fail(f"{what} should be keyed by exactly {list(keys)}, got the keys [{', '.join(shown(k) for k in mapping)}]")
    return out


def check_factor_sweep(runs: dict, table: dict, gain: float, data: RatingData, split: Split) -> None:
    """Exercise 1: biased MF with 4, 16 and 128 factors.

    ``runs`` maps each size in :data:`FACTORS` to its Result (course defaults otherwise), ``table``
    maps it to the run's validation RMSE, and ``gain`` is validation RMSE at 4 factors minus at 128.
    """
    split = _data_and_split(data, split, "random", "split")
    runs = _keyed(runs, FACTORS, "runs")
    table = _keyed(table, FACTORS, "the table")
    valid = {k: valid_rmse(_run(runs[k], f"runs[{k}]", split, n_factors=k), split, data.scale, f"runs[{k}]")
             for k in FACTORS}
    for k in FACTORS:
        others = {f"n_factors={j}": v for j, v in valid.items() if j != k}
        _score(table[k], runs[k], valid[k], f"table[{k}]", others)
    expected = valid[4] - valid[128]
    g = number(gain, "gain")
    if abs(g - expected) > 2 * EXACT:
        hint = " (the other way round: 4 factors minus 128)" if abs(g + expected) <= 2 * EXACT else ""
        fail(f"gain = {g:.4f} is not the validation RMSE at 4 factors minus the one at 128 of your runs{hint}")
    passed(f"three biased-MF runs with the course defaults; gain = validation RMSE at 4 factors minus at 128 "
           f"= {expected:+.4f}")


def check_no_penalty(runs: dict, gaps: dict, data: RatingData, split: Split) -> None:
    """Exercise 2: biased MF with the default λ and with λ = 0.

    ``runs`` maps λ (the default and 0.0) to its Result, and ``gaps`` maps λ to that run's validation
    RMSE minus its RMSE on the training ratings.
    """
    split = _data_and_split(data, split, "random", "split")
    lam = float(_defaults().train.lam)
    keys = (0.0, lam)
    runs = _keyed(runs, keys, "runs")
    gaps = _keyed(gaps, keys, "gaps")
    expected = {}
    for key in keys:
        what = f"runs[{key:g}]"
        result = runs[key]
        if isinstance(result, experiment.Result) and not same_setting(result.config.train.lam, key):
            fail(f"{what} was trained with lam={float(result.config.train.lam):g}, not {key:g}: set it through "
                 f"experiment.train(data, split, {MODEL!r}, lam=...)")
        _run(result, what, split, lam=key)
        valid = valid_rmse(result, split, data.scale, what)
        train = metrics.evaluate(result.learner.predict, split.train, split.train, data.scale).rmse
        expected[key] = valid - train
        g = number(gaps[key], f"gaps[{key:g}]", -10.0, 10.0)
        if abs(g - expected[key]) > 2 * EXACT:
            if abs(g + expected[key]) <= 2 * EXACT:
                hint = "validation minus training, not the other way round"
            elif abs(g - (result.test_rmse - train)) <= 2 * EXACT:
                hint = "that uses the test RMSE; use the validation RMSE"
            else:
                hint = ("compare like with like: the RMSE on the training ratings as metrics.evaluate computes it on "
                        "split.train (predictions clipped to the rating scale), not the training loss, which is a "
                        "squared error plus the penalty; and keep it unrounded")
            fail(f"gaps[{key:g}] = {g:.4f} is not that run's validation RMSE minus its training RMSE: {hint}")
    passed(f"gap between validation and training RMSE: {expected[lam]:.4f} at lam={lam:g}, "
           f"{expected[0.0]:.4f} at lam=0")


COLUMNS = ("train ratings", "valid RMSE")  # Exercise 3's table (other columns are left alone)


def _table_rows(table, what: str) -> dict:
    if hasattr(table, "to_dict") and not isinstance(table, dict):
        table = table.to_dict("index")
    rows = _keyed(table, SPLITS, what)
    for name, row in rows.items():
        if not isinstance(row, dict) or not set(COLUMNS) <= set(row):
            got = f"the columns [{', '.join(map(shown, row))}]" if isinstance(row, dict) else shown(row)
            fail(f"{what}[{name!r}] should have the columns {', '.join(map(repr, COLUMNS))}, got {got}")
    return rows


def check_u1_split(runs: dict, table, data: RatingData, split_by_name: dict) -> None:
    """Exercise 3: biased MF on the random split and on ML-100K's canonical ``u1`` split.

    ``runs`` and ``split_by_name`` map ``"random"`` and ``"u1"`` to the Result and to the Split it
    was trained on; ``table`` (a dict of rows, or a DataFrame indexed by split name) gives each
    split's number of training ratings and validation RMSE. Only training and validation ratings are used.
    """
    runs = _keyed(runs, SPLITS, "runs")
    split_by_name = _keyed(split_by_name, SPLITS, "split_by_name")
    split_by_name = {name: _data_and_split(data, split, name, f"split_by_name[{name!r}]")
                     for name, split in split_by_name.items()}
    rows = _table_rows(table, "the table")
    valid = {name: valid_rmse(_run(runs[name], f"runs[{name!r}]", split_by_name[name]), split_by_name[name],
                              data.scale, f"runs[{name!r}]")
             for name in SPLITS}
    for name in SPLITS:
        split = split_by_name[name]
        n = whole(rows[name]["train ratings"], f"table[{name!r}]['train ratings']")
        if n != len(split.train):
            hint = (" That counts the validation part too: it is carved out of the training ratings, and the "
                    "model never trains on it." if n == len(split.train) + len(split.valid) else
                    " Count the ratings of the part the model trained on.")
            fail(f"table[{name!r}]['train ratings'] = {n} is not the number of ratings the model trained on.{hint}")
        other = {f"the {j!r} split": v for j, v in valid.items() if j != name}
        _score(rows[name]["valid RMSE"], runs[name], valid[name], f"table[{name!r}]['valid RMSE']", other)
    passed(f"validation RMSE {valid['u1']:.4f} on u1 ({len(split_by_name['u1'].train):,} training ratings) vs "
           f"{valid['random']:.4f} on the random split ({len(split_by_name['random'].train):,})")
