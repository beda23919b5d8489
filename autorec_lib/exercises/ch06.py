"""Notebook 06, "vary AutoRec": the training protocol its exercises share, the one function that
trains every exercise run, the stored study's read-out, and the checks.

Every exercise trains I-AutoRec on ML-100K's 80/10/10 random split (seed 0) with the course
defaults except the settings below, under one protocol: Adam at ``LR``, the learning rate halved
whenever ``LR_PATIENCE`` epochs in a row bring no better validation RMSE, and training stopped
after ``PATIENCE`` epochs without one (the epoch cap is only a safety net; a run that reaches it
is refused). The stored study (``reference/ch06.json``) shows that this protocol has converged:
for every setting, five times the patience (and the cap) moves the mean validation RMSE by less
than one seed-to-seed standard deviation.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from ..config import ACTIVATIONS, TrainConfig, course_config
from ..datasets import RatingData
from ..experiment import Result, train
from ..matrix import RatingMatrix
from ..objective import OutputScale
from ..splits import Split
from . import (CheckFailed, course_split, fail, finished_training, library_function, number, passed, rating_data,
               reference, result, shown, trained_on, valid_rmse, whole)
from .ch04 import rounded

# --- the protocol -----------------------------------------------------------------------------
LR = 3e-3             # three times the course default, so that each run takes seconds
LR_SCHEDULE = "plateau"
LR_PATIENCE = 5       # the learning rate is halved after this many epochs in a row without progress
LR_FACTOR = 0.5
PATIENCE = 20         # early stopping: this many epochs without a better validation RMSE end a run
MAX_EPOCHS = 2000     # a safety net; no run of the study comes near it
LONGER = 5            # the convergence test: patience and cap times this, same seeds

# --- the settings -----------------------------------------------------------------------------
BASE = {"hidden": (500,), "encoder": "sigmoid", "decoder": "identity", "dropout": 0.0}
HIDDEN_SIZES = (10, 20, 50, 100, 300, 500)
# The paper's four (encoder g, decoder f) pairs (its Table 1(b)), plus ReLU and ELU encoders.
ACTIVATION_PAIRS = (("identity", "identity"), ("sigmoid", "identity"), ("identity", "sigmoid"),
                    ("sigmoid", "sigmoid"), ("relu", "identity"), ("elu", "identity"))
DEEP_HIDDEN = (500, 250, 500)
DROPOUTS = (0.0, 0.2, 0.5)
# λ for every setting is chosen on validation from this grid, in rating units: for a bounded
# decoder the loss is measured on ratings mapped into its range, so the same grid point is scaled
# by the square of that map's slope (see lambda_for). Where the best λ lies on an edge, the study
# extends the grid past it.
LAMBDA_GRID = (10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0)

# What the learner trains live in the notebook (the study trained every setting with many seeds).
LAMBDA_SETTING = BASE            # exercise 2 chooses λ for the course's model ...
LAMBDA_LIVE = (30.0, 100.0, 300.0)  # ... from this grid
HIDDEN_LIVE = (20, 100, 500)
PAIRS_LIVE = (("sigmoid", "identity"), ("identity", "sigmoid"), ("sigmoid", "sigmoid"))
DROPOUTS_LIVE = (0.0, 0.5)

# The paper's Table 1(b): I-AutoRec test RMSE on MovieLens 1M for each (encoder g, decoder f).
PAPER_ML1M = {("identity", "identity"): 0.872, ("sigmoid", "identity"): 0.831,
              ("identity", "sigmoid"): 0.852, ("sigmoid", "sigmoid"): 0.836}
PAPER_DEEP_ML1M = (0.831, 0.827)  # one hidden layer of 500 vs 500-250-500 (greedy pre-training)

# Tolerance of a value check: TOL_SDS standard deviations of the validation RMSE over the
# reference seeds (5, or 8 where the first five spread wider than WIDE_SD), never less than
# TOL_FLOOR. The study also trains five seeds the tolerance never saw, and a test holds every one
# of them inside it. A value check is the last line of defence: another setting, split or number
# is caught first by the structure checks, which need no tolerance.
TOL_SDS = 4.0
TOL_FLOOR = 0.004
WIDE_SD = 0.01


def key(k) -> str:
    """The study's name for an answer's key: ``("sigmoid", "identity")`` -> ``"sigmoid/identity"``."""
    return "/".join(map(str, k)) if isinstance(k, tuple) else str(k)


def model_options(group: str, k) -> dict:
    """The model a setting trains, e.g. ``model_options("hidden", 20)`` or ``("activations", ("relu", "identity"))``."""
    if group == "hidden":
        return {**BASE, "hidden": (k,)}
    if group == "activations":
        return {**BASE, "encoder": k[0], "decoder": k[1]}
    if group == "deep":
        return {**BASE, "hidden": DEEP_HIDDEN}
    if group == "dropout":
        return {**BASE, "dropout": k}
    raise ValueError(f"unknown group {group!r}; choose hidden, activations, deep or dropout")


def lambda_for(lam: float, decoder: str, scale: tuple[float, float]) -> float:
    """λ in the units of the loss: a grid value in rating units, scaled for a bounded decoder."""
    return lam * OutputScale(decoder, scale).a ** 2


def train_config(seed: int = 0, lam: float | None = None, longer: bool = False) -> TrainConfig:
    """The course's I-AutoRec training options under the exercise protocol (``longer``: the
    convergence test's five-fold patience and cap)."""
    factor = LONGER if longer else 1
    changes = {"epochs": MAX_EPOCHS * factor, "lr": LR, "patience": PATIENCE * factor, "seed": seed,
               "lr_schedule": LR_SCHEDULE, "lr_patience": LR_PATIENCE, "lr_factor": LR_FACTOR}
    if lam is not None:
        changes["lam"] = lam
    return course_config("autorec", "item").replace(**changes).train


