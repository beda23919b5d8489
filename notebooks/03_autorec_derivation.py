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
# # 3. The AutoRec derivation
#
# This notebook derives AutoRec on paper and checks every step in code: the model, the objective
# that ignores unknown ratings, its gradients by hand against automatic differentiation, and what
# the model becomes when its activations are linear.
#
# **What you will learn**
#
# * how an autoencoder becomes a recommender, and the AutoRec model equation;
# * why the objective sums over observed ratings only; what the mask makes exactly zero, and what
#   the weight penalty and the optimizer still update;
# * the gradients of the objective by hand, checked numerically against autograd;
# * how the paper's λ relates to an optimizer's weight decay, and to the settings of d2l's AutoRec;
# * item-based vs user-based AutoRec: the same ratings arranged two ways, their parameter counts at
#   the sizes the course trains, and what the paper's explanation of I-AutoRec's lead says about
#   MovieLens 100K;
# * AutoRec with identity activations as a low-rank factorization; the cost of an epoch, and why
#   the library keeps the rating matrix sparse.

# %%
import inspect
import json
import time

import numpy as np
import pandas as pd
import torch
from IPython.display import Code

from autorec_lib import datasets, experiment, metrics, objective, splits
from autorec_lib.config import AutoRecConfig, course_config
from autorec_lib.matrix import DENSE_CACHE_LIMIT, RatingMatrix
from autorec_lib.torch_backend import AutoRec

data = datasets.load("ml-100k")
split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)

# %% [markdown]
# ## 3.1 From autoencoders to AutoRec
#
# An autoencoder learns to copy its input through a narrow middle: an encoder maps
# $r \in \mathbb{R}^d$ to a code $h \in \mathbb{R}^k$ with $k < d$, and a decoder maps the code back.
# Because the code is small, the network must learn the regularities of its inputs to copy them.
#
# AutoRec's idea: feed the autoencoder one **row of the rating matrix** at a time, where the
# matrix is oriented to suit the variant. In item-based AutoRec (I-AutoRec) it is the
# movie-oriented matrix, `RatingMatrix(..., "item")`, whose rows are movies: the transpose of
# notebook 01's picture, in which users were rows. A row is then one movie's ratings by all $m$
# users, $r^{(i)} \in \mathbb{R}^m$. In user-based AutoRec (U-AutoRec, `RatingMatrix(..., "user")`)
# a row is one user's ratings of all $n$ movies. The reconstruction is
#
# $$h(r; \theta) = f\!\left(W \cdot g(V r + \mu) + b\right), \qquad V \in \mathbb{R}^{k\times d},\ \mu \in \mathbb{R}^k,\ W \in \mathbb{R}^{d\times k},\ b \in \mathbb{R}^d,$$
#
# with an encoder activation $g$ (the paper: sigmoid) and a decoder activation $f$ (identity).
# The reconstruction has an entry for *every* user, including those who never rated the movie:
# those entries are the predictions. The prediction for user $u$ and movie $i$ is
# $\hat r_{ui} = h(r^{(i)})_u$.
#
# ## 3.2 The objective: observed entries only
#
# Most of $r$ is unknown, and an unknown entry is not a rating of zero. The library fills the
# unknown entries of an input row with 0; if we also asked the network to *reconstruct* those
# zeros, it would spend its capacity learning that almost everything is zero:

# %%
matrix = RatingMatrix(split.train, data.n_users, data.n_items, "item")  # rows = movies
values, mask = matrix.dense(np.arange(matrix.shape[0]))
assert matrix.shape == (data.n_items, data.n_users)
observed_mean, filled_mean = values[mask == 1].mean(), values.mean()
print(f"{int(mask.sum()):,} of {mask.size:,} entries observed ({mask.mean():.1%})")
print(f"mean of the observed ratings: {observed_mean:.2f}")
print(f"mean of the filled-in matrix, zeros included: {filled_mean:.2f}")
assert round(float(observed_mean), 2) == 3.53 and round(float(filled_mean), 2) == 0.18
assert round(float(mask.mean()), 3) == 0.051

# %% [markdown]
# Only 5.1% of the entries are ratings. The best constant prediction for the filled-in matrix, in
# squared error, is its mean: 0.18 stars, against 3.53 for the ratings themselves. So AutoRec's
# objective sums the squared error over **observed** entries only, and adds an L2 penalty on the
# two weight matrices (not the biases):
#
# $$\min_\theta \sum_{i} \big\lVert \left(r^{(i)} - h(r^{(i)};\theta)\right) \odot m^{(i)} \big\rVert^2 + \frac{\lambda}{2}\left(\lVert W\rVert_F^2 + \lVert V\rVert_F^2\right),$$
#
# where $m^{(i)}$ is 1 on observed entries and 0 elsewhere. The paper puts it as updating only
# the weights associated with observed inputs; Sec. 3.3 works out what that means exactly, and
# what it leaves out. The library writes the objective once, for NumPy, PyTorch and MXNet arrays
# alike:

# %%
Code(inspect.getsource(objective.masked_sse) + "\n\n" + inspect.getsource(objective.weight_penalty)
     + "\n\n" + inspect.getsource(objective.autorec_loss), language="python")

# %% [markdown]
# Two properties follow from the mask, and we check both. Whatever sits in an unobserved target
# does not change the loss; and the gradient of the loss with respect to the output is exactly
# zero at unobserved entries, so no error flows back from them.

# %%
torch.manual_seed(0)
small = AutoRec(n_inputs=data.n_users, hidden=16)
r = torch.from_numpy(values[:8])
m = torch.from_numpy(mask[:8])
out = small(r)
loss = objective.masked_sse(out, r, m)
garbage = r + (1 - m) * 1000.0  # nonsense in every unobserved target
assert torch.isclose(objective.masked_sse(out, garbage, m), loss)
grad_out, = torch.autograd.grad(loss, out)
assert torch.all(grad_out[m == 0] == 0) and torch.all(grad_out[m == 1] != 0)
print(f"{int((m == 0).sum())} unobserved entries in this batch, all with gradient exactly 0; "
      f"{int((grad_out[m == 1] != 0).sum())} of {int(m.sum())} observed entries carry gradient")

