"""The checks of notebook 03's exercises accept the reference solutions and reject plausible mistakes."""
from __future__ import annotations

import functools
import itertools
import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from autorec_lib import objective  # noqa: E402
from autorec_lib.config import AutoRecConfig  # noqa: E402
from autorec_lib.exercises import CheckFailed, ch03  # noqa: E402
from autorec_lib.matrix import RatingMatrix  # noqa: E402
from autorec_lib.torch_backend import AutoRec  # noqa: E402
from exercise_support import assert_hides  # noqa: E402

sig = objective.sigmoid
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_autorec_derivation.py"


def graded(fn, folder: Path):
    """``fn`` as the grader hands it to a check: a RemoteFunction whose calls cross as plain data, as files in
    ``folder`` (one process plays the learner's kernel, as in test_grading_units)."""
    from autorec_lib.grading import plain

    calls = []
    plain.collect(str(folder / "kernel"), {"fn": lambda: fn})
    encoded, _ = plain.read_index(folder / "kernel")

    def call(handle, args, kwargs):
        request, reply = folder / f"in{len(calls)}", folder / f"out{len(calls)}"
        calls.append(handle)
        plain.collect(str(request), {"args": lambda: args, "kwargs": lambda: kwargs})
        plain.apply(str(request), str(reply), handle)
        out, problems = plain.read_index(reply)
        assert not problems, problems
        value = plain.Decoder(reply, None)(out["output"])
        return value["result"], value["grads"]

    return plain.Decoder(folder / "kernel", None, call)(encoded["fn"])


# ---------------------------------------------------------------------------------------------
# Exercise 1: gradients with a sigmoid decoder
# ---------------------------------------------------------------------------------------------

def sigmoid_decoder_gradients(R, M, V, mu, W, b, lam, *, two=2.0, derivative=True, mask="right",
                              penalty="weights"):
    """The notebook's reference solution; the keywords switch in one typical mistake at a time."""
    H = sig(R @ V.T + mu)
    out = sig(H @ W.T + b)
    masks = {"right": M, "none": np.ones_like(M), "inverted": 1 - M}
    E = (out - R) * masks[mask]
    G = two * E * (out * (1 - out) if derivative else 1.0)
    delta = (G @ W) * H * (1 - H)
    grads = {"V": delta.T @ R, "mu": delta.sum(axis=0), "W": G.T @ H, "b": G.sum(axis=0)}
    if penalty in ("weights", "all"):
        grads["V"] = grads["V"] + lam * V
        grads["W"] = grads["W"] + lam * W
    if penalty == "all":
        grads["mu"] = grads["mu"] + lam * mu
        grads["b"] = grads["b"] + lam * b
    if penalty == "double":
        grads["V"] = grads["V"] + 2 * lam * V
        grads["W"] = grads["W"] + 2 * lam * W
    return grads


def test_sigmoid_decoder_check_accepts_the_reference_solution(capsys):
    ch03.check_sigmoid_decoder_gradients(sigmoid_decoder_gradients)
    assert capsys.readouterr().out.startswith("correct:")


MISTAKES = [
    {"derivative": False},          # the sigmoid derivative out*(1-out) left out
    {"two": 1.0},                   # the factor 2 of the square left out
    {"mask": "none"},               # residual not masked
    {"mask": "inverted"},           # 1 - M instead of M
    {"penalty": "none"},            # no lam*W, lam*V
    {"penalty": "all"},             # the biases penalised too
    {"penalty": "double"},          # 2*lam*W: the 1/2 of lam/2 forgotten
]


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: "-".join(f"{k}={v}" for k, v in m.items()))
def test_sigmoid_decoder_check_rejects_a_wrong_derivation(mistake):
    with pytest.raises(CheckFailed, match="differ from autograd"):
        ch03.check_sigmoid_decoder_gradients(lambda *a, **k: sigmoid_decoder_gradients(*a, **k, **mistake))


def test_sigmoid_decoder_failure_names_the_wrong_gradients_without_giving_the_formula():
    with pytest.raises(CheckFailed) as failure:
        ch03.check_sigmoid_decoder_gradients(lambda *a, **k: sigmoid_decoder_gradients(*a, **k, derivative=False))
    message = str(failure.value)
    assert "V, mu, W, b differ from autograd" in message
    assert "out*(1-out)" not in message.replace(" ", "") and "(1-out)" not in message.replace(" ", "")
    with pytest.raises(CheckFailed, match=r"for V, W differ.*penalty"):
        ch03.check_sigmoid_decoder_gradients(lambda *a, **k: sigmoid_decoder_gradients(*a, **k, penalty="none"))
    with pytest.raises(CheckFailed, match=r"for mu, b differ.*which parameters does the penalty cover"):
        ch03.check_sigmoid_decoder_gradients(lambda *a, **k: sigmoid_decoder_gradients(*a, **k, penalty="all"))


