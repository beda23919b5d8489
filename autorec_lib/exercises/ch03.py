"""Check functions for the exercises of notebook 03 (the AutoRec derivation).

Every check here recomputes the right answer itself (autograd on random data and on the learner's
own model, parameter counts from the layer sizes); none needs a stored reference and none reads
test ratings. Failure messages say what is wrong and where to look,
without handing over the formula.

Exercises 1 and 3 ask the learner to derive or count by hand, so the check watches what the learner's
function calls (:func:`_traced_call`): a function that differentiates with autograd (exercise 1) or
lets the course library count (exercise 3) is refused by name. The problems it is tried on are drawn
afresh at every call, so no table of answers fits them. (When the grader checks a notebook, the
learner's function runs in the learner's kernel, where the check cannot watch it: there only its
outputs are checked.)
"""
from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path
from typing import Callable

import numpy as np

from . import array, fail, library_function, number, passed, whole

GRADIENT_KEYS = ("V", "mu", "W", "b")


def _gradient_dict(grads, shapes: dict[str, tuple], what: str) -> dict[str, np.ndarray]:
    """Structure first: a dict with exactly the keys V, mu, W, b and the parameters' shapes."""
    if not isinstance(grads, dict):
        fail(f"{what} should be a dict with keys {', '.join(GRADIENT_KEYS)}, got {type(grads).__name__}")
    if set(grads) != set(GRADIENT_KEYS):
        fail(f"{what} has keys {sorted(grads)}; expected exactly {list(GRADIENT_KEYS)}")
    out = {}
    for key in GRADIENT_KEYS:
        out[key] = array(grads[key], f"{what}[{key!r}]")
        if out[key].shape != shapes[key]:
            fail(f"{what}[{key!r}] has shape {out[key].shape}; the parameter {key} has shape {shapes[key]}")
    return out


# --------------------------------------------------------------------------------------------
# Exercise 1: gradients with a sigmoid decoder
# --------------------------------------------------------------------------------------------

STAR_VALUES = (0.0, 0.25, 0.5, 0.75, 1.0)  # 1 to 5 stars as OutputScale maps them onto a sigmoid's range


def _problem(seed: int, n: int, d: int, k: int) -> dict:
    """Random float64 data shaped like an AutoRec batch: ratings of 1 to 5 stars mapped into [0, 1] as
    ``OutputScale`` maps them (1★ to exactly 0, 5★ to exactly 1), zero where unobserved. Row 0 has no
    observed entry; row 1 has an observed 1★ and an observed 5★, so that a mask read off the ratings
    (``R > 0``) differs from ``M``, as it does on the course's data."""
    rng = np.random.default_rng(seed)
    M = (rng.random((n, d)) < 0.4).astype(np.float64)
    M[0] = 0.0  # one row with no observed entry at all
    R = M * rng.choice(STAR_VALUES, size=(n, d))
    M[1, :2], R[1, :2] = 1.0, (0.0, 1.0)
    return {"R": R, "M": M, "V": rng.normal(scale=0.5, size=(k, d)), "mu": rng.normal(scale=0.5, size=k),
            "W": rng.normal(scale=0.5, size=(d, k)), "b": rng.normal(scale=0.5, size=d),
            "lam": float(rng.uniform(0.2, 1.5))}


PROBLEM_ARGS = ("R", "M", "V", "mu", "W", "b", "lam")  # the order the learner's function takes them in


def _autograd_gradients(R, M, V, mu, W, b, lam: float, inputs=None) -> dict[str, np.ndarray]:
    """The exercise's objective differentiated by PyTorch's autograd, in float64: the network fed
    ``inputs`` (by default ``R``, as in the exercise) and its output compared with ``R``."""
    import torch

    from ..objective import autorec_loss

    t = {name: torch.tensor(value, dtype=torch.float64) for name, value in
         {"R": R, "M": M, "V": V, "mu": mu, "W": W, "b": b, "X": R if inputs is None else inputs}.items()}
    params = [t[name].requires_grad_() for name in GRADIENT_KEYS]
    out = torch.sigmoid(torch.sigmoid(t["X"] @ t["V"].T + t["mu"]) @ t["W"].T + t["b"])
    loss = autorec_loss(out, t["R"], t["M"], [t["W"], t["V"]], lam)
    return {name: g.numpy() for name, g in zip(GRADIENT_KEYS, torch.autograd.grad(loss, params))}


