import dataclasses

import numpy as np
import pytest
import torch

from autorec_lib import datasets, experiment, splits
from autorec_lib.config import ACTIVATIONS, TrainConfig
from autorec_lib.matrix import RatingMatrix
from autorec_lib.metrics import rmse
from autorec_lib.objective import autorec_gradients_numpy, autorec_loss
from autorec_lib.torch_backend import MF, AutoRec, AutoRecLearner, build_learner, pick_device
from autorec_lib.training import TrainingDiverged
from conftest import write_ml100k


def _batch(seed=0, rows=6, cols=9):
    rng = np.random.default_rng(seed)
    r = rng.integers(1, 6, (rows, cols)).astype(np.float32)
    m = (rng.random((rows, cols)) < 0.4).astype(np.float32)
    return torch.from_numpy(r * m), torch.from_numpy(m)


def test_unobserved_entries_get_exactly_zero_gradient_and_do_not_change_the_loss():
    torch.manual_seed(0)
    model = AutoRec(9, hidden=4)
    r, m = _batch()
    r.requires_grad_(True)
    loss = autorec_loss(model(r), r, m, model.weight_matrices(), lam=0.0)
    loss.backward()
    # the target side: gradient w.r.t. the rating inputs used as targets is zero where unobserved
    out = model(r.detach())
    err_grad = torch.autograd.grad(autorec_loss(out, r.detach(), m, [], 0.0), out)[0]
    assert torch.all(err_grad[m == 0] == 0) and torch.any(err_grad[m == 1] != 0)
    noisy = r.detach() + (1 - m) * 100.0  # garbage in every unobserved target
    assert autorec_loss(out, noisy, m, [], 0.0).item() == pytest.approx(autorec_loss(out, r.detach(), m, [], 0.0).item())


def test_hand_derived_gradients_equal_autograd():
    torch.manual_seed(0)
    model = AutoRec(9, hidden=4)
    r, m = _batch(1)
    lam = 0.7
    autorec_loss(model(r), r, m, model.weight_matrices(), lam).backward()
    V, W = model.layers[0], model.layers[1]
    mine = autorec_gradients_numpy(r.numpy().astype(np.float64), m.numpy(), V.weight.detach().double().numpy(),
                                   V.bias.detach().double().numpy(), W.weight.detach().double().numpy(),
                                   W.bias.detach().double().numpy(), lam)
    for name, param in {"V": V.weight, "mu": V.bias, "W": W.weight, "b": W.bias}.items():
        np.testing.assert_allclose(mine[name], param.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_weight_penalty_matches_sgd_weight_decay_on_weights_only():
    torch.manual_seed(0)
    a, b = AutoRec(9, hidden=4), AutoRec(9, hidden=4)
    b.load_state_dict(a.state_dict())
    r, m = _batch(2)
    lam, lr = 0.3, 0.01
    opt_a = torch.optim.SGD(a.parameters(), lr=lr)
    autorec_loss(a(r), r, m, a.weight_matrices(), lam).backward()
    opt_a.step()
    weights = [l.weight for l in b.layers]
    biases = [l.bias for l in b.layers]
    opt_b = torch.optim.SGD([{"params": weights, "weight_decay": lam}, {"params": biases}], lr=lr)
    autorec_loss(b(r), r, m, [], 0.0).backward()
    opt_b.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb)


def test_item_and_user_orientation_shapes(small_data):
    train = small_data.ratings
    for variant, (rows, cols) in {"item": (small_data.n_items, small_data.n_users),
                                  "user": (small_data.n_users, small_data.n_items)}.items():
        m = RatingMatrix(train, small_data.n_users, small_data.n_items, variant)
        model = AutoRec(cols, hidden=5)
        assert m.shape == (rows, cols)
        assert model(torch.from_numpy(m.dense(np.arange(3))[0])).shape == (3, cols)
        assert model.config.n_parameters() == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_every_activation_and_deeper_stacks_build(act):
    model = AutoRec(7, hidden=(6, 3, 6), encoder=act, decoder=act, dropout=0.2)
    assert [tuple(l.weight.shape) for l in model.layers] == [(6, 7), (3, 6), (6, 3), (7, 6)]
    assert model(torch.ones(2, 7)).shape == (2, 7)