# %% [markdown]
# ## 3.3 Gradients by hand
#
# Take the paper's choice, $g = \sigma$ (sigmoid) and $f$ the identity, and stack the rows of a
# batch into a matrix $R$ with mask $M$. Forward:
#
# $$H = \sigma(R V^\top + \mu), \qquad \hat R = H W^\top + b, \qquad E = (\hat R - R) \odot M .$$
#
# The loss is $L = \lVert E\rVert_F^2 + \frac{\lambda}{2}(\lVert W\rVert_F^2 + \lVert V\rVert_F^2)$.
# Differentiating, with $\sigma' = \sigma(1-\sigma)$:
#
# $$\frac{\partial L}{\partial W} = 2E^\top H + \lambda W, \qquad \frac{\partial L}{\partial b} = 2\sum_{\text{rows}} E,$$
#
# $$\Delta = (2 E W) \odot H \odot (1 - H), \qquad \frac{\partial L}{\partial V} = \Delta^\top R + \lambda V, \qquad \frac{\partial L}{\partial \mu} = \sum_{\text{rows}} \Delta .$$
#
# In NumPy:

# %%
Code(inspect.getsource(objective.autorec_gradients_numpy), language="python")

# %% [markdown]
# Now the check: the same weights and batch through PyTorch's autograd, and through the hand
# derivation in float64.

# %%
lam = 0.5
torch.manual_seed(1)
model = AutoRec(n_inputs=data.n_users, hidden=32)
batch, batch_mask = torch.from_numpy(values[:64]), torch.from_numpy(mask[:64])
objective.autorec_loss(model(batch), batch, batch_mask, model.weight_matrices(), lam).backward()
enc, dec = model.layers
as64 = lambda t: t.detach().double().numpy()
by_hand = objective.autorec_gradients_numpy(as64(batch), as64(batch_mask), as64(enc.weight), as64(enc.bias),
                                            as64(dec.weight), as64(dec.bias), lam)
autograd = {"V": enc.weight.grad, "mu": enc.bias.grad, "W": dec.weight.grad, "b": dec.bias.grad}
rows = []
for name, grad in autograd.items():
    rel = np.abs(by_hand[name] - grad.numpy()).max() / np.abs(by_hand[name]).max()
    rows.append({"parameter": name, "shape": tuple(grad.shape), "max relative difference": rel})
    np.testing.assert_allclose(by_hand[name], grad.numpy(), rtol=1e-4, atol=1e-5)
pd.DataFrame(rows)

# %% [markdown]
# The hand-derived gradients agree with autograd to float32 precision (the largest relative
# difference is below $10^{-6}$). As a second, independent check, a central finite difference on
# one entry of $V$:

# %%
assert max(row["max relative difference"] for row in rows) < 1e-6
R64, M64 = as64(batch), as64(batch_mask)
params = {"V": as64(enc.weight), "mu": as64(enc.bias), "W": as64(dec.weight), "b": as64(dec.bias)}

def full_loss(p):
    _, out = objective.autorec_forward_numpy(R64, p["V"], p["mu"], p["W"], p["b"])
    return objective.autorec_loss(out, R64, M64, [p["W"], p["V"]], lam)

j, k, eps = 3, 10, 1e-5
plus, minus = {**params, "V": params["V"].copy()}, {**params, "V": params["V"].copy()}
plus["V"][j, k] += eps
minus["V"][j, k] -= eps
numeric = (full_loss(plus) - full_loss(minus)) / (2 * eps)
print(f"dL/dV[{j},{k}]: finite difference {numeric:.6f}, by hand {by_hand['V'][j, k]:.6f}")
assert abs(numeric - by_hand["V"][j, k]) < 1e-4 * max(1.0, abs(numeric))

# %% [markdown]
# ### What the mask does, and what still moves a weight
#
# Read the formulas for a batch in which user $u$ rated none of the movies. The mask makes column
# $u$ of $E$ zero, so the **data-fit** gradient is zero for the decoder row $W_{u,:}$ and the
# output bias $b_u$. The encoder column $V_{:,u}$ gets no data-fit gradient either, but for a
# different reason: the unobserved input $R_{:,u}$ is filled with 0, and $\Delta^\top R$ multiplies
# by it. Everything else (the hidden biases $\mu$, the rows of $W$ and columns of $V$ of users who
# did rate something in the batch) gets data-fit gradient. That is the precise content of "only the
# weights associated with observed inputs are updated", and it holds for the data-fit term only.
# Two things still move the other weights:
#
# * **the penalty**: its gradient $\lambda W$, $\lambda V$ reaches every weight at every step (in
#   the library's mini-batch loss, $\lambda\,\tfrac{B}{n}\,W$ for a batch of $B$ of the $n$ rows),
#   so every weight decays towards zero; the biases are not penalised;
# * **the optimizer's memory**: Adam, the course's optimizer, moves a parameter by running averages
#   of its past gradients, so a weight whose current gradient is zero still moves if it had a
#   gradient in an earlier step. (The paper does not use Adam: it trains with resilient
#   propagation, Rprop, and with L-BFGS.)
#
# Plain SGD (no momentum) with $\lambda = 0$ does leave those weights exactly where they were. One
# step on a batch of 16 movies that user $u$ did not rate, from the same initial weights, three ways:

# %%
u = 0                                              # the first user
rated = np.flatnonzero(mask[:, u] == 1)[:16]       # 16 movies u rated
unrated = np.flatnonzero(mask[:, u] == 0)[:16]     # 16 movies u did not rate
course_lam = course_config("autorec", "item").train.lam

