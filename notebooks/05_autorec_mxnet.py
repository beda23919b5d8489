# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. AutoRec in MXNet
#
# The same model in MXNet's Gluon API, side by side with PyTorch. Dive into Deep Learning's
# recommender chapter, which many learners meet first, is written in MXNet; this notebook lets
# you move between the two with confidence, because every claim of "the same" is checked.
#
# **A word on MXNet's status.** Apache MXNet is retired: 1.9.1 (May 2022) is its last release. It
# needs NumPy < 1.24 (the course pins 1.23.5), and its GPU builds target CUDA 11.x. It is worth
# reading for the Gluon ideas (hybridization in particular), but start new projects in PyTorch.
# Only this notebook needs it; install it with `pip install -e '.[mxnet]'`.
#
# **What you will learn**
#
# * how to write AutoRec as a Gluon `HybridBlock`, and what hybridization does;
# * how to show that two frameworks compute the same thing: identical weights in, identical
#   predictions, loss and gradients out;
# * how the two compare in accuracy and speed when trained the same way.

# %%
import html
import inspect
import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import HTML

from autorec_lib import datasets, experiment, splits
from autorec_lib import torch_backend as tb
from autorec_lib.matrix import RatingMatrix
from autorec_lib.objective import autorec_loss

try:
    import mxnet as mx
    from mxnet import autograd, gluon, nd
except ImportError as err:
    raise ImportError(experiment.MXNET_MISSING) from err
from autorec_lib import mxnet_backend as mb

ctx = mb.pick_context("auto")
print(f"MXNet {mx.__version__}, NumPy {np.__version__}, context {ctx}")
data = datasets.load("ml-100k")
split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)

# %% [markdown]
# `pick_context` returns the GPU context when MXNet sees a GPU and the CPU otherwise: always one
# context, never an empty list (d2l 1.0's `try_all_gpus()` returns `[]` on a CPU-only machine,
# which breaks code that indexes it).
#
# ## 5.1 The model in Gluon
#
# A Gluon `HybridBlock` declares its layers in `__init__` and its computation in
# `hybrid_forward(F, x)`, where `F` is either `mx.nd` (run eagerly, like PyTorch) or `mx.sym`
# (build a symbolic graph). After `hybridize()`, the first call traces the graph once, and later
# calls run the compiled graph without Python in the loop.

# %%
class MyAutoRec(gluon.HybridBlock):
    def __init__(self, n_inputs: int, hidden: int = 500):
        super().__init__()
        with self.name_scope():
            self.encoder = gluon.nn.Dense(hidden, in_units=n_inputs, activation="sigmoid")  # V, mu
            self.decoder = gluon.nn.Dense(n_inputs, in_units=hidden)  # W, b

    def hybrid_forward(self, F, r):
        return self.decoder(self.encoder(r))

# %% [markdown]
# The library's two implementations, side by side. The structure is the same; the differences
# are the framework's idioms (`nn.Linear` and `Dense` both store the weight as
# *outputs × inputs*, which is what makes sharing weights straightforward).

# %%
def side_by_side(left, right, titles=("PyTorch", "MXNet Gluon")):
    cells = "".join(f"<td style='vertical-align:top;text-align:left'><b>{t}</b><pre style='font-size:11px'>"
                    f"{html.escape(inspect.getsource(obj))}</pre></td>" for t, obj in zip(titles, (left, right)))
    return HTML(f"<table><tr>{cells}</tr></table>")

side_by_side(tb.AutoRec, mb.AutoRec)

# %% [markdown]
# ## 5.2 Parity: same weights, same numbers
#
# First our 10-line block against the library's Gluon model, then the library's Gluon model
# against the PyTorch one, for both orientations and every activation pair the library offers.

# %%
matrix = RatingMatrix(split.train, data.n_users, data.n_items, variant="item")
values, mask = matrix.dense(np.arange(64))
lib_mx = mb.build_model("autorec", {"n_inputs": data.n_users, "hidden": 500})
mine = MyAutoRec(data.n_users, 500)
mine.initialize(ctx=ctx)
mine.hybridize()
w = mb.get_weights(lib_mx)
for layer, k in ((mine.encoder, 0), (mine.decoder, 1)):
    layer.weight.set_data(nd.array(w[f"W{k}"], ctx=ctx))
    layer.bias.set_data(nd.array(w[f"b{k}"], ctx=ctx))
x = nd.array(values, ctx=ctx)
np.testing.assert_allclose(mine(x).asnumpy(), lib_mx(x).asnumpy(), rtol=1e-5, atol=1e-6)
print("our HybridBlock matches the library's on identical weights")

# %%
rows = []
for variant, d in (("item", data.n_users), ("user", data.n_items)):
    vals = RatingMatrix(split.train, data.n_users, data.n_items, variant).dense(np.arange(16))[0]
    for encoder, decoder in (("sigmoid", "identity"), ("identity", "identity"), ("relu", "sigmoid"),
                             ("tanh", "elu"), ("selu", "identity")):
        config = {"n_inputs": d, "hidden": 64, "encoder": encoder, "decoder": decoder}
        torch.manual_seed(0)
        t_model = tb.AutoRec(**config).eval()
        m_model = mb.build_model("autorec", config)
        mb.set_weights(m_model, tb.get_weights(t_model))
        with torch.no_grad():
            t_out = t_model(torch.from_numpy(vals)).numpy()
        m_out = m_model(nd.array(vals, ctx=ctx)).asnumpy()
        diff = float(np.abs(t_out - m_out).max())
        assert diff < 1e-4
        rows.append({"variant": variant, "encoder": encoder, "decoder": decoder, "max |PyTorch - MXNet|": diff})
