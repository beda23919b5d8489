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
# needs NumPy < 1.24 (the course pins 1.23.5), and its last GPU wheels were built for CUDA 10.1 to
# 11.7, none for CUDA 12. It is worth reading for the Gluon ideas (hybridization in particular),
# but start new projects in PyTorch. Only this notebook needs it; install it with
# `pip install -e '.[mxnet]'`.
#
# **What you will learn**
#
# * how to write AutoRec as a Gluon `HybridBlock`, and what hybridization does;
# * how to show that two frameworks compute the same thing: identical weights in, the same
#   predictions, loss and gradients out, up to float32 rounding;
# * how the two compare in accuracy when trained the same way, and why a timing taken in a
#   process that loads both frameworks is not a fair race between them.

# %%
import html
import inspect
import json
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

torch_threads_alone = torch.get_num_threads()  # read before MXNet is imported (see 5.3)

from IPython.display import HTML

from autorec_lib import datasets, experiment, splits
from autorec_lib import torch_backend as tb
from autorec_lib.config import ACTIVATIONS, AutoRecConfig, TrainConfig
from autorec_lib.matrix import RatingMatrix
from autorec_lib.objective import autorec_loss

try:
    import mxnet as mx
    from mxnet import autograd, gluon, nd
except ImportError as err:
    raise ImportError(experiment.MXNET_MISSING) from err
from autorec_lib import mxnet_backend as mb

torch_threads_with_mxnet = torch.get_num_threads()
ctx = mb.pick_context("auto")
assert isinstance(ctx, mx.Context)  # one context, not a list
assert mx.__version__ == "1.9.1" and tuple(int(v) for v in np.__version__.split(".")[:2]) < (1, 24)
print(f"MXNet {mx.__version__}, NumPy {np.__version__}, context {ctx}")
print(f"PyTorch threads: {torch_threads_alone} before MXNet was imported, {torch_threads_with_mxnet} after")
data = datasets.load("ml-100k")
split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)

# %% [markdown]
# `pick_context` returns the GPU context when MXNet sees a GPU and the CPU otherwise: always one
# context, never an empty list (d2l 1.0's `try_all_gpus()` returns `[]` on a CPU-only machine,
# which breaks code that indexes it).
#
# The second line printed shows something to remember for section 5.3: importing MXNet can change
# how many threads PyTorch computes with in the same process.
#
# ## 5.1 The model in Gluon
#
# A Gluon `HybridBlock` declares its layers in `__init__` and its computation in
# `hybrid_forward(F, x)`, where `F` is either `mx.nd` (run eagerly, like PyTorch) or `mx.sym`
# (build a symbolic graph). After `hybridize()`, the first call traces the graph once, and later
# calls run the compiled graph without running the Python code of `hybrid_forward` again.

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
# You can watch hybridization happen: count the calls of `hybrid_forward`, and note which `F` each
# call gets, over three forward passes before `hybridize()` and three after.

# %%
seen = []


class CountingAutoRec(MyAutoRec):
    def hybrid_forward(self, F, r):
        seen.append(F.__name__)
        return super().hybrid_forward(F, r)


probe = CountingAutoRec(20, hidden=8)
probe.initialize(ctx=ctx)
batch = nd.ones((4, 20), ctx=ctx)
for _ in range(3):
    probe(batch)
eager_calls, seen = seen, []
probe.hybridize()
for _ in range(3):
    probe(batch)
print("3 calls before hybridize() ran hybrid_forward with F =", eager_calls)
print("3 calls after hybridize() ran hybrid_forward with F =", seen)
assert eager_calls == ["mxnet.ndarray"] * 3 and seen == ["mxnet.symbol"]

# %% [markdown]
# Before `hybridize()`, every call runs the Python code with `F = mx.nd`; after it, the code runs
# once, with `F = mx.sym`, to build the graph, and the next two calls never run it again.
#
# The library's two implementations, side by side. The structure is the same; the differences
# are the framework's idioms (`nn.Linear` and `Dense` both store the weight as
# *outputs × inputs*, which is what makes sharing weights straightforward).

# %%
def side_by_side(left, right, titles=("PyTorch", "MXNet Gluon")):
    cells = "".join(f"<td style='vertical-align:top;text-align:left'><b>{t}</b><pre style='font-size:11px'>"
                    f"{html.escape(inspect.getsource(obj))}</pre></td>" for t, obj in zip(titles, (left, right)))
    return HTML(f"<table><tr>{cells}</tr></table>")