def test_sigmoid_decoder_check_blames_the_penalty_only_when_the_difference_is_a_penalty():
    """A slip in V's data-fit term (M where R belongs) or biases averaged over the rows are not the penalty's."""
    def v_from_mask(R, M, V, mu, W, b, lam):
        H, out = sig(R @ V.T + mu), sig(sig(R @ V.T + mu) @ W.T + b)
        G = 2 * (out - R) * M * out * (1 - out)
        delta = (G @ W) * H * (1 - H)
        return {**sigmoid_decoder_gradients(R, M, V, mu, W, b, lam), "V": delta.T @ M + lam * V}

    def mean_biases(R, M, V, mu, W, b, lam):
        grads = sigmoid_decoder_gradients(R, M, V, mu, W, b, lam)
        return {**grads, "mu": grads["mu"] / len(R), "b": grads["b"] / len(R)}

    for fn, match in ((v_from_mask, r"for V differ.*Only V is off, and not by a penalty"),
                      (mean_biases, r"for mu, b differ.*not by a penalty")):
        with pytest.raises(CheckFailed, match=match) as failure:
            ch03.check_sigmoid_decoder_gradients(fn)
        assert "chain rule is right" not in str(failure.value)
        assert "which parameters does the penalty cover" not in str(failure.value)


def test_sigmoid_decoder_check_refuses_a_mask_read_off_the_ratings():
    """A 1-star rating is mapped to exactly 0: a mask taken from R > 0 drops it, as it would on the course's data."""
    def mask_from_r(R, M, V, mu, W, b, lam):
        return sigmoid_decoder_gradients(R, (R > 0).astype(float), V, mu, W, b, lam)

    for seed in range(5):
        problem = ch03._problem(seed, 6, 11, 4)
        observed = problem["M"] == 1
        assert (problem["R"][observed] == 0).any() and (problem["R"][observed] == 1).any()
    with pytest.raises(CheckFailed, match="observed rating of 0 as unobserved"):
        ch03.check_sigmoid_decoder_gradients(mask_from_r)


def test_sigmoid_decoder_check_rejects_the_identity_decoder_gradients():
    with pytest.raises(CheckFailed, match="differ from autograd"):
        ch03.check_sigmoid_decoder_gradients(lambda *a: objective.autorec_gradients_numpy(*a))


def test_sigmoid_decoder_check_refuses_the_librarys_own_functions():
    """The check's own autograd reference (and the library's identity-decoder gradients) are no answer."""
    for library in (ch03._autograd_gradients, objective.autorec_gradients_numpy):
        with pytest.raises(CheckFailed, match="the library's function"):
            ch03.check_sigmoid_decoder_gradients(library)


def own_autograd(R, M, V, mu, W, b, lam, *, way="grad"):
    """The objective differentiated by autograd inside the learner's function: no derivation."""
    t = [torch.tensor(x, requires_grad=True) for x in (V, mu, W, b)]
    Rt, Mt = torch.tensor(R), torch.tensor(M)
    out = torch.sigmoid(torch.sigmoid(Rt @ t[0].T + t[1]) @ t[2].T + t[3])
    loss = objective.autorec_loss(out, Rt, Mt, [t[2], t[0]], lam)
    if way == "backward":
        loss.backward()
        return dict(zip(ch03.GRADIENT_KEYS, [x.grad.numpy() for x in t]))
    return dict(zip(ch03.GRADIENT_KEYS, [g.numpy() for g in torch.autograd.grad(loss, t)]))


def with_torch_func(R, M, V, mu, W, b, lam):
    def loss(V, mu, W, b):
        out = torch.sigmoid(torch.sigmoid(torch.tensor(R) @ V.T + mu) @ W.T + b)
        return objective.autorec_loss(out, torch.tensor(R), torch.tensor(M), [W, V], lam)
    params = [torch.tensor(x) for x in (V, mu, W, b)]
    grads = torch.func.grad(loss, argnums=(0, 1, 2, 3))(*params)
    return dict(zip(ch03.GRADIENT_KEYS, [g.numpy() for g in grads]))


@pytest.mark.parametrize("fn", [
    lambda *a: ch03._autograd_gradients(*a),       # the check's own reference, wrapped
    functools.partial(ch03._autograd_gradients),
    own_autograd,
    functools.partial(own_autograd, way="backward"),
    with_torch_func,
], ids=["lambda-around-the-checks-reference", "partial-of-it", "autograd.grad", "backward", "torch.func.grad"])
def test_sigmoid_decoder_check_refuses_gradients_taken_by_autograd(fn):
    with pytest.raises(CheckFailed, match="differentiates with autograd"):
        ch03.check_sigmoid_decoder_gradients(fn)