def run(data: RatingData, split: Split, seed: int = 0, lam: float | None = None, longer: bool = False,
        **options) -> Result:
    """Train I-AutoRec under the exercise protocol until early stopping; ``lam`` in rating units."""
    decoder = options.get("decoder", course_config("autorec", "item").net.decoder)
    lam = None if lam is None else lambda_for(lam, decoder, data.scale)
    settings = {**dataclasses.asdict(train_config(seed, lam, longer)), **options}
    return train(data, split, "autorec", "item", progress=False, eval_test=False, **settings)


# --- the stored study -------------------------------------------------------------------------

def entry(group: str, k) -> dict:
    """One setting of the stored study (``group`` hidden, activations, deep or dropout)."""
    study = reference("ch06")
    if group not in study or key(k) not in study[group]:
        fail(f"the stored study has no setting {group}/{key(k)}")
    return study[group][key(k)]


def chosen_lambda(group: str, k) -> float:
    """The λ (rating units) that the stored study chose on validation for one setting, e.g.
    ``chosen_lambda("activations", ("sigmoid", "identity"))`` or ``chosen_lambda("hidden", 300)``."""
    return entry(group, k)["lam"]


def tolerance(e: dict) -> float:
    return max(TOL_FLOOR, TOL_SDS * e["sd"])


def paired(a: dict, b: dict) -> dict:
    """``b − a`` in validation RMSE over the seeds both settings trained: the means of ``a`` and ``b``
    over those seeds, the per-seed differences, their mean (the difference of those two means), its
    standard error and a 95 % t-interval. ``a`` and ``b`` are study entries."""
    from scipy import stats

    va, vb = dict(zip(a["seeds"], a["valid"])), dict(zip(b["seeds"], b["valid"]))
    seeds = [s for s in a["seeds"] if s in vb]
    diffs = np.array([vb[s] - va[s] for s in seeds])
    n = len(diffs)
    mean, se = float(diffs.mean()), float(diffs.std(ddof=1) / math.sqrt(n))
    half = float(stats.t.ppf(0.975, n - 1)) * se
    return {"seeds": seeds, "diffs": diffs.tolist(), "n": n, "mean": mean, "se": se,
            "low": mean - half, "high": mean + half,
            "a_mean": float(np.mean([va[s] for s in seeds])), "b_mean": float(np.mean([vb[s] for s in seeds]))}


def verdict(p: dict) -> str:
    """How a paired difference ``b − a`` reads: lower RMSE is better."""
    if p["high"] < 0:
        return "better"
    if p["low"] > 0:
        return "worse"
    return "inside the noise"


def describe(p: dict) -> str:
    """One line for a paired comparison ``b − a``: both means over the paired seeds, the mean
    difference with its standard error and 95 % interval, and the verdict."""
    return (f"{p['a_mean']:.4f} -> {p['b_mean']:.4f}: {p['mean']:+.4f} (SE {p['se']:.4f}, 95% CI {p['low']:+.4f} "
            f"to {p['high']:+.4f}, {p['n']} paired seeds): {verdict(p)}")


def study_frame(group: str, keys) -> pd.DataFrame:
    """The stored study for some settings: λ, validation RMSE over the reference seeds and over all
    seeds, the five-fold-patience check, the test RMSE (recorded after λ was chosen) and epochs."""
    rows = []
    for k in keys:
        e = entry(group, k)
        longer = e["longer"]
        rows.append({group: key(k), "λ": e["lam"], "valid (ref. seeds)": e["mean"], "sd": e["sd"],
                     "n ref.": e["n_reference"], "valid (all seeds)": float(np.mean(e["valid"])),
                     "n all": len(e["valid"]), f"{LONGER}x patience": longer["mean"],
                     "shift": longer["shift"], "test": float(np.mean(e["test"])),
                     "best epoch": int(np.median(e["best_epochs"]))})
    return pd.DataFrame(rows).set_index(group)


def stored_curve(name: str) -> pd.DataFrame:
    """A learning curve the study stored (``ch06.json``, "curves"): validation RMSE and learning rate by epoch."""
    curves = reference("ch06")["curves"]
    if name not in curves:
        fail(f"no stored curve {name!r}; the stored curves are: {', '.join(curves)}")
    c = curves[name]
    return pd.DataFrame({"valid_rmse": c["valid_rmse"], "lr": c["lr"]},
                        index=pd.RangeIndex(1, len(c["valid_rmse"]) + 1, name="epoch"))


def global_mean_rmse(split: Split) -> float:
    """Validation RMSE of predicting the training mean for every rating: the floor any model must beat."""
    mean = split.train["rating"].mean()
    return float(np.sqrt(np.mean((split.valid["rating"].to_numpy(np.float64) - mean) ** 2)))


# --- the checks -------------------------------------------------------------------------------

