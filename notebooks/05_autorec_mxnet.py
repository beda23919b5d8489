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

# %% tags=["colab-setup"]
# Setup for Google Colab (elsewhere this cell does nothing): install the course library from
# the repository's development branch, main, as it is on the day this cell runs
# (pyproject.toml's [tool.autorec] names it), and find or download MovieLens 100K (the library
# checks the download's SHA-256 against the digest it ships). Colab's own PyTorch is used; MXNet
# is not available there.
try:
    import google.colab  # noqa: F401  (only Colab has it)
    ON_COLAB = True
except ImportError:
    ON_COLAB = False
if ON_COLAB:
    import subprocess
    import sys

    SOURCE = "git+https://github.com/autorec-course/autorec-course@main"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"autorec-lib @ {SOURCE}"], check=True)
    from autorec_lib import datasets

    print(f"autorec_lib installed from {SOURCE}; MovieLens 100K at {datasets.load('ml-100k').path}")

# %% [markdown]
# # 5. AutoRec in MXNet
#
# The same model in MXNet's Gluon API, side by side with PyTorch. Dive into Deep Learning's
# recommender chapter, which many learners meet first, is written in MXNet; this notebook lets
# you move between the two with confidence, because every claim of "the same" is checked.
#
# **A word on MXNet's status.** Apache MXNet is retired: 1.9.1 (May 2022) is its last release. It
# needs NumPy < 1.24 (the course pins 1.23.5), hence Python 3.11 at the newest, and its last GPU
# wheels were built for CUDA 10.1 to 11.7, none for CUDA 12. It is worth reading for the Gluon ideas
# (hybridization in particular), but start new projects in PyTorch. Only this notebook needs it, and
# it imports PyTorch too, for the side-by-side checks: install both with `pip install -e '.[torch,mxnet]'`
# (or the whole course environment with `pip install -e '.[full]'`; with conda,
# `conda env create -f environment.yml`).
#
# **Without MXNet** (Colab, Python 3.12 or newer, NumPy 2) this notebook still runs: every cell that
# needs MXNet starts with the comment `# needs MXNet` and, when MXNet is missing, prints one line
# saying so instead of running; the PyTorch cells run as usual. The MXNet outputs stored in this
# file show what those cells printed on the course's Python 3.11 environment.
#
# **GPUs.** The PyTorch cells use a CUDA GPU when PyTorch sees one. The course installs MXNet's CPU
# build (`mxnet==1.9.1`), so MXNet computes on the CPU even on a GPU machine; its GPU builds
# (`mxnet-cu112` to `mxnet-cu117`) need a CUDA 11 toolkit, which the course neither installs nor
# tests.
#
# **What you will learn**
#
# * how to write AutoRec as a Gluon `HybridBlock`, and what hybridization does;
# * how to show that two frameworks compute the same thing: identical weights in, the same
#   predictions, loss and gradients out, up to float32 rounding;
# * how the two compare in accuracy when trained the same way, and why a timing taken in a
#   process that loads both frameworks is not a fair race between them.

# %%
import dataclasses
import html
import inspect
import json
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

torch_threads_alone = torch.get_num_threads()  # read before MXNet is imported (see 5.3)

from IPython import get_ipython
from IPython.display import HTML

from autorec_lib import backends, datasets, experiment, splits
from autorec_lib import torch_backend as tb
from autorec_lib.config import ACTIVATIONS, AutoRecConfig, course_config
from autorec_lib.matrix import RatingMatrix
from autorec_lib.objective import autorec_loss

try:
    mb = backends.get("mxnet")  # the library's MXNet backend; ImportError without MXNet
    import mxnet as mx
    from mxnet import autograd, gluon, nd
    HAVE_MXNET, SKIPPED = True, ""
except ImportError as err:
    HAVE_MXNET, SKIPPED = False, f"skipped, this cell needs MXNet: {err}"


def skip_mxnet_cells(lines: list[str]) -> list[str]:
    """An IPython input transformer: a cell whose first line is `# needs MXNet` only prints SKIPPED."""
    return [f"print({SKIPPED!r})\n"] if lines and lines[0].strip() == "# needs MXNet" else lines


transformers = get_ipython().input_transformers_cleanup
transformers[:] = [f for f in transformers if getattr(f, "__name__", "") != "skip_mxnet_cells"]  # re-runs: once
if not HAVE_MXNET:
    transformers.append(skip_mxnet_cells)
    print(f"MXNet is missing: the cells marked `# needs MXNet` will be skipped. {backends.MISSING['mxnet']}")
data = datasets.load("ml-100k")
split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)

