"""Check functions for the course's exercises: one module per notebook, ``ch01`` ... ``ch09``.

========  ==========================================  ====================================
module    notebook                                    what its checks receive
========  ==========================================  ====================================
``ch01``  01 setup and data                           statistics of the ratings and splits
``ch02``  02 matrix factorization                     biased-MF runs and their numbers
``ch03``  03 the AutoRec derivation                   gradient functions, gradients, counts
``ch04``  04 AutoRec in PyTorch                       predictions, recommendations, runs
``ch05``  05 AutoRec in MXNet                         hybridized runs, Rprop steps
``ch06``  06 exercises (the study)                    runs compared with stored references
``ch07``  07 evaluating recommendations               ranking metrics and top-N lists
``ch08``  08 inside AutoRec                           codes, neighbours, filled inputs
``ch09``  09 AutoRec among its peers                  seed statistics, leaks
========  ==========================================  ====================================

A check takes the learner's answer, checks its structure first (types, keys, the configuration a
trained model was built with), then its numbers: against what the check computes itself from
the data, against an ordering that must hold, or against a stored reference within a tolerance
measured from the seed-to-seed spread. It prints one line starting with ``correct:``, or raises
:class:`CheckFailed` saying what is wrong and where to look, never the expected value. No check
reads a test rating.

The helpers below serve every chapter's checks, so that each refusal reads the same everywhere:
:func:`number` and :func:`whole` (one number, one count), :func:`array` (an array of numbers from
NumPy, PyTorch, MXNet or a list), :func:`entries` (a dict with the keys asked for), :func:`result`
and :func:`item_autorec` (a trained run), :func:`changed_settings` (how a run's training settings
differ from the course's), :func:`close`, :func:`valid_rmse` and :func:`reference`.

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
    """``value`` as a float, refused unless it is one real number in ``[low, high]``.

    Python and NumPy numbers and 0-d arrays or tensors are accepted; a bool, a string or an
    array of several numbers is not.
    """
    shape = tuple(getattr(value, "shape", ()))
    if math.prod(shape) != 1:
        fail(f"{what} should be one number, got an array of shape {shape}")
    if shape:  # one number in an array or tensor of shape (1,), (1, 1), ...
        value = value.reshape(-1)[0] if hasattr(value, "reshape") else np.asarray(value).reshape(-1)[0]
    if isinstance(value, (bool, np.bool_)) or not hasattr(value, "__float__"):
        fail(f"{what} should be a number, got {type(value).__name__} {value!r}")
    x = float(value)
    if not (math.isfinite(x) and low <= x <= high):
        fail(f"{what} = {x!r} is outside the plausible range [{low}, {high}]")
    return x


def whole(value, what: str, low: float = 0, high: float = math.inf) -> int:
    """A count: ``value`` as an int, accepted however the number is typed (``943``, ``943.0``,
    ``np.int64(943)``, a 0-d tensor), refused when it is not a whole number in ``[low, high]``."""
    x = number(value, what, low, high)
    if not x.is_integer():
        fail(f"{what} = {x!r} should be a whole number: it counts")
    return int(x)


def array(value, what: str, ndim: int | None = None, length: int | None = None) -> np.ndarray:
    """A float64 NumPy copy of an array of finite numbers: a NumPy array, a list, a pandas Series,
    a PyTorch tensor or an MXNet NDArray; ``ndim`` and ``length`` (of the first axis), when given,
    must match."""
    if hasattr(value, "asnumpy"):  # an MXNet NDArray (which has a .detach() of its own: look first)
        value = value.asnumpy()
    elif hasattr(value, "detach"):  # a PyTorch tensor, possibly on a GPU or needing grad
        value = value.detach().cpu().numpy()
    try:
        values = np.asarray(value)
    except (TypeError, ValueError):
        fail(f"{what} should be an array of numbers, got {type(value).__name__}")
    if values.dtype.kind not in "iuf":
        fail(f"{what} should hold numbers, got {type(value).__name__} of {values.dtype}")
    if ndim is not None and values.ndim != ndim:
        fail(f"{what} should have {ndim} dimension(s), got an array of shape {values.shape}")
    if length is not None and len(values) != length:
        fail(f"{what} has {len(values)} entries; it should have {length}")
    if not np.all(np.isfinite(values)):
        fail(f"{what} holds NaN or infinite values")
    return values.astype(np.float64)


def entries(answer, keys: tuple[str, ...], what: str) -> dict:
    """``answer`` as a dict that holds every one of ``keys`` (other keys are left alone)."""
    if not isinstance(answer, dict):
        fail(f"{what} should be a dict with the keys {', '.join(map(repr, keys))}, got {type(answer).__name__}")
    missing = [k for k in keys if k not in answer]
    if missing:
        fail(f"{what} lacks the key(s) {', '.join(map(repr, missing))} (it should have {', '.join(map(repr, keys))})")
    return answer


def result(value, what: str):
    """``value``, refused unless it is the ``Result`` that ``experiment.train`` returns."""
    from ..experiment import Result

    if not isinstance(value, Result):
        fail(f"{what} should be the Result that experiment.train returns, got {type(value).__name__}")
    return value


def item_autorec(value, what: str):
    """``value``, refused unless it is a trained I-AutoRec ``Result`` (model 'autorec', variant 'item')."""
    result(value, what)
    if value.config.model_type != "autorec" or value.config.variant != "item":
        fail(f"{what} is a {value.config.model_type} ({value.config.variant}) model; this exercise is about "
             "I-AutoRec: model 'autorec', variant 'item'")
    return value


def changed_settings(train, course, ignore: tuple[str, ...] = ("seed", "device", "inputs")) -> dict:
    """The training settings of ``train`` that differ from ``course`` (both ``TrainConfig``), as
    ``{name: value in train}``; ``ignore`` names settings that change no result's meaning."""
    got, want = train.as_dict(), course.as_dict()
    differ = {}
    for key, value in want.items():
        mine = got.get(key)
        if key in ignore:
            continue
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (mine, value))
        if not (math.isclose(mine, value, rel_tol=1e-12, abs_tol=1e-12) if numeric else mine == value):
            differ[key] = mine
    return differ


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
        fail(f"{what} was not trained and scored on {name} you passed: its stored validation RMSE is not "
             f"what its model scores on that split's validation part")
    return stored.rmse


def reference(chapter: str) -> dict:
    """The stored reference answers of one chapter (written by ``make reference``)."""
    path = REFERENCE_DIR / f"{chapter}.json"
    if not path.exists():
        fail(f"no reference answers stored for {chapter} ({path}); run `make reference`")
    return json.loads(path.read_text())
