"""Dive into Deep Learning's AutoRec chapter (MXNet), as the book runs it, in a process of its own.

The baseline that ``scripts/d2l_compare.py`` times against our library. It needs only d2l and
MXNet (no ``autorec_lib``), in their own environment, since d2l pins NumPy 1.23.5::

    python3.11 -m venv .venv-d2l && .venv-d2l/bin/pip install mxnet==1.9.1 d2l==1.0.3

    .venv-d2l/bin/python scripts/d2l_chapter.py DATA_DIR/ml-100k --out build/d2l/chapter.json

The chapter's code in order: its ``AutoRec`` block and evaluator (they live in the book's
notebook, not in the package, so they are written here from the chapter), then d2l's package
does the rest: ``read_data_ml100k``, ``split_data_ml100k`` (random 90/10), ``load_data_ml100k``,
the chapter's data loaders (``num_workers=d2l.get_dataloader_workers()`` as in the book) and
``train_recsys_rating`` with hidden 500, Adam lr 0.002, weight decay 1e-5, dropout 0.05, batch
256 and 25 epochs. Two departures, both in d2l's favour: ``download_extract`` returns the local
folder (no network here), and ``d2l.Animator`` is replaced by a stand-in that draws nothing
(outside a notebook it fails with the versions d2l pins, and drawing is not training).

It writes the loop's seconds (``train_recsys_rating``: 25 epochs, each with its evaluation),
the test RMSE on the chapter's metric, and the split it drew (MovieLens ids, for our runs on the
same split) to ``--out`` (JSON) and ``--out``'s ``.npz`` twin.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import mxnet as mx
import numpy as onp
from d2l import mxnet as d2l
from mxnet import autograd, gluon, np, npx
from mxnet.gluon import nn

HIDDEN, EPOCHS, LR, WD, DROPOUT, BATCH = 500, 25, 0.002, 1e-5, 0.05, 256


class AutoRec(nn.Block):
    """The chapter's model: sigmoid encoder, dropout, linear decoder; in training, only the
    outputs at observed inputs are kept (multiplied by sign(input))."""

    def __init__(self, num_hidden, num_users, dropout=DROPOUT):
        super().__init__()
        self.encoder = nn.Dense(num_hidden, activation="sigmoid", use_bias=True)
        self.decoder = nn.Dense(num_users, use_bias=True)
        self.dropout = nn.Dropout(dropout)

    def forward(self, input):
        hidden = self.dropout(self.encoder(input))
        pred = self.decoder(hidden)
        return pred * np.sign(input) if autograd.is_training() else pred


def evaluator(network, inter_matrix, test_data, devices):
    """The chapter's evaluator: reconstruct every item, RMSE over the observed test entries."""
    scores = []
    for values in inter_matrix:
        feat = gluon.utils.split_and_load(values, devices, even_split=False)
        scores.extend([network(i).asnumpy() for i in feat])
    recons = np.array([item for sublist in scores for item in sublist])
    return float(np.sqrt(np.sum(np.square(test_data - np.sign(test_data) * recons)) / np.sum(np.sign(test_data))))


class NoPlot:
    """Stands in for ``d2l.Animator``: records nothing, draws nothing."""

    def __init__(self, *args, **kwargs):
        pass

    def add(self, *args, **kwargs):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", help="the unpacked ml-100k folder (u.data inside)")
    parser.add_argument("--out", type=Path, default=Path("build/d2l/chapter.json"))
    args = parser.parse_args()
    d2l.download_extract = lambda name, folder=None: str(args.data_dir)
    d2l.Animator = NoPlot
    onp.random.seed(0)
    mx.random.seed(0)
    npx.set_np()

    devices = d2l.try_all_gpus() or [mx.cpu()]  # d2l 1.0.3 returns [] on a machine without a GPU
    df, num_users, num_items = d2l.read_data_ml100k()
    train_data, test_data = d2l.split_data_ml100k(df, num_users, num_items)
    _, _, _, train_inter_mat = d2l.load_data_ml100k(train_data, num_users, num_items)
    _, _, _, test_inter_mat = d2l.load_data_ml100k(test_data, num_users, num_items)
    train_iter = gluon.data.DataLoader(train_inter_mat, shuffle=True, last_batch="rollover", batch_size=BATCH,
                                       num_workers=d2l.get_dataloader_workers())
    test_iter = gluon.data.DataLoader(np.array(train_inter_mat), shuffle=False, last_batch="keep", batch_size=1024,
                                      num_workers=d2l.get_dataloader_workers())
    net = AutoRec(HIDDEN, num_users)
    net.initialize(ctx=devices, force_reinit=True, init=mx.init.Normal(0.01))
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": LR, "wd": WD})
    start = time.perf_counter()
    d2l.train_recsys_rating(net, train_iter, test_iter, gluon.loss.L2Loss(), trainer, EPOCHS, devices, evaluator,
                            inter_mat=test_inter_mat)
    loop_s = time.perf_counter() - start
    test_rmse = evaluator(net, test_iter, test_inter_mat, devices)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    columns = ["user_id", "item_id", "rating", "timestamp"]
    onp.savez(args.out.with_suffix(".npz"), **{f"{part}_{c}": frame[c].to_numpy()
                                                 for part, frame in (("train", train_data), ("test", test_data))
                                                 for c in columns})
    result = {"implementation": "d2l 1.0.3 chapter (MXNet)", "loop_s": loop_s, "test_rmse_d2l_metric": test_rmse,
              "epochs": EPOCHS, "train_ratings": len(train_data), "test_ratings": len(test_data)}
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