# %%
# needs MXNet
torch_threads_with_mxnet = torch.get_num_threads()
ctx = mb.pick_context("auto")
assert isinstance(ctx, mx.Context)  # one context, not a list
assert mx.__version__ == "1.9.1" and tuple(int(v) for v in np.__version__.split(".")[:2]) < (1, 24)
print(f"MXNet {mx.__version__}, NumPy {np.__version__}, context {ctx}")
print(f"PyTorch threads: {torch_threads_alone} before MXNet was imported, {torch_threads_with_mxnet} after")
assert torch_threads_with_mxnet == torch_threads_alone  # the library puts PyTorch's thread count back

# %% [markdown]
# `pick_context` returns the GPU context when MXNet sees a GPU and the CPU otherwise: always one
# context, never an empty list (d2l 1.0's `try_all_gpus()` returns `[]` on a CPU-only machine,
# which breaks code that indexes it).
#
# The second line printed matters for section 5.3. Importing MXNet on its own can change how
# many threads PyTorch computes with in the same process: MXNet's engine sets the thread count of
# OpenMP, the threading library both frameworks share (on a 2-core machine left to its defaults,
# from 2 to 1). `autorec_lib.mxnet_backend` reads the count before it imports MXNet and puts it
# back, so both frameworks here compute with the same number of threads (asserted above). Where
# the environment variable `OMP_NUM_THREADS` sets the count, as it did when the outputs stored in
# this notebook were made (both counts are 1), it stays put either way.
#
# ## 5.1 The model in Gluon
#
# A Gluon `HybridBlock` declares its layers in `__init__` and its computation in
# `hybrid_forward(F, x)`, where `F` is either `mx.nd` (run eagerly, like PyTorch) or `mx.sym`
# (build a symbolic graph). After `hybridize()`, the first call traces the graph once, and later
# calls run the compiled graph without running the Python code of `hybrid_forward` again.

# %%
# needs MXNet
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
# needs MXNet
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
# The library's two implementations, side by side. Both are the plain dense model of notebook 3:
# a list of linear layers (`layers`), each hidden layer followed by $g$ and dropout and the last
# by $f$, with the same `weight_matrices` (what λ penalises) and the same weight names `W0, b0,
# W1, b1` (asserted below). Read them for what differs, which is the framework's idiom: Gluon
# declares layers inside `name_scope()` and computes in `hybrid_forward(F, r)`, writes the
# activations as one function of `F` where PyTorch keeps `g` and `f` as modules, and passes each
# layer an initializer (next cell). `nn.Linear` and `Dense` both store the weight as
# *outputs × inputs*, which is what makes sharing weights straightforward.

# %%
# needs MXNet
def side_by_side(left, right, titles=("PyTorch", "MXNet Gluon")):
    cells = "".join(f"<td style='vertical-align:top;text-align:left'><b>{t}</b><pre style='font-size:11px'>"
                    f"{html.escape(inspect.getsource(obj))}</pre></td>" for t, obj in zip(titles, (left, right)))
    return HTML(f"<table><tr>{cells}</tr></table>")


torch_twin, gluon_twin = tb.AutoRec(n_inputs=data.n_users, hidden=500), mb.AutoRec(data.n_users, 500)
torch_shape = tuple(torch_twin.layers[0].weight.shape)
gluon_shape = tuple(gluon_twin.layers[0].weight.shape)
assert torch_shape == gluon_shape == (500, data.n_users)  # outputs x inputs in both
assert list(torch_twin.named_weights()) == list(gluon_twin.named_weights()) == ["W0", "b0", "W1", "b1"]
assert len(torch_twin.layers) == len(gluon_twin.layers) == 2
side_by_side(tb.AutoRec, mb.AutoRec)

# %% [markdown]
# One difference hides in `weight_initializer=init, bias_initializer=init`: the frameworks'
# default initialisations differ. A Gluon `Dense` layer given no initializer, as in `MyAutoRec`
# above, draws its weights from `initialize()`'s default, U(−0.07, 0.07), and starts its biases at
# zero; PyTorch's `nn.Linear` draws both from U(−1/√fan_in, 1/√fan_in), which for 943 inputs is
# U(−0.033, 0.033). The library's Gluon model passes PyTorch's rule to each layer
# (`mb._torch_like_init`), so that both frameworks start from the same distribution; section 5.3
# goes further and gives them the very same weights.

# %%
# needs MXNet
def largest(param) -> float:
    values = param.detach().numpy() if torch.is_tensor(param) else param.data().asnumpy()
    return float(np.abs(values).max())


