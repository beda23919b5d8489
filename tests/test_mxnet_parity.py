"""The MXNet implementation matches the PyTorch one: same weights, same predictions, loss and gradients."""
import dataclasses
import importlib
import sys

import numpy as np
import pytest
import torch

from autorec_lib import backends, experiment, splits
from autorec_lib.config import ACTIVATIONS, AutoRecConfig, MFConfig, TrainConfig, course_config
from autorec_lib.matrix import RatingMatrix
from autorec_lib.objective import autorec_loss
from autorec_lib.torch_backend import AutoRec as TorchAutoRec
from autorec_lib.torch_backend import AutoRecLearner as TorchLearner
from autorec_lib.torch_backend import MF as TorchMF
from autorec_lib.torch_backend import get_weights as torch_weights
from autorec_lib.torch_backend import set_weights as torch_set


def _pair(mxb, **kwargs):
    torch.manual_seed(0)
    t = TorchAutoRec(**kwargs)
    m = mxb.build_model(AutoRecConfig(**kwargs))
    mxb.set_weights(m, torch_weights(t))
    return t, m


def _batch(rows, cols, seed=0):
    rng = np.random.default_rng(seed)
    mask = (rng.random((rows, cols)) < 0.3).astype(np.float32)
    return rng.integers(1, 6, (rows, cols)).astype(np.float32) * mask, mask


