"""Check functions for the course's exercises: one module per notebook (``ch01`` ... ``ch06``).

A check takes the learner's answer, checks its structure first (types, keys, the configuration a
trained model was built with), then its numbers: against what the check computes itself from
the data, against an ordering that must hold, or against a stored reference within a tolerance
measured from the seed-to-seed spread. It prints one line starting with ``correct:``, or raises
:class:`CheckFailed` saying what is wrong and where to look. No check reads test ratings.

Stored references live in ``reference/<chapter>.json`` beside this file, as data: the package only
reads them. ``scripts/record_references.py`` (``make reference``) writes them into the source tree,
never into an installed package and never at run time.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import NoReturn

import numpy as np

REFERENCE_DIR = Path(__file__).with_name("reference")


class CheckFailed(AssertionError):
    """The answer is not right yet; the message says why."""


def fail(message: str) -> NoReturn:
    raise CheckFailed(message)


def passed(message: str) -> None:
    print(f"correct: {message}")


def number(value, what: str, low: float = -math.inf, high: float = math.inf) -> float:
    """``value`` as a float, refused unless it is a real number in ``[low, high]``."""
    if isinstance(value, bool) or not hasattr(value, "__float__"):
        fail(f"{what} should be a number, got {type(value).__name__} {value!r}")
    x = float(value)
    if not (math.isfinite(x) and low <= x <= high):
        fail(f"{what} = {x!r} is outside the plausible range [{low}, {high}]")
    return x


def close(value, expected: float, tol: float, what: str, hint: str = "") -> float:
    """``value`` within ``tol`` of ``expected``, else a failure that names the learner's value and the
    hint, never the expected value (or anything it could be read off)."""
    x = number(value, what)
    if abs(x - expected) > tol:
        fail(f"{what} = {x:.4f} is not right yet. {hint}".rstrip())
    return x


RESCORE_TOL = 1e-6  # the same code on the same float32 predictions: equal up to rounding


def valid_rmse(result, split, scale: tuple[float, float], what: str) -> float:
    """A trained run's validation RMSE, once its model is shown to score exactly that on ``split.valid``.

    Refuses a run trained or scored on another split (or with validation and test swapped). Reads
    ``split.train`` (to know which users and movies are unseen) and ``split.valid``, never ``split.test``.
    """
    if getattr(split, "valid", None) is None:
        fail("pass the Split the runs were trained on (made by splits.make_split, with a validation part)")
    stored = result.scores.get("valid")
    if stored is None:
        fail(f"{what} has no validation score: train it on a split with a validation part")
    from ..metrics import evaluate

    again = evaluate(result.learner.predict, split.valid, split.train, scale).rmse
    if abs(stored.rmse - again) > RESCORE_TOL:
        name = f"the {split.name!r} split" if getattr(split, "name", "") else "the split"
        fail(f"{what} was not trained and scored on {name} you passed: its validation RMSE is "
             f"{stored.rmse:.4f}, but its model scores {again:.4f} on that split's validation part")
    return stored.rmse


def reference(chapter: str) -> dict:
    """The stored reference answers of one chapter (written by ``make reference``)."""
    path = REFERENCE_DIR / f"{chapter}.json"
    if not path.exists():
        fail(f"no reference answers stored for {chapter} ({path}); run `make reference`")
    return json.loads(path.read_text())


def whole(value, what: str, low: int = 0, high: int | None = None) -> int:
    """``value`` as an int, for a count or an index: an int, a NumPy integer, a whole float (``5.0``)
    or a one-element array or tensor holding one are all accepted; ``True``, ``5.5`` and a value
    outside ``[low, high]`` are refused."""
    if hasattr(value, "item") and not isinstance(value, (bool, int, float)):  # NumPy numbers, arrays, tensors
        try:
            array = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)
        except (TypeError, ValueError, RuntimeError):
            array = np.asarray(None)
        if array.size == 1 and array.dtype.kind in "iuf":
            value = array.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fail(f"{what} should be a whole number (an int), got {type(value).__name__} {value!r}")
    if isinstance(value, float) and not (math.isfinite(value) and value == int(value)):
        fail(f"{what} should be a whole number (an int), got {value!r}")
    n = int(value)
    if n < low or (high is not None and n > high):
        fail(f"{what} = {n} is outside {low}..{high if high is not None else '∞'}")
    return n