gluon_default = gluon.nn.Dense(500, in_units=data.n_users)
gluon_default.initialize(ctx=ctx)
torch_default = torch.nn.Linear(data.n_users, 500)
library_layer = mb.build_model(AutoRecConfig(data.n_users, hidden=500)).layers[0]
init_ranges = pd.DataFrame(
    [[largest(layer.weight), largest(layer.bias)] for layer in (gluon_default, torch_default, library_layer)],
    columns=["largest |weight|", "largest |bias|"],
    index=["Gluon Dense, default", "PyTorch nn.Linear, default", "library's Gluon AutoRec"])
bound = 1 / np.sqrt(data.n_users)
assert data.n_users == 943 and round(bound, 3) == 0.033
assert 0.069 < init_ranges.iloc[0, 0] <= 0.07 and init_ranges.iloc[0, 1] == 0
assert all(0.95 * bound < init_ranges.iloc[k, j] <= bound for k in (1, 2) for j in (0, 1))
print(f"1/sqrt({data.n_users}) = {bound:.4f}")
init_ranges.round(4)

# %% [markdown]
# ## 5.2 Parity: same weights, same numbers
#
# First our short block against the library's Gluon model, then the library's Gluon model against
# the PyTorch one, for both orientations and for five encoder/decoder pairs that between them use
# each of the library's six activations.

# %%
# needs MXNet
matrix = RatingMatrix(split.train, data.n_users, data.n_items, variant="item")
values, mask = matrix.dense(np.arange(64))
lib_mx = mb.build_model(AutoRecConfig(data.n_users, hidden=500))
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
# needs MXNet
rows = []
pairs = (("sigmoid", "identity"), ("identity", "identity"), ("relu", "sigmoid"), ("tanh", "elu"),
         ("selu", "identity"))
assert {name for pair in pairs for name in pair} == set(ACTIVATIONS) and len(ACTIVATIONS) == 6
for variant, d in (("item", data.n_users), ("user", data.n_items)):
    vals = RatingMatrix(split.train, data.n_users, data.n_items, variant).dense(np.arange(16))[0]
    for encoder, decoder in pairs:
        config = AutoRecConfig(d, hidden=64, encoder=encoder, decoder=decoder)
        torch.manual_seed(0)
        t_model = tb.build_model(config).eval()
        m_model = mb.build_model(config)
        mb.set_weights(m_model, tb.get_weights(t_model))
        with torch.no_grad():
            t_out = t_model(torch.from_numpy(vals)).numpy()
        m_out = m_model(nd.array(vals, ctx=ctx)).asnumpy()
        diff = float(np.abs(t_out - m_out).max())
        assert diff < 1e-5
        rows.append({"variant": variant, "encoder": encoder, "decoder": decoder, "max |PyTorch - MXNet|": diff})
parity = pd.DataFrame(rows)
print(f"largest difference over all {len(parity)} models: {parity['max |PyTorch - MXNet|'].max():.1e}")
parity

# %% [markdown]
# The outputs agree to float32 rounding (below 1e-5, asserted) for every model above. Next, the
# masked loss and its gradients. The objective is the *same function* in both frameworks
# (`autorec_lib.objective.autorec_loss` uses only arithmetic operators and `.sum()`), so comparing
# the gradients checks the two autograd engines against each other.

# %%
# needs MXNet
torch.manual_seed(0)
t_model = tb.AutoRec(n_inputs=data.n_users, hidden=500)
m_model = mb.build_model(AutoRecConfig(data.n_users, hidden=500))
mb.set_weights(m_model, tb.get_weights(t_model))
tr, tm = torch.from_numpy(values), torch.from_numpy(mask)
share = 64 / matrix.shape[0]  # a 64-row mini-batch carries this share of the weight penalty, as in training
t_loss = autorec_loss(t_model(tr), tr, tm, t_model.weight_matrices(), lam=100.0, fraction=share)
t_loss.backward()
with autograd.record():
    m_loss = autorec_loss(m_model(nd.array(values, ctx=ctx)), nd.array(values, ctx=ctx),
                          nd.array(mask, ctx=ctx), m_model.weight_matrices(), lam=100.0, fraction=share)
m_loss.backward()
loss_rel = abs(t_loss.item() - m_loss.asscalar()) / t_loss.item()
grad_rel = {}
for name, p in m_model.named_weights().items():
    t_grad = t_model.named_weights()[name].grad.numpy()
    grad_rel[name] = float(np.abs(p.grad().asnumpy() - t_grad).max() / np.abs(t_grad).max())
