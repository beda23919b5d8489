"""Check functions for the exercises of notebook 05 (AutoRec in MXNet Gluon).

None needs a stored reference: each check recomputes what it compares from the learner's own
objects (their trained models, their initial weights, their timings, the gradients they fed) and
never reads test ratings. Timings are noisy, so no check compares a time with a reference: the
hybridization check verifies the setup (one model hybridized, one not, same weights, same epochs)
and that the learner's speed-up is the ratio of the learner's own two times; the prediction made
before timing is checked for form only, and compared with the learner's own measurement.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from . import fail, number, passed, valid_rmse

# Exercise 1. The hybridized and the imperative model, trained for the same epoch from the same
# weights on the same batches, do the same arithmetic: on ML-100K on the course's CPU their weights
# came out bit-identical (max difference 0.0 for 3 initialisation seeds). 1e-4 leaves room for other
# devices' kernels, while measured there a different start differs by 0.09 after one epoch and a
# different batch order (another rng seed) by 0.01.
SAME_WEIGHTS_TOL = 1e-4
RATIO_RTOL = 1e-6  # the speed-up is recomputed from the learner's own two times: only rounding differs
# The prediction asked for before timing: which way, and whether by a factor of two or more.
PREDICTIONS = ("hybridized at least 2x faster", "within a factor of 2", "imperative at least 2x faster")

# Exercise 2. U-AutoRec is capped at U_EPOCHS (the course allows 300) to fit the notebook's time
# budget; every other training option must be the course's, and both frameworks use the same ones.
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

# Exercise 3. Both optimizers work in float32; identical arithmetic gives identical trajectories.
RPROP_TOL = 1e-5
RPROP_MIN_STEPS = 3


def _mxnet_backend():
    from .. import mxnet_backend  # MXNet only when an MXNet exercise is checked

    return mxnet_backend


# --------------------------------------------------------------------------------------------
# Exercise 1: one epoch with and without hybridize()
# --------------------------------------------------------------------------------------------

def _blocks(block):
    """The block and all its descendants."""
    yield block
    for child in block._children.values():
        yield from _blocks(child)


def _updates(learner) -> int:
    optimizer = getattr(getattr(learner, "trainer", None), "_optimizer", None)
    if optimizer is None:
        fail("train with the course's I-AutoRec settings (Adam through a gluon.Trainer), "
             "so that both learners take the same mini-batch steps")
    return int(optimizer.num_update)


def _verdict(speedup: float) -> str:
    """The entry of :data:`PREDICTIONS` that a measured speed-up (imperative / hybridized) bears out."""
    if speedup >= 2:
        return PREDICTIONS[0]
    return PREDICTIONS[2] if speedup <= 0.5 else PREDICTIONS[1]


def check_hybridize(hybridized, imperative, seconds: dict, speedup: float, prediction: str) -> None:
    """Exercise 1: two ``mb.AutoRecLearner`` on the I-AutoRec defaults, one hybridized and one not,
    trained for the same epochs from the same weights; ``seconds`` maps ``"hybridized"`` and
    ``"imperative"`` to the learner's time for one epoch, ``speedup`` is imperative / hybridized,
    and ``prediction`` (one of :data:`PREDICTIONS`) what the learner expected before timing."""
    from ..config import course_config

    if prediction not in PREDICTIONS:
        fail(f"prediction is {prediction!r}; choose one of {', '.join(map(repr, PREDICTIONS))}, "
             "and choose it before you time anything")
    mb = _mxnet_backend()
    for name, learner in (("hybridized", hybridized), ("imperative", imperative)):
        if not isinstance(learner, mb.AutoRecLearner):
            fail(f"{name} should be an mb.AutoRecLearner (the model, matrix, TrainConfig and context "
                 f"together), got {type(learner).__name__}")
    course = course_config("autorec", "item")
    for name, learner in (("hybridized", hybridized), ("imperative", imperative)):
        if learner.matrix.variant != "item":
            fail(f"the {name} learner trains on a {learner.matrix.variant}-based matrix; time I-AutoRec "
                 "(RatingMatrix(..., variant='item'))")
        expected = dataclasses.replace(course.net, n_inputs=learner.matrix.shape[1])
        if learner.model.config != expected:
            fail(f"the {name} model is {learner.model.config}; build both with the I-AutoRec defaults "
                 f"({expected})")
        if learner.cfg != course.train:
            fail(f"the {name} learner trains with {learner.cfg}; use course_config('autorec', 'item').train "
                 "for both")
    if hybridized.matrix.shape != imperative.matrix.shape or hybridized.matrix.nnz != imperative.matrix.nnz:
        fail("the two learners train on different matrices; give both the same RatingMatrix")

    if not hybridized.model._active:
        fail("the model of `hybridized` is not hybridized: call model.hybridize() before training it")
    if hybridized.model._cached_op is None:
        fail("the model of `hybridized` has no compiled graph: hybridize() was called after training "
             "(it clears the graph), or the model never ran. Hybridize first, then train and time")
    active = [b.name for b in _blocks(imperative.model) if getattr(b, "_active", False)]
    if active:
        fail(f"the model of `imperative` is hybridized too ({', '.join(active)}): mb.build_model "
             "hybridizes the model it returns; build it with mb.AutoRec(...) and initialize(), or turn "
             "hybridization off with model.hybridize(active=False)")

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
    if not math.isclose(value, expected, rel_tol=RATIO_RTOL):
        inverted = " (that is hybridized / imperative, the other way round)" if math.isclose(
            value, 1 / expected, rel_tol=RATIO_RTOL) else ""
        fail(f"speedup is {value:.4g}{inverted}; your times give imperative / hybridized = {expected:.4g}")
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
    from ..config import TrainConfig, course_config
    from ..experiment import Result, train

    if not isinstance(results, dict) or set(results) != {"torch", "mxnet"}:
        keys = sorted(results) if isinstance(results, dict) else type(results).__name__
        fail(f"results should be a dict with exactly the keys 'torch' and 'mxnet', got {keys}")
    course = course_config("autorec", "user")
    config = dataclasses.replace(course.net, n_inputs=data.n_items)
    course_train = course.train
    for fw, result in results.items():
        if not isinstance(result, Result):
            fail(f"results[{fw!r}] should be what experiment.train returns, got {type(result).__name__}")
        if result.config.framework != fw:
            fail(f"results[{fw!r}] was trained with framework={result.config.framework!r}")
        if result.config.model_type != "autorec" or result.config.variant != "user":
            fail(f"results[{fw!r}] is {result.config.model_type} ({result.config.variant}); train U-AutoRec: "
                 "experiment.train(..., 'autorec', 'user', ...)")
        if dataclasses.asdict(result.config.net) != dataclasses.asdict(config):
            fail(f"results[{fw!r}] was built with {result.config.net}; use the course's U-AutoRec "
                 f"model options {course.net}")
        changed = [f.name for f in dataclasses.fields(TrainConfig) if f.name != "epochs"
                   and getattr(result.config.train, f.name) != getattr(course_train, f.name)]
        if changed:
            fail(f"results[{fw!r}] changes the course's training options {', '.join(changed)}; keep them "
                 f"all, changing only the epochs (to U_EPOCHS = {U_EPOCHS})")
        if result.config.train.epochs != U_EPOCHS:
            fail(f"results[{fw!r}] was allowed {result.config.train.epochs} epochs; cap both runs at "
                 f"U_EPOCHS = {U_EPOCHS}, as the exercise asks")

    valid = {fw: valid_rmse(result, split, data.scale, f"results[{fw!r}]") for fw, result in results.items()}

    initial = _initial_weights(initial, config)
    no_test = dataclasses.replace(split, test=None)  # the replay never scores the test split
    for fw, result in results.items():
        replay = train(data, no_test, config=result.config.replace(epochs=1), init_weights=initial,
                       progress=False, eval_test=False)
        theirs, again = result.history.records[0]["train_loss"], replay.history.records[0]["train_loss"]
        if abs(theirs - again) > REPLAY_RTOL * abs(again):
            fail(f"results[{fw!r}] did not start from `initial`: its first epoch's training loss is "
                 f"{theirs:.5f}, but the same epoch replayed from `initial` gives {again:.5f}. Pass the "
                 "same weights to both runs (experiment.train(..., init_weights=initial)) and give the "
                 "check those weights")

    expected = abs(valid["mxnet"] - valid["torch"])
    value = number(gap, "gap")
    if value < 0:
        fail(f"gap is {value:.4f}: give the absolute difference, abs(...)")
    if abs(value - expected) > RMSE_TOL:
        fail(f"gap is {value:.6f}, but the validation RMSEs of the two trained models differ by "
             f"{expected:.6f}: compare result.scores['valid'].rmse of the best epoch (never the test split)")
    passed(f"U-AutoRec validation RMSE: PyTorch {valid['torch']:.4f}, MXNet {valid['mxnet']:.4f} "
           f"(gap {expected:.4f}), both from the same initial weights and capped at {U_EPOCHS} epochs")


# --------------------------------------------------------------------------------------------
# Exercise 3: the hand-written MXNet Rprop against torch.optim.Rprop
# --------------------------------------------------------------------------------------------

def _array(value, what: str) -> np.ndarray:
    if hasattr(value, "detach"):  # a PyTorch tensor
        value = value.detach().cpu().numpy()
    elif hasattr(value, "asnumpy"):  # an MXNet NDArray
        value = value.asnumpy()
    if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.number):
        fail(f"{what} should be a NumPy array (or a tensor), got {type(value).__name__}")
    if not np.all(np.isfinite(value)):
        fail(f"{what} contains NaN or infinite values")
    return value.astype(np.float64)


def _sequence(value, what: str, shape: tuple, length: int | None = None) -> list[np.ndarray]:
    if not isinstance(value, (list, tuple)):
        fail(f"{what} should be a list with one array per step, got {type(value).__name__}")
    arrays = [_array(v, f"{what}[{k}]") for k, v in enumerate(value)]
    for k, a in enumerate(arrays):
        if a.shape != shape:
            fail(f"{what}[{k}] has shape {a.shape}; the weights have shape {shape}")
    if length is not None and len(arrays) != length:
        extra = " (leave out the initial weights: one entry per step, after it)" if len(arrays) == length + 1 else ""
        fail(f"{what} has {len(arrays)} entries for {length} gradients{extra}")
    return arrays


def torch_rprop_steps(initial: np.ndarray, grads: list[np.ndarray], lr: float) -> list[np.ndarray]:
    """The weights after each step of ``torch.optim.Rprop(lr=lr)`` fed ``grads`` (float32)."""
    import torch

    param = torch.nn.Parameter(torch.tensor(initial, dtype=torch.float32))
    optimizer = torch.optim.Rprop([param], lr=lr)
    out = []
    for g in grads:
        param.grad = torch.tensor(g, dtype=torch.float32)
        optimizer.step()
        out.append(param.detach().numpy().astype(np.float64))
    return out


def mxnet_rprop_steps(initial: np.ndarray, grads: list[np.ndarray], lr: float) -> list[np.ndarray]:
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


def check_rprop(answer: dict) -> None:
    """Exercise 3: ``answer`` holds ``lr``, the ``initial`` weights, the ``grads`` fed at each step (at
    least three, with at least one sign change), the weights after each step under the library's
    MXNet Rprop (``mxnet``) and under ``torch.optim.Rprop`` (``torch``), and ``max_diff``, the
    largest absolute difference between the two. Both runs are replayed here."""
    keys = {"lr", "initial", "grads", "mxnet", "torch", "max_diff"}
    if not isinstance(answer, dict) or set(answer) != keys:
        got = sorted(answer) if isinstance(answer, dict) else type(answer).__name__
        fail(f"answer should be a dict with exactly the keys {sorted(keys)}, got {got}")
    lr = number(answer["lr"], "lr", 1e-6, 50.0)
    initial = _array(answer["initial"], "initial")
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

    for name, theirs, replay in (("mxnet", mx_steps, mxnet_rprop_steps(initial, grads, lr)),
                                 ("torch", torch_steps, torch_rprop_steps(initial, grads, lr))):
        for k, (a, b) in enumerate(zip(theirs, replay)):
            if not np.allclose(a, b, rtol=RPROP_TOL, atol=RPROP_TOL):
                before = k > 0 and np.allclose(a, replay[k - 1], rtol=RPROP_TOL, atol=RPROP_TOL)
                hint = (" (it equals the weights after the step before: record the weights after each "
                        "step, as a copy)") if before or (k == 0 and np.allclose(a, initial)) else (
                        f": start from answer['initial'], feed exactly answer['grads'] in order, and use "
                        f"lr={lr:g} with the default etas and step sizes for both optimizers")
                fail(f"answer[{name!r}] after step {k + 1} differs from {name} Rprop replayed here by up to "
                     f"{float(np.abs(a - b).max()):.3g}{hint}")
    expected = max(float(np.abs(a - b).max()) for a, b in zip(mx_steps, torch_steps))
    value = number(answer["max_diff"], "max_diff", 0.0)
    if abs(value - expected) > RPROP_TOL:
        fail(f"max_diff is {value:.3g}, but your two trajectories differ by at most {expected:.3g}")
    passed(f"{len(grads)} Rprop steps with {flip} sign change(s) and {grow} growth(s): MXNet and PyTorch "
           f"differ by at most {expected:.1e}")
