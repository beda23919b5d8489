"""Dive into Deep Learning's AutoRec chapter, run with d2l's own package, beside our implementations.

d2l's setup: item-based, hidden 500, sigmoid encoder, dropout 0.05, Adam lr 0.002, weight decay
1e-5, batch 256, 25 epochs, random 90/10 split. d2l's package supplies the data loading, the split
and the training loop (`d2l.read_data_ml100k`, `split_data_ml100k`, `load_data_ml100k`,
`train_recsys_rating`); the chapter's small model and evaluator live in the book's notebook, not
in the package, so they are written here from the chapter's description. Then our PyTorch and
MXNet code train on *the same split* with the same hyperparameters (λ = 2·m·n·wd, see
scripts/benchmark.py), and all three are timed on this machine.

Needs an environment with d2l==1.0.3 and mxnet==1.9.1 (d2l pins NumPy 1.23.5) plus this library
and torch; it is not part of `make test`:

    python3.11 -m venv .venv-d2l && .venv-d2l/bin/pip install mxnet==1.9.1 d2l==1.0.3 torch==2.13.0 tqdm
    .venv-d2l/bin/pip install --no-deps -e . && .venv-d2l/bin/python scripts/d2l_compare.py
"""
from __future__ import annotations

import json
import os
import time

import mxnet as mx
import numpy as onp
import pandas as pd
from d2l import mxnet as d2l
from mxnet import autograd, gluon, np, npx
from mxnet.gluon import nn

from autorec_lib import datasets, experiment, splits
from autorec_lib.metrics import rmse

HIDDEN, EPOCHS, LR, WD, DROPOUT, BATCH = 500, 25, 0.002, 1e-5, 0.05, 256


class ChapterAutoRec(nn.Block):
    """The chapter's model: sigmoid encoder, dropout, linear decoder; in training, only the
    outputs at observed inputs are kept (multiplied by sign(input))."""

    def __init__(self, num_hidden, num_inputs, dropout):
        super().__init__()
        self.encoder = nn.Dense(num_hidden, activation="sigmoid", use_bias=True)
        self.decoder = nn.Dense(num_inputs, use_bias=True)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        out = self.decoder(self.dropout(self.encoder(x)))
        return out * np.sign(x) if autograd.is_training() else out


def chapter_evaluator(net, inter_matrix, test_data, devices):
    """The chapter's evaluation: reconstruct every item from its training ratings and take the RMSE
    over the observed test entries (no clipping, no default for unseen items)."""
    recons = onp.concatenate([net(v.as_in_context(devices[0])).asnumpy() for v in inter_matrix])
    test = test_data.asnumpy() if hasattr(test_data, "asnumpy") else onp.asarray(test_data)
    return float(onp.sqrt(onp.sum(onp.square(test - onp.sign(test) * recons)) / onp.sum(onp.sign(test))))


class _NoPlot:
    """Stands in for d2l.Animator, which draws through IPython (and fails outside a notebook with
    the versions d2l pins); it also keeps plotting out of d2l's timings."""

    def __init__(self, *args, **kwargs):
        pass

    def add(self, *args, **kwargs):
        pass


def run_d2l(data_dir: str):
    d2l.download_extract = lambda name, folder=None: data_dir  # offline: GroupLens's files, unpacked
    d2l.Animator = _NoPlot
    npx.set_np()
    onp.random.seed(0)
    mx.random.seed(0)
    devices = d2l.try_all_gpus() or [mx.cpu()]  # d2l 1.0 returns [] on a CPU-only machine
    df, num_users, num_items = d2l.read_data_ml100k()
    train_data, test_data = d2l.split_data_ml100k(df, num_users, num_items)
    _, _, _, train_inter = d2l.load_data_ml100k(train_data, num_users, num_items)
    _, _, _, test_inter = d2l.load_data_ml100k(test_data, num_users, num_items)
    train_iter = gluon.data.DataLoader(train_inter, shuffle=True, last_batch="rollover", batch_size=BATCH)
    test_iter = gluon.data.DataLoader(np.array(train_inter), shuffle=False, last_batch="keep", batch_size=1024)
    net = ChapterAutoRec(HIDDEN, num_users, DROPOUT)
    net.initialize(ctx=devices, force_reinit=True, init=mx.init.Normal(0.01))
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": LR, "wd": WD})
    start = time.perf_counter()
    d2l.train_recsys_rating(net, train_iter, test_iter, gluon.loss.L2Loss(), trainer, EPOCHS, devices,
                            chapter_evaluator, inter_mat=test_inter)
    seconds = time.perf_counter() - start
    test_rmse = chapter_evaluator(net, test_iter, test_inter, devices)
    npx.reset_np()  # d2l switches MXNet to NumPy semantics globally; our Gluon code uses NDArrays
    return {"implementation": "d2l (its package + the chapter's model)", "test_rmse_d2l_metric": test_rmse,
            "seconds_25_epochs_with_eval": seconds}, train_data, test_data


def main() -> None:
    data = datasets.load("ml-100k")
    chapter, train_raw, test_raw = run_d2l(str(data.path))
    rows = [chapter]
    # The same split, in our indices (d2l's ids are ML-100K's, 1-based and contiguous).
    split = splits.Split(data.index_ratings(train_raw), data.index_ratings(test_raw), None, "d2l-random")
    lam = 2 * data.n_users * data.n_items * WD
    for fw in ("torch", "mxnet"):
        start = time.perf_counter()
        result = experiment.train(data, split, "autorec", "item", fw, progress=False, eval_test=True, epochs=EPOCHS,
                                  lr=LR, lam=lam, batch_size=BATCH, patience=EPOCHS, hidden=HIDDEN, dropout=DROPOUT)
        seconds = time.perf_counter() - start
        # d2l's metric for comparison: raw reconstructions, no clipping, no default rating
        raw = result.learner.predict(split.test["user"].to_numpy(), split.test["item"].to_numpy())
        rows.append({"implementation": f"autorec_lib {fw}", "test_rmse": result.test_rmse,
                     "test_rmse_d2l_metric": rmse(raw, split.test["rating"].to_numpy()),
                     "seconds_25_epochs_with_eval": seconds, "train_s_per_epoch": result.history.seconds_per_epoch})
    frame = pd.DataFrame(rows)
    print(frame.to_string(index=False))
    os.makedirs("build", exist_ok=True)
    with open("build/d2l_compare.json", "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