# A right answer differs from autograd's float64 gradients by float rounding only: computed in float32
# by at most about 1e-6 of a gradient's largest entry, measured over many random shapes. A wrong
# derivation moves some gradient by percents of its size or more.
GRADIENT_RTOL = 1e-5
# Below this, a difference is taken for precision: the right formulas computed in float16 stayed under 9e-3
# on 4000 problems as the check draws them, while every listed mistake moved some gradient by 0.38 or more
# (600 problems). Only the failure message's hint depends on it.
PRECISION_LIMIT = 3e-2


def _relative_difference(answer: np.ndarray, expected: np.ndarray) -> float:
    """The largest difference, as a fraction of the expected gradient's largest entry."""
    return float(np.abs(answer - expected).max() / max(np.abs(expected).max(), 1e-300))


def _rescaled_inside(answer: dict, problem: dict) -> bool:
    """Whether ``answer`` holds the gradients of ratings mapped into [0, 1] once more, inside the
    learner's function (as the target, or as the target and the input): ``R`` arrives mapped already."""
    from ..objective import OutputScale

    again = OutputScale("sigmoid", (1.0, 5.0)).to_decoder(problem["R"]) * problem["M"]
    for inputs in (problem["R"], again):
        other = _autograd_gradients(**{**problem, "R": again}, inputs=inputs)
        if all(_relative_difference(answer[key], other[key]) <= GRADIENT_RTOL for key in GRADIENT_KEYS):
            return True
    return False


def _mask_from_ratings(answer: dict, problem: dict) -> bool:
    """Whether ``answer`` holds the gradients of a mask read off the ratings (observed where R > 0)."""
    other = _autograd_gradients(**{**problem, "M": (problem["R"] > 0).astype(np.float64)})
    return all(_relative_difference(answer[key], other[key]) <= GRADIENT_RTOL for key in GRADIENT_KEYS)


def _off_by_a_multiple_of_the_parameter(answer: np.ndarray, expected: np.ndarray, parameter: np.ndarray) -> bool:
    """Whether ``answer - expected`` is a multiple of the parameter itself: a penalty term's slip."""
    diff, p = (answer - expected).ravel(), parameter.ravel()
    if not np.any(p):
        return False
    c = float(diff @ p / (p @ p))
    return bool(np.abs(diff - c * p).max() <= 1e-3 * np.abs(diff).max())


# --------------------------------------------------------------------------------------------
# What a learner's function calls
# --------------------------------------------------------------------------------------------

LIBRARY_DIR = str(Path(__file__).parent.parent) + os.sep  # autorec_lib/, as its modules' code names it
_NOT_THE_LIBRARY = (LIBRARY_DIR + "grading" + os.sep,)  # the grader's own machinery, which calls a function
_AUTOGRAD = (  # (file ending, function names or None for any): where autograd is entered from Python
    ("torch/autograd/__init__.py", {"grad", "backward"}), ("torch/_tensor.py", {"backward"}),
    ("torch/autograd/functional.py", None),
    ("torch/_functorch/apis.py", {"grad", "grad_and_value"}), ("torch/_functorch/eager_transforms.py",
                                                               {"vjp", "jvp", "jacrev", "jacfwd", "hessian"}),
    ("mxnet/autograd.py", {"record", "backward", "grad", "mark_variables"}),
    ("mxnet/ndarray/ndarray.py", {"backward", "attach_grad"}),
)


def _fresh_seeds(n: int) -> list[int]:
    """``n`` seeds drawn afresh at every call, so that no table of answers fits the check's problems."""
    return [int(x) for x in np.random.SeedSequence().generate_state(n)]