def step_and_watch(net, opt, rows, lam):
    """One library-style step on ``rows``; the gradients user u's weights got, and whether they moved."""
    r, m = torch.from_numpy(values[rows]), torch.from_numpy(mask[rows])
    opt.zero_grad()
    objective.autorec_loss(net(r), r, m, net.weight_matrices(), lam, len(rows) / matrix.shape[0]).backward()
    enc, dec = net.layers
    watched = {"W[u, :]": (dec.weight, np.s_[u]), "b[u]": (dec.bias, np.s_[u]), "V[:, u]": (enc.weight, np.s_[:, u])}
    grads = {name: p.grad[i].clone() for name, (p, i) in watched.items()}
    before = {name: p[i].detach().clone() for name, (p, i) in watched.items()}
    opt.step()
    moved = {name: bool(torch.any(p[i].detach() != before[name])) for name, (p, i) in watched.items()}
    return grads, before, moved

ways = {"plain SGD, λ = 0": (torch.optim.SGD, 0.0, False),
        "Adam, λ = 0, after one step on movies u rated": (torch.optim.Adam, 0.0, True),
        f"plain SGD, λ = {course_lam:g} (the course's)": (torch.optim.SGD, course_lam, False)}
table, results = {}, {}
for way, (optimizer, lam_step, warm_up) in ways.items():
    torch.manual_seed(0)
    net = AutoRec(n_inputs=data.n_users, hidden=16)
    opt = optimizer(net.parameters(), lr=1e-3)
    if warm_up:
        step_and_watch(net, opt, rated, lam_step)
    grads, before, moved = step_and_watch(net, opt, unrated, lam_step)
    results[way] = grads, before, moved
    table[way] = {**{f"max |grad {name}|": f"{float(g.abs().max()):.4f}" for name, g in grads.items()},
                  **{f"{name} moved": moved[name] for name in grads}}
assert mask[unrated, u].sum() == 0 and mask[rated, u].sum() == len(rated)
pd.DataFrame.from_dict(table, orient="index")

# %% [markdown]
# With λ = 0 the current gradient of every watched parameter is exactly zero, and plain SGD leaves
# them unchanged; Adam, one step later, still moves all three. With the penalty, $W_{u,:}$ and
# $V_{:,u}$ get exactly their penalty gradient $\lambda\tfrac{B}{n}W$ and move (decay), while
# $b_u$, unpenalised, stays put:

# %%
sgd0, adam0, sgd_lam = (results[way] for way in ways)
for grads, _, moved in (sgd0, adam0):
    assert all(torch.all(g == 0) for g in grads.values())
assert not any(sgd0[2].values()) and all(adam0[2].values())
grads, before, moved = sgd_lam
fraction = len(unrated) / matrix.shape[0]
for name in ("W[u, :]", "V[:, u]"):
    torch.testing.assert_close(grads[name], course_lam * fraction * before[name])
assert torch.all(grads["b[u]"] == 0) and moved == {"W[u, :]": True, "b[u]": False, "V[:, u]": True}
print(f"penalty gradient = λ·B/n·weight = {course_lam:g}·{len(unrated)}/{matrix.shape[0]}·weight, "
      f"on user {u}'s weights as on every other")

# %% [markdown]
# ### λ and an optimizer's weight decay
#
# That penalty gradient, $\lambda\tfrac{B}{n}W$ at every step for every weight, is what optimizers
# call *weight decay*. The library's module `objective` states the relation where it defines the
# objective; printed from its docstring:

# %%
relation = next(p for p in inspect.getdoc(objective).split("\n\n") if p.startswith("On a mini-batch"))
print(relation)

# %% [markdown]
# MF's penalty in notebook 02 is not a weight decay: it sits inside the sum over rated pairs, so a
# step penalises only the factors of the batch's users and movies, while `weight_decay` shrinks
# *every* row of $P$ and $Q$ at every step. AutoRec's penalty covers whole weight matrices at every
# step, so the two agree, as long as the loss is summed and the biases are left out.
#
# Dive into Deep Learning's AutoRec chapter uses Adam with learning rate 0.002 and weight decay
# 1e-5 on Gluon's `L2Loss`, which is $\frac12 e^2$ *averaged* over a row's $m$ entries (its
# unobserved entries included, with zero error) and over the $B$ rows of a batch. That loss is
# the masked sum of squares times the constant $1/(2Bm)$, and Adam's steps do not change when the
# loss is scaled (up to its tiny $\epsilon$), so weight decay `wd` there is the paper's
# $\lambda = 2\,n\,m\cdot wd$ on the weight matrices (d2l decays the biases too, which the paper
# does not, and applies dropout 0.05 to the hidden code; notebook 04 explains dropout where the
# course first uses it). The cell checks the three statements on a tiny linear layer: the penalty in
# the loss is SGD's and Adam's weight decay $\lambda B/n$, not AdamW's; and d2l's `wd` under Adam is
# $\lambda = 2nm\cdot wd$.

# %%
n_toy, B_toy, m_toy, k_toy = 20, 5, 4, 3  # rows per epoch, rows per batch, entries per row, code size
gen = torch.Generator().manual_seed(0)
H_toy = torch.randn(B_toy, k_toy, generator=gen)  # a batch of codes
R_toy = torch.randn(B_toy, m_toy, generator=gen)  # its ratings...
M_toy = (torch.rand(B_toy, m_toy, generator=gen) < 0.5).float()  # ...of which these are observed
W0_toy = torch.randn(m_toy, k_toy, generator=gen)


def toy_weights(opt_class, weight_decay, lam_in_loss=0.0, loss_scale=1.0, steps=5):
    """W after ``steps`` optimizer steps on (masked sum of squares) * loss_scale + λ/2·(B/n)·‖W‖²."""
    W = W0_toy.clone().requires_grad_()
    opt = opt_class([W], lr=0.01, weight_decay=weight_decay)
    for _ in range(steps):
        opt.zero_grad()
        loss = (loss_scale * objective.masked_sse(H_toy @ W.T, R_toy, M_toy)
                + objective.weight_penalty([W], lam_in_loss, B_toy / n_toy))
        loss.backward()
        opt.step()
    return W.detach()