def check_masked_loss(fn) -> None:
    """Exercise 1: calls ``fn(pred, target, mask)`` on small random AutoRec-shaped tensors (float32
    and float64; targets on the rating scale, and targets mapped onto a sigmoid's range as exercise 4
    feeds them, where an observed rating can be 0) and compares it with the library's data term,
    including its gradient. ``fn`` receives copies; the check computes its own answer on tensors
    ``fn`` never sees."""
    import torch

    from ..objective import masked_sse

    if library_function(fn):
        fail(f"{getattr(fn, '__name__', 'fn')} is the library's function: pass the loss you wrote")
    for dtype, mapped in ((torch.float32, False), (torch.float64, False), (torch.float32, True)):
        gen = torch.Generator().manual_seed(0)
        mask = (torch.rand(5, 7, generator=gen) < 0.4).to(dtype)
        mask[0, :2] = 1  # at least two observed entries, the first of them a lowest rating
        ratings = torch.randint(1, 6, (5, 7), generator=gen).to(dtype)
        ratings[0, 0] = 1
        if mapped:  # exercise 4's targets: the lowest rating maps to 0, as an unobserved entry's target is
            ratings = (ratings - 1) / 4
        target = ratings * mask  # unobserved ratings are 0
        base = (0.5 if mapped else 3) + torch.randn(5, 7, generator=gen, dtype=dtype) * (0.3 if mapped else 1)
        inputs = f"{str(dtype).replace('torch.', '')} inputs" + (
            " with targets mapped onto (0, 1), where an observed rating can be 0" if mapped else "")
        ref_pred = base.clone().requires_grad_()
        expected = masked_sse(ref_pred, target, mask)
        want = torch.autograd.grad(expected, ref_pred)[0]
        expected = expected.detach()
        pred, given_target, given_mask = base.clone().requires_grad_(), target.clone(), mask.clone()
        try:
            value = fn(pred, given_target, given_mask)
        except Exception as err:  # noqa: BLE001  the learner's code: say what it raised, not a stack trace
            fail(f"your loss raised {type(err).__name__} ({err}) on {inputs}: compute it with out-of-place "
                 "tensor operations on pred, target and mask (an in-place operation on pred, which needs a "
                 "gradient, is refused by PyTorch)")
        edited = [name for name, given, kept in (("pred", pred, base), ("target", given_target, target),
                                                 ("mask", given_mask, mask)) if not torch.equal(given.detach(), kept)]
        if edited:
            fail(f"your loss changed its input {' and '.join(edited)} in place (an operation such as mul_, zero_ "
                 "or -=): a loss must leave the tensors it is given as they are, and compute from them")
        if not torch.is_tensor(value):
            fail(f"return a tensor (got {type(value).__name__}): a Python number carries no gradient, "
                 "so nothing could be trained with it")
        if value.numel() != 1:
            fail(f"return a single number as a tensor, not one of shape {tuple(value.shape)}: "
                 "add up the squared errors")
        rtol = 1e-5 if dtype == torch.float32 else 1e-10
        if not torch.allclose(value.detach().reshape(()).to(dtype), expected, rtol=rtol):
            v, e = value.detach().reshape(()).to(dtype), expected
            unmasked = ((base - target) ** 2).sum()
            if torch.allclose(v * mask.sum(), e, rtol=rtol):
                hint = "You averaged over the observed entries; the paper's objective adds them up."
            elif torch.allclose(v * mask.numel(), e, rtol=rtol) or torch.allclose(v * mask.numel(), unmasked, rtol=rtol):
                hint = "You averaged over all entries; add up the squared errors of the observed ones only."
            elif torch.allclose(v, unmasked, rtol=rtol):
                hint = "Unobserved entries count in your loss: the mask must switch them off."
            elif mapped and torch.allclose(v, masked_sse(base, target, (target != 0).to(dtype)), rtol=rtol):
                hint = ("Observed ratings whose target is 0 do not count in your loss: tell observed entries by "
                        "the mask, not by the target's value.")
            else:
                hint = "Compare it with the paper's objective in notebook 03: what does it add up, and over which entries?"
            fail(f"your loss (on {inputs}) is not the masked squared error. {hint}")
        if not value.requires_grad:
            fail("your loss has the right value but carries no gradient back to pred: is it detached from pred?")
        value.reshape(()).backward()
        if pred.grad is None or torch.any(pred.grad[mask == 0] != 0):
            fail("unobserved entries receive gradient: the error of an unobserved entry must not count")
        if not torch.allclose(pred.grad, want, rtol=rtol, atol=rtol):
            fail("your loss has the right value but not the right gradient: is part of it detached from pred?")
    passed("the masked loss matches on float32 and float64, also where an observed target is 0, and unobserved "
           "entries get zero gradient")


# --- the split and the runs -------------------------------------------------------------------

STUDY_SPLIT = {"test_fraction": 0.1, "valid_fraction": 0.1, "seed": 0}  # the split every run of the study used


def study_split(split: Split, data: RatingData, what: str = "split") -> Split:
    """``split``, refused unless it is the study's split of ML-100K as ``splits.make_split`` made it
    (random, ``STUDY_SPLIT``), with its parts unchanged; ``data`` as its files hold it. Reads the
    training and validation ratings and only which (user, movie) pairs the test part holds."""
    rating_data(data, "ml-100k")
    fractions = {k: v for k, v in STUDY_SPLIT.items() if k != "seed"}
    course_split(split, data, what, "random", **fractions)
    if split.spec.seed != STUDY_SPLIT["seed"]:
        fail(f"{what} was made with seed={split.spec.seed}, but the stored study, which the checks compare with, used "
             f"another split: make it as the notebook's first code cell does, splits.make_split(data, 'random', "
             + ", ".join(f"{k}={v}" for k, v in STUDY_SPLIT.items()) + ")")
    return split