def test_sigmoid_decoder_check_refuses_a_function_that_calls_the_checks_code():
    def peeking(*args):
        ch03._relative_difference(np.ones(1), np.ones(1))
        return sigmoid_decoder_gradients(*args)
    with pytest.raises(CheckFailed, match="check's own code"):
        ch03.check_sigmoid_decoder_gradients(peeking)


def test_sigmoid_decoder_check_draws_new_problems_at_every_call(capsys):
    """A table of the answers to one call's problems does not fit the next call's."""
    seen = []

    def recording(*args):
        seen.append(np.copy(args[0]))
        return sigmoid_decoder_gradients(*args)

    for _ in range(2):
        ch03.check_sigmoid_decoder_gradients(recording)
    assert len(seen) == 4 and not np.array_equal(seen[0], seen[2]) and not np.array_equal(seen[1], seen[3])
    table = {problem[0].tobytes(): sigmoid_decoder_gradients(*problem) for problem in
             ([ch03._problem(seed, *shape)[k] for k in ch03.PROBLEM_ARGS] for seed, shape in
              ((0, (6, 11, 4)), (1, (9, 7, 5))))}
    zeros = {k: np.zeros(1) for k in ch03.GRADIENT_KEYS}
    with pytest.raises(CheckFailed):
        ch03.check_sigmoid_decoder_gradients(lambda R, *rest: table.get(R.tobytes(), zeros))


def test_sigmoid_decoder_check_grades_a_learners_function_handed_over_by_the_grader(tmp_path, capsys):
    """The grader hands the check a RemoteFunction (defined in autorec_lib.grading): it is the learner's."""
    ch03.check_sigmoid_decoder_gradients(graded(sigmoid_decoder_gradients, tmp_path / "right"))
    assert capsys.readouterr().out.startswith("correct:")
    with pytest.raises(CheckFailed, match="differ from autograd"):
        ch03.check_sigmoid_decoder_gradients(graded(lambda *a: sigmoid_decoder_gradients(*a, penalty="none"),
                                                    tmp_path / "wrong"))


def in_float32(R, M, V, mu, W, b, lam):
    """The reference solution computed in float32 throughout (NumPy)."""
    return sigmoid_decoder_gradients(*(x.astype(np.float32) for x in (R, M, V, mu, W, b)), np.float32(lam))


def in_torch_float32(R, M, V, mu, W, b, lam):
    """The right formulas in PyTorch's default float32, returned as tensors."""
    R, M, V, mu, W, b = (torch.from_numpy(x).float() for x in (R, M, V, mu, W, b))
    H = torch.sigmoid(R @ V.T + mu)
    out = torch.sigmoid(H @ W.T + b)
    G = 2 * (out - R) * M * out * (1 - out)
    delta = (G @ W) * H * (1 - H)
    return {"V": delta.T @ R + lam * V, "mu": delta.sum(0), "W": G.T @ H + lam * W, "b": G.sum(0)}


@pytest.mark.parametrize("fn", [
    in_float32,
    in_torch_float32,
    lambda *a: {k: v.astype(np.float32) for k, v in sigmoid_decoder_gradients(*a).items()},  # float64, stored float32
], ids=["numpy-float32", "torch-float32", "cast-to-float32"])
def test_sigmoid_decoder_check_accepts_the_right_formulas_in_float32(fn, capsys):
    ch03.check_sigmoid_decoder_gradients(fn)
    assert capsys.readouterr().out.startswith("correct:")


def test_gradient_tolerance_lies_far_above_float32_rounding_and_far_below_every_mistake():
    """The tolerances are measured: float32 rounding stays 5 times under the tolerance on 30 random problems of
    other shapes; on 100 problems as the check draws them, float16 rounding stays 3 times under the limit
    below which a difference is called precision, and each mistake above moves some gradient by 5 times
    that limit (so by 15,000 times the tolerance)."""
    def worst(answer, expected):
        return max(ch03._relative_difference(np.asarray(answer[k], np.float64), expected[k]) for k in expected)

    def in_float16(*args):
        return sigmoid_decoder_gradients(*(x.astype(np.float16) for x in args[:6]), np.float16(args[6]))

    rng = np.random.default_rng(2024)
    for seed in range(30):
        problem = ch03._problem(100 + seed, *(int(x) for x in rng.integers(2, 30, size=3)))
        args = [problem[name] for name in ch03.PROBLEM_ARGS]
        expected = ch03._autograd_gradients(**problem)
        for fn in (in_float32, in_torch_float32):
            assert worst(fn(*args), expected) < ch03.GRADIENT_RTOL / 5
    for seed in range(50):
        for shape in ((6, 11, 4), (9, 7, 5)):  # the check's shapes
            problem = ch03._problem(1000 + seed, *shape)
            args = [problem[name] for name in ch03.PROBLEM_ARGS]
            expected = ch03._autograd_gradients(**problem)
            assert worst(in_float16(*args), expected) < ch03.PRECISION_LIMIT / 3
            for mistake in MISTAKES:
                assert worst(sigmoid_decoder_gradients(*args, **mistake), expected) > 5 * ch03.PRECISION_LIMIT


