"""Check functions for the exercises of notebook 05 (AutoRec in MXNet Gluon).

None needs a stored reference: each check recomputes what it compares from the learner's own
objects (their trained models, their initial weights, their timings, their function, the
gradients they fed) and never reads test ratings. A split handed in is rebuilt from
its spec and compared part by part (:func:`.ch04.notebook_split`), and a trained learner's matrix with the
split's training ratings (:func:`trained_on`), so no check scores anything but the validation part.
Timings are noisy, so no check compares a time with a reference: the hybridization check verifies
the setup (one model hybridized, one not, same weights, same data, same epochs) through what Gluon
offers publicly (a block exports its graph only once it has been hybridized and run; a
``gluon.Trainer`` counts its optimizer's updates), and that the learner's speed-up is the ratio of
the learner's own two times. Gluon shows a block's state now, not while it trained: the check
cannot see a model hybridized (or un-hybridized) after its epochs were timed, so its messages ask
for the models to be built, trained and timed again. The prediction made before timing is checked
for form only, and compared with the learner's own measurement. Exercise 3 needs no MXNet: it runs
the learner's NumPy Rprop on cases of its own and compares with ``torch.optim.Rprop``.
"""
from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import numpy as np

from . import array, changed_settings, fail, finished_training, number, passed, valid_rmse, watched_call
from . import result as result_of
from .ch04 import notebook_split, rounded

# Exercise 1. The hybridized and the imperative model, trained for the same epoch from the same
# weights on the same batches, do the same arithmetic: on ML-100K on the course's CPU their weights
# came out bit-identical (max difference 0.0 for 3 initialisation seeds). 1e-4 leaves room for other
# devices' kernels, while measured there a different start differs by 0.09 after one epoch and a
# different batch order (another rng seed) by 0.01.
SAME_WEIGHTS_TOL = 1e-4
RATIO_RTOL = 1e-6  # the speed-up is recomputed from the learner's own two times: only rounding differs
SPEEDUP_DIGITS = 2  # the notebook prints the speed-up to 2 decimals: a ratio rounded to 2 or more is right
# The settings an epoch of mb.AutoRecLearner reads (the optimizer and its learning rate, λ, the batch
# size); the others (epochs, patience, seed, device, ...) belong to training.fit and change no epoch.
EPOCH_SETTINGS = ("lr", "lam", "batch_size", "optimizer")
# The prediction asked for before timing: which way, and whether by a factor of two or more.
PREDICTIONS = ("hybridized at least 2x faster", "within a factor of 2", "imperative at least 2x faster")

# Exercise 2. U-AutoRec is capped at U_EPOCHS (the course allows 300) to fit the notebook's time
# budget; every other training option must be the course's (seed, device and inputs change no
# result's meaning: exercises.changed_settings ignores them), and both frameworks use the same ones.
U_EPOCHS = 60
RMSE_TOL = 1e-6  # recomputed from the learner's own trained models on the validation split: exact
# "From the same initial weights" is checked by replaying each framework's first epoch from the
# learner's `initial`: on the course's CPU the replay gave the recorded first-epoch loss exactly
# (relative difference 0.0 in both frameworks); 1e-5 leaves room for other devices' kernels. An
# MXNet run left to draw its own weights differed by 4e-3 to 1.4e-2 (ML-100K, 3 seeds). Comparing
# the two frameworks' first-epoch losses with each other would not do: with dropout 0.5 each draws
# its own masks, and from the same weights they differed by up to 1.2e-3 on ML-100K and 1e-2 on
# the tests' small data (10 seeds), too close to the 4e-3 of different weights.
REPLAY_RTOL = 1e-5

# Exercise 3 (no MXNet). The learner's NumPy iRprop− runs on the check's own cases (_cases) and is
# compared with torch.optim.Rprop replayed in float64. A float32 implementation drifts from it by a
# relative 1e-7 per step (measured: below 3e-6 over the longest case); the rules it must follow
# change a weight by a step size of at least 1e-6 of the case's learning rate. Hence a relative
# tolerance of 1e-4, and an absolute one of float32's rounding of the case's largest weight,
# FLOAT32_ROUNDS per step (for a weight that passes near 0, whose float32 value keeps the absolute
# rounding of the larger values it came from), never below 1e-12: on the fixed cases far below
# their smallest step. Besides the fixed cases, each check draws one at random (_random_case), so
# that a table of answers cannot pass.
BY_HAND_RTOL, BY_HAND_ATOL = 1e-4, 1e-12
ETAS, STEP_BOUNDS = (0.5, 1.2), (1e-6, 50.0)  # torch.optim.Rprop's defaults, which the exercise uses