def _model_disagrees(value) -> list[str]:
    """What in a run's ``config.net`` its model does not have: the shapes of its weight matrices (the hidden
    sizes), its encoder and decoder activations and its dropout, as the model holds them."""
    from ..torch_backend import ACTIVATIONS as MODULES
    from ..torch_backend import AutoRec

    model, net = getattr(value.learner, "model", None), value.config.net
    if not isinstance(model, AutoRec):
        return ["the model's type"]
    differ = []
    try:
        sizes = net.layer_sizes
    except ValueError:
        return ["the network's input size"]
    if [tuple(layer.weight.shape) for layer in model.layers] != [(o, i) for i, o in sizes]:
        differ.append("the weight shapes")
    if type(model.g) is not MODULES.get(net.encoder):
        differ.append("the encoder activation")
    if type(model.f) is not MODULES.get(net.decoder):
        differ.append("the decoder activation")
    if not math.isclose(model.dropout.p, net.dropout):
        differ.append("the dropout rate")
    return differ


def _returned(value, where: str) -> None:
    """The shared guard (a Result as ``experiment.train`` returned it, not warm-started), and its model as its
    config describes it."""
    result(value, where)
    differ = _model_disagrees(value)
    if differ:
        fail(f"{where}.config does not describe the model it carries (they disagree on {', '.join(differ)}): pass "
             "the Result exactly as run(...) returned it, and train again to change a setting")


def _runs_split(runs: dict, keys: list, split: Split) -> None:
    """The split the runs are checked on is the study's, and the data of the first run is ML-100K as its files
    hold it (every run is then shown to have trained on that split)."""
    first = runs[keys[0]]
    if not isinstance(first, Result):
        fail(f"{key(keys[0])}: expected the Result that run(...) returns, got {type(first).__name__}")
    study_split(split, first.data)


def _check_run(result, where: str, split: Split, lam: float | None = None, **model) -> None:
    """One exercise run: returned by ``run(...)`` as it is (from a random start, its config describing its
    model), its configuration, that it trained on ``split`` (the study's, see :func:`study_split`), and that
    early stopping fired."""
    if not isinstance(result, Result):
        fail(f"{where}: expected the Result that run(...) returns, got {type(result).__name__}")
    framework = getattr(getattr(result, "config", None), "framework", "torch")
    if framework != "torch":
        fail(f"{where}: this run was trained with {framework}; this notebook's exercises compare PyTorch runs with "
             "the study (also made with PyTorch): train it with run(...) without framework=")
    _returned(result, where)
    if result.config.model_type != "autorec" or result.config.variant != "item":
        fail(f"{where}: this is {result.config.variant}-based {result.config.model_type}; the exercises train I-AutoRec")
    config = dataclasses.asdict(result.config.net)
    config["hidden"] = tuple(config["hidden"])
    for name, expected in model.items():
        if config.get(name) != expected:
            fail(f"{where}: the model was built with {name}={config.get(name)!r}, expected {expected!r}. "
                 "Are the labels of your answer in the right order?")
    scale = tuple(reference("ch06")["settings"]["scale"])
    cfg = result.config.train
    if lam is not None and not math.isclose(cfg.lam, lambda_for(lam, config["decoder"], scale), rel_tol=1e-9):
        fail(f"{where}: trained with another λ than this exercise asks for; pass lam= as the exercise says")
    expected_cfg = train_config(cfg.seed, cfg.lam)
    for name in ("lr", "batch_size", "patience", "optimizer", "epochs", "lr_schedule", "lr_patience", "lr_factor"):
        got, want = getattr(cfg, name), getattr(expected_cfg, name)
        if got != want and not (isinstance(got, float) and math.isclose(got, want, rel_tol=1e-9)):
            fail(f"{where}: trained with {name}={got!r}, expected {want!r}; train every run with run(...)")
    hint = "train every run with run(...) and pass its Result as it returned it, its config unchanged"
    finished_training(result, where, hint)
    if not _lr_as_scheduled(result.history.records, cfg):
        fail(f"{where}: the learning rate recorded by epoch (its history's lr column) is not the one its config's "
             f"schedule gives: {hint}")
    trained_on(result, split, where)
    matrix = result.learner.matrix
    if matrix.nnz != len(split.train):
        fail(f"{where}: the model was trained on {matrix.nnz} ratings, but split.train has "
             f"{len(split.train)}; train on the exercise's split")
    expected = RatingMatrix(split.train, matrix.shape[1], matrix.shape[0], "item").csr
    if not all(np.array_equal(getattr(matrix.csr, a), getattr(expected, a)) for a in ("indptr", "indices", "data")):
        fail(f"{where}: the model was trained on {matrix.nnz} ratings, but not on the exercise's "
             "training ratings; train on the split made at the top of the notebook")
    if not result.history.stopped_early:
        fail(f"{where}: training ran all {len(result.history.records)} epochs without early stopping; "
             "an unconverged run says nothing about the setting")


def _lr_as_scheduled(records: list, cfg: TrainConfig) -> bool:
    """Whether each epoch's recorded ``lr`` is the one ``cfg``'s schedule gives, replayed on the recorded
    validation RMSEs (``training.fit``'s rule: with ``"plateau"``, times ``lr_factor`` once more than
    ``lr_patience`` epochs in a row bring no better validation RMSE; else constant)."""
    lr, best, bad = cfg.lr, math.inf, 0
    for record in records:
        got = record.get("lr")
        if got is None or not math.isclose(got, lr, rel_tol=1e-9):
            return False
        if cfg.lr_schedule == "plateau":
            current = record.get("valid_rmse", math.inf)
            best, bad = (current, 0) if current < best else (best, bad + 1)
            if bad > cfg.lr_patience:
                lr, bad = lr * cfg.lr_factor, 0
    return True