torch_shape = tuple(tb.AutoRec(n_inputs=data.n_users, hidden=500).layers[0].weight.shape)
gluon_shape = tuple(mb.AutoRec(data.n_users, 500).layers[0].weight.shape)
assert torch_shape == gluon_shape == (500, data.n_users)  # outputs x inputs in both
side_by_side(tb.AutoRec, mb.AutoRec)

# %% [markdown]
# ## 5.2 Parity: same weights, same numbers
#
# First our short block against the library's Gluon model, then the library's Gluon model against
# the PyTorch one, for both orientations and for five encoder/decoder pairs that between them use
# each of the library's six activations.

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
ours_vs_library = float(np.abs(mine(x).asnumpy() - lib_mx(x).asnumpy()).max())
assert ours_vs_library < 1e-5
print(f"our HybridBlock and the library's, on identical weights: max difference {ours_vs_library:.1e}")

# %%
rows = []
pairs = (("sigmoid", "identity"), ("identity", "identity"), ("relu", "sigmoid"), ("tanh", "elu"),
         ("selu", "identity"))
assert {name for pair in pairs for name in pair} == set(ACTIVATIONS) and len(ACTIVATIONS) == 6
for variant, d in (("item", data.n_users), ("user", data.n_items)):
    vals = RatingMatrix(split.train, data.n_users, data.n_items, variant).dense(np.arange(16))[0]
    for encoder, decoder in pairs:
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
parity = pd.DataFrame(rows)
print(f"largest difference over all {len(parity)} models: {parity['max |PyTorch - MXNet|'].max():.1e}")
parity

# %% [markdown]
# The outputs agree to float32 rounding (below 1e-4, asserted) for every model above. The loss and
# its gradients agree too. The masked objective is the *same function* in both frameworks
# (`autorec_lib.objective.autorec_loss` uses only arithmetic operators and `.sum()`), so this
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
loss_rel = abs(t_loss.item() - m_loss.asscalar()) / t_loss.item()
grad_rel = {}
for name, p in m_model.named_weights().items():
    t_grad = t_model.named_weights()[name].grad.numpy()
    grad_rel[name] = float(np.abs(p.grad().asnumpy() - t_grad).max() / np.abs(t_grad).max())
print(f"loss: PyTorch {t_loss.item():.4f}, MXNet {m_loss.asscalar():.4f} (relative difference {loss_rel:.1e})")
print("largest gradient difference, relative to the largest gradient entry:",
      {k: f"{v:.1e}" for k, v in grad_rel.items()})
assert loss_rel < 1e-6 and max(grad_rel.values()) < 1e-5

# %% [markdown]
# The losses agree to a relative 1e-6 and every gradient to a relative 1e-5 of its largest entry
# (both asserted): the two autograd engines compute the same derivatives.
#
# ## 5.3 Training in both frameworks
#
# The trainer, the data, the splits and the metrics are shared, framework-neutral code; only the
# model and its optimizer step differ. We start both frameworks from the **same initial weights**
# (drawn by PyTorch), and the trainer, seeded alike, feeds both the same batches in the same order,
# so whatever differs at the end comes from the frameworks' arithmetic and optimizers alone.

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
table = pd.DataFrame({
    "valid RMSE": {fw: r.scores["valid"].rmse for fw, r in results.items()},
    "test RMSE": {fw: r.test_rmse for fw, r in results.items()},
    "best epoch": {fw: r.history.best_epoch for fw, r in results.items()},
    "s/epoch": {fw: r.history.seconds_per_epoch for fw, r in results.items()},
    "device": {fw: r.device for fw, r in results.items()},
})
table.round(6)

# %%
first_loss = {fw: r.history.records[0]["train_loss"] for fw, r in results.items()}
first_gap = abs(first_loss["torch"] - first_loss["mxnet"]) / first_loss["torch"]
valid_gap = abs(results["torch"].scores["valid"].rmse - results["mxnet"].scores["valid"].rmse)
gap = abs(results["torch"].test_rmse - results["mxnet"].test_rmse)
print(f"first epoch's training loss: PyTorch {first_loss['torch']:.5f}, MXNet {first_loss['mxnet']:.5f}")
print(f"RMSE gap between the frameworks: validation {valid_gap:.1e}, test {gap:.1e}")
assert first_gap < 1e-4, "the first epochs should see the same batches from the same weights"
assert results["torch"].history.best_epoch == results["mxnet"].history.best_epoch
assert valid_gap < 1e-3 and gap < 1e-3, f"the frameworks disagree by {max(valid_gap, gap):.4f} RMSE"