pd.DataFrame(rows)

# %% [markdown]
# The loss and its gradients agree too. The masked objective is the *same function* in both
# frameworks (`autorec_lib.objective.autorec_loss` uses only `*`, `**` and `.sum()`), so this
# checks the two autograd engines against each other.

# %%
lam = 100.0 * 64 / matrix.shape[0]
torch.manual_seed(0)
t_model = tb.AutoRec(n_inputs=data.n_users, hidden=500)
m_model = mb.build_model("autorec", {"n_inputs": data.n_users, "hidden": 500})
mb.set_weights(m_model, tb.get_weights(t_model))
tr, tm = torch.from_numpy(values), torch.from_numpy(mask)
t_loss = autorec_loss(t_model(tr), tr, tm, t_model.weight_matrices(), lam)
t_loss.backward()
with autograd.record():
    m_loss = autorec_loss(m_model(nd.array(values, ctx=ctx)), nd.array(values, ctx=ctx),
                          nd.array(mask, ctx=ctx), m_model.weight_matrices(), lam)
m_loss.backward()
grads = {name: float(np.abs(p.grad().asnumpy() - t_model.named_weights()[name].grad.numpy()).max())
         for name, p in m_model.named_weights().items()}
print(f"loss: PyTorch {t_loss.item():.4f}, MXNet {m_loss.asscalar():.4f}")
print("max gradient difference per parameter:", {k: f"{v:.1e}" for k, v in grads.items()})
assert abs(t_loss.item() - m_loss.asscalar()) < 1e-5 * t_loss.item() and max(grads.values()) < 1e-3

# %% [markdown]
# ## 5.3 Training in both frameworks
#
# The trainer, the data, the splits and the metrics are shared, framework-neutral code; only the
# model and its optimizer step differ. We start both frameworks from the **same initial weights**
# (drawn by PyTorch) and the trainer feeds both the same batches in the same order, so whatever
# differs at the end comes from the frameworks' arithmetic and optimizers alone. They should end
# within a hundredth of RMSE of each other.

# %%
kind, config = experiment.model_config("autorec", "item", data, experiment.defaults("autorec", "item")["model"])
torch.manual_seed(0)
initial = tb.get_weights(tb.AutoRec(**config))

# %%
# NBVAL_IGNORE_OUTPUT
results = {fw: experiment.train(data, split, "autorec", "item", framework=fw, init_weights=initial)
           for fw in ("torch", "mxnet")}

# %%
fig, ax = plt.subplots(figsize=(7, 3.6))
for fw, result in results.items():
    frame = result.history.frame()
    ax.plot(frame.index, frame["valid_rmse"], label=f"{fw} validation")
ax.set(xlabel="epoch", ylabel="RMSE", ylim=(0.86, 1.0), title="I-AutoRec, same configuration")
ax.legend();

# %%
table = pd.DataFrame({fw: {"test RMSE": r.test_rmse, "valid RMSE": r.scores["valid"].rmse,
                           "best epoch": r.history.best_epoch, "s/epoch": r.history.seconds_per_epoch,
                           "device": r.device} for fw, r in results.items()}).T
table

# %%
gap = abs(results["torch"].test_rmse - results["mxnet"].test_rmse)
assert gap < 0.01, f"the frameworks disagree by {gap:.4f} RMSE"
print(f"test RMSE gap between the frameworks: {gap:.4f}; MXNet takes "
      f"{results['mxnet'].history.seconds_per_epoch / results['torch'].history.seconds_per_epoch:.1f}x "
      f"PyTorch's time per epoch here")

# %% [markdown]
# A checkpoint written from one framework loads into the other, because the library stores
# weights as plain NumPy arrays under shared names:

# %%
import tempfile
from pathlib import Path

path = results["mxnet"].save(Path(tempfile.mkdtemp()) / "mx.npz")
torch_model, meta = experiment.load_model(path, framework="torch")
with torch.no_grad():
    via_torch = torch_model(torch.from_numpy(values)).numpy()
via_mxnet = results["mxnet"].learner.reconstruct(np.arange(64))
assert np.abs(via_torch - via_mxnet).max() < 1e-3
print("an MXNet checkpoint reproduces its predictions in PyTorch")

# %% [markdown]
# ## Summary
#
# * In Gluon, AutoRec is a `HybridBlock` with two `Dense` layers; `hybridize()` compiles it.
# * With identical weights, MXNet and PyTorch agree on predictions (every activation, both
#   orientations), on the masked loss, and on its gradients.
# * Trained the same way, they land within 0.01 test RMSE of each other; the timing table shows
#   what each costs on this machine.
# * MXNet is retired: read it, but prefer PyTorch for new work.
#
# ## Exercises
#
# 1. Time one epoch with and without `hybridize()` (build the model with `mb.AutoRec(...)`,
#    `initialize()`, and train it through `mb.AutoRecLearner`). What does hybridization buy here?
# 2. Train U-AutoRec with `framework="mxnet"` and compare it with the PyTorch run of notebook 04.
# 3. MXNet lacks an Rprop optimizer; read `autorec_lib.mxnet_backend.Rprop` and compare one step
#    of it with `torch.optim.Rprop` on the same gradients.

# %% tags=["results"]
print(json.dumps({f"{fw} I-AutoRec test RMSE": round(r.test_rmse, 4) for fw, r in results.items()}
                 | {f"{fw} s/epoch": round(r.history.seconds_per_epoch, 3) for fw, r in results.items()}))