def _traced_call(fn: Callable, args) -> tuple[object, set[tuple[str, str, str]]]:
    """``fn(*args)``, and every Python function it entered (``sys.setprofile``), as (file, qualified name,
    the caller's file) triples; a function called by this one (``fn`` itself, or what a ``functools.partial``
    wraps) has no caller's file."""
    entered: set[tuple[str, str, str]] = set()

    def profile(frame, event, arg):
        if event == "call":
            code, back = frame.f_code, frame.f_back
            caller = back.f_code.co_filename if back is not None and back.f_code is not _traced_call.__code__ else ""
            entered.add((code.co_filename, getattr(code, "co_qualname", code.co_name), caller))

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        out = fn(*args)
    finally:
        sys.setprofile(previous)
    return out, entered


def _autograd_entered(entered) -> list[str]:
    found = set()
    for filename, name, _ in entered:
        path = filename.replace(os.sep, "/")
        for ending, names in _AUTOGRAD:
            short = name.rsplit(".", 1)[-1]  # Tensor.backward -> backward
            if path.endswith(ending) and (names is None or short in names):
                found.add(f"{ending.split('/')[0]}'s {short}")
    return sorted(found)


def _library_entered(entered, within: str = "") -> list[str]:
    """The course library's functions (under ``autorec_lib/<within>``) that ``entered`` shows called from
    outside the library (the calls the learner's code made, not the library's own calls within), by
    module and qualified name."""
    def library(filename: str, part: str = "") -> bool:
        return filename.startswith(LIBRARY_DIR + part) and not filename.startswith(_NOT_THE_LIBRARY)

    found = set()
    for filename, name, caller in entered:
        if library(filename, within) and not library(caller) and not name.endswith(">"):  # no <genexpr>s
            module = filename[len(LIBRARY_DIR):].removesuffix(".py").replace(os.sep, ".")
            found.add(f"autorec_lib.{module}.{name}")
    return sorted(found)


def check_sigmoid_decoder_gradients(fn: Callable) -> None:
    """Exercise 1: ``fn(R, M, V, mu, W, b, lam)`` returns the hand-derived gradients of the objective
    with a sigmoid encoder *and* decoder as a dict ``{"V", "mu", "W", "b"}`` of NumPy arrays;
    compared with autograd on random batches of two shapes, drawn afresh at every call. A function
    that differentiates with autograd, or calls the check's own code, is refused: the exercise is the
    derivation."""
    if not callable(fn):
        fail(f"pass your gradient function itself (not its result), got {type(fn).__name__}")
    if library_function(fn):
        fail(f"{fn.__name__} is the library's function: pass the function you wrote")
    try:
        inspect.signature(fn).bind(*PROBLEM_ARGS)
    except TypeError:
        fail(f"your function should take the seven arguments ({', '.join(PROBLEM_ARGS)}), in that order "
             "(the check passes them by position, so their names are yours to choose)")
    except ValueError:  # a callable whose signature Python cannot read: just call it
        pass
    seeds = _fresh_seeds(2)
    for seed, (n, d, k) in zip(seeds, ((6, 11, 4), (9, 7, 5))):
        problem = _problem(seed, n, d, k)
        expected = _autograd_gradients(**problem)
        shapes = {key: expected[key].shape for key in GRADIENT_KEYS}
        copies = [np.copy(problem[name]) if isinstance(problem[name], np.ndarray) else problem[name]
                  for name in PROBLEM_ARGS]
        out, entered = _traced_call(fn, copies)
        used = _autograd_entered(entered)
        if used:
            fail(f"your function differentiates with autograd ({', '.join(used)}): the exercise is to derive the "
                 "gradients by hand and compute them with array arithmetic (NumPy or PyTorch), no autograd")
        used = _library_entered(entered, "exercises" + os.sep)
        if used:
            fail(f"your function calls the check's own code ({', '.join(used)}): write the gradients yourself")
        answer = _gradient_dict(out, shapes, "your gradients")
        off = {key: _relative_difference(answer[key], expected[key]) for key in GRADIENT_KEYS}
        wrong = [key for key in GRADIENT_KEYS if off[key] > GRADIENT_RTOL]
        if wrong:
            detail = ", ".join(f"{key} (largest difference {off[key]:.1%} of its largest entry)" for key in wrong)
            if _rescaled_inside(answer, problem):
                fail("your gradients are those of ratings mapped into [0, 1] inside your function, but R arrives "
                     "mapped already (the check's R lies in [0, 1], as OutputScale makes it): use R as it "
                     "is given, as the target and as the input")
            if _mask_from_ratings(answer, problem):
                fail("your gradients treat an observed rating of 0 as unobserved: they take the mask from R, but a "
                     "1-star rating is mapped to exactly 0 (the check's R has such entries, as the course's data "
                     "does). M, not R, says which entries are observed.")
            penalty_like = all(_off_by_a_multiple_of_the_parameter(answer[key], expected[key], problem[key])
                               for key in wrong)
            if max(off[key] for key in wrong) < PRECISION_LIMIT:
                where = ("They are that close to autograd's, so the formulas look right and the difference is "
                         "precision: compute in float32 or float64, not in a lower precision.")
            elif penalty_like and set(wrong) <= {"V", "W"}:
                where = ("Only the weight matrices' gradients are off, each by a multiple of the matrix itself: "
                         "look at the penalty's contribution.")
            elif penalty_like and set(wrong) <= {"mu", "b"}:
                where = ("Only the biases' gradients are off, each by a multiple of the bias itself: which "
                         "parameters does the penalty cover?")
            elif set(wrong) <= {"mu", "b"}:
                where = ("Only the biases' gradients are off, and not by a penalty: a bias is added to every row "
                         "of the batch, and the loss adds the rows up. How do the rows' contributions combine?")
            elif set(wrong) <= {"V", "W"}:
                where = (f"Only {' and '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} off, and not by a "
                         "penalty term: look at the last link of the chain for "
                         f"{'that matrix' if len(wrong) == 1 else 'each'}, from the layer's pre-activation to its "
                         "weights. What does the layer multiply its weights with?")
            else:
                where = ("Follow the chain rule from the loss backwards, one link at a time, and compare "
                         "each factor with Sec. 3.3: which link changes when the decoder is a sigmoid? "
                         "Keep the mask on the residual and the factor that comes from the square.")
            fail(f"your gradients for {', '.join(wrong)} differ from autograd's: {detail} (batch of {n} "
                 f"rows, {d} inputs, hidden {k}, lambda {problem['lam']:.3f}). {where}")
    passed("your sigmoid-decoder gradients match autograd for V, mu, W and b on two random batches")


