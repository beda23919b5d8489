"""``torchrun --nproc-per-node=2 -m autorec_lib train`` trains like one process with the same global batch.

The two runs differ only in how each batch's gradient is summed (two halves added by gloo's
all-reduce, instead of one sum), so the results agree to float rounding: the test allows 1e-4 on
RMSEs and a relative 1e-4 on the training losses, after 6 epochs of Adam.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autorec_lib import distributed
from conftest import write_ml100k

ARGS = ["train", "--dataset", "ml-100k", "--epochs", "6", "--patience", "6", "--hidden", "16",
        "--batch-size", "16", "--lambda", "5", "--lr", "0.01", "--device", "cpu", "--no-progress"]


def _run(prefix: list[str], data: Path, out: Path, extra: list[str]) -> tuple[dict, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, *prefix, "-m", "autorec_lib", *ARGS, *extra, "--data-path", str(data),
                           "--out", str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    files = list(out.glob("*.json"))
    assert len(files) == 1, files
    return json.loads(files[0].read_text()), done.stdout


@pytest.mark.parametrize("model", [["--model", "autorec"], ["--model", "autorec", "--variant", "user"],
                                   ["--model", "autorec", "--optimizer", "sgd", "--lr", "0.002"],  # SGD: scale-sensitive
                                   ["--model", "autorec", "--inputs", "dense"]],
                         ids=["I-AutoRec", "U-AutoRec", "SGD", "dense-inputs"])
def test_two_processes_match_one_with_the_same_global_batch(tmp_path, model):
    data = write_ml100k(tmp_path / "ml-100k", n_users=50, n_items=70, density=0.3)
    extra = model + ["--dropout", "0"]
    one, _ = _run([], data, tmp_path / "one", extra)
    two, stdout = _run(["-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"], data, tmp_path / "two",
                       extra)
    assert (one["world_size"], two["world_size"]) == (1, 2)
    assert stdout.count("test RMSE:") == 1  # only process 0 prints
    assert two["best_epoch"] == one["best_epoch"] and two["epochs_run"] == one["epochs_run"]
    assert two["test_rmse"] == pytest.approx(one["test_rmse"], abs=1e-4)
    assert two["valid_rmse"] == pytest.approx(one["valid_rmse"], abs=1e-4)
    for a, b in zip(one["history"], two["history"]):
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-4)
        assert b["valid_rmse"] == pytest.approx(a["valid_rmse"], abs=1e-4)
    assert one["history"][0]["train_loss"] > one["history"][-1]["train_loss"]  # it did train


def test_mf_trains_on_two_processes(tmp_path, monkeypatch):
    data = write_ml100k(tmp_path / "ml-100k", n_users=50, n_items=70, density=0.3)
    at = ARGS.index("--hidden")
    monkeypatch.setattr(sys.modules[__name__], "ARGS", ARGS[:at] + ARGS[at + 2:])  # MF has no hidden layer
    extra = ["--model", "mf", "--factors", "4"]  # unbiased: b_u, b_i stay unused under DDP
    one, _ = _run([], data, tmp_path / "one", extra)
    two, _ = _run(["-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"], data, tmp_path / "two", extra)
    assert two["world_size"] == 2
    assert two["test_rmse"] == pytest.approx(one["test_rmse"], abs=1e-4)
    assert two["history"][-1]["train_loss"] == pytest.approx(one["history"][-1]["train_loss"], rel=1e-4)


def test_the_world_is_read_from_torchruns_environment():
    assert distributed.from_env({}) is None
    world = distributed.from_env({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"})
    assert world == distributed.World(1, 2, 1) and not world.is_main
    assert distributed.current().size == 1  # no process group in the test process


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_mxnet_over_two_cpu_contexts_matches_one(mxnet_backend, small_data, optimizer):
    """Gluon data parallelism (split_and_load over [cpu(0), cpu(1)]) follows one context's training."""
    import mxnet as mx
    import numpy as np

    from autorec_lib import splits
    from autorec_lib.config import AutoRecConfig, TrainConfig
    from autorec_lib.matrix import RatingMatrix

    split = splits.make_split(small_data, "random", 0.2, 0.2, seed=0)
    matrix = RatingMatrix(split.train, small_data.n_users, small_data.n_items, "item")
    cfg = TrainConfig(batch_size=9, lam=3.0, lr=0.01 if optimizer == "adam" else 1e-3, optimizer=optimizer)
    mxnet_backend.seed_everything(0)
    start = mxnet_backend.get_weights(mxnet_backend.build_model(AutoRecConfig(matrix.shape[1], (12,)), mx.cpu()))
    learners = []
    for contexts in ([mx.cpu(0)], [mx.cpu(0), mx.cpu(1)]):
        net = mxnet_backend.build_model(AutoRecConfig(matrix.shape[1], (12,)), mx.cpu())
        mxnet_backend.set_weights(net, start)
        learners.append(mxnet_backend.AutoRecLearner(net, matrix, cfg, contexts, small_data.scale))
    assert [p.list_ctx() for p in learners[1].model.collect_params().values()][0] == [mx.cpu(0), mx.cpu(1)]
    for epoch in range(4):
        losses = [learner.train_epoch(np.random.default_rng(epoch)) for learner in learners]
        assert losses[1] == pytest.approx(losses[0], rel=1e-4)
    one, two = (learner.get_weights() for learner in learners)
    for name in one:
        np.testing.assert_allclose(two[name], one[name], rtol=1e-3, atol=1e-5)
    assert not np.allclose(one["W0"], start["W0"])  # it trained


def test_sparse_inputs_are_refused_under_torchrun_naming_what_to_use(tmp_path):
    data = write_ml100k(tmp_path / "ml-100k", n_users=20, n_items=30, density=0.3)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                           "-m", "autorec_lib", *ARGS, "--inputs", "sparse", "--data-path", str(data),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode != 0
    assert "inputs='sparse' trains in one process" in done.stderr and "--inputs dense or auto" in done.stderr