def _check_answer_keys(answers: dict, keys: list) -> dict:
    """Each answer (a dict by setting) keyed by exactly ``keys``, in any spelling :func:`check_best` accepts
    (``"20"`` or ``(20,)`` for 20, ``"sigmoid/identity"`` for a pair): the answers re-keyed by ``keys``."""
    keyed = {}
    for what, answer in answers.items():
        if not isinstance(answer, dict):
            fail(f"the {what} should be a dict keyed by {', '.join(map(key, keys))}, got {type(answer).__name__}")
        named = {}
        for k in answer:
            mine = _named_key(k, keys)
            if mine is None:
                fail(f"the {what} has unexpected keys {', '.join(repr(k) for k in answer if _named_key(k, keys) is None)}")
            if mine in named:
                fail(f"the {what} names {key(mine)} twice ({named[mine][0]!r} and {k!r}): keep one entry per setting")
            named[mine] = (k, answer[k])
        missing = [key(k) for k in keys if k not in named]
        if missing:
            fail(f"the {what} lacks {', '.join(missing)}")
        keyed[what] = {k: named[k][1] for k in keys}
    return keyed


def _check_reported(k, table: dict, runs: dict, split: Split) -> float:
    """The number reported for ``k`` is its run's validation RMSE, and that run was scored on ``split``."""
    reported = number(table[k], f"{key(k)}: the reported RMSE", 0.0, 10.0)
    valid = runs[k].scores["valid"].rmse
    if not math.isclose(reported, valid, abs_tol=1e-6):
        if rounded(reported):  # the learner's value alone: the message tells nothing of the right one
            fail(f"{key(k)}: the number you report, {reported:g}, looks rounded: report the run's validation RMSE "
                 "unrounded (round only what you print)")
        fail(f"{key(k)}: the number you report is not that run's validation RMSE "
             "(result.scores['valid'].rmse)")
    valid_rmse(runs[k], split, tuple(reference("ch06")["settings"]["scale"]), key(k))
    return reported


def _within_study(where: str, value: float, mean: float, tol: float, baseline: float) -> None:
    """The value stage: better than the training mean, and within ``tol`` of the study's number."""
    if value >= baseline:
        fail(f"{where}: your validation RMSE is no better than predicting the training mean "
             f"({baseline:.4f}): this run has not learned anything")
    if abs(value - mean) > tol:
        side = "higher" if value > mean else "lower"
        fail(f"{where}: the validation RMSE is {side} than the reference solution reaches on any seed "
             "within its tolerance. Did you change the split, the data or the training settings?")


def _table_checks(group: str, table: dict, runs: dict, split: Split, keys: list) -> None:
    keyed = _check_answer_keys({"table": table, "runs": runs}, keys)
    table, runs = keyed["table"], keyed["runs"]
    _runs_split(runs, keys, split)
    reported = {}
    for k in keys:
        _check_run(runs[k], key(k), split, chosen_lambda(group, k), **model_options(group, k))
        reported[k] = _check_reported(k, table, runs, split)
    baseline = global_mean_rmse(split)
    for k, value in reported.items():
        e = entry(group, k)
        _within_study(key(k), value, e["mean"], tolerance(e), baseline)


def check_table(group: str, table: dict, runs: dict, split: Split, keys=None) -> None:
    """A ``{key: validation RMSE}`` table and the ``{key: Result}`` runs it came from, each trained
    under the protocol at the study's λ for its setting on the study's split, and each within the
    tolerance of the study."""
    keys = list(keys) if keys is not None else list(live_keys(group))
    _table_checks(group, table, runs, split, keys)
    passed(f"every run of your table ({', '.join(map(key, keys))}) trained under the protocol on the study's "
           "split, and its validation RMSE is within the reference solution's tolerance")


def live_keys(group: str) -> tuple:
    return {"hidden": HIDDEN_LIVE, "activations": PAIRS_LIVE, "deep": ("deep",), "dropout": DROPOUTS_LIVE}[group]


LAMBDA_UNMEASURED = 2.0  # how much wider exercise 2 lets a run sit from the grid at a λ whose seed spread is unmeasured


def lambda_reference() -> tuple[dict, dict]:
    """Exercise 2's reference: the study's grid for the course model (``{λ: validation RMSE}``, one run
    each, seed 0) and how far from it a run of any seed may lie, ``{λ: tolerance}``.

    At the course model's λ the study trained 10 seeds: a run of any seed and the seed-0 grid point each
    lie within the course model's tolerance of their mean, so within twice that tolerance of each other
    (the 10 seeds lie well inside it). At the grid's other λ the study measured no spread, so that bound is
    widened ``LAMBDA_UNMEASURED`` times: with less regularisation seeds spread wider (seeds 1-6, run once
    for the tests, spread about twice as wide at the grid's smallest λ as at the course model's)."""
    e = entry("hidden", LAMBDA_SETTING["hidden"][0])
    measured = 2 * tolerance(e)
    grid = {lam: e["grid_valid_seed0"][f"{lam:g}"] for lam in LAMBDA_LIVE}
    return grid, {lam: measured * (1 if lam == e["lam"] else LAMBDA_UNMEASURED) for lam in LAMBDA_LIVE}