def test_sigmoid_decoder_check_names_precision_when_the_formulas_are_right_but_rounded_coarsely():
    def in_float16(R, M, V, mu, W, b, lam):
        return sigmoid_decoder_gradients(*(x.astype(np.float16) for x in (R, M, V, mu, W, b)), np.float16(lam))
    with pytest.raises(CheckFailed, match="precision"):
        ch03.check_sigmoid_decoder_gradients(in_float16)


def test_sigmoid_decoder_check_calls_by_position_whatever_the_parameters_are_called(capsys):
    def other_names(r, m, v, m_u, w, bias, lmbda):
        return sigmoid_decoder_gradients(r, m, v, m_u, w, bias, lmbda)
    ch03.check_sigmoid_decoder_gradients(other_names)
    ch03.check_sigmoid_decoder_gradients(lambda *args: sigmoid_decoder_gradients(*args))
    assert capsys.readouterr().out.count("correct:") == 2


def test_sigmoid_decoder_check_says_which_arguments_a_function_of_the_wrong_arity_should_take():
    for fn in (lambda R, M, V, mu, W, b: None, lambda R, M, V, mu, W, b, lam, extra: None, lambda *, R: None):
        with pytest.raises(CheckFailed, match="seven arguments"):
            ch03.check_sigmoid_decoder_gradients(fn)


def test_sigmoid_decoder_check_says_r_arrives_mapped_when_the_function_maps_it_again():
    scale = objective.OutputScale("sigmoid", (1.0, 5.0))

    def mapped_target(R, M, V, mu, W, b, lam):  # the reviewer's: ratings mapped as the target only
        H = sig(R @ V.T + mu)
        out = sig(H @ W.T + b)
        G = 2 * (out - scale.to_decoder(R) * M) * M * out * (1 - out)
        delta = (G @ W) * H * (1 - H)
        return {"V": delta.T @ R + lam * V, "mu": delta.sum(0), "W": G.T @ H + lam * W, "b": G.sum(0)}

    def mapped_everywhere(R, M, V, mu, W, b, lam):
        return sigmoid_decoder_gradients(scale.to_decoder(R) * M, M, V, mu, W, b, lam)

    for fn in (mapped_target, mapped_everywhere):
        with pytest.raises(CheckFailed, match="R arrives mapped already"):
            ch03.check_sigmoid_decoder_gradients(fn)


def test_sigmoid_decoder_failure_shows_no_gradient_of_the_checks_problem(monkeypatch):
    """All-zero gradients would show the expected gradients' size if the message gave absolute differences."""
    def zeros(R, M, V, mu, W, b, lam):
        return {"V": np.zeros_like(V), "mu": np.zeros_like(mu), "W": np.zeros_like(W), "b": np.zeros_like(b)}
    monkeypatch.setattr(ch03, "_fresh_seeds", lambda n: [0, 1][:n])  # the problems below, to compare with
    with pytest.raises(CheckFailed) as failure:
        ch03.check_sigmoid_decoder_gradients(zeros)
    expected = ch03._autograd_gradients(**ch03._problem(0, 6, 11, 4))
    assert "100.0%" in str(failure.value)
    assert_hides(str(failure.value), [np.abs(g).max() for g in expected.values()])


def test_sigmoid_decoder_check_rejects_a_result_instead_of_a_function_and_wrong_structure():
    with pytest.raises(CheckFailed, match="function itself"):
        ch03.check_sigmoid_decoder_gradients({"V": 0})
    with pytest.raises(CheckFailed, match="keys"):
        ch03.check_sigmoid_decoder_gradients(lambda *a: {k: v for k, v in sigmoid_decoder_gradients(*a).items() if k != "mu"})
    with pytest.raises(CheckFailed, match="shape"):
        ch03.check_sigmoid_decoder_gradients(lambda *a: {k: v.T for k, v in sigmoid_decoder_gradients(*a).items()})
    with pytest.raises(CheckFailed, match="should be a dict"):
        ch03.check_sigmoid_decoder_gradients(lambda *a: list(sigmoid_decoder_gradients(*a).values()))