print(f"loss: PyTorch {t_loss.item():.4f}, MXNet {m_loss.asscalar():.4f} (relative difference {loss_rel:.1e})")
print("largest gradient difference, relative to the largest gradient entry: "
      + ", ".join(f"{k} {v:.1e}" for k, v in grad_rel.items()))
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
# so whatever differs at the end comes from the frameworks' arithmetic and optimizers alone. PyTorch
# gets dense rows and a mask here (`inputs="dense"`), the way MXNet computes, rather than the sparse
# ratings its learner takes by default on a CPU (notebook 3, at the end): the same computation in both.

# %%
config = course_config("autorec", "item").bind(data.n_users, data.n_items)  # the course's I-AutoRec
torch.manual_seed(0)
initial = tb.get_weights(tb.build_model(config.net))

# %%
# NBVAL_IGNORE_OUTPUT
results = {"torch": experiment.train(data, split, "autorec", "item", framework="torch", init_weights=initial,
                                     inputs="dense")}

# %%
# needs MXNet
# NBVAL_IGNORE_OUTPUT
results["mxnet"] = experiment.train(data, split, "autorec", "item", framework="mxnet", init_weights=initial)

# %%
# needs MXNet
curves = {fw: r.history.frame()["valid_rmse"] for fw, r in results.items()}
assert curves["torch"].index.equals(curves["mxnet"].index)
curve_gap = float((curves["torch"] - curves["mxnet"]).abs().max())
assert curve_gap < 1e-4
fig, ax = plt.subplots(figsize=(7, 3.6))
for (fw, curve), style in zip(curves.items(), ("-", "--")):
    ax.plot(curve.index, curve, style, lw=2 if style == "-" else 1.5, label=f"{fw} validation")
ax.set(xlabel="epoch", ylabel="RMSE", ylim=(0.86, 1.0),
       title=f"I-AutoRec: the two curves coincide (largest gap {curve_gap:.0e})")
ax.legend();

# %%
table = pd.DataFrame({
    "valid RMSE": {fw: r.scores["valid"].rmse for fw, r in results.items()},
    "test RMSE": {fw: r.test_rmse for fw, r in results.items()},
    "best epoch": {fw: r.history.best_epoch for fw, r in results.items()},
    "s/epoch": {fw: r.history.seconds_per_epoch for fw, r in results.items()},
    # PyTorch names a device "cpu" or the GPU's model, MXNet "cpu(0)" or "gpu(0)": shown alike here
    "device": {fw: "CPU" if r.device.startswith("cpu") else "GPU" for fw, r in results.items()},
})
table.round({"valid RMSE": 6, "test RMSE": 6, "s/epoch": 3})

# %%
# needs MXNet
first_loss = {fw: r.history.records[0]["train_loss"] for fw, r in results.items()}
first_gap = abs(first_loss["torch"] - first_loss["mxnet"]) / first_loss["torch"]
valid_gap = abs(results["torch"].scores["valid"].rmse - results["mxnet"].scores["valid"].rmse)
gap = abs(results["torch"].test_rmse - results["mxnet"].test_rmse)
print(f"first epoch's training loss: PyTorch {first_loss['torch']:.5f}, MXNet {first_loss['mxnet']:.5f} "
      f"(relative difference {first_gap:.1e})")
print(f"RMSE gap between the frameworks: validation {valid_gap:.1e}, test {gap:.1e}")
assert first_gap < 1e-5, "the first epochs should see the same batches from the same weights"
assert results["torch"].history.best_epoch == results["mxnet"].history.best_epoch
assert valid_gap < 1e-4 and gap < 1e-4, f"the frameworks disagree by {max(valid_gap, gap):.1e} RMSE"

# %% [markdown]
# The two runs are the same training up to float32 rounding: the first epoch's losses agree to a
# relative 1e-5, both frameworks pick the same best epoch, and their validation and test RMSEs
# differ by less than 1e-4 (all asserted above; the gaps printed are smaller still).
#
# **About the times.** The `s/epoch` column is one run's measurement of each framework. Both
# computed with the same number of threads (the first cell asserts it), but one timing on a shared
# CPU is noisy, and two frameworks in one process share its caches and allocator. A fair
# comparison times each framework in a process of its own, over several runs, and reports their
# spread; the speed table on the course's benchmarks page is measured that way. The line below is
# this one run's ratio, no more.