lam_toy = 30.0
for opt_class in (torch.optim.SGD, torch.optim.Adam):  # penalty in the loss == weight_decay = λ·B/n
    assert torch.allclose(toy_weights(opt_class, 0.0, lam_toy), toy_weights(opt_class, lam_toy * B_toy / n_toy),
                          atol=1e-6)
assert not torch.allclose(toy_weights(torch.optim.AdamW, 0.0, lam_toy),
                          toy_weights(torch.optim.AdamW, lam_toy * B_toy / n_toy), atol=1e-4)
wd = 0.05  # d2l's averaged ½e² with weight decay wd == the summed loss with λ = 2·n·m·wd (Adam)
d2l_style = toy_weights(torch.optim.Adam, wd, loss_scale=1 / (2 * B_toy * m_toy))
assert torch.allclose(d2l_style, toy_weights(torch.optim.Adam, 0.0, 2 * n_toy * m_toy * wd), atol=1e-5)
assert not torch.allclose(d2l_style, toy_weights(torch.optim.Adam, 0.0, wd), atol=1e-4)
lam_d2l = 2 * data.n_items * data.n_users * 1e-5  # I-AutoRec: n = 1682 movie rows of m = 943 users
assert round(lam_d2l, 1) == 31.7
print("penalty in the loss = weight decay λ·B/n under SGD and Adam, not under AdamW; "
      f"d2l's weight decay 1e-5 for I-AutoRec on ML-100K is the paper's lambda = {lam_d2l:.1f}")

# %% [markdown]
# ## 3.4 Item-based or user-based?
#
# The same model reads either orientation; only the input length changes. Both arrange **the same
# training ratings**: I-AutoRec as 1,682 movie rows of length 943, U-AutoRec as 943 user rows of
# length 1,682. The table compares them at the sizes the course trains (`config.course_config`):
# I-AutoRec with a hidden layer of 500, the paper's size, and U-AutoRec with 300, chosen by a
# search on the validation split.

# %%
orientations, counts = {}, {}
for name, variant in (("I-AutoRec (rows = movies)", "item"), ("U-AutoRec (rows = users)", "user")):
    oriented = RatingMatrix(split.train, data.n_users, data.n_items, variant)
    n_rows, d = oriented.shape
    hidden = course_config("autorec", variant).net.hidden[0]
    cfg = AutoRecConfig(n_inputs=d, hidden=hidden)
    counts[name] = c = oriented.row_counts()
    orientations[name] = {"rows": n_rows, "input length d": d, "training ratings": oriented.nnz,
                          "hidden (trained)": hidden, "parameters": cfg.n_parameters(),
                          "ratings per row: mean": round(c.mean(), 1), "median": int(np.median(c)),
                          "std": round(c.std(), 1), "std / mean": round(c.std() / c.mean(), 2),
                          "min": int(c.min()), "max": int(c.max()), "rows with none": int((c == 0).sum())}
table = pd.DataFrame.from_dict(orientations, orient="index")
item_row, user_row = table.iloc[0], table.iloc[1]
param_ratio = user_row["parameters"] / item_row["parameters"]
print(f"U-AutoRec has {param_ratio:.2f} times as many parameters as I-AutoRec at the trained sizes")
table

# %%
assert item_row["training ratings"] == user_row["training ratings"] == len(split.train) == 81_000
assert round(param_ratio, 2) == 1.07
assert (item_row["rows"], item_row["input length d"]) == (user_row["input length d"], user_row["rows"]) == (1682, 943)
assert (item_row["ratings per row: mean"], user_row["ratings per row: mean"]) == (48.2, 85.9)
assert item_row["std"] < user_row["std"] and item_row["std / mean"] > user_row["std / mean"]
assert (item_row["std"], user_row["std"], item_row["std / mean"], user_row["std / mean"]) == (65.2, 82.0, 1.35, 0.95)
assert item_row["rows with none"] == 41 and item_row["min"] == 0 and user_row["min"] == 13
assert item_row["max"] == 479

# %% [markdown]
# Both orientations hold exactly the same 81,000 training ratings. At the trained sizes they also
# have almost the same number of parameters: U-AutoRec's 1,011,182 are 1.07 times I-AutoRec's
# 944,443 (at an equal hidden size of 500, U-AutoRec would have 1.78 times as many). What differs
# is how the ratings are spread over the rows.
#
# The paper reports I-AutoRec clearly ahead of U-AutoRec on MovieLens 1M and 10M (its Table 1(a):
# test RMSE 0.831 against 0.874 on ML-1M, 0.782 against 0.867 on ML-10M; U-AutoRec is not reported
# on Netflix), and explains it (Sec. 3) this way: *"the number of ratings per item is much more
# than those per user; high variance in number of user ratings leads to less reliable prediction
# for user-based methods."*
# The table lets us test both halves on ML-100K's training split:
#
# * **Ratings per row.** The first half does not hold here: the average movie has 48.2 training
#   ratings, the average user 85.9. ML-100K has more movies than users (1,682 against 943); on
#   ML-1M it is the other way round, and there the premise holds (checked below from ML-1M's
#   published counts).
# * **Spread of the counts.** In absolute terms the per-user counts do vary more (standard
#   deviation 82.0 against 65.2 for movies). Relative to their mean, though, the per-movie counts
#   spread more (std / mean 1.35 against 0.95): the median movie has only 22 ratings while the most
#   rated has 479, and 41 movies have no training rating at all, whereas every user has at least 13.
#
# So on ML-100K the paper's explanation is at best half supported, and nothing in this table
# predicts which orientation wins; notebook 04 trains both with the course settings and compares
# them on held-out ratings.

