"""The fast paths give the numbers of the plain ones: one evaluation pass for validation and test,
and the sparse encoder / gathered loss against the dense masked one."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from autorec_lib import experiment, splits
from autorec_lib.config import TrainConfig
from autorec_lib.matrix import RatingMatrix
from autorec_lib.metrics import evaluate
from autorec_lib.training import PartScorer, evaluate_learner


def _two_calls(predict, split, scale):
    return {name: evaluate(predict, part, split.train, scale) for name, part in
            (("valid", split.valid), ("test", split.test))}


@pytest.mark.parametrize("model,variant", [("autorec", "item"), ("autorec", "user"), ("biased-mf", "item")])
def test_one_prediction_pass_scores_equal_one_call_per_part(small_data, model, variant):
    split = splits.make_split(small_data, "random", 0.2, 0.2, seed=0)
    size = {"hidden": 16} if model == "autorec" else {"n_factors": 4}
    result = experiment.train(small_data, split, model, variant, progress=False, epochs=3, device="cpu", **size)
    calls = []

    def counting(users, items):
        calls.append(len(users))
        return result.learner.predict(users, items)

    shared = PartScorer({"valid": split.valid, "test": split.test}, split.train, small_data.scale)(counting)
    assert len(calls) == 1
    separate = _two_calls(result.learner.predict, split, small_data.scale)
    assert shared == separate  # every field exactly: rmse, mae, n, n_default
    assert evaluate_learner(result.learner, split, small_data.scale) == {k: separate[k] for k in ("test", "valid")}


def test_one_prediction_pass_on_real_data_equals_two(ml100k):
    split = splits.make_split(ml100k, "random", 0.1, 0.1, seed=0)
    result = experiment.train(ml100k, split, "autorec", "item", progress=False, epochs=2, device="cpu")
    shared = PartScorer({"valid": split.valid, "test": split.test}, split.train, ml100k.scale)(result.learner.predict)
    assert shared == _two_calls(result.learner.predict, split, ml100k.scale)
    best = result.history.records[result.history.best_epoch - 1]  # recorded in training, from the shared pass
    assert (best["valid_rmse"], best["test_rmse"]) == (shared["valid"].rmse, shared["test"].rmse)


def test_history_records_evaluation_seconds_apart_from_training(small_data):
    split = splits.make_split(small_data, "random", 0.2, 0.2, seed=0)
    history = experiment.train(small_data, split, "autorec", "item", progress=False, epochs=3, hidden=8,
                               device="cpu").history
    assert all(r["eval_seconds"] > 0 and r["seconds"] > 0 for r in history.records)
    assert history.eval_seconds_per_epoch == pytest.approx(np.mean([r["eval_seconds"] for r in history.records]))
    no_test = experiment.train(small_data, split, "autorec", "item", progress=False, epochs=2, hidden=8,
                               device="cpu", eval_test=False).history
    assert all("test_rmse" not in r and "valid_rmse" in r for r in no_test.records)


# --- the sparse path (autorec_lib.sparse) against the plain dense learner ---

from torch.nn.utils import parametrize  # noqa: E402

from autorec_lib import sparse as sp_path  # noqa: E402
from autorec_lib import torch_backend as tb  # noqa: E402

CPU = torch.device("cpu")


def _learners(small_data, variant="item", **cfg):
    """A dense and a sparse learner over the same matrix, starting from the same weights."""
    split = splits.make_split(small_data, "random", 0.2, 0.2, seed=0)
    matrix = RatingMatrix(split.train, small_data.n_users, small_data.n_items, variant)
    config = TrainConfig(**{"batch_size": 8, "lam": 3.0, "device": "cpu", **cfg})
    out = []
    for learner_class in (tb.AutoRecLearner, sp_path.SparseAutoRecLearner):
        torch.manual_seed(0)
        model = tb.AutoRec(matrix.shape[1], (12, 7, 12), "sigmoid", "sigmoid", dropout=0.0)
        out.append(learner_class(model, matrix, config, CPU, small_data.scale))
    return split, matrix, out


def _whole(model, r):
    """The sparse path's reconstruction of whole rows (its encoder, the plain decoder)."""
    return model.f(model.layers[-1](sp_path.encode(model, r)))