# %% [markdown]
# The two runs are the same training up to float32 rounding: the first epoch's losses agree to a
# relative 1e-4, both frameworks pick the same best epoch, and their validation and test RMSEs
# differ by less than 0.001 (all asserted above).
#
# **About the times.** The `s/epoch` column is what each framework took in this run, and it is not
# a fair race. MXNet was imported into this process, and the first cell printed PyTorch's thread
# count before and after that import: when they differ, PyTorch here did not run as it would in a
# process of its own. And the course machine's CPU is shared, so one timing is noisy. A fair
# comparison would time each framework in its own process, with the same number of threads, over
# several runs. The line below reports the ratio this run measured, with the thread count it ran at.

# %%
ratio = results["mxnet"].history.seconds_per_epoch / results["torch"].history.seconds_per_epoch
assert ratio > 0
print(f"in this run MXNet took {ratio:.1f}x PyTorch's time per epoch, with PyTorch on "
      f"{torch.get_num_threads()} thread(s) ({torch_threads_alone} before MXNet was imported)")

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
print(f"an MXNet checkpoint reproduces its predictions in PyTorch (max difference "
      f"{np.abs(via_torch - via_mxnet).max():.1e})")

# %% tags=["results"]
print(json.dumps({f"{fw} I-AutoRec test RMSE": round(r.test_rmse, 4) for fw, r in results.items()}
                 | {f"{fw} s/epoch": round(r.history.seconds_per_epoch, 3) for fw, r in results.items()}))

# %% [markdown]
# ## Summary
#
# * In Gluon, AutoRec is a `HybridBlock` with two `Dense` layers; after `hybridize()`, the first
#   call traces the graph and later calls run it without running `hybrid_forward` again.
# * With identical weights, MXNet and PyTorch agree to float32 rounding on predictions (both
#   orientations, each of the six activations), on the masked loss, and on its gradients.
# * Trained the same way from the same weights, they pick the same best epoch and land within
#   0.001 RMSE of each other.
# * Times measured in one process that loads both frameworks are not a fair speed comparison.
# * MXNet is retired: read it, but prefer PyTorch for new work.
#
# ## Exercises
#
# The exercises use this notebook's `data`, `split`, `matrix` (I-AutoRec's training matrix) and
# `ctx`. Each has a check below it; none of them looks at the test split.
#
# ### Exercise 1: what does `hybridize()` buy here?
#
# Time one training epoch of I-AutoRec with and without `hybridize()`. Build two `mb.AutoRec`
# models with the course's I-AutoRec options (`experiment.defaults("autorec", "item")`), call
# `initialize(ctx=ctx)` on both, give them the same starting weights, hybridize only one of them,
# wrap each in `mb.AutoRecLearner(model, matrix, TrainConfig(...), ctx)` with the course's
# I-AutoRec training options, and time `learner.train_epoch(rng)`. Store the two learners as
# `hybridized` and `imperative`, their times for one epoch in seconds as
# `seconds = {"hybridized": ..., "imperative": ...}`, and `speedup`, the imperative time divided by
# the hybridized time.
#
# *Hint:* `mb.build_model` hybridizes the model it builds, so it cannot give you the imperative
# one. Copy weights with `mb.get_weights` and `mb.set_weights`, and give each learner its own
# `np.random.default_rng` with the same seed, so that the two runs differ in hybridization alone.
# A hybridized block traces its graph on its first call: run one forward pass of each model before
# you start the clock. One timing on a shared CPU is noisy; the best of a few epochs is steadier.

# %% tags=["solution"]
item = experiment.defaults("autorec", "item")
item_cfg = TrainConfig(**item["train"])
learners, start_weights = {}, None
for name in ("imperative", "hybridized"):
    model = mb.AutoRec(data.n_users, **item["model"])
    model.initialize(ctx=ctx)
    if start_weights is None:
        start_weights = mb.get_weights(model)
    mb.set_weights(model, start_weights)
    if name == "hybridized":
        model.hybridize()
    learners[name] = mb.AutoRecLearner(model, matrix, item_cfg, ctx)
    learners[name].reconstruct(np.arange(8))  # warm-up: the hybridized model traces its graph here

rngs = {name: np.random.default_rng(0) for name in learners}
times = {name: [] for name in learners}
for _ in range(3):  # interleaved, so that a busy moment on the machine hits both alike
    for name, learner in learners.items():
        start = time.perf_counter()
        learner.train_epoch(rngs[name])
        times[name].append(time.perf_counter() - start)