# %%
paper_table_1a = {"U-AutoRec": {"ML-1M": 0.874, "ML-10M": 0.867},  # test RMSE, the paper's Table 1(a)
                  "I-AutoRec": {"ML-1M": 0.831, "ML-10M": 0.782}}
assert all(paper_table_1a["I-AutoRec"][d] < paper_table_1a["U-AutoRec"][d] - 0.04 for d in ("ML-1M", "ML-10M"))
assert int(np.median(counts["I-AutoRec (rows = movies)"])) == 22
assert round(AutoRecConfig(n_inputs=data.n_items, hidden=500).n_parameters()
             / AutoRecConfig(n_inputs=data.n_users, hidden=500).n_parameters(), 2) == 1.78
assert data.n_items > data.n_users
ml1m_ratings, ml1m_users, ml1m_movies = 1_000_209, 6_040, 3_706  # ML-1M's README; movies with a rating
per_movie, per_user = ml1m_ratings / ml1m_movies, ml1m_ratings / ml1m_users
print(f"ML-1M: {per_movie:.0f} ratings per movie, {per_user:.0f} per user")
assert per_movie > 1.5 * per_user and ml1m_users > ml1m_movies
assert (round(per_movie), round(per_user)) == (270, 166)

# %% [markdown]
# On ML-1M a movie has on average 270 ratings and a user 166: there the first half of the paper's
# reason does hold.
#
# ## 3.5 Identity activations: a low-rank factorization
#
# With $f$ and $g$ both the identity, $h(r) = W(Vr + \mu) + b = (WV) r + (W\mu + b)$: a linear
# map through the matrix $WV$, whose rank is at most $k$. Stacking all rows, the reconstructed matrix minus its
# constant offset has rank at most $k$, exactly like MF's $P Q^\top$. The difference from MF is
# where the codes come from: MF looks them up by id as free parameters, AutoRec *computes* the
# code $V r$ from the ratings themselves. Numerically:

# %%
k = 12
torch.manual_seed(0)
linear = AutoRec(n_inputs=data.n_users, hidden=k, encoder="identity", decoder="identity").double()
with torch.no_grad():  # float64, so that rounding does not masquerade as extra rank
    recon = linear(torch.from_numpy(values).double()).numpy()
    offset = linear(torch.zeros(1, data.n_users, dtype=torch.float64)).numpy()
rank = np.linalg.matrix_rank(recon - offset)
print(f"hidden size {k}: the {recon.shape[0]}x{recon.shape[1]} reconstruction has rank {rank} after removing its offset")
assert rank <= k

# %% [markdown]
# The sigmoid encoder breaks this: the codes become non-linear functions of the ratings, and
# exercise 3 in notebook 06 measures what that buys.
#
# ## 3.6 The cost of an epoch
#
# One epoch passes every one of the $n$ rows (of length $m$, hidden size $k$) forward and
# backward. Counting a multiply-add as 2 floating-point operations, each of the matrix products
# below costs $2\,n\,m\,k$:
#
# | step | product | what it gives |
# |---|---|---|
# | forward | $R V^\top$ | the encoder's pre-activation |
# | forward | $H W^\top$ | the reconstruction $\hat R$ |
# | backward | $E^\top H$ | $\partial L/\partial W$ |
# | backward | $E W$ | the error passed back to the hidden layer (into $\Delta$) |
# | backward | $\Delta^\top R$ | $\partial L/\partial V$ |
#
# That is $4nmk$ forward and $6nmk$ backward, **$10\,n\,m\,k$** in all. The rule of thumb
# "backward costs twice the forward" would give $12nmk$, but it counts a sixth product,
# $\Delta V$, the gradient with respect to the *input* $R$; the ratings are data, not parameters,
# so nothing needs it and autograd does not compute it. The element-wise work (sigmoid, mask,
# residual) is $O(n(m+k))$, smaller than the products' $O(nmk)$ by a factor of about
# $mk/(m+k)$: 327 for I-AutoRec on ML-100K ($m = 943$, $k = 500$). For that model:

# %%
n, m_inputs, k = data.n_items, data.n_users, 500
cfg = AutoRecConfig(n_inputs=m_inputs, hidden=k)
flops = cfg.flops_per_epoch(n)
print(f"10·n·m·k = 10·{n}·{m_inputs}·{k} = {flops / 1e9:.2f} GFLOP per epoch")
assert flops == 10 * n * m_inputs * k and round(flops / 1e9, 2) == 7.93
assert round(m_inputs * k / (m_inputs + k)) == 327  # products vs element-wise work

# %%
# NBVAL_IGNORE_OUTPUT
torch.manual_seed(0)
net = AutoRec(n_inputs=data.n_users, hidden=500)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
full_r, full_m = torch.from_numpy(values), torch.from_numpy(mask)
start, epochs = time.perf_counter(), 3
for _ in range(epochs):
    for rows in np.array_split(np.arange(len(full_r)), 7):
        opt.zero_grad()
        objective.autorec_loss(net(full_r[rows]), full_r[rows], full_m[rows], net.weight_matrices(), 1.0,
                               len(rows) / len(full_r)).backward()  # λ = 1, scaled by B/n as in Sec. 3.3
        opt.step()
seconds = (time.perf_counter() - start) / epochs
print(f"{seconds:.3f} s per epoch on this CPU: {flops / seconds / 1e9:.0f} GFLOP/s")
assert seconds < 60