@pytest.mark.parametrize("variant", ["item", "user"])
def test_sparse_rows_give_the_dense_forward_loss_and_gradients(small_data, variant):
    _, matrix, (dense, sparse) = _learners(small_data, variant)
    assert parametrize.is_parametrized(sparse.model.layers[0], "weight")
    assert sparse.model.layers[0].weight.shape == dense.model.layers[0].weight.shape  # V still reads as V
    rows = np.array([0, 3, 4, 9, matrix.shape[0] - 1])
    r, _ = dense.rows(rows)
    sparse_r = sp_path.SparseRows.of(matrix, rows, CPU)
    torch.testing.assert_close(_whole(sparse.model, sparse_r), dense.model(r))
    dense_loss = dense.batch_loss(rows)
    dense_loss.backward()
    torch.testing.assert_close(sparse.gradients(rows), dense_loss.detach())  # the objective, penalty included
    grads = [{k: v.grad if v.grad is not None else None for k, v in learner.model.named_parameters()}
             for learner in (dense, sparse)]
    dense_v = grads[0].pop("layers.0.weight")
    sparse_vt = grads[1].pop("layers.0.parametrizations.weight.original")
    torch.testing.assert_close(sparse_vt.t(), dense_v)
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:  # the penalty's gradient, added by hand, equals autograd's
        torch.testing.assert_close(grads[1][name], grads[0][name])


