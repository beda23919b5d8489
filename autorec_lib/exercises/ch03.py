"""Check functions for the exercises of notebook 03 (the AutoRec derivation).

Every check here recomputes the right answer itself (autograd on random data, the penalty's
share of an all-unobserved row, parameter counts from the layer sizes); none needs a stored
reference and none reads test ratings.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import fail, passed

GRADIENT_KEYS = ("V", "mu", "W", "b")


def _as_array(value, what: str) -> np.ndarray:
    """A NumPy float64 copy of an array or tensor, refused when it is neither."""
    if hasattr(value, "detach"):  # a PyTorch tensor
        value = value.detach().cpu().numpy()
    if not isinstance(value, np.ndarray):
        fail(f"{what} should be a NumPy array (or a tensor), got {type(value).__name__}")
    array = value.astype(np.float64)
    if not np.all(np.isfinite(array)):
        fail(f"{what} contains NaN or infinite values")
    return array


def _gradient_dict(grads, shapes: dict[str, tuple], what: str) -> dict[str, np.ndarray]:
    """Structure first: a dict with exactly the keys V, mu, W, b and the parameters' shapes."""
    if not isinstance(grads, dict):
        fail(f"{what} should be a dict with keys {', '.join(GRADIENT_KEYS)}, got {type(grads).__name__}")
    if set(grads) != set(GRADIENT_KEYS):
        fail(f"{what} has keys {sorted(grads)}; expected exactly {list(GRADIENT_KEYS)}")
    out = {}
    for key in GRADIENT_KEYS:
        out[key] = _as_array(grads[key], f"{what}[{key!r}]")
        if out[key].shape != shapes[key]:
            fail(f"{what}[{key!r}] has shape {out[key].shape}; the parameter {key} has shape {shapes[key]}")
    return out


# --------------------------------------------------------------------------------------------
# Exercise 1: gradients with a sigmoid decoder
# --------------------------------------------------------------------------------------------

def _problem(seed: int, n: int, d: int, k: int) -> dict:
    """Random float64 data shaped like an AutoRec batch: ratings scaled into (0, 1), zero where unobserved."""
    rng = np.random.default_rng(seed)
    M = (rng.random((n, d)) < 0.4).astype(np.float64)
    M[0] = 0.0  # one row with no observed entry at all
    R = M * rng.uniform(0.05, 0.95, size=(n, d))
    return {"R": R, "M": M, "V": rng.normal(scale=0.5, size=(k, d)), "mu": rng.normal(scale=0.5, size=k),
            "W": rng.normal(scale=0.5, size=(d, k)), "b": rng.normal(scale=0.5, size=d),
            "lam": float(rng.uniform(0.2, 1.5))}


def sigmoid_decoder_autograd(R, M, V, mu, W, b, lam: float) -> dict[str, np.ndarray]:
    """Gradients of Σ‖(σ(W σ(V r + μ) + b) − r) ⊙ m‖² + λ/2 (‖W‖² + ‖V‖²), by PyTorch's autograd."""
    import torch

    from ..objective import autorec_loss

    t = {name: torch.tensor(value, dtype=torch.float64) for name, value in
         {"R": R, "M": M, "V": V, "mu": mu, "W": W, "b": b}.items()}
    params = [t[name].requires_grad_() for name in GRADIENT_KEYS]
    out = torch.sigmoid(torch.sigmoid(t["R"] @ t["V"].T + t["mu"]) @ t["W"].T + t["b"])
    loss = autorec_loss(out, t["R"], t["M"], [t["W"], t["V"]], lam)
    return {name: g.numpy() for name, g in zip(GRADIENT_KEYS, torch.autograd.grad(loss, params))}


def check_sigmoid_decoder_gradients(fn: Callable) -> None:
    """Exercise 1: ``fn(R, M, V, mu, W, b, lam)`` returns the hand-derived gradients of the objective
    with a sigmoid encoder *and* decoder as a dict ``{"V", "mu", "W", "b"}`` of NumPy arrays;
    compared with autograd on random batches of two shapes."""
    if not callable(fn):
        fail(f"pass your gradient function itself (not its result), got {type(fn).__name__}")
    for seed, (n, d, k) in ((0, (6, 11, 4)), (1, (9, 7, 5))):
        problem = _problem(seed, n, d, k)
        expected = sigmoid_decoder_autograd(**problem)
        shapes = {key: expected[key].shape for key in GRADIENT_KEYS}
        answer = _gradient_dict(fn(**{key: np.copy(v) if isinstance(v, np.ndarray) else v
                                      for key, v in problem.items()}), shapes, "your gradients")
        wrong = [key for key in GRADIENT_KEYS
                 if not np.allclose(answer[key], expected[key], rtol=1e-6, atol=1e-9 * (1 + np.abs(expected[key]).max()))]
        if wrong:
            detail = ", ".join(f"{key} (largest difference {np.abs(answer[key] - expected[key]).max():.3g})"
                               for key in wrong)
            fail(f"your gradients differ from autograd's for {detail} (batch of {n} rows, {d} inputs, "
                 f"hidden {k}, lambda {problem['lam']:.3f}). Check, from the top: the factor 2 of the "
                 "square; the mask on the residual; the decoder's derivative out*(1-out); the penalty "
                 "lam*W and lam*V on the weights only (none on the biases).")
    passed("your sigmoid-decoder gradients match autograd for V, mu, W and b on two random batches")