# %% [markdown]
# An epoch takes well under a minute on a CPU: the matrix products are small and dense.
# (The time above varies from run to run and machine to machine; the stored one was measured on a
# shared 2-core CPU. The operation count does not vary.) Computed this way, on dense rows, the cost
# grows with the *dense* size $n\times m$, not with the number of ratings, and so does the memory
# of a dense copy.
#
# Take MovieLens 10M. Its README counts 71,567 users and 10,681 movies, but those are the ids in
# use, and some of them have no rating: the 10,000,054 ratings come from 69,878 users and cover
# 10,677 movies, the sizes in the paper's table and the ones the library's loader would index (it
# keeps only ids that occur in the ratings). Indexed by every id, the dense float32 matrix takes
# 2.85 GiB; restricted to the rated users and movies, 2.78 GiB; its mask takes as much again. That
# fits in a laptop's memory, but 98.7% of it is zeros (either way), while the ratings alone, stored
# sparse, take about 80 MB. The library therefore keeps the ratings as a sparse (CSR) matrix.
# Computed densely, an I-AutoRec epoch with $k = 500$ on ML-10M costs $10\cdot 10{,}677\cdot
# 69{,}878\cdot 500 \approx 3.7$ TFLOP.

# %%
ml10m_ratings = 10_000_054
ml10m_ids = {"users": 71_567, "movies": 10_681}    # ML-10M's README: every id, rated or not
ml10m_rated = {"users": 69_878, "movies": 10_677}  # the ids that occur in the ratings (the paper's sizes)
ml10m_rows = []
for what, sizes in (("every id (README)", ml10m_ids), ("rated only (paper)", ml10m_rated)):
    entries = sizes["users"] * sizes["movies"]
    ml10m_rows.append({"users x movies": what, "entries (millions)": round(entries / 1e6),
                 "dense float32 (GiB)": round(entries * 4 / 2**30, 2),  # 4 bytes an entry
                 "zeros": f"{1 - ml10m_ratings / entries:.1%}",
                 # values, int32 column indices, int32 row pointers (rows = movies)
                 "sparse CSR (MB)": round((ml10m_ratings * (4 + 4) + (sizes["movies"] + 1) * 4) / 1e6),
                 "I-AutoRec TFLOP per epoch (k = 500)":
                     round(AutoRecConfig(n_inputs=sizes["users"], hidden=500).flops_per_epoch(sizes["movies"]) / 1e12, 1)})
ml10m = pd.DataFrame(ml10m_rows).set_index("users x movies")
ids_row, rated_row = ml10m.iloc[0], ml10m.iloc[1]
entries = ml10m_rated["users"] * ml10m_rated["movies"]
assert (ids_row["dense float32 (GiB)"], rated_row["dense float32 (GiB)"]) == (2.85, 2.78)
assert (ml10m["zeros"] == "98.7%").all() and (ml10m["sparse CSR (MB)"] == 80).all()
assert (ids_row["entries (millions)"], rated_row["entries (millions)"]) == (764, 746)
assert rated_row["I-AutoRec TFLOP per epoch (k = 500)"] == 3.7 and ids_row["I-AutoRec TFLOP per epoch (k = 500)"] == 3.8
assert round(matrix.shape[0] * matrix.shape[1] / 1e6, 1) == 1.6
ml10m

# %% [markdown]
# So on a CPU the library does not compute the formulas above as written, at any size: it trains
# with a second learner, `autorec_lib.sparse.SparseAutoRecLearner`, kept in a module of its own.
# Its encoder reads only the ratings of each row (a sparse product, whose cost grows with the
# ratings), and its decoder computes only the rated entries, the only ones the loss needs: the same
# model, objective and gradients, summed in another order (the course's benchmarks page measures
# what that saves, on ML-100K too). On a GPU, built for large dense products, the library computes
# the formulas as written, with the plain learner of notebook 4, on dense rows, as long as the dense matrix has at
# most `DENSE_CACHE_LIMIT` entries ($2^{26}$, about 67 million), and keeps that matrix whole on
# the device; ML-100K's 1.6 million entries are under that limit, ML-10M's 746 million are not.
# `inputs="dense"` or `inputs="sparse"` (`--inputs` on the command line) forces either way on any
# device. One epoch each way, from the same start, ends at the same validation RMSE:

# %%
from autorec_lib.config import TrainConfig
from autorec_lib.sparse import use_sparse_inputs as sparse_inputs

ways = {way: experiment.train(data, split, "autorec", "item", inputs=way, epochs=1, device="cpu", progress=False)
        for way in ("dense", "sparse")}
after_one = {way: result.history.records[0]["valid_rmse"] for way, result in ways.items()}
for way, rmse in after_one.items():
    print(f"{'dense rows' if way == 'dense' else 'sparse ratings':>14}: validation RMSE after one epoch {rmse:.6f}")
assert abs(after_one["dense"] - after_one["sparse"]) < 1e-5
rated_shape = (ml10m_rated["movies"], ml10m_rated["users"])  # I-AutoRec's rows are movies
assert sparse_inputs(TrainConfig(), matrix.shape, torch.device("cpu"))       # a CPU: ratings only, at any size
assert not sparse_inputs(TrainConfig(), matrix.shape, torch.device("cuda"))  # a GPU: ML-100K's dense rows fit
assert sparse_inputs(TrainConfig(), rated_shape, torch.device("cuda"))       # ... ML-10M's do not
assert DENSE_CACHE_LIMIT == 2**26 and matrix.shape[0] * matrix.shape[1] <= DENSE_CACHE_LIMIT < entries