def test_rows_without_ratings_encode_to_the_bias(small_data):
    _, matrix, (dense, sparse) = _learners(small_data)
    empty = np.flatnonzero(matrix.row_counts() == 0)
    rows = np.concatenate([empty[:2], [0]]) if len(empty) else np.array([0])
    r, _ = dense.rows(rows)
    torch.testing.assert_close(_whole(sparse.model, sp_path.SparseRows.of(matrix, rows, CPU)), dense.model(r))


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rprop"])
def test_sparse_training_follows_the_dense_path_over_epochs(small_data, optimizer):
    split, _, (dense, sparse) = _learners(small_data, optimizer=optimizer, lr=1e-2)
    for epoch in range(4):
        losses = [learner.train_epoch(np.random.default_rng(epoch)) for learner in (dense, sparse)]
        assert losses[1] == pytest.approx(losses[0], rel=1e-4)
    weights = [learner.get_weights() for learner in (dense, sparse)]
    assert weights[0].keys() == weights[1].keys()
    for name in weights[0]:
        np.testing.assert_allclose(weights[1][name], weights[0][name], rtol=1e-4, atol=1e-5)
    users, items = split.test["user"].to_numpy(), split.test["item"].to_numpy()
    np.testing.assert_allclose(sparse.predict(users, items), dense.predict(users, items), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("inputs,device,entries,sparse", [
    ("auto", "cpu", 4, True), ("auto", "cpu", 10 ** 9, True),            # a CPU: sparse at every size
    ("auto", "cuda", 4, False), ("auto", "cuda", sp_path.SPARSE_ABOVE + 1, True),  # a GPU: dense rows while they fit
    ("dense", "cpu", 10 ** 9, False), ("sparse", "cuda", 4, True)])       # asked for: as asked
def test_auto_inputs_are_sparse_on_a_cpu_and_on_a_gpu_only_above_the_limit(inputs, device, entries, sparse):
    cfg = TrainConfig(inputs=inputs)
    assert sp_path.use_sparse_inputs(cfg, (1, entries), torch.device(device)) is sparse


def test_the_default_learner_on_a_cpu_takes_the_sparse_path_and_checkpoint_weights_keep_their_shape(small_data):
    split = splits.make_split(small_data, "random", 0.2, 0.2, seed=0)
    result = experiment.train(small_data, split, "autorec", "item", progress=False, epochs=2, hidden=8, device="cpu")
    assert isinstance(result.learner, sp_path.SparseAutoRecLearner)
    assert "_on_device" not in vars(result.learner)  # the dense matrix was never built
    weights = result.learner.get_weights()
    assert weights["W0"].shape == (8, small_data.n_users) and weights["W1"].shape == (small_data.n_users, 8)
    fresh = tb.AutoRec(small_data.n_users, 8)
    tb.set_weights(fresh, weights)  # loads into a plain (dense-layout) model
    result.learner.set_weights(weights)
    np.testing.assert_array_equal(result.learner.get_weights()["W0"], weights["W0"])
    dense = experiment.train(small_data, split, "autorec", "item", progress=False, epochs=1, hidden=8, device="cpu",
                             inputs="dense")
    assert type(dense.learner) is tb.AutoRecLearner


@pytest.mark.parametrize("variant", ["item", "user"])
def test_predicting_at_the_asked_entries_equals_reading_them_from_whole_reconstructions(small_data, variant):
    """The sparse learner's predict() encodes rows from their ratings and decodes only the asked
    entries; the numbers are those of the dense learner's whole reconstructions (up to float
    rounding), whatever the order of the pairs, with pairs asked twice, with a bounded decoder and depth."""
    split, matrix, (dense, sparse) = _learners(small_data, variant)
    users = np.concatenate([split.test["user"].to_numpy(), split.test["user"].to_numpy()[:5]])
    items = np.concatenate([split.test["item"].to_numpy(), split.test["item"].to_numpy()[:5]])
    order = np.random.default_rng(0).permutation(len(users))
    users, items = users[order], items[order]
    rows, cols = matrix.orient(users, items)
    whole = dense.reconstruct(np.arange(matrix.shape[0]))
    np.testing.assert_allclose(sparse.reconstruct(np.arange(matrix.shape[0])), whole, rtol=1e-5, atol=1e-5)
    for learner in (dense, sparse):
        got = learner.predict(users, items)
        assert got.shape == users.shape and got.dtype == np.float32
        np.testing.assert_allclose(got, whole[rows, cols], rtol=1e-5, atol=1e-5)
        assert learner.predict(users[:0], items[:0]).shape == (0,)
    np.testing.assert_allclose(sparse.predict(users, items, rows_at_once=3), sparse.predict(users, items),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("which", [0, 1])
def test_predicting_a_pair_outside_the_training_matrix_names_it(small_data, which):
    _, matrix, learners = _learners(small_data)
    with pytest.raises(IndexError, match="user index 99999 is outside"):
        learners[which].predict(np.array([0, 99999]), np.array([0, 0]))


def _sparse_pair(small_data, **cfg):
    """Two sparse learners over the same matrix and initial weights (the batch size leaves a smaller last batch)."""
    split = splits.make_split(small_data, "random", 0.2, 0.2, seed=0)
    matrix = RatingMatrix(split.train, small_data.n_users, small_data.n_items, "item")
    config = TrainConfig(**{"batch_size": 7, "lam": 3.0, "device": "cpu", "lr": 1e-2, **cfg})
    assert matrix.shape[0] % config.batch_size != 0
    out = []
    for _ in range(2):
        torch.manual_seed(0)
        model = tb.AutoRec(matrix.shape[1], 12, "sigmoid", "identity")
        out.append(sp_path.SparseAutoRecLearner(model, matrix, config, CPU, small_data.scale))
    return matrix, out


def test_sparse_gradients_are_written_into_the_previous_gradient_tensors(small_data, monkeypatch):
    """Recycled gradient tensors, filled a few columns at a time, hold the new gradient (not added to the old)."""
    monkeypatch.setattr(sp_path, "_BAG_CHUNK", 5)  # many chunks, the last one partial
    matrix, (learner, reference) = _sparse_pair(small_data)
    rows, other = np.arange(0, 9), np.arange(20, 31)
    learner.gradients(other)
    pointers = [w.grad.data_ptr() for w in learner.weights]
    loss = learner.gradients(rows)
    assert [w.grad.data_ptr() for w in learner.weights] == pointers  # the same tensors, overwritten
    reference.gradients(np.arange(31, 36))
    reference.buffers.clear()
    for w in reference.weights:
        w.grad = None  # fresh gradient tensors this time
    reference_loss = reference.gradients(rows)
    torch.testing.assert_close(loss, reference_loss)
    for got, want in zip(learner.weights, reference.weights):
        torch.testing.assert_close(got.grad, want.grad)
    assert not learner.buffers._spare  # nothing held between batches


def test_rated_products_match_autograd_through_the_dense_reconstruction(small_data):
    """The per-column gradient sums of ``V r`` and of the sampled decoder equal autograd's through the
    dense model on the same rows."""
    matrix, (learner, _) = _sparse_pair(small_data)
    model = learner.model
    rows = np.array([1, 2, 5, 8, matrix.shape[0] - 1])
    by_column = sp_path.SparseRows.of(matrix, rows, CPU, by_column=True)
    dense_rows = torch.from_numpy(matrix.dense(rows)[0])
    weights = torch.randn(len(by_column.values), dtype=torch.float64).float()
    grads = []
    last = model.layers[-1]
    for observed in (lambda: model(dense_rows)[by_column.rows, by_column.cols],
                     lambda: model.f(sp_path._RatedProduct.apply(sp_path.encode(model, by_column,
                                                                                sp_path.GradientBuffers()),
                                                                 last.weight, last.bias, by_column,
                                                                 sp_path.GradientBuffers()))):
        model.zero_grad(set_to_none=True)
        out = observed()
        (out * weights).sum().backward()
        grads.append((out.detach(), {k: p.grad.clone() for k, p in model.named_parameters()}))
    torch.testing.assert_close(grads[1][0], grads[0][0])
    for name, value in grads[0][1].items():
        torch.testing.assert_close(grads[1][1][name], value)


def test_a_sparse_learner_holds_no_state_outside_itself(small_data):
    """Two sparse learners trained alternately take the same steps as each trained alone."""
    matrix, (a, b) = _sparse_pair(small_data)
    _, (alone, _) = _sparse_pair(small_data)
    for epoch in range(2):
        a.train_epoch(np.random.default_rng(epoch))
        b.train_epoch(np.random.default_rng(100 + epoch))
        alone.train_epoch(np.random.default_rng(epoch))
    for name, value in alone.get_weights().items():
        np.testing.assert_array_equal(a.get_weights()[name], value)
    import autorec_lib.sparse as module
    assert not [k for k, v in vars(module).items() if isinstance(v, (dict, list, set)) and not k.startswith("__")]


# --- scripts/speed.py: its probe drives the library through the public door ---

def _speed_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "speed.py"
    spec = importlib.util.spec_from_file_location("speed_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("inputs,learner,floor", [("auto", sp_path.SparseAutoRecLearner, "sparse"),
                                                  ("dense", tb.AutoRecLearner, "dense")])
def test_speed_probe_trains_the_learner_build_learner_picks_and_compares_with_that_paths_floor(
        monkeypatch, inputs, learner, floor):
    """``scripts/speed.py --part probe`` (one epoch on synthetic ratings) goes through
    ``torch_backend.build_learner``: ``auto`` on a CPU gives the sparse learner, measured against the
    larger of its floors; dense rows against the dense products' floor. The rates are fixed here so that
    the floors are known (the script measures them)."""
    speed = _speed_script()
    built = []
    real_build = tb.build_learner
    monkeypatch.setattr(tb, "build_learner", lambda *a, **k: built.append(real_build(*a, **k)) or built[-1])
    monkeypatch.setattr(speed, "matmul_rate", lambda device="cpu", **_: 1e9)
    monkeypatch.setattr(speed, "copy_rate", lambda device="cpu", **_: 1e12)  # the optimizer-bytes floor: the smaller
    out = speed.part_probe(2000, 200, 50, 8, inputs=inputs)
    assert type(built[0]) is learner and out["sparse_inputs"] is (learner is sp_path.SparseAutoRecLearner)
    assert out["ratings"] == 2000 and out["shape"] == [50, 200] and np.isfinite(out["loss"]) and out["epoch_s"] > 0
    expected = {"sparse": max(out["floor_all_sparse_s"], out["floor_memory_s"]), "dense": out["floor_dense_s"]}[floor]
    assert out["floor_s"] == expected and out["ratio_to_floor"] == out["epoch_s"] / expected
    assert out["floor_dense_s"] == pytest.approx(10 * 50 * 200 * 8 / 1e9)


def test_per_column_sums_run_on_one_thread_and_give_the_thread_count_back(small_data, monkeypatch):
    """The chunked per-column sums (a reused gradient on the CPU) run with one thread, whatever the
    process's count, which is the same after every batch."""
    matrix, (learner, _) = _sparse_pair(small_data)
    before = torch.get_num_threads()
    seen = []
    real = torch.nn.functional.embedding_bag
    monkeypatch.setattr(torch.nn.functional, "embedding_bag",
                        lambda *a, **k: seen.append(torch.get_num_threads()) or real(*a, **k))
    torch.set_num_threads(2)
    try:
        learner.gradients(np.arange(0, 9))  # the first batch: no spare gradients yet
        assert 1 not in seen
        learner.gradients(np.arange(9, 18))  # into the spare gradients, on one thread
        assert 1 in seen and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
