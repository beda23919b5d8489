"""Check functions for the exercises in notebook 06.

Each ``check_*`` takes the learner's answer, checks its structure, and compares its numbers with
the reference within a tolerance; it prints a short confirmation, or raises :class:`CheckFailed`
with what is wrong and a hint. The reference numbers are those of the solution notebook itself:
``make reference`` runs it with ``AUTOREC_RECORD_REFERENCE`` set, and the same calls then record
their answers into ``exercise_reference.json`` instead of checking them.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

REFERENCE_FILE = Path(__file__).with_name("exercise_reference.json")
RECORD_ENV = "AUTOREC_RECORD_REFERENCE"
TOLERANCE = 0.01  # RMSE; absorbs CPU/GPU and thread-count differences, not a wrong setup

# The settings every exercise uses (stated in the notebook too).
EPOCHS = 30
LR = 3e-3  # faster than the course default, so that each exercise run takes seconds
HIDDEN_SIZES = (20, 100, 300, 500)
ACTIVATION_PAIRS = (("identity", "identity"), ("sigmoid", "identity"), ("identity", "sigmoid"),
                    ("sigmoid", "sigmoid"), ("relu", "identity"), ("elu", "identity"))
DEEP_HIDDEN = (500, 250, 500)
DROPOUTS = (0.0, 0.2, 0.5)


class CheckFailed(AssertionError):
    """The answer is not right yet; the message says why."""


def _recording() -> bool:
    return bool(os.environ.get(RECORD_ENV))


def _reference(name: str):
    refs = json.loads(REFERENCE_FILE.read_text()) if REFERENCE_FILE.exists() else {}
    if name not in refs:
        raise CheckFailed(f"no reference recorded for {name!r}; run `make reference` first")
    return refs[name]


def _record(name: str, value) -> None:
    refs = json.loads(REFERENCE_FILE.read_text()) if REFERENCE_FILE.exists() else {}
    refs[name] = value
    tmp = REFERENCE_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps(refs, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, REFERENCE_FILE)
    print(f"recorded the reference for {name}")


def _compare_table(name: str, answer: dict, keys: list[str], what: str) -> None:
    """Structure first (every key, numbers in a sane range), then values against the reference."""
    if not isinstance(answer, dict):
        raise CheckFailed(f"expected a dict mapping {what} to validation RMSE, got {type(answer).__name__}")
    table = {_key(k): v for k, v in answer.items()}
    missing = [k for k in keys if k not in table]
    if missing:
        raise CheckFailed(f"missing {what}: {', '.join(missing)}")
    for key in keys:
        value = table[key]
        if not isinstance(value, (float, int, np.floating)) or not 0.5 < float(value) < 4.5:
            raise CheckFailed(f"{what} {key}: {value!r} is not a plausible RMSE (expected a float between 0.5 and 4.5)")
    if _recording():
        _record(name, {k: float(table[k]) for k in keys})
        return
    reference = _reference(name)
    for key in keys:
        if abs(float(table[key]) - reference[key]) > TOLERANCE:
            raise CheckFailed(f"{what} {key}: your validation RMSE {float(table[key]):.4f} differs from the "
                              f"reference {reference[key]:.4f} by more than {TOLERANCE}. Did you train for "
                              f"{EPOCHS} epochs at lr {LR} with seed 0 and score the validation split?")
    print(f"correct: all {len(keys)} {what} within {TOLERANCE} of the reference")


def _key(k) -> str:
    return "/".join(map(str, k)) if isinstance(k, tuple) else str(k)


def check_masked_loss(fn) -> None:
    """Exercise 1: ``fn(pred, target, mask)`` must equal Σ((pred−target)⊙mask)² and pass no gradient
    to unobserved entries."""
    import torch

    from .objective import masked_sse

    gen = torch.Generator().manual_seed(0)
    pred = torch.randn(5, 7, generator=gen, requires_grad=True)
    target = torch.randint(1, 6, (5, 7), generator=gen).float()
    mask = (torch.rand(5, 7, generator=gen) < 0.4).float()
    value = fn(pred, target, mask)
    if not torch.is_tensor(value) or value.numel() != 1:
        raise CheckFailed("return a single-element tensor (use .sum())")
    expected = masked_sse(pred, target, mask)
    if not torch.allclose(value, expected, rtol=1e-5):
        hint = " (did you average instead of summing?)" if torch.allclose(value * mask.sum(), expected) else ""
        raise CheckFailed(f"your loss is {value.item():.4f}, expected {expected.item():.4f}{hint}")
    value.backward()
    if torch.any(pred.grad[mask == 0] != 0):
        raise CheckFailed("unobserved entries receive gradient: multiply the error by the mask")
    print("correct: the masked loss matches and unobserved entries get zero gradient")


def check_hidden_sweep(answer: dict) -> None:
    """Exercise 2: validation RMSE of I-AutoRec for every size in ``HIDDEN_SIZES``."""
    _compare_table("hidden_sweep", answer, [str(k) for k in HIDDEN_SIZES], "hidden sizes")


def check_activation_table(answer: dict) -> None:
    """Exercise 3: validation RMSE for each (encoder, decoder) pair in ``ACTIVATION_PAIRS``."""
    _compare_table("activations", answer, [_key(p) for p in ACTIVATION_PAIRS], "activation pairs")


def check_deep_model(model, n_inputs: int, valid_rmse: float) -> None:
    """Exercise 4: a PyTorch AutoRec with hidden layers ``DEEP_HIDDEN`` and its validation RMSE."""
    shapes = [tuple(p.shape) for name, p in model.named_parameters() if name.endswith("weight")]
    sizes = [n_inputs, *DEEP_HIDDEN, n_inputs]
    expected = [(o, i) for i, o in zip(sizes[:-1], sizes[1:])]
    if shapes != expected:
        raise CheckFailed(f"weight shapes are {shapes}; expected {expected} (n_inputs -> "
                          f"{' -> '.join(map(str, DEEP_HIDDEN))} -> n_inputs)")
    _compare_table("deep", {"deep": valid_rmse}, ["deep"], "deep model")


def check_dropout(answer: dict) -> None:
    """Exercise 5: validation RMSE of I-AutoRec for each dropout rate in ``DROPOUTS``."""
    _compare_table("dropout", answer, [str(p) for p in DROPOUTS], "dropout rates")