def test_sigmoid_decoder_autograd_reference_matches_finite_differences():
    problem = ch03._problem(3, 5, 6, 3)
    grads = ch03._autograd_gradients(**problem)

    def loss(V):
        out = sig(sig(problem["R"] @ V.T + problem["mu"]) @ problem["W"].T + problem["b"])
        return objective.autorec_loss(out, problem["R"], problem["M"], [problem["W"], V], problem["lam"])

    eps, V = 1e-6, problem["V"]
    plus, minus = V.copy(), V.copy()
    plus[1, 2] += eps
    minus[1, 2] -= eps
    assert abs((loss(plus) - loss(minus)) / (2 * eps) - grads["V"][1, 2]) < 1e-6


# ---------------------------------------------------------------------------------------------
# Exercise 2: an all-unobserved row
# ---------------------------------------------------------------------------------------------

def _empty_row_setup(data, seed: int):
    """I-AutoRec rows with one extra movie nobody rated (the last row), and a seeded model."""
    matrix = RatingMatrix(data.ratings, data.n_users, data.n_items + 1, "item")
    torch.manual_seed(seed)
    return matrix, AutoRec(n_inputs=data.n_users, hidden=8)


def empty_row_grads(model, matrix, lam, *, row=None, fraction=None, use_mask=True):
    """The notebook's reference solution (with switches for the mistakes below)."""
    row = int(np.flatnonzero(matrix.row_counts() == 0)[0]) if row is None else row
    r, m = (torch.from_numpy(a) for a in matrix.dense(np.array([row])))
    fraction = 1 / matrix.shape[0] if fraction is None else fraction
    pred = model(r)
    if use_mask:
        loss = objective.autorec_loss(pred, r, m, model.weight_matrices(), lam, fraction)
    else:
        loss = ((pred - r) ** 2).sum() + objective.weight_penalty(model.weight_matrices(), lam, fraction)
    enc, dec = model.layers
    return dict(zip(["V", "mu", "W", "b"], torch.autograd.grad(loss, [enc.weight, enc.bias, dec.weight, dec.bias])))


RIGHT_PREDICTION = {"V": "penalty share", "mu": "zero", "W": "penalty share", "b": "zero"}


def test_empty_row_prediction_check_accepts_the_reference_prediction(capsys):
    ch03.check_empty_row_prediction(dict(RIGHT_PREDICTION))
    out = capsys.readouterr().out
    assert out.startswith("correct:") and "penalty share" not in out


def test_empty_row_prediction_check_refuses_every_wrong_prediction_with_one_message_that_names_no_key():
    """All 255 wrong predictions get the same message: one that named the wrong keys (or choices) would let
    a learner find the answer in a few tries instead of working it out."""
    messages = set()
    for choices in itertools.product(ch03.PREDICTION_CHOICES, repeat=4):
        prediction = dict(zip(RIGHT_PREDICTION, choices))
        if prediction == RIGHT_PREDICTION:
            continue
        with pytest.raises(CheckFailed, match="not what the formulas give") as failure:
            ch03.check_empty_row_prediction(prediction)
        messages.add(str(failure.value))
    assert len(messages) == 1
    message = messages.pop()
    assert not any(f"'{choice}'" in message or f'"{choice}"' in message for choice in ch03.PREDICTION_CHOICES)
    assert "for at least one of V, mu, W and b" in message and "prediction for" not in message


def test_empty_row_prediction_check_rejects_wrong_structure_and_free_text():
    with pytest.raises(CheckFailed, match="keys"):
        ch03.check_empty_row_prediction({k: RIGHT_PREDICTION[k] for k in ("V", "W")})
    with pytest.raises(CheckFailed, match="keys"):
        ch03.check_empty_row_prediction(list(RIGHT_PREDICTION.values()))
    with pytest.raises(CheckFailed, match="choose one of"):
        ch03.check_empty_row_prediction({**RIGHT_PREDICTION, "V": "lambda/n * V"})
    with pytest.raises(CheckFailed, match="choose one of"):
        ch03.check_empty_row_prediction({**RIGHT_PREDICTION, "mu": 0})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_empty_row_check_accepts_the_reference_solution(small_data, seed, capsys):
    matrix, model = _empty_row_setup(small_data, seed)
    ch03.check_empty_row_gradients(empty_row_grads(model, matrix, 0.5), model, 0.5, matrix)
    assert capsys.readouterr().out.startswith("correct:")


def test_empty_row_check_accepts_numpy_arrays(small_data):
    matrix, model = _empty_row_setup(small_data, 0)
    grads = {k: v.numpy() for k, v in empty_row_grads(model, matrix, 0.5).items()}
    ch03.check_empty_row_gradients(grads, model, 0.5, matrix)


