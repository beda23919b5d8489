"""The MXNet learners' fast steps take the same steps as the plain formulation of the objective.

The learners feed ``2·E`` to ``backward`` and leave the penalty's gradient to the optimizer's
weight decay (AutoRec), or run the whole objective as one hybridized graph (MF). The reference
here is the straightforward way: :func:`objective.autorec_loss` (or ``masked_sse`` plus
``weight_penalty``) under ``autograd.record()``, then a Gluon optimizer without weight decay.
Both start from the same weights and see the same batches, so after a few epochs their losses
and weights must agree to float rounding.
"""
from __future__ import annotations

import numpy as np
import pytest

from autorec_lib import splits
from autorec_lib.config import AutoRecConfig, MFConfig, TrainConfig
from autorec_lib.matrix import RatingMatrix
from autorec_lib.objective import OutputScale, autorec_loss, masked_sse, weight_penalty

pytestmark = pytest.mark.mxnet


def _reference_trainer(mxb, model, cfg: TrainConfig):
    """The configured optimizer with no weight decay: the penalty comes through autograd."""
    from mxnet import gluon

    if cfg.optimizer == "rprop":
        return mxb.Rprop(model.collect_params().values(), cfg.lr)
    options = {"learning_rate": cfg.lr, **({"momentum": 0.9} if cfg.optimizer == "sgd" else {})}
    return gluon.Trainer(model.collect_params(), cfg.optimizer, options)


def _twins(mxb, config, seed: int = 0):
    """Two models with the same initial weights."""
    mxb.seed_everything(seed)
    first = mxb.build_model(config)
    second = mxb.build_model(config)
    mxb.set_weights(second, mxb.get_weights(first))
    return first, second


def _assert_same_weights(got: dict, expected: dict, start: dict) -> None:
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-4, atol=1e-5, err_msg=name)
    assert any(not np.allclose(expected[k], start[k]) for k in start)  # it trained


@pytest.mark.parametrize("optimizer, decoder", [("adam", "identity"), ("adam", "sigmoid"), ("sgd", "identity"),
                                                ("rprop", "identity")])
def test_autorec_learner_steps_like_autograd_on_the_whole_objective(mxnet_backend, small_data, optimizer, decoder):
    from mxnet import autograd, nd

    mxb = mxnet_backend
    split = splits.make_split(small_data, "random", 0.2, 0.2, seed=0)
    matrix = RatingMatrix(split.train, small_data.n_users, small_data.n_items, "item")
    lr = {"adam": 0.01, "sgd": 1e-3, "rprop": 1e-3}[optimizer]
    cfg = TrainConfig(batch_size=9, lam=3.0, lr=lr, optimizer=optimizer)  # 9 rows: a short last batch
    fast_model, ref_model = _twins(mxb, AutoRecConfig(matrix.shape[1], (12,), decoder=decoder))
    start = mxb.get_weights(ref_model)
    learner = mxb.AutoRecLearner(fast_model, matrix, cfg, mxb.pick_context("cpu"), small_data.scale)
    trainer = _reference_trainer(mxb, ref_model, cfg)
    output = OutputScale(decoder, small_data.scale)
    n_rows = matrix.shape[0]
    for epoch in range(3):
        fast_loss = learner.train_epoch(np.random.default_rng(epoch))
        total = 0.0
        for rows in matrix.batches(cfg.batch_for(n_rows), np.random.default_rng(epoch)):
            values, mask = (nd.array(a) for a in matrix.dense(rows))
            with autograd.record():
                loss = autorec_loss(ref_model(values), output.to_decoder(values), mask,
                                    ref_model.weight_matrices(), cfg.lam, len(rows) / n_rows)
            loss.backward()
            trainer.step(1)
            total += float(loss.asscalar())
        assert fast_loss == pytest.approx(total / matrix.nnz, rel=1e-5)
    _assert_same_weights(mxb.get_weights(fast_model), mxb.get_weights(ref_model), start)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("biased", [True, False], ids=["biased", "unbiased"])
def test_mf_learner_steps_like_autograd_on_the_whole_objective(mxnet_backend, small_data, optimizer, biased):
    from mxnet import autograd, nd

    mxb = mxnet_backend
    split = splits.make_split(small_data, "random", 0.2, 0.2, seed=0)
    train = split.train
    cfg = TrainConfig(batch_size=50, lam=0.2, lr=5e-3, optimizer=optimizer)  # a short last batch
    assert len(train) % cfg.batch_size
    fast_model, ref_model = _twins(mxb, MFConfig(small_data.n_users, small_data.n_items, 8, biased))
    learner = mxb.MFLearner(fast_model, train, cfg, mxb.pick_context("cpu"))
    ref_model.mu.set_data(fast_model.mu.data().copy())
    start = mxb.get_weights(ref_model)
    trainer = _reference_trainer(mxb, ref_model, cfg)
    users, items = (nd.array(train[c].to_numpy()) for c in ("user", "item"))
    ratings = nd.array(train["rating"].to_numpy(np.float32))
    for epoch in range(3):
        fast_loss = learner.train_epoch(np.random.default_rng(epoch))
        order = np.random.default_rng(epoch).permutation(len(train))
        total = 0.0
        for begin in range(0, len(train), cfg.batch_size):
            idx = nd.array(order[begin:begin + cfg.batch_size], dtype="int64")
            u, i, r = (nd.take(a, idx) for a in (users, items, ratings))
            with autograd.record():
                loss = masked_sse(ref_model(u, i), r, 1.0) + weight_penalty(ref_model.penalised(u, i), cfg.lam)
            loss.backward()
            trainer.step(1)
            total += float(loss.asscalar())
        assert fast_loss == pytest.approx(total / len(train), rel=1e-5)
    _assert_same_weights(mxb.get_weights(fast_model), mxb.get_weights(ref_model), start)
    np.testing.assert_allclose(learner.predict(np.arange(5), np.arange(5)),
                               ref_model(nd.arange(5), nd.arange(5)).asnumpy(), rtol=1e-4, atol=1e-5)


def test_mxnet_refuses_sparse_inputs_naming_the_framework_that_has_them(mxnet_backend, small_data):
    from autorec_lib import experiment

    split = splits.make_split(small_data, "random", 0.2, 0.2, seed=0)
    with pytest.raises(ValueError, match="inputs='sparse' is PyTorch's path"):
        experiment.train(small_data, split, "autorec", "item", "mxnet", progress=False, epochs=1, hidden=8,
                         inputs="sparse")