# --------------------------------------------------------------------------------------------
# Exercise 2: an all-unobserved row contributes only the penalty
# --------------------------------------------------------------------------------------------

def check_empty_row_gradients(grads, model, lam: float, matrix) -> None:
    """Exercise 2: the gradients of the library's mini-batch loss for a batch of one all-unobserved
    row of ``matrix``, with respect to ``model``'s (one hidden layer) V, mu, W and b."""
    layers = getattr(model, "layers", None)
    if layers is None or len(layers) != 2:
        fail("pass the one-hidden-layer AutoRec (torch_backend.AutoRec) whose gradients you computed")
    if isinstance(lam, bool) or not isinstance(lam, (int, float)) or not lam > 0:
        fail(f"lam should be the positive λ the gradients were computed with, got {lam!r}")
    enc, dec = layers
    V, W = (_as_array(p, name) for p, name in ((enc.weight, "V"), (dec.weight, "W")))
    shapes = {"V": V.shape, "mu": tuple(enc.bias.shape), "W": W.shape, "b": tuple(dec.bias.shape)}
    answer = _gradient_dict(grads, shapes, "empty_row_grads")
    n_rows = matrix.shape[0]
    share = lam / n_rows  # the penalty λ/2·Σ‖W‖² spread over the n_rows rows of an epoch
    for key in ("mu", "b"):
        if np.any(answer[key] != 0):
            fail(f"the gradient for {key} is not zero. An all-unobserved row has a zero residual "
                 "everywhere, so no data gradient reaches any bias (and biases are not penalised): "
                 "did you pick a row with ratings, or leave out the mask?")
    for key, weight in (("V", V), ("W", W)):
        if np.allclose(answer[key], share * weight, rtol=1e-5, atol=1e-12):
            continue
        if np.allclose(answer[key], lam * weight, rtol=1e-5):
            fail(f"the gradient for {key} is lam*{key}, the penalty of a whole epoch. The library's "
                 "mini-batch loss scales the penalty by fraction = len(rows)/n_rows; use it.")
        if not np.any(answer[key]):
            fail(f"the gradient for {key} is zero: the penalty is missing (pass the weight matrices "
                 "and lam to autorec_loss)")
        fail(f"the gradient for {key} is not lam/n_rows*{key} (n_rows = {n_rows}): a batch of one "
             "all-unobserved row, fraction = 1/n_rows, and the model's own weights?")
    passed(f"an all-unobserved row passes no data gradient: V and W get only their penalty share "
           f"lam/n_rows = {share:.3g} times themselves, mu and b get exactly zero")


# --------------------------------------------------------------------------------------------
# Exercise 3: parameter counts of the deeper model
# --------------------------------------------------------------------------------------------

def _count(n_inputs: int, hidden: tuple[int, ...]) -> int:
    sizes = [n_inputs, *hidden, n_inputs]
    return sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:]))  # weights, plus one bias per output


def check_parameter_counts(answer, data) -> None:
    """Exercise 3: ``{"500": ..., "500-250-500": ...}``, the parameter counts of I-AutoRec on
    ``data`` with one hidden layer of 500 and with hidden layers 500-250-500."""
    keys = {"500": (500,), "500-250-500": (500, 250, 500)}
    if not isinstance(answer, dict) or set(answer) != set(keys):
        fail(f"answer with a dict with exactly the keys {list(keys)}, got "
             f"{sorted(answer) if isinstance(answer, dict) else type(answer).__name__}")
    for key, hidden in keys.items():
        value = answer[key]
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            fail(f"the count for {key} should be a whole number (int), got {type(value).__name__} {value!r}")
        expected = _count(data.n_users, hidden)
        if value == expected:
            continue
        sizes = [data.n_users, *hidden, data.n_users]
        pairs = list(zip(sizes[:-1], sizes[1:]))
        if value == _count(data.n_items, hidden):
            fail(f"{key}: {value} counts a model over the {data.n_items} movies. An I-AutoRec row is one "
                 f"movie's ratings by every user: n_inputs = n_users = {data.n_users}.")
        if value == sum(i * o for i, o in pairs):
            fail(f"{key}: {value} counts the weight matrices only; every layer also has one bias per output unit")
        if value == sum(i * o for i, o in pairs) + sum(hidden):
            fail(f"{key}: {value} leaves out the output layer's biases b (one per output unit, "
                 f"{data.n_users} of them)")
        fail(f"{key}: {value} is not the parameter count of I-AutoRec with hidden {'-'.join(map(str, hidden))} "
             f"on this data. List the layers n_inputs -> ... -> n_inputs and add i*o + o for each.")
    ratio = answer["500-250-500"] / answer["500"]
    passed(f"{answer['500']:,} parameters with one hidden layer of 500, {answer['500-250-500']:,} with "
           f"500-250-500 ({ratio:.2f} times as many)")