def check_lambda_choice(choice, table: dict, runs: dict, split: Split) -> None:
    """Exercise 2: ``choice`` is the λ of ``LAMBDA_LIVE`` whose run has the lowest validation RMSE,
    and ``runs`` (``{λ: Result}``) and ``table`` (``{λ: validation RMSE}``) are that grid's runs of
    the course model on the study's split, each within the tolerance of the study's grid."""
    keys = list(LAMBDA_LIVE)
    keyed = _check_answer_keys({"table": table, "runs": runs}, keys)
    table, runs = keyed["table"], keyed["runs"]
    _runs_split(runs, keys, split)
    for lam in keys:
        _check_run(runs[lam], f"λ={lam:g}", split, lam, **LAMBDA_SETTING)
        _check_reported(lam, table, runs, split)
    lam_choice = _named_key(choice, keys)
    if lam_choice is None:
        fail(f"you chose λ={_shown_choice(choice)}, which is not one of the λ you trained: choose among your grid's runs")
    best = min(keys, key=lambda lam: runs[lam].scores["valid"].rmse)
    if lam_choice != best:
        fail(f"λ={lam_choice:g} is not the λ with the lowest validation RMSE in your runs: choose by each run's "
             "result.scores['valid'].rmse")
    grid, tol = lambda_reference()
    baseline = global_mean_rmse(split)
    for lam in keys:
        _within_study(f"λ={lam:g}", runs[lam].scores["valid"].rmse, grid[lam], tol[lam], baseline)
    passed(f"λ={lam_choice:g} has the lowest validation RMSE of your grid, and every run is within the "
           "reference solution's tolerance")


def _names(choice, k) -> bool:
    """Whether the learner's ``choice`` names the table key ``k``: ``("sigmoid", "identity")`` also as
    ``"sigmoid/identity"`` or a list; a number also as another numeric type, a 0-d array or a 1-tuple."""
    if isinstance(k, tuple):
        if isinstance(choice, str):
            return choice.replace(" ", "").lower() in (key(k), ",".join(k), str(k).replace(" ", ""))
        if isinstance(choice, (list, tuple)):
            return len(choice) == len(k) and all(str(a).lower() == str(b) for a, b in zip(choice, k))
        return False
    if isinstance(choice, (list, tuple)) and len(choice) == 1:
        choice = choice[0]
    if isinstance(choice, str) and not isinstance(k, str):
        try:
            choice = float(choice)
        except ValueError:
            return False
    if isinstance(k, str) or isinstance(choice, str):
        return choice == k
    try:
        return math.isclose(number(choice, "your choice"), number(k, "a key of your table"), rel_tol=1e-9)
    except CheckFailed:
        return False


def _named_key(choice, keys):
    """The one key of ``keys`` that ``choice`` names, each spelled either way (a table keyed ``"500"`` or
    ``(500,)`` and a choice of ``500``, a table keyed ``"sigmoid/identity"`` and a choice of a tuple)."""
    named = [k for k in keys if _names(choice, k) or _names(k, choice)]
    return named[0] if len(named) == 1 else None


def _shown_choice(choice) -> str:
    """A learner's choice as a message may show it: a setting's name (a number, a string, or a short tuple
    or list of them) as itself, anything else (a whole run, say, which holds its settings and its scores)
    by its type alone."""
    if isinstance(choice, (tuple, list)) and len(choice) <= 3 and all(shown(c) == repr(c) for c in choice):
        return repr(choice)
    return shown(choice)


def check_best(choice, table: dict, what: str) -> None:
    """The learner's choice is the key with the lowest validation RMSE in their own table (named as the
    table does, or in another spelling of the same setting: ``"sigmoid/identity"``, ``(500,)``)."""
    if not isinstance(table, dict) or not table:
        fail(f"{what}: pass your table, a dict {{setting: validation RMSE}}, got {type(table).__name__}")
    values = {k: number(v, f"{what}: the table's value for {key(k)}", 0.0, 10.0) for k, v in table.items()}
    chosen = _named_key(choice, list(values))
    if chosen is None:
        fail(f"{what}: you chose {_shown_choice(choice)}, which names none of the settings in your table "
             f"({', '.join(map(key, values))}): choose one of its keys")
    best = min(values, key=values.get)
    if chosen != best:
        fail(f"{what}: you chose {key(chosen)}, but it is not the one with the lowest validation RMSE in your table")
    passed(f"{what}: {key(best)} has the lowest validation RMSE in your table")


def _read_off(x: float, want: float) -> bool:
    """``x`` is ``want`` as the stored curve holds it (5 decimals), or rounded to 4 decimals (as the
    notebook prints it), up to float32 rounding. Not to fewer, and no looser: the tolerance must not
    admit a nearby number read from somewhere else than the curve."""
    return any(abs(x - round(want, d)) <= 1e-6 * max(1.0, abs(want)) for d in (4, 5, 12))


def check_curve_reading(stopped_at: int, short_best: float, long_best_epoch: int, long_best: float) -> None:
    """Exercise 3: four numbers read off the stored curves ``"constant lr, patience 10"`` (the run
    that stopped early) and ``"constant lr, patience 50"`` (the same run, given more patience): two
    epochs (whole numbers) and two validation RMSEs, as the curves hold them or rounded to 4 decimals."""
    short, long = stored_curve("constant lr, patience 10"), stored_curve("constant lr, patience 50")
    look = "Look at the curve's frame (its index is the epoch)."
    epochs = (("stopped_at", stopped_at, len(short), "the last epoch the short run trained (its history's last row)"),
              ("long_best_epoch", long_best_epoch, int(long["valid_rmse"].idxmin()),
               "the epoch of the long run's lowest validation RMSE"))
    for name, got, want, what in epochs:
        if whole(got, name, 1) != want:
            fail(f"{name} should be {what}; yours is not. {look}")
    values = (("short_best", short_best, short["valid_rmse"].min(), "the short run's lowest validation RMSE"),
              ("long_best", long_best, long["valid_rmse"].min(), "the long run's lowest validation RMSE"))
    for name, got, want, what in values:
        if not _read_off(number(got, name), want):
            fail(f"{name} should be {what}, as the curve holds it (or rounded to 4 decimals); yours is not. {look}")
    passed("you read the stopping epoch and both runs' best validation RMSE off the curves")