# %%
# needs MXNet
ratio = results["mxnet"].history.seconds_per_epoch / results["torch"].history.seconds_per_epoch
assert ratio > 0
faster = "PyTorch" if ratio > 1 else "MXNet"
threads = lambda n: f"{n} thread" + ("s" if n != 1 else "")
print(f"one run's measurement: MXNet took {ratio:.1f}x PyTorch's time per epoch ({faster} was faster), "
      f"with PyTorch on {threads(torch.get_num_threads())} ({threads(torch_threads_alone)} before MXNet "
      f"was imported)")

# %% [markdown]
# A checkpoint written from one framework loads into the other, because the library stores
# weights as plain NumPy arrays under shared names:

# %%
# needs MXNet
with tempfile.TemporaryDirectory() as folder:  # removed, with the checkpoint, when the block ends
    path = results["mxnet"].save(Path(folder) / "mx.npz")
    in_torch = experiment.load(path, framework="torch")
with torch.no_grad():
    via_torch = in_torch.learner.model(torch.from_numpy(values)).numpy()
via_mxnet = results["mxnet"].learner.reconstruct(np.arange(64))
checkpoint_gap = float(np.abs(via_torch - via_mxnet).max())
assert checkpoint_gap < 1e-4
print(f"an MXNet checkpoint reproduces its predictions in PyTorch (max difference {checkpoint_gap:.1e})")

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
#   1e-4 RMSE of each other.
# * Times measured in one process that loads both frameworks are one run's measurement, not a fair
#   speed comparison.
# * MXNet is retired: read it, but prefer PyTorch for new work.
#
# ## Exercises
#
# Exercises 1, 2 and 4 need MXNet: where it is missing (Colab, Python 3.12, NumPy 2) they are
# optional, and their cells print that they were skipped. **Exercise 3 runs everywhere**: it is
# the PyTorch counterpart of exercise 4, the same question (does a hand-written optimizer follow
# a framework's, step for step?) asked of your own NumPy code instead of the library's MXNet code.
#
# The exercises use this notebook's `data`, `split`, `matrix` (I-AutoRec's training matrix) and
# `ctx`, and each has a check below it. `experiment.train` scores every model it trains on the test
# split once training ends (`result.scores["test"]`); the exercises never use that score for
# anything, and the checks never read test ratings.
#
# ### Exercise 1: what does `hybridize()` buy here?
#
# Section 5.1 showed what hybridization changes: after it, the Python code of `hybrid_forward` no
# longer runs on every call. Does that make I-AutoRec's training faster here?
#
# **First predict**, before timing anything: answer `prediction`, one of
# `"hybridized at least 2x faster"`, `"within a factor of 2"`, `"imperative at least 2x faster"`.
#
# **Then measure.** Time one training epoch of I-AutoRec with and without `hybridize()`, using two
# `mb.AutoRecLearner(model, matrix, train_config, ctx)` with the course's I-AutoRec options
# (`course_config("autorec", "item")`) whose models differ in hybridization alone. Store the
# two learners as `hybridized` and `imperative`, their times for one epoch in seconds as
# `seconds = {"hybridized": ..., "imperative": ...}`, and `speedup`, the imperative time divided by
# the hybridized time. The check (given `split` and `data`, to confirm that both learners train on
# the split's training ratings) tells you whether your measurement bears out your prediction.
#
# *Hint:* "differ in hybridization alone" means the same starting weights and the same batches in
# the same order: find what decides each (`mb.get_weights`, `mb.set_weights`, and the `rng` that
# `train_epoch` takes). `mb.build_model` returns a model already hybridized; `model.hybridize(active=False)`
# turns that off. Think about what a hybridized block does on its very first call, and whether
# that belongs in the time of an epoch. One timing on a shared CPU is noisy.

# %% tags=["solution"]
# needs MXNet
prediction = "within a factor of 2"  # a few large matrix products per mini-batch, little Python between them

item = course_config("autorec", "item").bind(data.n_users, data.n_items)
item_cfg = item.train
learners, start_weights = {}, None
for name in ("imperative", "hybridized"):
    model = mb.AutoRec(**dataclasses.asdict(item.net))
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
gflop = item.net.flops_per_epoch(matrix.shape[0]) / 1e9
batches = len(list(matrix.batches(item_cfg.batch_size)))
weight_gap = max(float(np.abs(hybridized.get_weights()[k] - imperative.get_weights()[k]).max())
                 for k in start_weights)
print(f"best of 3 epochs: {seconds['imperative']:.3f} s imperative, {seconds['hybridized']:.3f} s hybridized "
      f"(speed-up {speedup:.2f}x)")
print(f"one epoch is {batches} mini-batches and {gflop:.1f} GFLOP: {gflop / seconds['hybridized']:.0f} GFLOP/s "
      f"hybridized, {gflop / seconds['imperative']:.0f} GFLOP/s imperative")