# --------------------------------------------------------------------------------------------
# Exercise 2: the gradients from a movie with no training rating (an all-unobserved row)
# --------------------------------------------------------------------------------------------

PREDICTION_CHOICES = ("zero", "penalty share", "full penalty", "data fit")
_EMPTY_ROW_PREDICTION = dict(zip(GRADIENT_KEYS, ("penalty share", "zero", "penalty share", "zero")))


def check_empty_row_prediction(prediction) -> None:
    """Exercise 2, first part: what each gradient is for a batch of one all-unobserved row, one of
    :data:`PREDICTION_CHOICES` per parameter, predicted from the formulas before computing."""
    if not isinstance(prediction, dict) or set(prediction) != set(GRADIENT_KEYS):
        got = sorted(prediction) if isinstance(prediction, dict) else type(prediction).__name__
        fail(f"prediction should be a dict with exactly the keys {list(GRADIENT_KEYS)}, got {got}")
    for key in GRADIENT_KEYS:
        if prediction[key] not in PREDICTION_CHOICES:
            fail(f"prediction[{key!r}] = {prediction[key]!r}; choose one of {', '.join(map(repr, PREDICTION_CHOICES))}")
    if any(prediction[key] != _EMPTY_ROW_PREDICTION[key] for key in GRADIENT_KEYS):
        # one message, whatever and wherever the wrong choices are: a message that named the wrong keys (or
        # the choices) would let a learner find the answer by trying instead of working it out
        fail("your prediction is not what the formulas give, for at least one of V, mu, W and b. Work each "
             "gradient out in two parts. The data fit: write down E and Delta for a row that has no observed "
             "entry and an input of zeros, and see which factors vanish. The penalty: which parameters does "
             "objective.weight_penalty cover, and how does the library's mini-batch loss scale it for a "
             "batch of one row (the end of Sec. 3.3)?")
    passed("that is what the formulas say; now confirm it with autograd")