@pytest.mark.parametrize("kwargs, message", [
    ({"hidden": 0}, "hidden size must be a positive integer, got 0"),
    ({"hidden": -5}, "got -5"),
    ({"encoder": "softmax"}, "unknown encoder activation 'softmax'"),
    ({"decoder": "gelu"}, "unknown decoder activation 'gelu'"),
    ({"dropout": 1.0}, r"dropout must lie in \[0, 1\), got 1.0"),
    ({"dropout": -0.1}, "got -0.1"),
])
def test_bad_model_hyperparameters_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AutoRec(10, **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"lam": -1.0}, "lambda .* must be >= 0, got -1.0"),
    ({"lr": 0.0}, "learning rate must be positive, got 0.0"),
    ({"optimizer": "lbfgs"}, "unknown optimizer 'lbfgs'"),
    ({"epochs": 0}, "epochs must be a positive integer, got 0"),
    ({"device": "tpu"}, "unknown device 'tpu'"),
])
def test_bad_training_hyperparameters_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_unknown_variant_is_refused_by_name(small_data):
    split = splits.make_split(small_data)
    with pytest.raises(ValueError, match="unknown AutoRec variant 'both'"):
        experiment.train(small_data, split, "autorec", "both", progress=False)


def test_cuda_request_without_a_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        pick_device("cuda")
    assert pick_device("auto").type == "cpu"


@pytest.fixture
def low_rank(tmp_path):
    folder = write_ml100k(tmp_path / "ml-100k", n_users=300, n_items=200, density=0.3, rank=2, seed=1)
    data = datasets.load("ml-100k", folder)
    return data, splits.make_split(data, "random", 0.1, 0.1, seed=0)


@pytest.mark.parametrize("model, variant", [("autorec", "item"), ("autorec", "user"), ("biased-mf", "item")])
def test_training_on_low_rank_ratings_beats_the_global_mean_clearly(low_rank, model, variant):
    data, split = low_rank
    if model == "autorec":
        cfg = TrainConfig(epochs=150, lr=3e-3, lam=1.0, batch_size=16, patience=20)
    else:
        cfg = TrainConfig(epochs=150, lr=1e-2, lam=0.1, batch_size=128, patience=20)
    opts = {"hidden": 20} if model == "autorec" else {"n_factors": 4}
    result = experiment.train(data, split, model, variant, **cfg.as_dict(), progress=False, **opts)
    baseline = rmse(np.full(len(split.test), split.train["rating"].mean()), split.test["rating"])
    assert result.test_rmse < 0.6 * baseline, (result.test_rmse, baseline)


def test_bounded_decoder_maps_ratings_into_its_range_and_back():
    from autorec_lib.objective import OutputScale

    sigmoid, tanh, identity = (OutputScale(f, (1.0, 5.0)) for f in ("sigmoid", "tanh", "identity"))
    r = torch.tensor([1.0, 2.0, 5.0])
    assert torch.allclose(sigmoid.to_decoder(r), torch.tensor([0.0, 0.25, 1.0]))
    assert torch.allclose(tanh.to_decoder(r), torch.tensor([-1.0, -0.5, 1.0]))
    assert identity.to_decoder(r) is r and identity.to_rating(r) is r
    for scale in (sigmoid, tanh):
        assert torch.allclose(scale.to_rating(scale.to_decoder(r)), r)
    with pytest.raises(ValueError, match="needs the rating scale"):
        OutputScale("sigmoid", None)


@pytest.mark.parametrize("decoder", ["sigmoid", "tanh"])
def test_a_bounded_decoder_learns_ratings_on_the_1_to_5_scale(low_rank, decoder):
    """Without the mapping a sigmoid decoder can only predict 1 (the clipped (0, 1)): RMSE of predicting 1."""
    data, split = low_rank
    cfg = TrainConfig(epochs=150, lr=3e-3, lam=1.0 / 16, batch_size=16, patience=20)
    result = experiment.train(data, split, **cfg.as_dict(), progress=False, hidden=20, decoder=decoder)
    truth = split.test["rating"].to_numpy()
    assert result.test_rmse < 0.6 * rmse(np.full(len(truth), truth.mean()), truth)
    preds = result.learner.predict(split.test["user"].to_numpy(), split.test["item"].to_numpy())
    assert preds.min() >= 1.0 - 1e-5 and preds.max() <= 5.0 + 1e-5 and preds.max() - preds.min() > 2