# %% [markdown]
# ## Summary
#
# * AutoRec reconstructs a row of the rating matrix through $f(W g(Vr+\mu)+b)$; the
#   reconstruction's entries at unrated positions are the predictions.
# * The objective sums squared error over observed entries only, with λ/2 on the weight
#   matrices. The mask gives unobserved output entries exactly zero gradient, so a user absent
#   from a batch passes no data-fit gradient to their weights; the penalty still decays every
#   weight, and Adam's running averages still move weights whose current gradient is zero.
# * Hand-derived gradients match autograd and finite differences.
# * On the summed loss, λ equals an optimizer's weight decay $\lambda B/n$ on the weight matrices
#   (SGD, Adam; not AdamW), and d2l's weight decay 1e-5 on the weight matrices, under Adam, is the
#   paper's λ ≈ 31.7 for I-AutoRec on ML-100K (d2l also decays the biases, which the paper's λ does
#   not, and adds dropout 0.05).
# * I-AutoRec and U-AutoRec hold the same 81,000 training ratings; at the trained sizes (500 and
#   300 hidden units) U-AutoRec has 1.07 times as many parameters. On ML-100K movies have fewer
#   ratings than users on average, so the paper's explanation of I-AutoRec's lead does not carry
#   over directly.
# * With identity activations AutoRec is a linear reconstruction of rank at most $k$, like MF with
#   codes computed from ratings.
# * An epoch costs $10\,n\,m\,k$ floating-point operations (7.93 GFLOP for I-AutoRec on ML-100K);
#   the library keeps ratings sparse, and (on a CPU at every size, on a GPU when the dense matrix
#   is too large to keep) computes the encoder from the ratings alone and the decoder only at the
#   rated entries: the same objective, summed in another order.

# %% [markdown]
# ## Exercises
#
# Each exercise has a cell for each answer and a check below it; run the check to see whether your
# answer is right.
#
# ### Exercise 1: gradients with a sigmoid decoder
#
# Make the decoder a sigmoid too, $\hat R = \sigma(H W^\top + b)$, keep $g = \sigma$, the mask and
# the penalty $\frac{\lambda}{2}(\lVert W\rVert_F^2 + \lVert V\rVert_F^2)$ as in Sec. 3.3. A
# sigmoid's outputs lie in $(0, 1)$, so the ratings it is trained on must first be mapped into its
# range: the library's `objective.OutputScale` maps 1 to 5 stars linearly onto $[0, 1]$, 1★ to
# exactly 0 and 5★ to exactly 1 (values the sigmoid approaches but never reaches). Derive the four
# gradients by hand and write them as a NumPy function
# `sigmoid_decoder_gradients(R, M, V, mu, W, b, lam)` returning a dict with keys `"V"`, `"mu"`,
# `"W"`, `"b"`, with the shapes and conventions of `objective.autorec_gradients_numpy`. The `R` it
# receives is already mapped into $[0, 1]$ (and 0 where `M` is 0): it is both the network's input
# and the target, so use it as it is. The check calls your function with its seven arguments in
# this order, by position, and compares its gradients with PyTorch's autograd on random batches,
# new ones at every run. The derivation is the exercise: a function that calls autograd itself is
# refused.
#
# *Hint:* give the decoder's pre-activation a name, $Z = H W^\top + b$, and start from
# $\partial L/\partial \hat R$. Only one link of the chain rule is new compared with Sec. 3.3;
# once you have $\partial L/\partial Z$, the rest follows the same pattern as the identity decoder.

# %% tags=["solution"]
def sigmoid_decoder_gradients(R, M, V, mu, W, b, lam):
    H = objective.sigmoid(R @ V.T + mu)
    out = objective.sigmoid(H @ W.T + b)
    E = (out - R) * M                  # the masked residual, as before
    G = 2 * E * out * (1 - out)        # dL/dZ: the new link, sigma'(Z) = out * (1 - out)
    delta = (G @ W) * H * (1 - H)      # dL/d(encoder pre-activation)
    return {"V": delta.T @ R + lam * V, "mu": delta.sum(axis=0),
            "W": G.T @ H + lam * W, "b": G.sum(axis=0)}


# backing the interpretation below: sigma' = out(1 - out) peaks at 1/4 and vanishes at the ends
grid = np.linspace(0, 1, 101)
assert (grid * (1 - grid)).max() == 0.25 and (grid * (1 - grid))[[0, -1]].tolist() == [0.0, 0.0]

# %%
from autorec_lib.exercises import ch03

# the mapping the exercise describes: 1 star -> 0, 3 -> 0.5, 5 -> 1, exactly
assert objective.OutputScale("sigmoid", data.scale).to_decoder(np.array([1.0, 3.0, 5.0])).tolist() == [0.0, 0.5, 1.0]
ch03.check_sigmoid_decoder_gradients(sigmoid_decoder_gradients)

# %% [markdown] tags=["solution"]
# *What the solution shows.* With $f = \sigma$ the error reaching the decoder's pre-activation is
# $G = 2E \odot \hat R \odot (1 - \hat R)$ instead of $2E$; every other formula of Sec. 3.3 keeps
# its shape with $G$ in place of $2E$. The mask still zeroes $G$ at unobserved entries. The extra
# factor $\hat R(1-\hat R)$ is at most 1/4 and vanishes as a prediction approaches 0 or 1, so the
# decoder learns slowly wherever its outputs sit near the ends of its range, which is where 1★ and
# 5★ ratings (mapped to exactly 0 and 1) pull them. The scaling itself is needed because of the
# sigmoid's output *range*: unscaled ratings of 1 to 5 lie outside $(0, 1)$ and could never be fit.

# %% [markdown]
# ### Exercise 2: the gradients from a movie with no training rating
#
# Some movies have no training rating at all (Sec. 3.4 counted them). Take the model `model` and
# λ = `lam` of Sec. 3.3, and a batch of just one such movie's row of `matrix`, with the library's
# mini-batch loss `objective.autorec_loss(..., lam, fraction)`, `fraction = 1 / matrix.shape[0]`
# (the $B/n$ of Sec. 3.3 for $B = 1$).
#
# **First predict**, from the formulas of Sec. 3.3 and without computing anything, what the
# gradient with respect to each of $V$, $\mu$, $W$ and $b$ is. Answer `prediction`, a dict with
# keys `"V"`, `"mu"`, `"W"`, `"b"`, each value one of:
# `"zero"` (exactly zero); `"penalty share"` (λ·fraction times the parameter itself);
# `"full penalty"` (λ times the parameter); `"data fit"` (a term that depends on the ratings).
#
# **Then confirm it**: compute the four gradients with autograd and answer `empty_row_grads`, a
# dict with the same keys. Either way of asking autograd works: `torch.autograd.grad(loss, params)`,
# or `loss.backward()` and then each parameter's `.grad`. But `.grad` adds up every `backward()`
# since it was last reset, and Sec. 3.3 already ran one on `model`: reset it first with
# `model.zero_grad()`.
#
# *Hint:* write down $E$ and $\Delta$ for a row whose mask and input are all zero, and see which
# factors of each formula vanish. For the penalty, look at how the library's mini-batch loss
# scales it (the end of Sec. 3.3 has a worked case).