NOTEBOOK_LAM = 0.5  # the λ of Sec. 3.3 (``lam = 0.5``), which exercise 2 reuses; a test reads it off the notebook


def check_empty_row_gradients(grads, model, lam: float, matrix) -> None:
    """Exercise 2: the gradients of the library's mini-batch loss for a batch of one all-unobserved
    row of ``matrix``, with respect to ``model``'s (one hidden layer) V, mu, W and b, with the λ of
    Sec. 3.3 (``lam`` must still hold it).

    Gradients read from ``.grad`` after ``backward()`` are right when ``.grad`` was reset first; when
    it was not (it still holds an earlier batch's gradients), the message says what to reset.
    """
    layers = getattr(model, "layers", None)
    if layers is None or len(layers) != 2:
        fail("pass the one-hidden-layer AutoRec (torch_backend.AutoRec) whose gradients you computed")
    lam = number(lam, "lam")
    if abs(lam - NOTEBOOK_LAM) > 1e-9 * NOTEBOOK_LAM:
        fail(f"lam = {lam!r} is not the λ that Sec. 3.3 set and this exercise takes: was lam rebound since? Set it "
             "back (run Sec. 3.3's cells again), compute the gradients again and pass that lam")
    enc, dec = layers
    V, W = (array(p, name) for p, name in ((enc.weight, "V"), (dec.weight, "W")))
    shapes = {"V": V.shape, "mu": tuple(enc.bias.shape), "W": W.shape, "b": tuple(dec.bias.shape)}
    answer = _gradient_dict(grads, shapes, "empty_row_grads")
    n_rows = matrix.shape[0]
    share = lam / n_rows  # the penalty λ/2·Σ‖W‖² spread over the n_rows rows of an epoch
    expected = {"V": share * V, "mu": 0.0, "W": share * W, "b": 0.0}
    right = {key: np.allclose(answer[key], expected[key], rtol=1e-5, atol=1e-12) for key in GRADIENT_KEYS}
    if all(right.values()):
        passed(f"autograd's gradients for the all-unobserved row (fraction 1/{n_rows}) are what the "
               "formulas predict, for V, mu, W and b")
        return
    stored = dict(zip(GRADIENT_KEYS, (enc.weight.grad, enc.bias.grad, dec.weight.grad, dec.bias.grad)))
    if all(g is not None and np.allclose(answer[key], array(g, key), rtol=1e-6, atol=1e-12)
           for key, g in stored.items()):
        fail("your gradients are what the model's .grad attributes hold, and .grad adds up the gradients of "
             "every backward() since it was last reset (Sec. 3.3 already ran one on this model). Reset them "
             "with model.zero_grad() right before empty_loss.backward(), or take the gradients with "
             "torch.autograd.grad(empty_loss, [V, mu, W, b]), which stores nothing; then run your cell again.")
    for key, bias in (("mu", enc.bias), ("b", dec.bias)):
        if not right[key] and any(np.allclose(answer[key], f * array(bias, key), rtol=1e-5, atol=1e-12)
                                  for f in (share, lam)):
            fail(f"the gradient for {key} carries a penalty, but the penalty covers the weight matrices only: "
                 "give autorec_loss model.weight_matrices(), not every parameter")
        if not right[key]:
            fail(f"the gradient for {key} does not come from the loss of one all-unobserved row alone: did you "
                 "pick a row with ratings, or leave out the mask?")
    for key, weight in (("V", V), ("W", W)):
        if right[key]:
            continue
        if np.allclose(answer[key], lam * weight, rtol=1e-5):
            fail(f"the gradient for {key} carries the penalty of a whole epoch, but the batch is one row of "
                 f"n: give autorec_loss the batch's fraction of the rows as its last argument")
        if not np.any(answer[key]):
            fail(f"the gradient for {key} is zero: the penalty is missing (pass the weight matrices "
                 "and lam to autorec_loss)")
        fail(f"the gradient for {key} is not the one of the library's mini-batch loss for a batch of one "
             "all-unobserved row of matrix: check the fraction you gave autorec_loss (one row of "
             "matrix.shape[0]), the lam, and that you differentiated the model you passed here")