def backward_grads(model, matrix, lam, reset=True):
    """The reference solution written with .backward(): the gradients read from .grad."""
    row = int(np.flatnonzero(matrix.row_counts() == 0)[0])
    r, m = (torch.from_numpy(a) for a in matrix.dense(np.array([row])))
    if reset:
        model.zero_grad()
    objective.autorec_loss(model(r), r, m, model.weight_matrices(), lam, 1 / matrix.shape[0]).backward()
    enc, dec = model.layers
    return {"V": enc.weight.grad.clone(), "mu": enc.bias.grad.clone(), "W": dec.weight.grad.clone(),
            "b": dec.bias.grad.clone()}


def earlier_backward(model, matrix):
    """What Sec. 3.3 leaves behind: a backward pass over rows with ratings, its gradients kept in .grad."""
    r, m = (torch.from_numpy(a) for a in matrix.dense(np.arange(8)))
    objective.autorec_loss(model(r), r, m, model.weight_matrices(), 0.5).backward()


@pytest.mark.parametrize("seed", [3, 4, 5, 6, 7])
def test_empty_row_check_accepts_gradients_from_backward_after_a_reset(small_data, seed, capsys):
    matrix, model = _empty_row_setup(small_data, seed)
    earlier_backward(model, matrix)
    ch03.check_empty_row_gradients(backward_grads(model, matrix, 0.5), model, np.float64(0.5), matrix)
    assert capsys.readouterr().out.startswith("correct:")


def test_empty_row_check_says_what_to_reset_when_backward_added_to_earlier_gradients(small_data):
    matrix, model = _empty_row_setup(small_data, 0)
    earlier_backward(model, matrix)
    stale = backward_grads(model, matrix, 0.5, reset=False)
    with pytest.raises(CheckFailed, match="zero_grad") as failure:
        ch03.check_empty_row_gradients(stale, model, 0.5, matrix)
    assert "mask" not in str(failure.value)
    backward_grads(model, matrix, 0.5, reset=True)  # ... and a cell run twice after the reset
    twice = backward_grads(model, matrix, 0.5, reset=False)
    with pytest.raises(CheckFailed, match="zero_grad"):
        ch03.check_empty_row_gradients(twice, model, 0.5, matrix)


def test_empty_row_check_rejects_the_whole_epochs_penalty(small_data):
    matrix, model = _empty_row_setup(small_data, 0)
    with pytest.raises(CheckFailed, match="fraction"):
        ch03.check_empty_row_gradients(empty_row_grads(model, matrix, 0.5, fraction=1.0), model, 0.5, matrix)


def test_empty_row_check_rejects_a_row_with_ratings(small_data):
    matrix, model = _empty_row_setup(small_data, 0)
    assert matrix.row_counts()[0] > 0
    with pytest.raises(CheckFailed, match="row with ratings"):
        ch03.check_empty_row_gradients(empty_row_grads(model, matrix, 0.5, row=0), model, 0.5, matrix)


def test_empty_row_check_says_the_penalty_covers_no_bias_when_the_biases_were_penalised(small_data):
    matrix, model = _empty_row_setup(small_data, 0)
    row = int(np.flatnonzero(matrix.row_counts() == 0)[0])
    r, m = (torch.from_numpy(a) for a in matrix.dense(np.array([row])))
    enc, dec = model.layers
    params = [enc.weight, enc.bias, dec.weight, dec.bias]
    for fraction in (1 / matrix.shape[0], 1.0):  # every parameter penalised, with the batch's share or the epoch's
        loss = objective.autorec_loss(model(r), r, m, list(model.parameters()), 0.5, fraction)
        grads = dict(zip(["V", "mu", "W", "b"], torch.autograd.grad(loss, params)))
        with pytest.raises(CheckFailed, match="weight matrices only") as failure:
            ch03.check_empty_row_gradients(grads, model, 0.5, matrix)
        assert "row with ratings" not in str(failure.value)


def test_empty_row_check_rejects_a_loss_without_the_mask(small_data):
    matrix, model = _empty_row_setup(small_data, 0)
    with pytest.raises(CheckFailed, match="mask"):
        ch03.check_empty_row_gradients(empty_row_grads(model, matrix, 0.5, use_mask=False), model, 0.5, matrix)


def test_empty_row_check_takes_the_lambda_of_section_3_3_not_whatever_lam_holds(small_data):
    """Gradients computed with another λ, that λ passed as lam (rebound before the check's cell): refused."""
    matrix, model = _empty_row_setup(small_data, 0)
    for lam in (100.0, 0.25, torch.tensor(100.0)):
        with pytest.raises(CheckFailed, match="rebound") as failure:
            ch03.check_empty_row_gradients(empty_row_grads(model, matrix, float(lam)), model, lam, matrix)
        assert_hides(str(failure.value), [ch03.NOTEBOOK_LAM])