def check_decoder_map(to_decoder, to_rating, scale: tuple[float, float]) -> None:
    """Exercise 4: ``to_decoder`` maps ratings on ``scale`` (the data's) onto a sigmoid's range linearly,
    lowest to 0 and highest to 1, each rating on its own, and ``to_rating`` undoes it; both take and
    return tensors and leave their input as it was. Tried on a row of every rating step and on a 2-D
    batch of rows with unrated entries (0), like ``train_rows``."""
    import torch

    for name, fn in (("to_decoder", to_decoder), ("to_rating", to_rating)):
        if library_function(fn):
            fail(f"{name} is the library's own map (OutputScale's): pass the function you wrote")
    study_scale = tuple(reference("ch06")["settings"]["scale"])
    if tuple(number(v, "scale") for v in scale) != study_scale:
        fail(f"scale should be the data's rating scale (data.scale), not {tuple(scale)!r}")
    low, high = study_scale

    def call(fn, name: str, given):
        kept = given.clone()
        try:
            out = fn(given)
        except Exception as err:  # noqa: BLE001  the learner's code: say what it raised, not a stack trace
            shape = "a batch of rows (2-D, like train_rows)" if given.dim() == 2 else "a row of ratings"
            fail(f"{name} raised {type(err).__name__} ({err}) on {shape}: it should work on a tensor of any "
                 "shape, with tensor operations")
        if not torch.equal(given, kept):
            fail(f"{name} changed the tensor it was given (an in-place operation such as -= or sub_): return a new "
                 "tensor and leave its input as it was; the notebook passes train_rows itself")
        if not torch.is_tensor(out) or out.shape != given.shape:
            fail(f"{name} should take a tensor and return a tensor of the same shape")
        return out.to(torch.float64)

    ratings = torch.linspace(low, high, 9, dtype=torch.float64)
    mapped = call(to_decoder, "to_decoder", ratings.clone())
    if not (torch.isclose(mapped[0], torch.tensor(0.0, dtype=torch.float64), atol=1e-6)
            and torch.isclose(mapped[-1], torch.tensor(1.0, dtype=torch.float64), atol=1e-6)):
        fail("to_decoder should send the lowest rating to the sigmoid's lower end and the highest to its upper end")
    steps = mapped.diff()
    if not torch.allclose(steps, steps.mean().expand_as(steps), atol=1e-6):
        fail("to_decoder should be a straight line (a scale and a shift), so that equal rating gaps stay equal")
    # A batch of rows as the notebook's train_rows: float32, unrated entries 0, and ratings that do not
    # span the scale, so that a map computed from the tensor's own values differs from the scale's.
    gen = torch.Generator().manual_seed(0)
    rows = torch.randint(2, 5, (4, 9), generator=gen).float() * (torch.rand(4, 9, generator=gen) < 0.6)
    rated = rows > 0
    mapped_rows = call(to_decoder, "to_decoder", rows.clone())
    slope = mapped[-1] - mapped[0]
    want = mapped[0] + slope * (rows.to(torch.float64) - low) / (high - low)
    if not torch.allclose(mapped_rows[rated], want[rated], atol=1e-5):
        fail("to_decoder maps the same rating differently in a batch of rows with unrated entries (0) like "
             "train_rows: it should map each rating by the rating scale alone, not by the values in the tensor")
    back = call(to_rating, "to_rating", mapped.clone())
    if not torch.allclose(back, ratings, atol=1e-5):
        fail("to_rating(to_decoder(r)) should give r back: to_rating undoes to_decoder")
    back_rows = call(to_rating, "to_rating", mapped_rows.to(rows.dtype))
    if not torch.allclose(back_rows[rated], rows.to(torch.float64)[rated], atol=1e-4):
        fail("to_rating(to_decoder(r)) should give r back on a batch of rows too: to_rating undoes to_decoder")
    passed("to_decoder maps the rating scale onto (0, 1) and to_rating maps it back")


def _traced(model, rows):
    """``model(rows)`` in evaluation mode without gradients, and the ``nn.Linear`` layers in the order the
    forward pass applied them."""
    import torch

    called = []
    hooks = [m.register_forward_hook(lambda module, inputs, output: called.append(module))
             for m in model.modules() if isinstance(m, torch.nn.Linear)]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(rows)
    except Exception as err:  # noqa: BLE001  the learner's code: say what it raised, not a stack trace
        fail(f"deep_model(rows) raised {type(err).__name__}: {err}. It should take a batch of I-AutoRec input "
             "rows (one row per movie) and return their reconstructions")
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return out, called