print(f"after 3 epochs the two models' weights differ by at most {weight_gap:.1e}")
assert 0.5 < speedup < 2, speedup
assert weight_gap < 1e-4 and batches == 7 and round(gflop, 1) == 7.9

# %%
# needs MXNet
from autorec_lib.exercises import ch05

ch05.check_hybridize(hybridized, imperative, seconds, speedup, prediction, split, data)

# %% tags=["answer"]
# needs MXNet
# this run's rates: the fastest epoch of each MXNet model here, and PyTorch's fastest in 5.3
mxnet_rates = {name: gflop / t for name, t in seconds.items()}
torch_rate = gflop / min(r["seconds"] for r in results["torch"].history.records)
print(f"GFLOP/s of the fastest epoch: MXNet {mxnet_rates['hybridized']:.0f} hybridized and "
      f"{mxnet_rates['imperative']:.0f} imperative (of 3 each), PyTorch {torch_rate:.0f} in 5.3 "
      f"(of {len(results['torch'].history.records)})")

# %% [markdown] tags=["solution"]
# **What the solution shows.** Hybridization changes the time of an I-AutoRec epoch by less than a
# factor of two here (the speed-up printed above, the fastest of three interleaved epochs each,
# asserted to lie between 0.5 and 2), while the two models compute the same thing: after the same
# epochs their weights agree to float32 rounding. An epoch is 7 mini-batches of (up to) 256
# movies, and each mini-batch is a handful of operators around matrix products with the 500 × 943
# and 943 × 500 weight matrices: 7.9 GFLOP per epoch in all (both numbers printed and asserted).
# The products are the same arithmetic either way; what hybridization removes is Python's work
# between operators, which is small next to them. It pays off for models made of many small
# operators, and a hybridized block is also what Gluon can export as a graph (`export`) to run
# without the Python class. Three epochs on a shared CPU are a rough measurement: the speed-up
# moves from run to run, which is why the check only asks which of three broad ranges it falls in.

# %% [markdown]
# ### Exercise 2: U-AutoRec in MXNet and in PyTorch
#
# Train U-AutoRec (`variant="user"`) with `framework="mxnet"` and with `framework="torch"`, both
# from the same initial weights, with the course's U-AutoRec options
# (`course_config("autorec", "user")`: 300 hidden units, dropout 0.5, up to 300 epochs) except
# for the number of epochs: cap both at `U_EPOCHS = 60`, which keeps this notebook within its time
# budget. Store the initial weights as `user_initial` (NumPy arrays under the library's names, as
# in 5.3), the two `experiment.Result`s as `user_results = {"torch": ..., "mxnet": ...}`, and the
# absolute difference of their **validation** RMSEs as `user_gap`.
#
# *Hint:* section 5.3 does the same for I-AutoRec. A keyword of `experiment.train` that names a
# setting changes that setting alone. Compare the two on the validation split, as everything in this course is chosen and
# compared; the test split is for the final report only (`eval_test=False` skips scoring it after
# every epoch). The check replays the first epoch of each run from `user_initial`.