# Exercise 4. Both optimizers work in float32 and do the same arithmetic: their weights agree bit for
# bit (measured: 0.0 on the notebook's and the tests' gradients), so max_diff is 0 and the recorded
# weights carry the check. (Whether the MXNet list came from MXNet cannot be told from numbers that
# equal PyTorch's; the optimizer objects would tell, but they cannot cross to the grader, which
# rebuilds answers from plain data.) A recorded weight may differ from the check's float32 replay by
# float32 rounding, at most FLOAT32_ROUNDS roundings of the largest weight per step (a float64 copy
# in one framework, say); every recorded step must move the weights by far more than that
# (MIN_RESOLVED tolerances), or the record could not tell a step from no step.
RPROP_MIN_STEPS = 3
FLOAT32_ROUNDS = 4
MIN_RESOLVED = 100
# max_diff is recomputed from the learner's own two lists, so only the way it is computed differs: in
# float32 or float64, with NumPy or PyTorch (a relative 1e-7 at most). A relative tolerance of 1e-5 and
# an absolute one of 1e-12 accept every such way and refuse a guess (1e-7 for a difference of 0).
MAX_DIFF_RTOL, MAX_DIFF_ATOL = 1e-5, 1e-12


# --------------------------------------------------------------------------------------------
# A guard shared with the checks of chapters 7 to 9
# --------------------------------------------------------------------------------------------

def trained_on(learner, split, data, variant: str, what: str) -> None:
    """Refused unless ``learner`` trains on the matrix of ``split.train``'s ratings alone, one row per
    movie (``variant="item"``) or per user (``"user"``)."""
    from ..matrix import RatingMatrix

    matrix = getattr(learner, "matrix", None)
    expected = RatingMatrix(split.train, data.n_users, data.n_items, variant)
    rows = "movie" if variant == "item" else "user"
    if (matrix is None or getattr(matrix, "variant", None) != variant or matrix.shape != expected.shape
            or (matrix.csr != expected.csr).nnz):
        fail(f"{what} was not trained on the training ratings of the split you passed: its matrix must be "
             f"RatingMatrix(split.train, data.n_users, data.n_items, {variant!r}) (one row per {rows}), "
             "with no validation or test rating in it")


def _mxnet_backend():
    from .. import mxnet_backend  # MXNet only when an MXNet exercise is checked

    return mxnet_backend


# --------------------------------------------------------------------------------------------
# Exercise 1: one epoch with and without hybridize()
# --------------------------------------------------------------------------------------------