def _structure(model, n_inputs: int, hidden: tuple[int, ...], rows):
    """The learner's layers in the order its forward pass applies them, once their shapes are right, and
    its output on ``rows`` (in the model's own float type). Every parameter and buffer must belong to an
    ``nn.Linear``, and the output must be the same in training mode as in evaluation mode. No message
    names a size the exercise asks the learner to work out."""
    import torch

    sizes = [n_inputs, *hidden, n_inputs]
    expected = [(o, i) for i, o in zip(sizes[:-1], sizes[1:])]
    chain = f"inputs -> {' -> '.join(map(str, hidden))} -> inputs"
    linear = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    owned = {id(p) for m in linear for p in m.parameters()} | {id(b) for m in linear for b in m.buffers()}
    if any(id(p) not in owned for p in [*model.parameters(), *model.buffers()]):
        fail("deep_model holds parameters or buffers outside its nn.Linear layers (a normalisation layer, a "
             "learnable scale, ...): this exercise's model is nn.Linear layers with activations between them, "
             "nothing else that learns or keeps state")
    weights = [m.weight for m in linear]
    if not weights:
        fail("build deep_model from nn.Linear layers (with the activations between them), so that the check can "
             "follow its computation")
    if len(weights) != len(expected):
        fail(f"deep_model has {len(weights)} nn.Linear layers; a network that goes {chain} has one per arrow")
    if sorted(tuple(w.shape) for w in weights) != sorted(expected):
        takes = any(w.shape[1] == n_inputs for w in weights)
        gives = any(w.shape[0] == n_inputs for w in weights)
        if not (takes and gives):
            fail("the input layer does not take one movie's row, or the output layer does not return one: in "
                 "I-AutoRec each input row holds one movie's ratings; how many entries does such a row have?")
        fail(f"the hidden layers do not have the sizes of this exercise's network: it goes {chain}")
    out, called = _traced(model, rows.to(weights[0].dtype))
    if [tuple(m.weight.shape) for m in called] != expected:
        if len(rows) > 1 and [tuple(m.weight.shape) for m in called] == expected * len(rows):
            fail("the forward pass applies the layers once per row: the check follows the order in which a forward "
                 "pass applies its layers, which it can only do when each layer takes the whole batch at once "
                 "(nn.Linear does); apply each layer once to the batch")
        fail(f"the forward pass applies layers of shapes {[tuple(m.weight.shape) for m in called]} in this order; "
             f"it should go {chain}, each layer once")
    if any(m.bias is None for m in called):
        fail("every layer needs its bias (μ and b in h(r) = f(W·g(V r + μ) + b)): "
             "keep nn.Linear's bias, one per layer")
    was_training = model.training
    model.train()
    try:
        with torch.no_grad():
            out_train = model(rows.to(weights[0].dtype))
    except Exception as err:  # noqa: BLE001  the learner's code: say what it raised, not a stack trace
        fail(f"deep_model(rows) raised {type(err).__name__} in training mode: {err}. It should compute the same "
             "in training mode as in evaluation mode")
    finally:
        model.train(was_training)
    if (not torch.is_tensor(out) or not torch.is_tensor(out_train) or out.shape != out_train.shape
            or not torch.allclose(out_train, out, rtol=1e-5, atol=1e-6)):
        fail("deep_model computes something else in training mode than in evaluation mode (dropout, or a step "
             "taken only while training): this exercise's model has no dropout, and computes the same in both")
    return called, out


def check_deep_model(model, data: RatingData, deep_run, deep_value, split: Split) -> None:
    """Exercise 7: ``model`` computes the deep I-AutoRec of ``DEEP_HIDDEN`` (its shapes, the order its
    forward pass applies its layers, and its function, with the course model's activations), and
    ``deep_run`` (``run(...)`` of the same architecture, on the study's split) reports ``deep_value`` and
    lies within the study's tolerance."""
    import torch

    from ..torch_backend import AutoRec

    if not isinstance(model, torch.nn.Module):
        fail(f"deep_model should be a torch.nn.Module, got {type(model).__name__}")
    study_split(split, data)
    gen = torch.Generator().manual_seed(0)
    rows = torch.randint(0, 6, (4, data.n_users), generator=gen).float()  # 0 = unrated
    layers, out = _structure(model, data.n_users, DEEP_HIDDEN, rows)
    if not torch.is_tensor(out) or tuple(out.shape) != tuple(rows.shape):
        fail("deep_model(rows) should return reconstructed rows of the same shape as its input")
    out = out.to(torch.float64)

    def computes(g: str, f: str) -> bool:
        ref = AutoRec(data.n_users, DEEP_HIDDEN, g, f).double()
        with torch.no_grad():
            for mine, layer in zip(layers, ref.layers):
                layer.weight.copy_(mine.weight)
                layer.bias.copy_(mine.bias)
            return torch.allclose(out, ref(rows.double()), rtol=1e-4, atol=1e-4)

    want = (BASE["encoder"], BASE["decoder"])
    if not computes(*want):
        same = [(g, f) for g in ACTIVATIONS for f in ACTIVATIONS if (g, f) != want and computes(g, f)]
        if same:
            g, f = same[0]
            where = []
            if g != want[0]:
                where.append(f"its hidden layers apply {g}" + (" (no non-linearity)" if g == "identity" else ""))
            if f != want[1]:
                where.append(f"its output applies {f}")
            fail(f"the shapes are right, but {' and '.join(where)}: every hidden layer of this exercise's model "
                 "uses the encoder activation of the one-layer model, and its output the same decoder")
        fail("the shapes are right, but the model computes something else than Linear layers with the "
             "one-layer model's activation after every hidden layer: look at the order of your layers")
    if isinstance(model, AutoRec):
        fail("deep_model is the library's AutoRec: build the network yourself from nn.Linear layers and their "
             "activations, as the exercise asks")
    _table_checks("deep", {"deep": deep_value}, {"deep": deep_run}, split, ["deep"])
    passed("the 500-250-500 model has the right structure, and its run is within tolerance of the reference")


__all__ = ["CheckFailed", "run", "check_masked_loss", "check_lambda_choice", "check_curve_reading",
           "check_decoder_map", "check_table", "check_best", "check_deep_model", "global_mean_rmse",
           "study_frame", "stored_curve", "paired", "describe", "verdict", "chosen_lambda", "entry",
           "study_split", "lambda_reference"]
