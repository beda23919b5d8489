"""Check functions for the exercises of notebook 02 (matrix factorization).

Every exercise trains biased MF with :func:`autorec_lib.experiment.train`, so a check receives the
learner's :class:`~autorec_lib.experiment.Result` objects and verifies them before any number:
the model and the configuration it was built and trained with (the course defaults, except the
one setting the exercise changes), and that its validation score is the one the check recomputes
from the learner's own model on the split it was given. The learner's numbers must then equal
what the check computes from those runs (exactly, up to float rounding). Nothing is compared with
a stored reference, so no tolerance depends on a seed.

No check reads a test rating (``split.test`` is never touched), and nothing is chosen by a test
score. The exercises pass ``eval_test=False``, which only drops the per-epoch test curve:
``experiment.train`` still scores the test part once at the end, in ``result.scores["test"]``. A
check looks at that stored number for one purpose only: when a learner's answer equals it, the
failure message can say that the test RMSE was used where the validation RMSE was asked for.
"""
from __future__ import annotations

import dataclasses

from .. import experiment, metrics
from ..config import course_config
from ..datasets import RatingData
from ..splits import Split
from . import changed_settings, fail, number, passed, valid_rmse, whole
from . import result as result_of_train

MODEL = "biased-mf"
FACTORS = (4, 16, 128)  # Exercise 1
SPLITS = ("random", "u1")  # Exercise 3
EXACT = 1e-6  # recomputed RMSEs agree to float32 rounding; any real mistake is far larger


def _defaults():
    return course_config(MODEL)


def _run(result, what: str, n_factors: int | None = None, lam: float | None = None):
    """``result`` must be a trained biased-MF Result with the course defaults (but ``n_factors``/``lam``)."""
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
    if not result.history.records or result.history.best_epoch is None:
        fail(f"{what} has no training history: train it with experiment.train")
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


def _keyed(mapping, keys, cast, what: str) -> dict:
    """``mapping`` as a dict with keys ``cast(k)``, refused unless its keys are exactly ``keys``."""
    if hasattr(mapping, "to_dict") and not isinstance(mapping, dict):
        mapping = mapping.to_dict()
    if not isinstance(mapping, dict):
        fail(f"{what} should be a dict keyed by {list(keys)}, got {type(mapping).__name__}")
    try:
        out = {cast(k): v for k, v in mapping.items()}
    except (TypeError, ValueError):
        fail(f"{what} should be keyed by {list(keys)}, got keys {list(mapping)}")
    if sorted(out) != sorted(keys) or len(out) != len(mapping):
        fail(f"{what} should be keyed by exactly {list(keys)}, got {list(mapping)}")
    return out


def _choice(value, options: tuple, scores: dict, what: str, by: str) -> None:
    """``value`` must be the option with the largest score."""
    if value not in options:
        fail(f"{what} should be one of {list(options)}, got {value!r}")
    largest = max(options, key=scores.get)
    if value != largest:
        fail(f"{what} = {value!r}, but by {by} the larger value belongs to {largest!r}")


def check_factor_sweep(runs: dict, table: dict, gain: float, data: RatingData, split: Split) -> None:
    """Exercise 1: biased MF with 4, 16 and 128 factors.

    ``runs`` maps each size in :data:`FACTORS` to its Result (course defaults otherwise), ``table``
    maps it to the run's validation RMSE, and ``gain`` is validation RMSE at 4 factors minus at 128.
    """
    runs = _keyed(runs, FACTORS, int, "runs")
    table = _keyed(table, FACTORS, int, "the table")
    valid = {k: valid_rmse(_run(runs[k], f"runs[{k}]", n_factors=k), split, data.scale, f"runs[{k}]") for k in FACTORS}
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


def check_no_penalty(runs: dict, gaps: dict, wider: float, data: RatingData, split: Split) -> None:
    """Exercise 2: biased MF with the default λ and with λ = 0.

    ``runs`` maps λ (the default and 0.0) to its Result, ``gaps`` maps λ to that run's validation
    RMSE minus its RMSE on the training ratings, and ``wider`` is the λ with the wider gap.
    """
    lam = float(_defaults().train.lam)
    keys = (0.0, lam)
    runs = _keyed(runs, keys, float, "runs")
    gaps = _keyed(gaps, keys, float, "gaps")
    expected = {}
    for key in keys:
        what = f"runs[{key:g}]"
        result = runs[key]
        if isinstance(result, experiment.Result) and result.config.train.lam != key:
            fail(f"{what} was trained with lam={result.config.train.lam:g}, not {key:g}: set it through "
                 f"experiment.train(data, split, {MODEL!r}, lam=...)")
        _run(result, what, lam=key)
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
                hint = ("compare like with like: RMSE on the training ratings (metrics.evaluate on "
                        "split.train), not the training loss, which is a squared error plus the penalty")
            fail(f"gaps[{key:g}] = {g:.4f} is not that run's validation RMSE minus its training RMSE: {hint}")
    _choice(number(wider, "wider"), keys, expected, "wider", "your own gaps")
    passed(f"gap between validation and training RMSE: {expected[lam]:.4f} at lam={lam:g}, "
           f"{expected[0.0]:.4f} at lam=0")


def _table_rows(table, what: str) -> dict:
    if hasattr(table, "to_dict") and not isinstance(table, dict):
        table = table.to_dict("index")
    rows = _keyed(table, SPLITS, str, what)
    for name, row in rows.items():
        if not isinstance(row, dict) or set(row) != {"train ratings", "valid RMSE"}:
            fail(f"{what}[{name!r}] should have exactly the columns 'train ratings' and 'valid RMSE', got "
                 f"{list(row) if isinstance(row, dict) else type(row).__name__}")
    return rows


def check_u1_split(runs: dict, table, higher: str, data: RatingData, split_by_name: dict) -> None:
    """Exercise 3: biased MF on the random split and on ML-100K's canonical ``u1`` split.

    ``runs`` and ``split_by_name`` map ``"random"`` and ``"u1"`` to the Result and to the Split it
    was trained on; ``table`` (a dict of rows, or a DataFrame indexed by split name) gives each
    split's number of training ratings and validation RMSE; ``higher`` names the split whose
    validation RMSE is higher. Only training and validation ratings are used.
    """
    runs = _keyed(runs, SPLITS, str, "runs")
    split_by_name = _keyed(split_by_name, SPLITS, str, "split_by_name")
    for name, split in split_by_name.items():
        if not isinstance(split, Split) or split.name != name:
            fail(f"split_by_name[{name!r}] should be splits.make_split(data, {name!r}, ...), got "
                 f"{getattr(split, 'name', type(split).__name__)!r}")
    rows = _table_rows(table, "the table")
    valid = {name: valid_rmse(_run(runs[name], f"runs[{name!r}]"), split_by_name[name], data.scale, f"runs[{name!r}]")
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
    _choice(higher, SPLITS, valid, "higher", "your table")
    passed(f"validation RMSE {valid['u1']:.4f} on u1 ({len(split_by_name['u1'].train):,} training ratings) vs "
           f"{valid['random']:.4f} on the random split ({len(split_by_name['random'].train):,})")
