"""The checks of notebook 03's exercises accept the reference solutions and reject plausible mistakes."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from autorec_lib import objective  # noqa: E402
from autorec_lib.config import AutoRecConfig  # noqa: E402
from autorec_lib.exercises import CheckFailed, ch03  # noqa: E402
from autorec_lib.matrix import RatingMatrix  # noqa: E402
from autorec_lib.torch_backend import AutoRec  # noqa: E402

sig = objective.sigmoid


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


@pytest.mark.parametrize("mistake", [
    {"derivative": False},          # the sigmoid derivative out*(1-out) left out
    {"two": 1.0},                   # the factor 2 of the square left out
    {"mask": "none"},               # residual not masked
    {"mask": "inverted"},           # 1 - M instead of M
    {"penalty": "none"},            # no lam*W, lam*V
    {"penalty": "all"},             # the biases penalised too
    {"penalty": "double"},          # 2*lam*W: the 1/2 of lam/2 forgotten
], ids=lambda m: "-".join(f"{k}={v}" for k, v in m.items()))
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
    with pytest.raises(CheckFailed, match=r"for mu, b differ.*biases"):
        ch03.check_sigmoid_decoder_gradients(lambda *a, **k: sigmoid_decoder_gradients(*a, **k, penalty="all"))


def test_sigmoid_decoder_check_rejects_the_identity_decoder_gradients():
    with pytest.raises(CheckFailed, match="differ from autograd"):
        ch03.check_sigmoid_decoder_gradients(objective.autorec_gradients_numpy)


def test_sigmoid_decoder_check_rejects_a_result_instead_of_a_function_and_wrong_structure():
    with pytest.raises(CheckFailed, match="function itself"):
        ch03.check_sigmoid_decoder_gradients({"V": 0})
    with pytest.raises(CheckFailed, match="keys"):
        ch03.check_sigmoid_decoder_gradients(lambda **p: {k: v for k, v in sigmoid_decoder_gradients(**p).items() if k != "mu"})
    with pytest.raises(CheckFailed, match="shape"):
        ch03.check_sigmoid_decoder_gradients(lambda **p: {k: v.T for k, v in sigmoid_decoder_gradients(**p).items()})
    with pytest.raises(CheckFailed, match="should be a dict"):
        ch03.check_sigmoid_decoder_gradients(lambda **p: list(sigmoid_decoder_gradients(**p).values()))


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


@pytest.mark.parametrize("key, wrong, match", [
    ("V", "full penalty", "whole epoch"),      # the penalty of an epoch, not of a batch of one row
    ("W", "zero", "penalty does not care"),    # the mask taken to silence the penalty too
    ("mu", "data fit", "no observed entry"),   # the row still feeds the hidden bias
    ("b", "penalty share", "penalty covers"),  # biases taken to be penalised
    ("mu", "full penalty", "penalty covers"),
    ("W", "data fit", "no observed entry"),
])
def test_empty_row_prediction_check_rejects_plausible_wrong_predictions(key, wrong, match):
    with pytest.raises(CheckFailed, match=match) as failure:
        ch03.check_empty_row_prediction({**RIGHT_PREDICTION, key: wrong})
    assert RIGHT_PREDICTION[key] not in str(failure.value)  # the message does not give the right choice away


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


def test_empty_row_check_rejects_a_loss_without_the_mask(small_data):
    matrix, model = _empty_row_setup(small_data, 0)
    with pytest.raises(CheckFailed, match="mask"):
        ch03.check_empty_row_gradients(empty_row_grads(model, matrix, 0.5, use_mask=False), model, 0.5, matrix)


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


def test_parameter_count_check_accepts_the_librarys_count_and_numpy_ints(small_data):
    library = lambda n, hidden: AutoRecConfig(n_inputs=n, hidden=hidden).n_parameters()
    ch03.check_parameter_counts(library, np.int64(deep(small_data.n_users)), small_data)


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