# %% tags=["solution"]
# needs MXNet
U_EPOCHS = 60
user = course_config("autorec", "user").replace(epochs=U_EPOCHS).bind(data.n_users, data.n_items)
assert user.net.hidden == (300,) and user.net.dropout == 0.5 and course_config("autorec", "user").train.epochs == 300
torch.manual_seed(user.train.seed)
user_initial = tb.get_weights(tb.build_model(user.net))
user_results = {fw: experiment.train(data, split, config=user.replace(framework=fw),
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
# needs MXNet
ch05.check_user_autorec(user_results, user_initial, user_gap, data, split)

# %% [markdown] tags=["solution"]
# **What the solution shows.** The two validation RMSEs differ by the gap printed above, on one
# pair of runs. Unlike I-AutoRec in 5.3, these are not the same computation: the course's U-AutoRec
# uses dropout 0.5, a setting the course tuned on the validation split (the paper's AutoRec has no
# dropout), and each framework draws its own dropout masks, so the two runs take different random
# paths from the same start. (PyTorch also computes from the sparse ratings here, its default on a
# CPU: the same objective, summed in another order, a far smaller difference than the masks.) So
# the gap mixes the frameworks with two streams of random masks, and one pair of runs cannot say
# how large such gaps are from the masks alone: it shows that both frameworks train U-AutoRec to a
# similar validation RMSE here (the solution asserts a gap below 0.005), not that either is better.
# Both were still improving when the cap stopped them (their best epoch is among the last five,
# asserted), so these are not the RMSEs U-AutoRec reaches with the course's full budget (notebook
# 04 trains it that way).

# %% [markdown]
# ### Exercise 3: Rprop by hand, checked against `torch.optim.Rprop` (runs without MXNet)
#
# Rprop (resilient backpropagation) ignores the size of each gradient entry and keeps a step size
# of its own for every weight. `torch.optim.Rprop` implements the variant iRprop−; read the
# algorithm in its documentation (`help(torch.optim.Rprop)`, or the PyTorch docs page, which
# gives it in pseudo-code). Write it yourself in NumPy: `rprop_numpy(initial, grads, lr)` starts
# from the weights `initial` (an array), takes one step per gradient in the list `grads`, with
# every step size starting at `lr` and PyTorch's other defaults (`etas=(0.5, 1.2)`,
# `step_sizes=(1e-6, 50)`), and returns a list with the weights after each step. The check calls
# your function on cases of its own and compares every step with `torch.optim.Rprop`.
#
# *Hint:* keep three arrays the size of the weights: the weights, the step sizes and the gradient
# remembered from the step before. Everything is elementwise (`np.sign`, `np.where`, `np.clip`).
# Mind what you append after each step: the weights array itself would be updated in place by
# later steps unless you append a copy.

# %% tags=["solution"]
def rprop_numpy(initial, grads, lr, etas=(0.5, 1.2), step_sizes=(1e-6, 50.0)):
    w = np.array(initial, dtype=np.float64)
    step = np.full_like(w, lr)
    prev = np.zeros_like(w)
    after = []
    for g in grads:
        change = np.sign(g * prev)  # +1 the sign was kept, -1 it flipped, 0 no gradient remembered
        step = np.clip(step * np.where(change > 0, etas[1], np.where(change < 0, etas[0], 1.0)), *step_sizes)
        g = np.where(change < 0, 0.0, g)  # after a sign change: no move now, and nothing remembered
        w = w - np.sign(g) * step
        prev = g
        after.append(w.copy())
    return after


# the four steps of exercise 4's gradients, against PyTorch (its solution shows them entry by entry)
probe_w = np.array([0.5, -0.2, 0.1, 0.3], dtype=np.float32)
probe_grads = [np.array(g, dtype=np.float32) for g in
               ([1.0, -2.0, 0.5, 0.0], [0.5, 1.0, 0.4, -1.0], [0.3, 3.0, -0.2, -0.5], [0.2, -1.0, 0.1, -0.5])]
probe_t = torch.nn.Parameter(torch.tensor(probe_w))
probe_opt = torch.optim.Rprop([probe_t], lr=0.1)
by_torch = []
for g in probe_grads:
    probe_t.grad = torch.from_numpy(g)
    probe_opt.step()
    by_torch.append(probe_t.detach().numpy().copy())
by_hand = rprop_numpy(probe_w, probe_grads, 0.1)
print(pd.DataFrame({"gradient of w[1]": [g[1] for g in probe_grads], "w[1], by hand": [w[1] for w in by_hand],
                    "w[1], PyTorch": [w[1] for w in by_torch]}, index=pd.RangeIndex(1, 5, name="step")))
assert max(float(np.abs(a - b).max()) for a, b in zip(by_hand, by_torch)) < 1e-6
assert by_hand[1][1] == by_hand[0][1] and np.isclose(by_hand[2][1] - by_hand[1][1], -0.05)

# %%
from autorec_lib.exercises import ch05

ch05.check_rprop_by_hand(rprop_numpy)

# %% [markdown] tags=["solution"]
# **What the solution shows.** Follow `w[1]` in the table: its gradient is −2, then +1. At step 2
# the sign flipped, so its step size is halved, the weight does not move, and the gradient is
# forgotten (stored as 0); at step 3 the new gradient cannot be compared with a forgotten one, so
# the weight moves by the halved step, 0.05 (asserted). Those two rules, skip the move and forget,
# are what make this iRprop− rather than the original Rprop, which undoes the previous move on a
# sign change instead. The check ran your function on cases where a step size grows to its upper
# bound of 50 and shrinks to its lower bound of 1e-6, which four steps never reach.

# %% [markdown]
# ### Exercise 4: the hand-written MXNet Rprop against `torch.optim.Rprop` (needs MXNet)
#
# MXNet has no Rprop optimizer (`mx.optimizer.Optimizer.opt_registry` lists none), so the library
# writes one: read `mb.Rprop` (`print(inspect.getsource(mb.Rprop))`) and compare it with your
# `rprop_numpy` of exercise 3. Check it against `torch.optim.Rprop`: start a small weight vector at
# the same values in both frameworks, feed both optimizers the same gradients for at least three
# steps, with some entries keeping their sign from one step to the next and at least one entry
# flipping its sign, and record the weights after every step. Store
# `rprop = {"lr": ..., "initial": ..., "grads": [...], "mxnet": [...], "torch": [...], "max_diff": ...}`:
# the learning rate, the initial weights, the gradient of each step, the weights after each step
# in each framework, and the largest absolute difference between the two frameworks' weights.
#
# *Hint:* the loss `(w * g).sum()` has gradient exactly `g`, whatever `w` is; use it in both
# frameworks (inside `autograd.record()` in MXNet). In MXNet the weights can be a
# `gluon.Parameter` that you `initialize()` and `set_data(...)`. Use one learning rate for both,
# and weights of order 1 with a learning rate around 0.1, so that every step shows in float32.
# Mind what you store after each step: PyTorch's `.detach().numpy()` shares memory with the
# tensor, so later steps would overwrite it unless you `.copy()` it, while MXNet's `.asnumpy()`
# already returns a new array.

# %% tags=["solution"]
# needs MXNet
assert "rprop" not in mx.optimizer.Optimizer.opt_registry  # hence the library's own
lr = 0.1
initial_w = probe_w.copy()
grads = [g.copy() for g in probe_grads]

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
    after_mx.append(w_mx.data().asnumpy())  # a new array: no copy needed

    torch_rprop.zero_grad()
    (w_torch * torch.from_numpy(g)).sum().backward()
    torch_rprop.step()
    after_torch.append(w_torch.detach().numpy().copy())  # .numpy() shares memory: copy it

rprop = {"lr": lr, "initial": initial_w, "grads": grads, "mxnet": after_mx, "torch": after_torch,
         "max_diff": max(float(np.abs(a - b).max()) for a, b in zip(after_mx, after_torch))}
print(pd.DataFrame({"gradient of w[1]": [g[1] for g in grads],
                    "w[1], MXNet": [w[1] for w in after_mx],
                    "w[1], PyTorch": [w[1] for w in after_torch]}, index=pd.RangeIndex(1, 5, name="step")))
print(f"largest difference over {len(grads)} steps: {rprop['max_diff']:.1e}")
assert rprop["max_diff"] < 1e-6
assert max(float(np.abs(a - b).max()) for a, b in zip(after_mx, by_hand)) < 1e-6  # and with exercise 3's

# %%
# needs MXNet
ch05.check_rprop(rprop)

# %% [markdown] tags=["solution"]
# **What the solution shows.** Over four steps the library's MXNet Rprop, PyTorch's and your NumPy
# one from exercise 3 give the same weights (differences below 1e-6, asserted), the sign change of
# `w[1]` at step 2 included: the library's Rprop follows iRprop− rule for rule.

# %% [markdown]
# ## Questions
#
# Answer in words; there is no check. Compare with the model answers in the solution notebook.
#
# 1. In 5.3 the two frameworks' validation curves coincide to 1e-4 at every epoch; in exercise 2
#    the frameworks' U-AutoRec runs end at different validation RMSEs, from the same initial
#    weights. What differs between the two settings, and what would you need to say whether one
#    framework trains U-AutoRec better than the other?
# 2. A colleague trains I-AutoRec once in PyTorch and once in MXNet, in the same notebook, and
#    reports "MXNet is 10% faster per epoch". What would you ask, and how would you measure it
#    before believing it?

# %% [markdown] tags=["answer"]
# **Model answers.**
#
# 1. I-AutoRec has no dropout: with the same weights and the same batches in the same order, both
#    frameworks do the same arithmetic, and only float32 rounding differs. The course's U-AutoRec
#    uses dropout 0.5 and each framework draws its own random masks, so the two runs follow
#    different random paths. One pair of runs cannot separate "framework" from "masks": train
#    both frameworks over several seeds (the same seeds on both sides), look at the paired
#    per-seed differences, and call one better only if their mean is clearly away from 0 next to
#    its standard error.
# 2. Whether both used the same number of threads (importing MXNet can change PyTorch's; 5.3
#    checks it), whether the data, batches and model were the same, whether the first epochs
#    (warm-up, graph tracing) were counted, and how much one timing varies on that machine.
#    Measure each framework in a process of its own, several runs each, interleaved so that a
#    busy moment on the machine hits both, and report the spread; a 10% difference from one run
#    each in one process is within what a shared CPU varies by.