def test_the_checks_lambda_is_the_one_section_3_3_sets():
    assigned = re.findall(r"^lam = (.+)$", NOTEBOOK.read_text(), flags=re.MULTILINE)
    assert assigned == [repr(ch03.NOTEBOOK_LAM)]


def test_empty_row_check_rejects_a_missing_penalty_and_the_wrong_row_count(small_data):
    matrix, model = _empty_row_setup(small_data, 0)
    with pytest.raises(CheckFailed, match="penalty is missing"):
        ch03.check_empty_row_gradients(empty_row_grads(model, matrix, 0.0), model, 0.5, matrix)
    users_fraction = 1 / small_data.n_users  # n_users instead of the number of I-AutoRec rows
    with pytest.raises(CheckFailed, match="check the fraction") as failure:
        ch03.check_empty_row_gradients(empty_row_grads(model, matrix, 0.5, fraction=users_fraction),
                                       model, 0.5, matrix)
    assert "lam/n" not in str(failure.value) and "/n_rows" not in str(failure.value)  # no formula given


def test_empty_row_check_rejects_another_models_gradients_and_wrong_structure(small_data):
    matrix, model = _empty_row_setup(small_data, 0)
    _, other = _empty_row_setup(small_data, 1)
    with pytest.raises(CheckFailed, match="the model you passed"):
        ch03.check_empty_row_gradients(empty_row_grads(other, matrix, 0.5), model, 0.5, matrix)
    grads = empty_row_grads(model, matrix, 0.5)
    with pytest.raises(CheckFailed, match="keys"):
        ch03.check_empty_row_gradients({k: grads[k] for k in ("V", "W")}, model, 0.5, matrix)
    with pytest.raises(CheckFailed, match="shape"):
        ch03.check_empty_row_gradients({**grads, "V": grads["V"].T}, model, 0.5, matrix)
    with pytest.raises(CheckFailed, match="one-hidden-layer"):
        deep = AutoRec(n_inputs=small_data.n_users, hidden=(8, 4, 8))
        ch03.check_empty_row_gradients(grads, deep, 0.5, matrix)


# ---------------------------------------------------------------------------------------------
# Exercise 3: parameter counts
# ---------------------------------------------------------------------------------------------

def count_parameters(n_inputs, hidden):
    """The notebook's reference solution."""
    sizes = [n_inputs, *hidden, n_inputs]
    return sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:]))


def weights_only(n_inputs, hidden):
    sizes = [n_inputs, *hidden, n_inputs]
    return sum(i * o for i, o in zip(sizes[:-1], sizes[1:]))


def no_output_bias(n_inputs, hidden):
    return count_parameters(n_inputs, hidden) - n_inputs


def one_layer_formula(n_inputs, hidden):
    """2dk + d + k with k the first hidden size: the one-layer formula of Sec. 3.4 reused."""
    return 2 * n_inputs * hidden[0] + n_inputs + hidden[0]


def deep(n_inputs, fn=count_parameters):
    return fn(n_inputs, (500, 250, 500))


def test_parameter_count_check_accepts_the_reference_solution(small_data, capsys):
    ch03.check_parameter_counts(count_parameters, deep(small_data.n_users), small_data)
    assert capsys.readouterr().out.startswith("correct:")


def test_parameter_count_check_knows_ml100k(ml100k):
    assert ml100k.n_users == 943
    ch03.check_parameter_counts(count_parameters, 1_195_193, ml100k)
    for hidden in ((500,), (500, 250, 500)):
        assert count_parameters(943, hidden) == AutoRecConfig(n_inputs=943, hidden=hidden).n_parameters()


def test_parameter_count_check_accepts_numpy_ints_and_a_chain_of_torch_layers(small_data, capsys):
    """Counting the parameters of nn.Linear layers laid out from the sizes is counting from the layer sizes."""
    def linear_layers(n, hidden):
        sizes = [n, *hidden, n]
        return sum(p.numel() for i, o in zip(sizes[:-1], sizes[1:]) for p in torch.nn.Linear(i, o).parameters())
    ch03.check_parameter_counts(lambda n, h: np.int64(count_parameters(n, h)), np.int64(deep(small_data.n_users)),
                                small_data)
    ch03.check_parameter_counts(linear_layers, deep(small_data.n_users), small_data)
    assert capsys.readouterr().out.count("correct:") == 2