hybridized, imperative = learners["hybridized"], learners["imperative"]
seconds = {name: min(t) for name, t in times.items()}
speedup = seconds["imperative"] / seconds["hybridized"]
gflop = AutoRecConfig(data.n_users, **item["model"]).flops_per_epoch(matrix.shape[0]) / 1e9
batches = len(list(matrix.batches(item_cfg.batch_size)))
weight_gap = max(float(np.abs(hybridized.get_weights()[k] - imperative.get_weights()[k]).max())
                 for k in start_weights)
print({name: f"{t:.3f} s" for name, t in seconds.items()}, f"speed-up {speedup:.2f}x")
print(f"one epoch is {batches} mini-batches and {gflop:.1f} GFLOP: {gflop / seconds['hybridized']:.0f} GFLOP/s hybridized, "
      f"{gflop / seconds['imperative']:.0f} GFLOP/s imperative")
print(f"after 3 epochs the two models' weights differ by at most {weight_gap:.1e}")
assert 0.5 < speedup < 2, speedup
assert weight_gap < 1e-4 and batches == 7 and round(gflop, 1) == 7.9

# %%
from autorec_lib.exercises import ch05

ch05.check_hybridize(hybridized, imperative, seconds, speedup)

# %% [markdown] tags=["solution"]
# **What the solution shows.** Hybridization changes the time of an I-AutoRec epoch by less than a
# factor of two here (the speed-up printed above, asserted to lie between 0.5 and 2), while the two
# models compute the same thing: after the same epochs their weights agree to float32 rounding.
# An epoch is 7 mini-batches of (up to) 256 movies, and each mini-batch is a handful of operators
# around matrix products with the 500 × 943 and 943 × 500 weight matrices: 7.9 GFLOP per epoch in
# all (both numbers printed and asserted). The products are the same arithmetic either way; what
# hybridization removes is Python's work between operators, which is small next to them. It pays off for models made of many small operators, and a hybridized block
# is also what Gluon can export as a graph (`export`) to run without the Python class.

# %% [markdown]
# ### Exercise 2: U-AutoRec in MXNet and in PyTorch
#
# Train U-AutoRec (`variant="user"`) with `framework="mxnet"` and with `framework="torch"`, from
# the same initial weights, with the course's U-AutoRec options except for the number of epochs:
# cap it at `U_EPOCHS = 60` (the course allows up to 300; the cap keeps this notebook within its
# time budget, and it is the same for both frameworks). Store the two `experiment.Result`s as
# `user_results = {"torch": ..., "mxnet": ...}` and the absolute difference of their
# **validation** RMSEs as `user_gap`.
#
# *Hint:* section 5.3 does the same for I-AutoRec. Give `experiment.train` a `train_config` built
# from `experiment.defaults("autorec", "user")["train"]` with only the epochs changed. Compare the
# two on the validation split, as everything in this course is chosen and compared; the test split
# is for the final report only (`eval_test=False` skips scoring it after every epoch).

# %% tags=["solution"]
U_EPOCHS = 60
user = experiment.defaults("autorec", "user")
assert user["train"]["epochs"] == 300 and user["model"]["dropout"] == 0.5  # as the text says
user_cfg = TrainConfig(**{**user["train"], "epochs": U_EPOCHS})
_, user_config = experiment.model_config("autorec", "user", data, user["model"])
torch.manual_seed(user_cfg.seed)
user_initial = tb.get_weights(tb.AutoRec(**user_config))
user_results = {fw: experiment.train(data, split, "autorec", "user", framework=fw, train_config=user_cfg,
                                     init_weights=user_initial, progress=False, eval_test=False)
                for fw in ("torch", "mxnet")}
user_gap = abs(user_results["mxnet"].scores["valid"].rmse - user_results["torch"].scores["valid"].rmse)
user_table = pd.DataFrame({
    "valid RMSE": {fw: r.scores["valid"].rmse for fw, r in user_results.items()},
    "best epoch": {fw: r.history.best_epoch for fw, r in user_results.items()},
    "epochs run": {fw: len(r.history.records) for fw, r in user_results.items()},
})
print(user_table.round(4))
print(f"validation RMSE gap: {user_gap:.4f}")
assert user_gap < 0.005
assert all(r.history.best_epoch > U_EPOCHS - 5 for r in user_results.values())

# %%
ch05.check_user_autorec(user_results, data, split, user_gap)