# --------------------------------------------------------------------------------------------
# Exercise 3: parameter counts of the deeper model
# --------------------------------------------------------------------------------------------

def _count(n_inputs: int, hidden: tuple[int, ...]) -> int:
    sizes = [n_inputs, *hidden, n_inputs]
    return sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:]))  # weights, plus one bias per output


def _one_layer_only(n_inputs: int, hidden: tuple[int, ...]) -> int:
    """The count of a model with only the first hidden layer: a formula for one layer reused."""
    return 2 * n_inputs * hidden[0] + n_inputs + hidden[0]


def _diagnose(value, n_inputs: int, hidden: tuple[int, ...], what: str) -> None:
    """Fail with what a wrong count most likely left out (``what`` names the count)."""
    sizes = [n_inputs, *hidden, n_inputs]
    pairs = list(zip(sizes[:-1], sizes[1:]))
    if value == sum(i * o for i, o in pairs):
        fail(f"{what} = {value} counts the weight matrices only; every layer also has biases")
    if value == sum(i * o for i, o in pairs) + sum(hidden):
        fail(f"{what} = {value} leaves out the output layer's biases b")
    if len(hidden) > 1 and value == _one_layer_only(n_inputs, hidden):
        fail(f"{what} = {value} counts one hidden layer only; a deeper model has weights and biases "
             "for every layer of the chain")
    fail(f"{what} = {value} is not the parameter count of AutoRec with {n_inputs} inputs and hidden "
         f"layers {'-'.join(map(str, hidden))}. List the layer widths from input to output and count "
         "each layer's weights and biases.")


# (n_inputs, hidden) the learner's function is tried on: ML-100K's two shapes and small ones, and at every
# call a few drawn at random (so that no table of answers fits)
CASES = ((943, (500,)), (943, (500, 250, 500)), (1682, (300,)), (7, (3,)), (11, (4, 2)), (5, (6, 6, 6)))
N_RANDOM_CASES = 3


def _random_cases(n: int = N_RANDOM_CASES) -> list[tuple[int, tuple[int, ...]]]:
    rng = np.random.default_rng(_fresh_seeds(1)[0])
    return [(int(rng.integers(2, 5000)), tuple(int(h) for h in rng.integers(1, 1000, size=rng.integers(1, 5))))
            for _ in range(n)]


def check_parameter_counts(count_parameters: Callable, deep_count, data) -> None:
    """Exercise 3: ``count_parameters(n_inputs, hidden)`` counts AutoRec's weights and biases for any
    chain of hidden sizes, from the layer sizes (a function that lets the course library count is
    refused), and ``deep_count`` is I-AutoRec's count on ``data`` with 500-250-500."""
    if not callable(count_parameters):
        fail(f"pass your function count_parameters itself, got {type(count_parameters).__name__}")
    if library_function(count_parameters):
        fail(f"{count_parameters.__name__} is the library's function: pass the function you wrote")
    for n_inputs, hidden in (*CASES, *_random_cases()):
        out, entered = _traced_call(count_parameters, (n_inputs, hidden))
        used = _library_entered(entered)
        if used:
            fail(f"your count_parameters lets the course library count ({', '.join(used)}): the exercise asks you "
                 "to count from the layer sizes yourself, with arithmetic")
        value = whole(out, f"count_parameters({n_inputs}, {hidden})")
        if value != _count(n_inputs, hidden):
            _diagnose(value, n_inputs, hidden, f"count_parameters({n_inputs}, {hidden})")
    deep = (500, 250, 500)
    value = whole(deep_count, "deep_count")
    if value != _count(data.n_users, deep):
        if value == _count(data.n_items, deep):
            fail(f"deep_count = {value} is a model over the {data.n_items} movies. An I-AutoRec row is one "
                 "movie's ratings by every user: how long is it?")
        if value == _count(data.n_users, (500,)):
            fail(f"deep_count = {value} is the one-hidden-layer model's count; the question is about 500-250-500")
        _diagnose(value, data.n_users, deep, "deep_count")
    passed(f"your count_parameters is right on {len(CASES) + N_RANDOM_CASES} layer chains, and I-AutoRec "
           f"500-250-500 on this data has {value:,} parameters")