@pytest.mark.parametrize("fn", [
    lambda n, hidden: AutoRecConfig(n_inputs=n, hidden=hidden).n_parameters(),
    lambda n, hidden: sum(i * o + o for i, o in AutoRecConfig(n_inputs=n, hidden=hidden).layer_sizes),
    lambda n, hidden: sum(p.numel() for p in AutoRec(n_inputs=n, hidden=hidden).parameters()),
    lambda n, hidden: ch03._count(n, hidden),
    functools.partial(ch03._count),
], ids=["n_parameters", "layer_sizes", "a-built-AutoRec", "the-checks-count", "partial-of-it"])
def test_parameter_count_check_refuses_a_function_that_lets_the_library_count(small_data, fn):
    with pytest.raises(CheckFailed, match="lets the course library count"):
        ch03.check_parameter_counts(fn, deep(small_data.n_users), small_data)
    with pytest.raises(CheckFailed, match="the library's function"):
        ch03.check_parameter_counts(ch03._count, deep(small_data.n_users), small_data)


def test_parameter_count_check_tries_sizes_drawn_at_every_call(small_data):
    """A table of the fixed cases' counts fails on the sizes drawn at random."""
    table = {(n, tuple(h)): count_parameters(n, h) for n, h in ch03.CASES}
    with pytest.raises(CheckFailed, match="not the parameter count"):
        ch03.check_parameter_counts(lambda n, h: table.get((n, tuple(h)), 1), deep(small_data.n_users), small_data)
    assert len({tuple(ch03._random_cases()) for _ in range(3)}) == 3


def test_parameter_count_check_grades_a_learners_function_handed_over_by_the_grader(small_data, tmp_path, capsys):
    ch03.check_parameter_counts(graded(count_parameters, tmp_path / "right"), deep(small_data.n_users), small_data)
    assert capsys.readouterr().out.startswith("correct:")
    with pytest.raises(CheckFailed, match="weight matrices only"):
        ch03.check_parameter_counts(graded(weights_only, tmp_path / "wrong"), deep(small_data.n_users), small_data)


def test_parameter_count_check_rejects_the_item_count_as_input_length(small_data):
    assert small_data.n_items != small_data.n_users
    with pytest.raises(CheckFailed, match="movies"):
        ch03.check_parameter_counts(count_parameters, deep(small_data.n_items), small_data)


def test_parameter_count_check_rejects_the_one_layer_count_for_the_deep_model(small_data):
    with pytest.raises(CheckFailed, match="one-hidden-layer"):
        ch03.check_parameter_counts(count_parameters, count_parameters(small_data.n_users, (500,)), small_data)


@pytest.mark.parametrize("wrong, match", [
    (weights_only, "weight matrices only"),
    (no_output_bias, "output layer's biases"),
    (one_layer_formula, "one hidden layer only"),
    (lambda n, hidden: n * hidden[0] + hidden[0], "not the parameter count"),  # the encoder only
])
def test_parameter_count_check_rejects_functions_that_count_wrong(small_data, wrong, match):
    with pytest.raises(CheckFailed, match=match):
        ch03.check_parameter_counts(wrong, deep(small_data.n_users), small_data)


def test_parameter_count_check_rejects_a_right_function_with_a_wrong_deep_count(small_data):
    for fn, match in ((weights_only, "weight matrices only"), (no_output_bias, "output layer's biases"),
                      (one_layer_formula, "one-hidden-layer")):
        with pytest.raises(CheckFailed, match=match):
            ch03.check_parameter_counts(count_parameters, deep(small_data.n_users, fn), small_data)


def test_parameter_count_check_rejects_a_hard_coded_answer_and_wrong_types(small_data):
    with pytest.raises(CheckFailed, match="not the parameter count|one hidden layer only"):
        ch03.check_parameter_counts(lambda n, hidden: 944_443, deep(small_data.n_users), small_data)
    with pytest.raises(CheckFailed, match="function"):
        ch03.check_parameter_counts(944_443, deep(small_data.n_users), small_data)
    with pytest.raises(CheckFailed, match="whole number"):
        ch03.check_parameter_counts(lambda n, h: count_parameters(n, h) + 0.5, deep(small_data.n_users), small_data)
    with pytest.raises(CheckFailed, match="whole number"):
        ch03.check_parameter_counts(count_parameters, deep(small_data.n_users) - 0.5, small_data)
    with pytest.raises(CheckFailed, match="number"):
        ch03.check_parameter_counts(count_parameters, str(deep(small_data.n_users)), small_data)


def test_parameter_count_check_accepts_a_right_count_typed_as_a_float_or_a_tensor(small_data, capsys):
    right = deep(small_data.n_users)
    for typed in (float(right), np.float64(right), np.int32(right), torch.tensor(right), torch.tensor(float(right))):
        ch03.check_parameter_counts(lambda n, h: float(count_parameters(n, h)), typed, small_data)
    ch03.check_parameter_counts(lambda n, h: np.prod([1.0]) * count_parameters(n, h), right, small_data)
    assert capsys.readouterr().out.count("correct:") == 6