# %% [markdown] tags=["solution"]
# **What the solution shows.** MXNet and PyTorch end within 0.005 validation RMSE of each other
# (asserted in the solution cell). Unlike I-AutoRec in 5.3, these are not the same computation:
# U-AutoRec uses dropout 0.5, and each framework draws its own dropout masks, so the two runs take
# different random paths from the same start. Both were still improving when the cap stopped them
# (their best epoch is among the last five, asserted), so these are not the RMSEs U-AutoRec reaches
# with the course's full budget (notebook 04 trains it that way); the comparison between the
# frameworks is fair because both stopped at the same cap.

# %% [markdown]
# ### Exercise 3: the hand-written MXNet Rprop against `torch.optim.Rprop`
#
# MXNet has no Rprop optimizer (`mx.optimizer.Optimizer.opt_registry` lists none), so the library
# writes one: read `mb.Rprop`
# (`print(inspect.getsource(mb.Rprop))`). Check it against `torch.optim.Rprop`: start a small
# weight vector at the same values in both frameworks, feed both optimizers the same gradients for
# at least three steps, with some entries keeping their sign from one step to the next and at
# least one entry flipping its sign, and record the weights after every step. Store
# `rprop = {"lr": ..., "initial": ..., "grads": [...], "mxnet": [...], "torch": [...], "max_diff": ...}`:
# the learning rate, the initial weights, the gradient of each step, the weights after each step
# in each framework, and the largest absolute difference between the two frameworks' weights.
#
# *Hint:* the loss `(w * g).sum()` has gradient exactly `g`, whatever `w` is; use it in both
# frameworks (inside `autograd.record()` in MXNet). In MXNet the weights can be a
# `gluon.Parameter` that you `initialize()` and `set_data(...)`. Use one learning rate for both.
# Store copies of the weights (`.asnumpy().copy()`, `.detach().numpy().copy()`), or later steps
# will overwrite what you stored.

# %% tags=["solution"]
assert "rprop" not in mx.optimizer.Optimizer.opt_registry  # hence the library's own
lr = 0.1
initial_w = np.array([0.5, -0.2, 0.1, 0.3], dtype=np.float32)
grads = [np.array(g, dtype=np.float32) for g in
         ([1.0, -2.0, 0.5, 0.0], [0.5, 1.0, 0.4, -1.0], [0.3, 3.0, -0.2, -0.5], [0.2, -1.0, 0.1, -0.5])]

w_mx = gluon.Parameter("w", shape=initial_w.shape)
w_mx.initialize(ctx=ctx)
w_mx.set_data(nd.array(initial_w, ctx=ctx))
mx_rprop = mb.Rprop([w_mx], lr)
w_torch = torch.nn.Parameter(torch.tensor(initial_w))
torch_rprop = torch.optim.Rprop([w_torch], lr=lr)

after_mx, after_torch = [], []
for g in grads:
    with autograd.record():
        loss = (w_mx.data() * nd.array(g, ctx=ctx)).sum()
    loss.backward()
    mx_rprop.step()
    after_mx.append(w_mx.data().asnumpy().copy())

    torch_rprop.zero_grad()
    (w_torch * torch.from_numpy(g)).sum().backward()
    torch_rprop.step()
    after_torch.append(w_torch.detach().numpy().copy())

rprop = {"lr": lr, "initial": initial_w, "grads": grads, "mxnet": after_mx, "torch": after_torch,
         "max_diff": max(float(np.abs(a - b).max()) for a, b in zip(after_mx, after_torch))}
print(pd.DataFrame({"gradient of w[1]": [g[1] for g in grads],
                    "w[1], MXNet": [w[1] for w in after_mx],
                    "w[1], PyTorch": [w[1] for w in after_torch]}, index=pd.RangeIndex(1, 5, name="step")))
print(f"largest difference over {len(grads)} steps: {rprop['max_diff']:.1e}")
assert rprop["max_diff"] < 1e-6
assert after_mx[1][1] == after_mx[0][1]  # step 2: the gradient flipped sign, so w[1] stays put
assert np.isclose(after_mx[2][1] - after_mx[1][1], -lr / 2)  # step 3: it moves by the halved step

# %%
ch05.check_rprop(rprop)

# %% [markdown] tags=["solution"]
# **What the solution shows.** Over four steps the two optimizers give the same weights (the
# largest difference printed above, asserted below 1e-6), including the step where a gradient
# changes sign. Follow `w[1]`: its gradient is −2, then +1. At step 2 the sign flipped, so both
# optimizers halve its step size, do not move it, and forget its gradient; at step 3 the sign
# cannot be compared with a forgotten gradient, so it moves by the halved step, 0.05 (asserted).
# That is iRprop−, the variant `torch.optim.Rprop` implements, and the library's Rprop follows it
# rule for rule.