def test_same_seed_gives_identical_numbers_on_cpu(low_rank):
    data, split = low_rank
    cfg = TrainConfig(epochs=4, batch_size=16, device="cpu", seed=7)
    runs = [experiment.train(data, split, **cfg.as_dict(), progress=False, hidden=8, dropout=0.1)
            for _ in range(2)]
    assert runs[0].history.records[-1]["train_loss"] == runs[1].history.records[-1]["train_loss"]
    assert runs[0].test_rmse == runs[1].test_rmse


def test_best_validation_epoch_is_restored_and_patience_stops_early(low_rank):
    data, split = low_rank
    cfg = TrainConfig(epochs=200, lr=3e-2, lam=0.0, batch_size=8, patience=3)  # overfits fast
    result = experiment.train(data, split, **cfg.as_dict(), progress=False, hidden=50)
    frame = result.history.frame()
    assert result.history.stopped_early and len(frame) == result.history.best_epoch + 3
    assert frame["valid_rmse"].idxmin() == result.history.best_epoch
    assert result.scores["valid"].rmse == pytest.approx(frame["valid_rmse"].min())


def test_divergence_stops_with_a_clear_message(low_rank):
    data, split = low_rank
    cfg = TrainConfig(epochs=5, lr=1e6, optimizer="sgd", batch_size=16)
    with pytest.raises(TrainingDiverged, match="loss became (nan|inf).*Lower the learning rate"):
        experiment.train(data, split, **cfg.as_dict(), progress=False, hidden=8, encoder="relu")


def test_rprop_trains_full_batch(low_rank):
    data, split = low_rank
    cfg = TrainConfig(epochs=100, lr=1e-3, optimizer="rprop", lam=1.0)
    result = experiment.train(data, split, **cfg.as_dict(), progress=False, hidden=20)
    assert result.learner.batch_size == data.n_items and result.test_rmse < 0.5


@pytest.mark.parametrize("model", ["autorec", "biased-mf"])
def test_checkpoint_round_trip_restores_predictions_and_config(low_rank, tmp_path, model):
    data, split = low_rank
    opts = {"hidden": (6, 4, 6)} if model == "autorec" else {}
    result = experiment.train(data, split, model, **TrainConfig(epochs=2, batch_size=16).as_dict(),
                              progress=False, **opts)
    path = result.save(tmp_path / "ckpt" / "model.npz")
    trained = experiment.load(path)
    net = trained.learner.model
    assert net.config == result.config.net and trained.meta["config"]["train"]["epochs"] == 2
    users, items = split.test["user"].to_numpy(), split.test["item"].to_numpy()
    if model == "autorec":
        learner = build_learner(net, result.learner.matrix, None, result.config.train)  # the same kind of learner
        np.testing.assert_array_equal(learner.predict(users, items), result.learner.predict(users, items))
    else:
        assert isinstance(net, MF)
        with torch.no_grad():
            again = net(torch.tensor(users), torch.tensor(items)).numpy()
        np.testing.assert_array_equal(again, result.learner.predict(users, items))
    assert [p.name for p in path.parent.iterdir()] == ["model.npz"]  # nothing half-written left


def test_loading_weights_of_the_wrong_shape_names_the_weight():
    from autorec_lib.torch_backend import get_weights, set_weights
    weights = get_weights(AutoRec(5, hidden=3))
    with pytest.raises(ValueError, match="weight W0 has shape"):
        set_weights(AutoRec(6, hidden=3), weights)


def test_top_n_recommendations_have_titles_and_skip_rated_items(low_rank):
    data, split = low_rank
    result = experiment.train(data, split, **TrainConfig(epochs=2).as_dict(), progress=False, hidden=8)
    table = result.trained().recommend(int(data.user_ids[0]), n=5)
    rated = set(data.item_ids[split.train.loc[split.train["user"] == 0, "item"]])
    assert len(table) == 5 and not rated & set(table["item_id"]) and table["title"].str.startswith("Movie").all()
    assert table["score"].is_monotonic_decreasing