def _exports(block) -> bool:
    """Whether Gluon can export ``block``'s graph: only a block that was hybridized and has run since
    (``HybridBlock.export`` refuses any other, and ``hybridize()`` discards an earlier graph)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:  # the graph and weights are written, then removed
        try:
            block.export(str(Path(folder) / "graph"))
        except RuntimeError:
            return False
    return True


def _exporting(model) -> list[str]:
    """The blocks in ``model`` (itself included) whose graph Gluon can export."""
    found = []
    model.apply(lambda block: found.append(block.name) if hasattr(block, "export") and _exports(block) else None)
    return found


def _updates(learner) -> int:
    optimizer = getattr(getattr(learner, "trainer", None), "optimizer", None)
    if optimizer is None:
        fail("train with the course's I-AutoRec settings (Adam through a gluon.Trainer), "
             "so that both learners take the same mini-batch steps")
    return int(optimizer.num_update)


def _verdict(speedup: float) -> str:
    """The entry of :data:`PREDICTIONS` that a measured speed-up (imperative / hybridized) bears out."""
    if speedup >= 2:
        return PREDICTIONS[0]
    return PREDICTIONS[2] if speedup <= 0.5 else PREDICTIONS[1]


def _epoch_settings(cfg, course) -> dict:
    """The settings an epoch reads (:data:`EPOCH_SETTINGS`) in which ``cfg`` differs from ``course``."""
    return changed_settings(cfg, course, tuple(k for k in course.as_dict() if k not in EPOCH_SETTINGS))


def check_hybridize(hybridized, imperative, seconds: dict, speedup: float, prediction: str, split, data) -> None:
    """Exercise 1: two ``mb.AutoRecLearner`` on the I-AutoRec defaults and the training matrix of
    ``split``, one hybridized and one not, trained for the same epochs from the same weights;
    ``seconds`` maps ``"hybridized"`` and ``"imperative"`` to the learner's time for one epoch,
    ``speedup`` is imperative / hybridized, and ``prediction`` (one of :data:`PREDICTIONS`) what the
    learner expected before timing."""
    from ..config import TrainConfig, course_config

    if prediction not in PREDICTIONS:
        fail(f"prediction is {prediction!r}; choose one of {', '.join(map(repr, PREDICTIONS))}, "
             "and choose it before you time anything")
    mb = _mxnet_backend()
    for name, learner in (("hybridized", hybridized), ("imperative", imperative)):
        if not isinstance(learner, mb.AutoRecLearner):
            fail(f"{name} should be an mb.AutoRecLearner (the model, matrix, TrainConfig and context "
                 f"together), got {type(learner).__name__}")
    notebook_split(split, data)
    course = course_config("autorec", "item")
    for name, learner in (("hybridized", hybridized), ("imperative", imperative)):
        if learner.matrix.variant != "item":
            fail(f"the {name} learner trains on a {learner.matrix.variant}-based matrix; time I-AutoRec "
                 "(RatingMatrix(..., variant='item'))")
        trained_on(learner, split, data, "item", f"the {name} learner")
        expected = dataclasses.replace(course.net, n_inputs=learner.matrix.shape[1])
        if learner.model.config != expected:
            fail(f"the {name} model is {learner.model.config}; build both with the I-AutoRec defaults "
                 f"({expected})")
        if not isinstance(learner.cfg, TrainConfig):
            fail(f"the {name} learner was given {type(learner.cfg).__name__} as its training settings; give "
                 "both course_config('autorec', 'item').train")
        other = _epoch_settings(learner.cfg, course.train)
        if other:
            fail(f"the {name} learner trains with settings other than the course's ({', '.join(other)}); use "
                 "course_config('autorec', 'item').train for both")

    again = ("; then build, train and time both again: the check sees each model as it is now, not as it was "
             "while you timed it")
    if not _exports(hybridized.model):
        fail("the model of `hybridized` has no compiled graph now (Gluon has none of it to export): call "
             "model.hybridize() once, before training it (a hybridize() called later discards the graph, and one "
             "called after timing does not change what you timed)" + again)
    compiled = _exporting(imperative.model)
    if compiled:
        fail(f"the model of `imperative` is hybridized too ({', '.join(compiled)} ran as a compiled graph): "
             "mb.build_model hybridizes the model it returns; build it with mb.AutoRec(...) and initialize(), "
             "or turn hybridization off with model.hybridize(active=False) before training" + again)

    steps = [_updates(hybridized), _updates(imperative)]
    per_epoch = math.ceil(hybridized.matrix.shape[0] / hybridized.batch_size)
    if steps[0] != steps[1]:
        fail(f"the hybridized model took {steps[0]} optimizer steps and the imperative one {steps[1]}: "
             "train both for the same number of epochs")
    if steps[0] == 0 or steps[0] % per_epoch:
        fail(f"each learner took {steps[0]} optimizer steps; one epoch is {per_epoch}: "
             "train whole epochs with learner.train_epoch(rng)")

    a, b = hybridized.get_weights(), imperative.get_weights()
    gap = max(float(np.abs(a[k] - b[k]).max()) for k in a)
    if gap > SAME_WEIGHTS_TOL:
        fail(f"after training, the two models' weights differ by up to {gap:.2g}: start both from the same "
             "weights (mb.get_weights / mb.set_weights) and give each a np.random.default_rng with the "
             "same seed, so that only hybridization differs")

    if not isinstance(seconds, dict) or set(seconds) != {"hybridized", "imperative"}:
        fail("seconds should be a dict with exactly the keys 'hybridized' and 'imperative', got "
             f"{seconds!r}")
    t_h = number(seconds["hybridized"], "seconds['hybridized']", 0.0, 600.0)
    t_i = number(seconds["imperative"], "seconds['imperative']", 0.0, 600.0)
    if t_h <= 0 or t_i <= 0:
        fail("an epoch takes a positive time: time it with time.perf_counter() before and after")
    expected = t_i / t_h
    value = number(speedup, "speedup")
    as_printed = any(abs(value - round(expected, d)) <= 1e-9 for d in range(SPEEDUP_DIGITS, 7))
    if not (math.isclose(value, expected, rel_tol=RATIO_RTOL) or as_printed):
        if math.isclose(value, 1 / expected, rel_tol=RATIO_RTOL):
            fail(f"speedup is {value:.4g}: that is hybridized / imperative, the other way round")
        fail(f"speedup is {value:.4g}, which is not the ratio of the two times in `seconds`: divide the "
             "imperative epoch's seconds by the hybridized epoch's")
    measured = _verdict(expected)
    outcome = "as you predicted" if measured == prediction else f"you predicted {prediction!r}"
    passed(f"one epoch took {t_i:.3f} s imperative and {t_h:.3f} s hybridized (speed-up {expected:.2f}x: "
           f"{measured}, {outcome}), and the two models' weights agree to {gap:.1e} after training")


# --------------------------------------------------------------------------------------------
# Exercise 2: U-AutoRec in both frameworks, compared on the validation split
# --------------------------------------------------------------------------------------------

def _initial_weights(initial, config) -> dict:
    """``initial`` checked against the layer shapes of ``config`` (an :class:`AutoRecConfig`)."""
    shapes = {}
    for k, (fan_in, fan_out) in enumerate(config.layer_sizes):
        shapes[f"W{k}"], shapes[f"b{k}"] = (fan_out, fan_in), (fan_out,)
    if not isinstance(initial, dict) or set(initial) != set(shapes):
        got = sorted(initial) if isinstance(initial, dict) else type(initial).__name__
        fail(f"initial should be a dict of NumPy arrays with exactly the keys {sorted(shapes)} "
             f"(what tb.get_weights returns), got {got}")
    for name, shape in shapes.items():
        if np.shape(initial[name]) != shape:
            fail(f"initial[{name!r}] has shape {np.shape(initial[name])}; U-AutoRec's is {shape}")
    return initial


def check_user_autorec(results: dict, initial: dict, gap: float, data, split) -> None:
    """Exercise 2: ``results`` maps ``"torch"`` and ``"mxnet"`` to the :class:`experiment.Result` of
    U-AutoRec trained with the course's options, capped at :data:`U_EPOCHS` epochs, both from the
    weights ``initial``; ``gap`` is ``abs(validation RMSE of MXNet − validation RMSE of PyTorch)``,
    recomputed here from the trained models. Each framework's first epoch is replayed from
    ``initial`` (never scoring the test split) to confirm where it started."""
    from ..config import course_config
    from ..experiment import train

    if not isinstance(results, dict) or set(results) != {"torch", "mxnet"}:
        keys = sorted(results) if isinstance(results, dict) else type(results).__name__
        fail(f"results should be a dict with exactly the keys 'torch' and 'mxnet', got {keys}")
    course = course_config("autorec", "user")
    config = dataclasses.replace(course.net, n_inputs=data.n_items)
    course_train = course.train
    for fw, result in results.items():
        result_of(result, f"results[{fw!r}]", warm_start_ok=True)  # its config is its learner's own
        if result.config.framework != fw:
            fail(f"results[{fw!r}] was trained with framework={result.config.framework!r}")
        if result.config.model_type != "autorec" or result.config.variant != "user":
            fail(f"results[{fw!r}] is {result.config.model_type} ({result.config.variant}); train U-AutoRec: "
                 "experiment.train(..., 'autorec', 'user', ...)")
        if dataclasses.asdict(result.config.net) != dataclasses.asdict(config):
            fail(f"results[{fw!r}] was built with {result.config.net}; use the course's U-AutoRec "
                 f"model options {course.net}")
        changed = changed_settings(result.config.train, course_train, ("seed", "device", "inputs", "epochs"))
        if changed:
            fail(f"results[{fw!r}] changes the course's training options {', '.join(changed)}; keep them "
                 f"all, changing only the epochs (to U_EPOCHS = {U_EPOCHS})")
        if result.config.train.epochs != U_EPOCHS:
            fail(f"results[{fw!r}] was allowed {result.config.train.epochs} epochs; cap both runs at "
                 f"U_EPOCHS = {U_EPOCHS}, as the exercise asks")
        finished_training(result, f"results[{fw!r}]", "pass the Result that experiment.train returned for a run "
                          f"capped at U_EPOCHS = {U_EPOCHS}, and train again rather than change it")

    notebook_split(split, data)
    for fw, result in results.items():
        trained_on(result.learner, split, data, "user", f"results[{fw!r}]")
    valid = {fw: valid_rmse(result, split, data.scale, f"results[{fw!r}]") for fw, result in results.items()}

    initial = _initial_weights(initial, config)
    no_test = dataclasses.replace(split, test=None)  # the replay never scores the test split
    for fw, result in results.items():
        replay = train(data, no_test, config=result.config.replace(epochs=1), init_weights=initial,
                       progress=False, eval_test=False)
        theirs, again = result.history.records[0]["train_loss"], replay.history.records[0]["train_loss"]
        if abs(theirs - again) > REPLAY_RTOL * abs(again):
            fail(f"results[{fw!r}] did not start from `initial`: its first epoch's training loss differs "
                 "from the same epoch replayed here from `initial`. Pass the same weights to both runs "
                 "(experiment.train(..., init_weights=initial)) and give the check those weights")

    expected = abs(valid["mxnet"] - valid["torch"])
    value = number(gap, "gap")
    if value < 0:
        fail(f"gap is {value:.4f}: give the absolute difference, abs(...)")
    if abs(value - expected) > RMSE_TOL:
        if rounded(value):
            fail(f"gap is {value:g}, which looks rounded: give the difference unrounded (round only what you print)")
        fail(f"gap is {value:.6f}, which is not the difference of the two runs' validation RMSEs: compare "
             "result.scores['valid'].rmse of each run (the best epoch's; never the test split)")
    passed(f"U-AutoRec validation RMSE: PyTorch {valid['torch']:.4f}, MXNet {valid['mxnet']:.4f} "
           f"(gap {expected:.4f}), both from the same initial weights and capped at {U_EPOCHS} epochs")


# --------------------------------------------------------------------------------------------
# Exercise 3: Rprop by hand in NumPy, against torch.optim.Rprop (no MXNet needed)
# --------------------------------------------------------------------------------------------

def _cases() -> list[tuple[str, np.ndarray, list[np.ndarray], float]]:
    """(what it tests, initial weights, gradients, lr): every rule of iRprop− shows in some case."""
    rng = np.random.default_rng(2015)
    random = [rng.normal(size=6) for _ in range(6)]
    flip = [np.array(g, float) for g in ([1.0, -2.0, 0.5, 0.0], [0.5, 1.0, 0.4, -1.0],
                                         [0.3, 3.0, -0.2, -0.5], [0.2, -1.0, 0.1, -0.5], [0.1, 2.0, 0.1, -0.5])]
    same = [np.array([1.0, -3.0, 0.0]) * (k + 1) for k in range(12)]  # grows by 1.2 until the upper bound
    shrink = [np.array([1.0, 2.0]) * s for s in (1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1, 1)]  # halves to the lower bound
    # a zero gradient after a non-zero one: entry 0 right after its first gradient, entry 1 after its step grew
    pause = [np.array(g, float) for g in ([1.0, 1.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [-1.0, 1.0])]
    # a step size held at a bound must be stored clipped, not only the move: past the upper bound a
    # flip then halves the clipped size, and past the lower bound a kept sign then grows the clipped size
    top = [np.array([1.0, -1.0])] * 14 + [np.array([-1.0, 1.0])] * 3
    bottom = [np.array([1.0, -1.0]) * s for s in (1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1, 1, 1, 1, 1, 1)]
    return [("random gradients", rng.normal(size=6), random, 0.1),
            ("a sign change after a kept sign, and a zero gradient", np.array([0.5, -0.2, 0.1, 0.3]), flip, 0.1),
            ("a zero gradient after non-zero ones", np.array([0.2, -0.4]), pause, 0.1),
            ("twelve steps with the same sign (step size reaches its upper bound)", np.zeros(3), same, 10.0),
            ("repeated sign changes (step size reaches its lower bound)", np.zeros(2), shrink, 1e-5),
            ("a sign change after the step size reached its upper bound", np.zeros(2), top, 10.0),
            ("a kept sign after the step size reached its lower bound", np.zeros(2), bottom, 1e-5)]


def _random_case(rng: np.random.Generator) -> tuple[str, np.ndarray, list[np.ndarray], float]:
    """A case drawn anew at each check (so that no table of the fixed cases' answers passes): random
    weights and gradients, some entries keeping their sign for a while and some flipping or pausing at 0."""
    size, steps = int(rng.integers(3, 9)), int(rng.integers(8, 16))
    signs = np.where(rng.random((steps, size)) < 0.7, 1.0, -1.0).cumprod(axis=0)  # runs of kept signs, then flips
    grads = signs * rng.uniform(0.1, 3.0, (steps, size)) * (rng.random((steps, size)) > 0.1)
    return ("a random case drawn for this check", rng.normal(size=size), list(grads),
            float(10 ** rng.uniform(-3, 0)))


def _torch_rprop_steps(initial: np.ndarray, grads: list[np.ndarray], lr: float,
                       dtype: str = "float32") -> list[np.ndarray]:
    """The weights after each step of ``torch.optim.Rprop(lr=lr)`` fed ``grads``, computed in ``dtype``."""
    import torch

    kind = getattr(torch, dtype)
    param = torch.nn.Parameter(torch.tensor(initial, dtype=kind))
    optimizer = torch.optim.Rprop([param], lr=lr)
    out = []
    for g in grads:
        param.grad = torch.tensor(g, dtype=kind)
        optimizer.step()
        out.append(param.detach().numpy().astype(np.float64))
    return out


def _variant(initial: np.ndarray, grads: list[np.ndarray], lr: float, slip: str = "") -> list[np.ndarray]:
    """iRprop− in float64 with one slip (``""``: none), for naming what a wrong trajectory does."""
    (down, up), (low, high) = ETAS, STEP_BOUNDS
    if slip == "etas swapped":
        down, up = up, down
    if slip in ("no bounds", "clips only the move"):
        low, high = 0.0, np.inf
    w = np.array(initial, np.float64)
    step = np.full_like(w, 1.0 if slip == "step starts at 1" else lr)
    prev, last_move = np.zeros_like(w), np.zeros_like(w)
    last_prev = prev
    out = []
    for g in grads:
        g = np.array(g, np.float64)
        s = np.sign(g * prev)
        step = np.clip(step * np.where(s > 0, up, np.where(s < 0, down, 1.0)), low, high)
        if slip == "resets the step on a zero gradient":
            step = np.where(g == 0, lr, step)
        if slip == "gradient, not its sign":
            move = -lr * g
        elif slip == "moves on a sign change":
            move = -np.sign(g) * step
        elif slip == "backtracks":  # Rprop+ : undo the last move where the sign flipped
            move = np.where(s < 0, -last_move, -np.sign(g) * step)
        elif slip == "clips only the move":
            move = np.where(s < 0, 0.0, -np.sign(g) * np.clip(step, *STEP_BOUNDS))
        else:
            move = np.where(s < 0, 0.0, -np.sign(g) * step)
        w = w + move
        last_move = move
        forget = (s < 0) & (slip != "remembers the flipped gradient")
        prev = np.where(forget, 0.0, g)
        if slip == "keeps the memory through a zero gradient":
            prev = np.where(g == 0, last_prev, prev)
        last_prev = prev
        out.append(w.copy())
    return out


# What each slip breaks, named by the rule (never by a number of the right answer).
SLIPS = {
    "gradient, not its sign": "Rprop ignores the gradient's size: each weight moves by its own step size in "
                              "the direction of −sign(gradient)",
    "moves on a sign change": "when an entry's gradient changes sign, iRprop− halves its step size and does not "
                              "move that weight at this step",
    "remembers the flipped gradient": "after a sign change iRprop− forgets that gradient (stores 0), so the next "
                                      "step compares the new gradient with 0 and neither grows nor shrinks",
    "backtracks": "iRprop− does not undo the previous move on a sign change (that is Rprop+, with weight "
                  "backtracking); it only skips the move",
    "keeps the memory through a zero gradient": "a zero gradient is stored as it is (0): the next step compares its "
                                                "gradient with 0, and neither grows nor shrinks its step size",
    "resets the step on a zero gradient": "a zero gradient leaves the step size as it is (sign(0 × anything) is 0: "
                                          "multiply by 1), and the weight does not move",
    "no bounds": "step sizes stay within torch's step_sizes=(1e-6, 50): clip them after each change",
    "clips only the move": "the step size itself is clipped to [1e-6, 50] and stored clipped, not only the move: "
                           "a step size kept beyond a bound takes several steps to come back inside it",
    "etas swapped": "a kept sign multiplies the step size by 1.2 and a sign change by 0.5, not the other way round",
    "step starts at 1": "every step size starts at the learning rate lr",
}


TORCH_RPROP_FILE = os.path.join("torch", "optim", "rprop.py")  # Rprop, its step and the functional rprop
MXNET_BACKEND_FILE = Path(__file__).resolve().parent.parent / "mxnet_backend.py"


def _rprop_code(code) -> str | None:
    """The Rprop already written that ``code`` belongs to (torch's or the library's MXNet one), or None."""
    filename = os.path.normpath(code.co_filename)
    if filename.endswith(os.sep + TORCH_RPROP_FILE):
        return "torch.optim.Rprop"
    if code.co_qualname.split(".")[0] == "Rprop" and Path(filename).resolve() == MXNET_BACKEND_FILE:
        return "mxnet_backend.Rprop"
    return None


def _steps_of(rprop_numpy, initial: np.ndarray, grads: list[np.ndarray], lr: float,
              case: str) -> tuple[list[np.ndarray], bool]:
    """The learner's function called on one case (on copies), its answer checked for form, and
    whether it lists one array object more than once (appended without a copy)."""
    call = f"rprop_numpy(initial, grads, lr={lr:g}) on {case}"
    answer, rprops = watched_call(rprop_numpy, (initial, list(grads), lr), call, _rprop_code)
    if rprops:
        fail(f"rprop_numpy ran {' and '.join(sorted(rprops))} while it computed its answer, and the check compares "
             "it with torch.optim.Rprop, so that would prove nothing: write the rules yourself, in NumPy")
    if isinstance(answer, np.ndarray) and answer.ndim == 2:
        answer = list(answer)
    if not isinstance(answer, (list, tuple)):
        fail(f"{call} returned {type(answer).__name__}; return a list with the weights after each step")
    if len(answer) != len(grads):
        extra = " (leave out the initial weights: one entry per step, after it)" if len(answer) == len(grads) + 1 else ""
        fail(f"{call} returned {len(answer)} arrays for {len(grads)} gradients{extra}")
    shared = len({id(a) for a in answer}) < len(answer)
    steps = [array(a, f"step {k + 1} of {call}") for k, a in enumerate(answer)]
    for k, a in enumerate(steps):
        if a.shape != initial.shape:
            fail(f"step {k + 1} of {call} has shape {a.shape}; the weights have shape {initial.shape}")
    return steps, shared


def _by_hand_atol(initial: np.ndarray, want: list[np.ndarray]) -> float:
    """The absolute tolerance of one case: float32's rounding of its largest weight, FLOAT32_ROUNDS per step."""
    largest = max(float(np.abs(w).max()) for w in (initial, *want))
    return max(BY_HAND_ATOL, FLOAT32_ROUNDS * len(want) * float(np.finfo(np.float32).eps) * largest)


def _same(a: list[np.ndarray], b: list[np.ndarray], atol: float = BY_HAND_ATOL) -> bool:
    return all(np.allclose(x, y, rtol=BY_HAND_RTOL, atol=atol) for x, y in zip(a, b))


def check_rprop_by_hand(rprop_numpy) -> None:
    """Exercise 3: ``rprop_numpy(initial, grads, lr)`` returns the weights after each of the steps
    iRprop− takes from ``initial`` when fed the gradients ``grads`` (a list of arrays) at learning
    rate ``lr``, with ``torch.optim.Rprop``'s other defaults. The check calls it on cases of its
    own, one of them drawn at random for each check, and compares every step with ``torch.optim.Rprop``;
    a function during whose run an Rprop already written ran (torch's, or the library's MXNet one) is
    refused, whatever name reached it."""
    if not callable(rprop_numpy):
        fail(f"rprop_numpy should be a function, got {type(rprop_numpy).__name__}")
    cases = [*_cases(), _random_case(np.random.default_rng())]
    for case, initial, grads, lr in cases:
        theirs, shared = _steps_of(rprop_numpy, initial, grads, lr, case)
        want = _torch_rprop_steps(initial, grads, lr, "float64")
        atol = _by_hand_atol(initial, want)
        if _same(theirs, want, atol):
            continue
        k = next(k for k, (x, y) in enumerate(zip(theirs, want)) if not np.allclose(x, y, rtol=BY_HAND_RTOL, atol=atol))
        where = f"on {case} (lr={lr:g}), step {k + 1} differs from torch.optim.Rprop"
        still = all(np.array_equal(x, initial) for x in theirs)
        if still:
            fail(f"{where}: your weights never move. At each step, every weight whose gradient is non-zero "
                 "(and did not just change sign) moves by its step size, against the gradient's sign")
        if shared or (k + 1 < len(theirs) and all(np.array_equal(x, theirs[-1]) for x in theirs[k:])):
            fail(f"{where}: every entry from there on is the same array; append a copy of the weights after "
                 "each step (w.copy()), not the array you keep updating")
        if np.allclose(theirs[0], initial, rtol=BY_HAND_RTOL, atol=atol) and _same(theirs[1:], want[:-1], atol):
            fail(f"{where}: your list holds the weights before each step; record them after it")
        for slip, rule in SLIPS.items():
            if _same(theirs, _variant(initial, grads, lr, slip), atol):
                fail(f"{where}: {rule}")
        fail(f"{where}. Per entry and step: compare the sign of the gradient with the one stored from the step "
             "before; grow the step size by 1.2 (same sign), shrink it by 0.5 (sign change), clip it to "
             "[1e-6, 50]; move by −sign(gradient) × step size except on a sign change, and store the "
             "gradient (0 after a sign change)")
    passed(f"your Rprop follows torch.optim.Rprop step for step on {len(cases)} cases: sign changes, zero "
           "gradients (first and after non-zero ones), step sizes at and back from both bounds, and a random case")


# --------------------------------------------------------------------------------------------
# Exercise 4: the hand-written MXNet Rprop against torch.optim.Rprop
# --------------------------------------------------------------------------------------------

def _sequence(value, what: str, shape: tuple, length: int | None = None) -> list[np.ndarray]:
    """One array per step: a list or tuple of arrays, or one array with a row per step."""
    if hasattr(value, "shape") and len(getattr(value, "shape", ())) == len(shape) + 1:
        value = list(array(value, what))  # one array, a row per step
    if not isinstance(value, (list, tuple)):
        fail(f"{what} should be a list with one array per step, got {type(value).__name__}")
    arrays = [array(v, f"{what}[{k}]") for k, v in enumerate(value)]
    for k, a in enumerate(arrays):
        if a.shape != shape:
            fail(f"{what}[{k}] has shape {a.shape}; the weights have shape {shape}")
    if length is not None and len(arrays) != length:
        extra = " (leave out the initial weights: one entry per step, after it)" if len(arrays) == length + 1 else ""
        fail(f"{what} has {len(arrays)} entries for {length} gradients{extra}")
    return arrays


def _memory(value):
    """The NumPy view of ``value``'s memory (a NumPy array's, or a CPU PyTorch tensor's), or None."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and not hasattr(value, "asnumpy"):  # a PyTorch tensor (MXNet's NDArray copies)
        try:
            return value.detach().cpu().numpy()
        except (RuntimeError, TypeError):
            return None
    return None


def _aliased(value) -> bool:
    """Whether a list of recorded steps holds one object, or one array's memory, more than once: the
    weights appended as they are (``w.data()``, ``w.detach().numpy()``) rather than as a copy."""
    if not isinstance(value, (list, tuple)):
        return False
    if len({id(v) for v in value}) < len(value):
        return True
    views = [m for m in map(_memory, value) if m is not None and m.size]
    return any(np.shares_memory(a, b) for k, a in enumerate(views) for b in views[k + 1:])


def _mxnet_rprop_steps(initial: np.ndarray, grads: list[np.ndarray], lr: float) -> list[np.ndarray]:
    """The weights after each step of the library's ``mxnet_backend.Rprop(lr)`` fed ``grads``."""
    import mxnet as mx
    from mxnet import gluon, nd

    mb = _mxnet_backend()
    param = gluon.Parameter("w", shape=initial.shape)
    param.initialize(ctx=mx.cpu())
    param.set_data(nd.array(initial, dtype="float32"))
    optimizer = mb.Rprop([param], lr)
    out = []
    for g in grads:
        param.grad()[:] = nd.array(g, dtype="float32")
        optimizer.step()
        out.append(param.data().asnumpy().astype(np.float64))
    return out


def _rule_events(grads: list[np.ndarray]) -> tuple[int, int]:
    """(growths, sign changes) that iRprop− meets on ``grads``: entries whose gradient keeps its sign
    from the last step (step size × 1.2) or flips it (step size × 0.5, no move, memory cleared)."""
    prev = np.zeros_like(grads[0])
    grow = flip = 0
    for g in grads:
        s = np.sign(g * prev)
        grow, flip = grow + int((s > 0).sum()), flip + int((s < 0).sum())
        prev = np.where(s < 0, 0.0, g)
    return grow, flip


def _resolution(initial: np.ndarray, replay: list[np.ndarray]) -> tuple[float, float]:
    """(tolerance, smallest move): how far a recorded weight may sit from the float32 replay (float32
    rounding of the largest weight, :data:`FLOAT32_ROUNDS` per step), and the smallest non-zero move
    of any weight at any step."""
    path = [initial, *replay]
    largest = max(1.0, max(float(np.abs(w).max()) for w in path))
    tol = FLOAT32_ROUNDS * len(replay) * float(np.finfo(np.float32).eps) * largest
    moves = np.abs(np.diff(np.stack(path), axis=0))
    return tol, float(moves[moves > 0].min()) if (moves > 0).any() else 0.0


ANSWER_KEYS = ("lr", "initial", "grads", "mxnet", "torch", "max_diff")


def check_rprop(answer: dict) -> None:
    """Exercise 4: ``answer`` holds ``lr``, the ``initial`` weights, the ``grads`` fed at each step (at
    least three, with at least one sign change), the weights after each step under the library's
    MXNet Rprop (``mxnet``) and under ``torch.optim.Rprop`` (``torch``), and ``max_diff``, the
    largest absolute difference between the two. Both runs are replayed here, and every recorded
    step must be resolved: far larger than float32's rounding of the weights."""
    if not isinstance(answer, dict) or set(answer) != set(ANSWER_KEYS):
        got = sorted(answer) if isinstance(answer, dict) else type(answer).__name__
        fail(f"answer should be a dict with exactly the keys {sorted(ANSWER_KEYS)}, got {got}")
    lr = number(answer["lr"], "lr", 1e-6, 50.0)
    initial = array(answer["initial"], "initial")
    if initial.ndim != 1 or initial.size == 0:
        fail(f"initial has shape {initial.shape}; start from a small weight vector: a 1-D array with a few "
             "entries (the same one in both frameworks)")
    grads = _sequence(answer["grads"], "grads", initial.shape)
    if len(grads) < RPROP_MIN_STEPS:
        fail(f"{len(grads)} step(s) cannot show Rprop's rules: feed at least {RPROP_MIN_STEPS} gradients, "
             "with some entries keeping their sign and some flipping it")
    grow, flip = _rule_events(grads)
    if flip == 0:
        fail("no gradient entry changes sign between steps, so the sign-change rule (halve the step, "
             "do not move, forget the gradient) is never tested: make some entry flip sign")
    if grow == 0:
        fail("no gradient entry keeps its sign between steps, so the growth rule (step × 1.2) is never "
             "tested: make some entry keep its sign")
    mx_steps = _sequence(answer["mxnet"], "answer['mxnet']", initial.shape, len(grads))
    torch_steps = _sequence(answer["torch"], "answer['torch']", initial.shape, len(grads))

    mx_replay = _mxnet_rprop_steps(initial, grads, lr)
    torch_replay = _torch_rprop_steps(initial, grads, lr)
    tol, smallest = _resolution(initial, torch_replay)
    if smallest < MIN_RESOLVED * tol:
        fail(f"with lr={lr:g} and weights this large, float32 cannot tell one step from the next (a step moves a "
             "weight by less than a hundred times its rounding): start from weights of order 1 and use a "
             "learning rate of about 0.01 to 0.1")
    copy_hint = ("record a copy of the weights after each step (w.data().asnumpy() in MXNet, "
                 "w.detach().numpy().copy() in PyTorch), not the weights themselves, which later steps update")
    for name in ("mxnet", "torch"):
        if _aliased(answer[name]):
            fail(f"answer[{name!r}] holds the same array (or the same memory) at several steps: {copy_hint}")
    for name, theirs, replay in (("mxnet", mx_steps, mx_replay), ("torch", torch_steps, torch_replay)):
        for k, (a, b) in enumerate(zip(theirs, replay)):
            if not np.allclose(a, b, rtol=0, atol=tol):
                before = k > 0 and np.allclose(a, replay[k - 1], rtol=0, atol=tol)
                if all(np.array_equal(x, theirs[-1]) for x in theirs):
                    hint = f": every step holds the same weights; {copy_hint}"
                elif before or (k == 0 and np.allclose(a, initial, rtol=0, atol=tol)):
                    hint = (" (it equals the weights after the step before: record the weights after each step, "
                            "as a copy)")
                else:
                    hint = (f": start from answer['initial'], feed exactly answer['grads'] in order, and use "
                            f"lr={lr:g} with the default etas and step sizes for both optimizers")
                fail(f"answer[{name!r}] after step {k + 1} differs from {name} Rprop replayed here by more than "
                     f"float32 rounding{hint}")
    expected = max(float(np.abs(a - b).max()) for a, b in zip(mx_steps, torch_steps))
    value = number(answer["max_diff"], "max_diff", 0.0)
    if not math.isclose(value, expected, rel_tol=MAX_DIFF_RTOL, abs_tol=MAX_DIFF_ATOL):
        fail(f"max_diff is {value:.3g}, which is not the largest absolute difference between your "
             "answer['mxnet'] and answer['torch'] weights, taken over every step and every entry")
    passed(f"{len(grads)} Rprop steps with {flip} sign change(s) and {grow} growth(s): MXNet and PyTorch "
           f"differ by at most {expected:.1e}")