# %% tags=["solution"]
prediction = {"V": "penalty share", "mu": "zero", "W": "penalty share", "b": "zero"}

# %%
ch03.check_empty_row_prediction(prediction)

# %% tags=["solution"]
empty_row = int(np.flatnonzero(matrix.row_counts() == 0)[0])
r_empty, m_empty = (torch.from_numpy(a) for a in matrix.dense(np.array([empty_row])))
empty_loss = objective.autorec_loss(model(r_empty), r_empty, m_empty, model.weight_matrices(), lam,
                                    1 / matrix.shape[0])
enc, dec = model.layers
empty_row_grads = dict(zip(["V", "mu", "W", "b"],
                           torch.autograd.grad(empty_loss, [enc.weight, enc.bias, dec.weight, dec.bias])))
# backing the interpretation below
empty_rows = np.flatnonzero(matrix.row_counts() == 0)
with torch.no_grad():  # every all-zero input row gets the same reconstruction f(W g(mu) + b)
    two_empty = torch.from_numpy(matrix.dense(empty_rows[:2])[0])
    assert torch.equal(*model(two_empty))
# ... but the evaluation scores such a movie's held-out ratings with the default rating 3
pairs = pd.DataFrame({"user": [0, 1], "item": empty_rows[:2]})  # item rows: row index = movie index
assert not pairs["item"].isin(split.train["item"]).any()
scored, n_default = metrics.predict_with_default(lambda users, items: np.full(len(users), 4.2), pairs,
                                                 split.train, data.scale)
assert scored.tolist() == [metrics.DEFAULT_RATING] * 2 == [3.0, 3.0] and n_default == 2

# %%
ch03.check_empty_row_gradients(empty_row_grads, model, lam, matrix)

# %% [markdown] tags=["solution"]
# *What the solution shows.* The row's residual is zero everywhere (its mask is all zero) and so is
# its input, so the data-fit term gives nothing to any parameter: $\mu$ and $b$ get exactly zero,
# and $V$, $W$ get exactly their share of the penalty, $\frac{\lambda}{n} V$ and
# $\frac{\lambda}{n} W$. Summed over the $n$ rows of an epoch, these shares make up the full
# $\lambda V$, $\lambda W$ of the objective. The network would still output a reconstruction for
# a movie with no training rating: its input is all zero, so it is $f(W g(\mu) + b)$, the same for
# every such movie. But the evaluation never uses it: `metrics.evaluate` replaces it by the default
# rating 3 (notebook 01, Sec. 1.5), as the paper does.

# %% [markdown]
# ### Exercise 3: the deeper model's parameter count
#
# The paper also tries a deeper I-AutoRec with three hidden layers of 500, 250 and 500 units.
# Count its parameters yourself, from the layer sizes (a function that lets the library count, with
# `AutoRecConfig.n_parameters()` or a model built by the library, is refused). Write a function
# `count_parameters(n_inputs, hidden)` that returns the number of parameters (weights and biases)
# of AutoRec with input length `n_inputs` and hidden layer sizes `hidden` (a tuple such as
# `(500, 250, 500)`), and use it for `deep_count`, the count of I-AutoRec on ML-100K with hidden
# layers 500-250-500 (an int). The check tries your function on other sizes too, some drawn at random.
#
# *Hint:* write the chain of layer widths from the input to the output. What is the length of an
# I-AutoRec input row? A layer with $i$ inputs and $o$ outputs has an $o \times i$ weight matrix;
# how many biases?

# %% tags=["solution"]
def count_parameters(n_inputs, hidden):
    sizes = [n_inputs, *hidden, n_inputs]
    return sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:]))

deep_count = count_parameters(data.n_users, (500, 250, 500))
# the library agrees; one hidden layer of k units on d inputs: 2dk weights, k + d biases
for d, hidden in ((data.n_users, (500,)), (data.n_items, (300,)), (data.n_users, (500, 250, 500))):
    assert count_parameters(d, hidden) == AutoRecConfig(n_inputs=d, hidden=hidden).n_parameters()
for d, k in ((data.n_users, 500), (data.n_items, 300)):  # the two rows of the table of Sec. 3.4
    assert count_parameters(d, (k,)) == 2 * d * k + d + k
one_layer = count_parameters(data.n_users, (500,))
assert (one_layer, deep_count) == (944_443, 1_195_193)  # the numbers quoted below
assert round(deep_count / one_layer, 2) == 1.27 and deep_count - one_layer == 250_750
deep_count

# %%
ch03.check_parameter_counts(count_parameters, deep_count, data)

# %% [markdown] tags=["solution"]
# *What the solution shows.* The deeper model has 1,195,193 parameters against 944,443 for one
# hidden layer of 500, 1.27 times as many: the two 943-wide end layers dominate both counts, and
# the middle 500→250→500 layers add only 250,750. Depth is cheap here; the paper reports a small
# gain from it on ML-1M, and exercise 4 of notebook 06 measures it on ML-100K.

# %% tags=["results"]
print(json.dumps({"gradient check": "passed", "GFLOP per I-AutoRec epoch": round(flops / 1e9, 2),
                  "U/I-AutoRec parameters at trained sizes": round(param_ratio, 2)}))