@pytest.mark.mxnet
@pytest.mark.parametrize("variant_inputs", [943, 1682], ids=["item-based", "user-based"])
@pytest.mark.parametrize("encoder", ACTIVATIONS)
@pytest.mark.parametrize("decoder", ACTIVATIONS)
def test_same_weights_give_the_same_predictions(mxnet_backend, variant_inputs, encoder, decoder):
    from mxnet import nd
    t, m = _pair(mxnet_backend, n_inputs=variant_inputs, hidden=32, encoder=encoder, decoder=decoder)
    r, _ = _batch(8, variant_inputs)
    with torch.no_grad():
        expected = t.eval()(torch.from_numpy(r)).numpy()
    np.testing.assert_allclose(m(nd.array(r)).asnumpy(), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.mxnet
def test_deeper_stacks_match_too(mxnet_backend):
    from mxnet import nd
    t, m = _pair(mxnet_backend, n_inputs=50, hidden=(20, 10, 20), encoder="elu", decoder="identity")
    r, _ = _batch(4, 50)
    with torch.no_grad():
        expected = t.eval()(torch.from_numpy(r)).numpy()
    np.testing.assert_allclose(m(nd.array(r)).asnumpy(), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.mxnet
def test_same_masked_loss_and_gradients_on_a_fixed_batch(mxnet_backend):
    from mxnet import autograd, nd
    t, m = _pair(mxnet_backend, n_inputs=30, hidden=12)
    r, mask = _batch(10, 30, seed=3)
    lam = 0.5
    tr, tm = torch.from_numpy(r), torch.from_numpy(mask)
    t_loss = autorec_loss(t(tr), tr, tm, t.weight_matrices(), lam)
    t_loss.backward()
    with autograd.record():
        m_loss = autorec_loss(m(nd.array(r)), nd.array(r), nd.array(mask), m.weight_matrices(), lam)
    m_loss.backward()
    assert m_loss.asscalar() == pytest.approx(t_loss.item(), rel=1e-5)
    t_params = t.named_weights()
    for name, param in m.named_weights().items():
        np.testing.assert_allclose(param.grad().asnumpy(), t_params[name].grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.mxnet
def test_mf_predictions_match(mxnet_backend):
    from mxnet import nd
    torch.manual_seed(0)
    t = TorchMF(20, 30, 8)
    with torch.no_grad():
        t.mu.fill_(3.5)
        t.bu.weight.normal_()
    m = mxnet_backend.build_model(MFConfig(20, 30, 8))
    mxnet_backend.set_weights(m, torch_weights(t))
    u, i = np.arange(20), np.arange(20) + 5
    with torch.no_grad():
        expected = t(torch.as_tensor(u), torch.as_tensor(i)).numpy()
    np.testing.assert_allclose(m(nd.array(u), nd.array(i)).asnumpy(), expected, rtol=1e-5)


@pytest.mark.mxnet
def test_checkpoints_cross_frameworks(mxnet_backend, small_data, tmp_path):
    split = splits.make_split(small_data)
    result = experiment.train(small_data, split, framework="mxnet", **TrainConfig(epochs=2).as_dict(),
                              progress=False, hidden=8)
    trained = experiment.load(result.save(tmp_path / "mx.npz"), framework="torch")
    net = trained.learner.model
    assert trained.meta["config"]["framework"] == "mxnet" and isinstance(net, TorchAutoRec)
    torch_set(net, result.learner.get_weights())


@pytest.mark.mxnet
def test_bounded_decoder_learners_map_outputs_back_alike(mxnet_backend, small_data):
    split = splits.make_split(small_data)
    matrix = RatingMatrix(split.train, small_data.n_users, small_data.n_items, "item")
    torch.manual_seed(0)
    t = TorchAutoRec(small_data.n_users, 6, "sigmoid", "sigmoid")
    m = mxnet_backend.build_model(t.config)
    mxnet_backend.set_weights(m, torch_weights(t))
    cfg = TrainConfig()
    rows = np.arange(matrix.shape[0])
    t_out = TorchLearner(t, matrix, cfg, torch.device("cpu"), small_data.scale).reconstruct(rows)
    m_out = mxnet_backend.AutoRecLearner(m, matrix, cfg, mxnet_backend.pick_context("cpu"), small_data.scale).reconstruct(rows)
    np.testing.assert_allclose(t_out, m_out, rtol=1e-5)
    assert 1.0 < t_out.min() and t_out.max() < 5.0  # a sigmoid's (0, 1) mapped onto the 1-5 scale


@pytest.mark.mxnet
def test_rprop_and_sgd_run_in_mxnet(mxnet_backend, small_data):
    split = splits.make_split(small_data)
    for optimizer in ("rprop", "sgd"):
        cfg = TrainConfig(epochs=3, lr=1e-3, optimizer=optimizer)
        result = experiment.train(small_data, split, framework="mxnet", **cfg.as_dict(), progress=False, hidden=8)
        assert np.isfinite(result.test_rmse)


@pytest.mark.mxnet
@pytest.mark.parametrize("model", ["mf", "biased-mf"])
def test_both_mf_baselines_train_in_mxnet(mxnet_backend, small_data, model):
    split = splits.make_split(small_data)
    result = experiment.train(small_data, split, model, framework="mxnet",
                              **TrainConfig(epochs=2, batch_size=64).as_dict(), progress=False)
    assert np.isfinite(result.test_rmse)
    if model == "mf":
        assert not result.learner.get_weights()["bu"].any()  # unbiased MF never trains its biases


@pytest.mark.mxnet
def test_mxnet_context_is_never_an_empty_list(mxnet_backend):
    import mxnet as mx
    ctx = mxnet_backend.pick_context("auto")
    assert ctx == (mx.gpu(0) if mx.context.num_gpus() else mx.cpu())


@pytest.mark.mxnet
@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("variant", ["item", "user"])
def test_same_config_training_on_ml100k_ends_within_0_01_rmse(mxnet_backend, ml100k, variant):
    """Course defaults, same split, same initial weights and batch order (dropout masks differ)."""
    split = splits.make_split(ml100k, "random", 0.1, 0.1, seed=0)
    config = course_config("autorec", variant).bind(ml100k.n_users, ml100k.n_items)
    torch.manual_seed(0)
    init = torch_weights(TorchAutoRec(**dataclasses.asdict(config.net)))
    scores = {fw: experiment.train(ml100k, split, "autorec", variant, fw, progress=False,
                                   init_weights=init).test_rmse for fw in ("torch", "mxnet")}
    assert abs(scores["torch"] - scores["mxnet"]) < 0.01, scores


def test_without_mxnet_the_rest_imports_and_mxnet_entry_points_name_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mxnet", None)  # as if MXNet were not installed
    monkeypatch.delitem(sys.modules, "autorec_lib.mxnet_backend", raising=False)
    for name in ("datasets", "splits", "matrix", "metrics", "training", "experiment", "cli", "exercises", "exercises.ch06"):
        importlib.import_module(f"autorec_lib.{name}")
    with pytest.raises(ImportError, match=r"pip install -e '\.\[torch,mxnet\]'"):
        backends.get("mxnet")
    with pytest.raises(ImportError, match="numpy==1.23.5"):
        experiment.train(None, None, framework="mxnet")
