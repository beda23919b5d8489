"""The plateau learning-rate schedule of training.fit: PyTorch's ReduceLROnPlateau rule, in both frameworks."""
import numpy as np
import pandas as pd
import pytest
import torch

from autorec_lib import experiment, splits, training
from autorec_lib.config import TrainConfig
from autorec_lib.splits import Split

# validation RMSEs in the order the epochs produce them: improvements, plateaus, a late improvement
SEQUENCE = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.88, 0.9, 0.9]


class ScriptedLearner:
    """A learner whose validation RMSE follows SEQUENCE (its prediction error is the scripted value)."""

    def __init__(self):
        self.epoch, self.lrs = 0, []

    def train_epoch(self, rng):
        self.epoch += 1
        return 1.0

    def predict(self, users, items):
        return np.full(len(users), 3.0 + SEQUENCE[self.epoch - 1])  # truth is 3.0: RMSE = the scripted value

    def get_weights(self):
        return {}

    def set_weights(self, weights):
        pass

    def set_learning_rate(self, lr):
        self.lrs.append(lr)


def _split() -> Split:
    frame = pd.DataFrame({"user": [0, 1], "item": [0, 1], "rating": [3.0, 3.0]})
    return Split(train=frame, test=frame, valid=frame)


@pytest.mark.parametrize("lr_patience, factor", [(1, 0.5), (2, 0.1), (3, 0.5)])
def test_plateau_follows_pytorchs_reduce_lr_on_plateau(lr_patience, factor):
    cfg = TrainConfig(epochs=len(SEQUENCE), patience=100, lr=1.0, lr_schedule="plateau", lr_patience=lr_patience,
                      lr_factor=factor)
    history = training.fit(ScriptedLearner(), _split(), (1.0, 5.0), cfg, progress=False, eval_test=False)
    ours = [r["lr"] for r in history.records]
    assert [round(r["valid_rmse"], 6) for r in history.records] == SEQUENCE
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=factor,
                                                           patience=lr_patience, threshold=0.0)
    theirs = []
    for rmse in SEQUENCE:
        theirs.append(optimizer.param_groups[0]["lr"])  # the rate the epoch trained with
        scheduler.step(rmse)
    assert ours == pytest.approx(theirs)
    assert len(set(ours)) > 1  # the sequence does make it decay


def test_a_constant_schedule_never_changes_the_rate():
    learner = ScriptedLearner()
    history = training.fit(learner, _split(), (1.0, 5.0), TrainConfig(epochs=len(SEQUENCE), patience=100, lr=0.1),
                           progress=False, eval_test=False)
    assert learner.lrs == [] and {r["lr"] for r in history.records} == {0.1}


@pytest.mark.parametrize("framework", ["torch", pytest.param("mxnet", marks=pytest.mark.mxnet)])
def test_the_learners_take_the_scheduled_rate(small_data, framework, request):
    if framework == "mxnet":
        request.getfixturevalue("mxnet_backend")
    split = splits.make_split(small_data, "random", 0.2, 0.2, seed=0)
    result = experiment.train(small_data, split, "autorec", "item", framework, progress=False, epochs=1, hidden=4)
    learner = result.learner
    learner.set_learning_rate(0.0123)
    current = learner.optimizer.param_groups[0]["lr"] if framework == "torch" else learner.trainer.learning_rate
    assert current == pytest.approx(0.0123)


def test_rprop_refuses_a_schedule():
    with pytest.raises(ValueError, match="Rprop adapts its own step sizes"):
        TrainConfig(optimizer="rprop", lr_schedule="plateau")
