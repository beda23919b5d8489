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
# # 2. Background: matrix factorization
#
# AutoRec was proposed as an alternative to the model that dominated rating prediction at the
# time: matrix factorization (MF); biased MF is among the paper's baselines. This notebook builds
# that baseline, so that every AutoRec number later in the course has something honest to be
# compared with.
#
# **What you will learn**
#
# * the latent-factor model and its objective over *observed* ratings only, written exactly as
#   the library computes it;
# * biased MF, and how much of the job a global mean plus user and movie offsets already do;
# * how to train both with `autorec_lib`, read their learning curves, and report a baseline RMSE
#   on exactly the split AutoRec will use;
# * why a model that is linear in its factors is limiting, and which AutoRec variant can serve a
#   new user with no fitting at all.

# %%
import inspect
import json
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Code, display

from autorec_lib import datasets, experiment, metrics, objective, splits
from autorec_lib.config import course_config
from autorec_lib.torch_backend import MF, AutoRec, MFLearner

data = datasets.load("ml-100k")
split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)

# %% [markdown]
# ## 2.1 The simplest baselines
#
# Before any latent factors, four predictors set the floor: the global mean $\mu$ of the training
# ratings, each user's mean, each movie's mean, and $\mu + b_u + b_i$, the global mean plus a user
# offset and a movie offset fitted together. We score them by RMSE on the validation split, as
# defined in notebook 01 (section 1.5): `metrics.evaluate` clips every prediction to the 1–5 scale
# and gives a pair whose user or movie has no training rating the default rating 3, as the paper
# does (so the global-mean fallback below only fills the table, it is never scored).

# %%
train = split.train
mu = train["rating"].mean()
user_mean = train.groupby("user")["rating"].mean().reindex(range(data.n_users)).fillna(mu).to_numpy()
item_mean = train.groupby("item")["rating"].mean().reindex(range(data.n_items)).fillna(mu).to_numpy()

# Offsets: minimise sum (r - mu - b_u - b_i)^2 + shrink * (sum b_u^2 + sum b_i^2) over the training ratings,
# exactly, by alternating the two closed-form updates (each solves for one set of offsets given the other).
u_idx, i_idx, r_obs = train["user"].to_numpy(), train["item"].to_numpy(), train["rating"].to_numpy(np.float64)
n_u = np.bincount(u_idx, minlength=data.n_users)  # ratings per user
n_i = np.bincount(i_idx, minlength=data.n_items)  # ratings per movie
shrink = 5.0  # a fixed choice, not tuned: a movie's offset is its mean deviation, shrunk as if 5 more ratings sat at 0
b_u, b_i = np.zeros(data.n_users), np.zeros(data.n_items)
for _ in range(200):
    b_i_new = np.bincount(i_idx, r_obs - mu - b_u[u_idx], minlength=data.n_items) / (shrink + n_i)
    b_u_new = np.bincount(u_idx, r_obs - mu - b_i_new[i_idx], minlength=data.n_users) / (shrink + n_u)
    change = max(np.abs(b_i_new - b_i).max(), np.abs(b_u_new - b_u).max())
    b_i, b_u = b_i_new, b_u_new
assert change < 1e-6  # converged

baselines = {
    "global mean": lambda u, i: np.full(len(u), mu),
    "user mean": lambda u, i: user_mean[u],
    "item mean": lambda u, i: item_mean[i],
    "global mean + offsets": lambda u, i: mu + b_u[u] + b_i[i],
}
baseline_rmse = {name: metrics.evaluate(f, split.valid, train, data.scale).rmse for name, f in baselines.items()}
assert baseline_rmse["item mean"] < baseline_rmse["user mean"] < baseline_rmse["global mean"] - 0.05
assert baseline_rmse["global mean + offsets"] < baseline_rmse["item mean"] - 0.05

# Paired comparison: two predictors' squared errors on the same validation ratings, rating by rating
valid_errors = {name: (metrics.predict_with_default(f, split.valid, train, data.scale)[0]
                       - split.valid["rating"].to_numpy(np.float64)) ** 2 for name, f in baselines.items()}
paired = {}
for better, worse in (("user mean", "global mean"), ("item mean", "global mean"), ("item mean", "user mean"),
                      ("global mean + offsets", "item mean")):
    d = valid_errors[better] - valid_errors[worse]
    paired[f"{better} - {worse}"] = {"squared error per rating": d.mean(), "paired SE": d.std(ddof=1) / np.sqrt(len(d))}
paired = pd.DataFrame(paired).T
paired["SEs"] = paired["squared error per rating"] / paired["paired SE"]
assert (paired["SEs"] < -2).all() and (paired["SEs"].drop("item mean - user mean") < -10).all()
display(paired.round(4))
pd.Series(baseline_rmse, name="validation RMSE").round(4).to_frame()

# %% [markdown]
# Knowing only who rates, or only what is rated, already helps: both per-user and per-movie means
# beat the global mean by more than 0.05, and the movie's mean does a little better than the
# user's. Both offsets together do better than either mean by more than another 0.05: a user who
# rates everything high and a movie that everyone likes are two separate effects, and adding them
# needs no latent factors at all.
#
# Are such gaps more than the luck of which 9,000 ratings were held out? The first table compares
# two predictors on the same validation ratings, one rating at a time: the mean difference of their
# squared errors and its standard error (the *paired* standard error). Every gap above is more
# than ten paired standard errors, except the movie's mean against the user's: that one is more
# than two, a small edge, but larger than the noise of the validation ratings.
#
# ## 2.2 Latent factors
#
# MF gives every user $u$ a vector $p_u \in \mathbb{R}^k$ and every movie $i$ a vector
# $q_i \in \mathbb{R}^k$, and predicts $\hat r_{ui} = p_u^\top q_i$. **Biased MF** adds what the
# baselines above capture: a global mean $\mu$, a user offset $b_u$ (some people rate everything
# high) and a movie offset $b_i$ (some movies are better):
#
# $$\hat r_{ui} = \mu + b_u + b_i + p_u^\top q_i .$$
#
# With $\Omega$ the set of observed (user, movie) pairs in the training ratings, the library
# minimises, for biased MF,
#
# $$\sum_{(u,i) \in \Omega} \Big[\left(r_{ui} - \hat r_{ui}\right)^2 + \frac{\lambda}{2}\left(\lVert p_u\rVert^2 + \lVert q_i\rVert^2 + b_u^2 + b_i^2\right)\Big]$$
#
# over $p, q, b$; $\mu$ is not learned, it is set to the mean training rating. Plain MF is the same
# without $\mu$, $b_u$, $b_i$ (in the prediction and in the penalty).
#
# Three things to notice. The sum runs over **observed** ratings only: an unknown entry is not a
# zero, it is simply unknown. The penalty sits *inside* the sum, on the factors and offsets of
# each rated pair, so over an epoch a user with $n_u$ ratings is penalised
# $\frac{\lambda}{2} n_u \left(\lVert p_u\rVert^2 + b_u^2\right)$ (and a movie likewise): penalty
# and squared error grow together, so λ weighs the same against the data for a user with few
# ratings as for one with many. And a mini-batch's loss is this sum over the batch's ratings, not
# its average.
#
# Here are the library's PyTorch model (`forward` is the prediction above, `penalised` what the
# penalty acts on) and, below it, its training: the loss of a batch and one epoch over the shuffled
# ratings, methods of the separate class `MFLearner`.

# %%
steps = "\n".join(textwrap.dedent(inspect.getsource(method)) for method in (MFLearner.batch_loss, MFLearner.train_epoch))
Code(inspect.getsource(MF) + "\n\n# MFLearner.batch_loss and MFLearner.train_epoch (methods of MFLearner, not of MF)\n"
     + steps, language="python")

# %% [markdown]
# The check below builds a small biased MF and confirms that the library's penalty over all
# training pairs is the formula above, factors *and* offsets, weighted by each user's and movie's
# number of ratings.

# %%
lam = course_config("biased-mf").train.lam
torch.manual_seed(0)
small = MF(data.n_users, data.n_items, n_factors=8, biased=True)
with torch.no_grad():
    small.bu.weight.normal_(std=0.1)  # offsets start at zero; make them count in the check
    small.bi.weight.normal_(std=0.1)
users, items = torch.as_tensor(train["user"].to_numpy()), torch.as_tensor(train["item"].to_numpy())
library = objective.weight_penalty(small.penalised(users, items), lam).item()
n_u = np.bincount(train["user"], minlength=data.n_users)  # ratings per user
n_i = np.bincount(train["item"], minlength=data.n_items)
P, Q, bu, bi = (small.get_parameter(f"{name}.weight").detach().double().numpy() for name in ("P", "Q", "bu", "bi"))
by_hand = lam / 2 * (n_u @ ((P ** 2).sum(1) + bu[:, 0] ** 2) + n_i @ ((Q ** 2).sum(1) + bi[:, 0] ** 2))
assert np.isclose(library, by_hand, rtol=1e-5)
without_offsets = lam / 2 * (n_u @ (P ** 2).sum(1) + n_i @ (Q ** 2).sum(1))
assert not np.isclose(library, without_offsets, rtol=1e-3)
assert not small.mu.requires_grad  # mu is fixed, not learned
print(f"penalty over the {len(train):,} training pairs: library {library:.3f}, formula {by_hand:.3f}")

# %% [markdown]
# This penalty is not what optimizers call weight decay, which shrinks every row of $P$ and $Q$ at
# every step, whether or not that user or movie is in the batch. AutoRec's penalty is one; notebook
# 03 shows when the two agree.

# %% [markdown]
# ## 2.3 Training both
#
# `experiment.train` runs the training loop shared by all models in the course: mini-batches of
# ratings, Adam, a progress bar (switched off here with `progress=False`), and after every epoch
# the validation RMSE. It keeps the weights of the epoch with the best **validation** RMSE and
# stops when that has not improved for `patience` epochs, or after at most `epochs` epochs. It
# records the test RMSE too, but nothing is chosen by it, and the curves below show validation
# only: the test part is looked at once, in the table at the end. The course defaults (one
# `RunConfig` per model: its model config `net` and its training config `train`), printed below,
# were chosen by a search on the validation split only: plain MF uses 64 factors,
# biased MF 128, both with λ = 0.2, batches of 1,024 ratings, learning rate 0.005, patience 5 and
# a cap of 60 epochs.

# %%
defaults = {name: course_config(name) for name in ("mf", "biased-mf")}
for name, d in defaults.items():
    print(f"{name:9s} {d.net}\n{'':9s} {d.train}")
assert defaults["mf"].net.n_factors == 64 and defaults["biased-mf"].net.n_factors == 128
for d in defaults.values():
    cfg = d.train
    assert (cfg.lam, cfg.batch_size, cfg.lr, cfg.patience, cfg.epochs, cfg.optimizer) == (0.2, 1024, 0.005, 5, 60, "adam")

# %%
results = {name: experiment.train(data, split, name, progress=False) for name in ("mf", "biased-mf")}

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.6), sharey=True)
for ax, (name, result) in zip(axes, results.items()):
    result.history.plot(ax=ax)
    ax.axhline(baseline_rmse["global mean"], color="black", lw=0.8, label="global mean (validation)")
    ax.plot([], [], color="grey", lw=0.8, ls=":", label="best epoch (by validation)")  # names the dotted line
    ax.set_title(f"{name}: best epoch {result.history.best_epoch}")
    ax.legend()
axes[0].set_ylim(0.85, 1.15)
fig.tight_layout()

# %%
curves = {name: r.history.frame() for name, r in results.items()}
for name, r in results.items():
    f, best = curves[name], r.history.best_epoch
    assert r.history.stopped_early and len(f) == best + defaults[name].train.patience
    early_drop = f.valid_rmse[1] - f.valid_rmse[5]
    assert early_drop > 5 * (f.valid_rmse[5] - f.valid_rmse[best])  # most of the gain comes in 5 epochs
mf_curve, bmf_curve = curves["mf"], curves["biased-mf"]
mf_best = results["mf"].history.best_epoch
assert mf_curve.valid_rmse[1] > 2 and bmf_curve.valid_rmse[1] < baseline_rmse["global mean"]
assert round(baseline_rmse["global mean"], 2) == 1.12
assert mf_curve.train_loss.iloc[-1] < mf_curve.train_loss[mf_best] and mf_curve.valid_rmse.iloc[-1] > mf_curve.valid_rmse[mf_best]
late = bmf_curve.valid_rmse[bmf_curve.index >= 10]
assert late.max() - late.min() < 0.003
print(f"validation RMSE after epoch 1: MF {mf_curve.valid_rmse[1]:.4f}, biased MF {bmf_curve.valid_rmse[1]:.4f}; "
      f"biased MF from epoch 10 on: {late.min():.4f} to {late.max():.4f}")

# %% [markdown]
# Plain MF starts far off (a validation RMSE above 2 after one epoch, off the top of the plot):
# its predictions $p_u^\top q_i$ start near zero, while biased MF starts from $\mu$ and is already
# below the global mean's 1.12 after one epoch. In both runs most of the improvement comes in the
# first five epochs. After its best epoch plain MF's training loss keeps falling while its
# validation RMSE does not improve again (it ends above its best): what it still learns fits the
# training ratings only. Biased MF's validation curve is flat from epoch 10 on (it moves by less
# than 0.003), so its best epoch is one of many nearly equal ones. Each run stops `patience` = 5
# epochs after its best epoch, marked by the dotted line.

# %%
table = pd.DataFrame([{"valid RMSE": r.scores["valid"].rmse, "test RMSE": r.test_rmse,
                       "best epoch": r.history.best_epoch, "epochs run": len(r.history.records)}
                      for r in results.values()],
                     index=list(results))
table.round(4)

# %%
global_test = metrics.evaluate(baselines["global mean"], split.test, train, data.scale).rmse
assert results["biased-mf"].test_rmse < global_test - 0.1, "biased MF should beat the global mean clearly"
for part_name in ("valid", "test"):
    part = getattr(split, part_name)
    errors = {name: (metrics.predict_with_default(r.learner.predict, part, train, data.scale)[0]
                     - part["rating"].to_numpy(np.float64)) ** 2 for name, r in results.items()}
    d = errors["biased-mf"] - errors["mf"]
    se = d.std(ddof=1) / np.sqrt(len(d))
    assert results["biased-mf"].scores[part_name].rmse < results["mf"].scores[part_name].rmse and d.mean() < -2 * se
    print(f"{part_name}: biased MF minus MF squared error per rating {d.mean():+.4f} ± {se:.4f} (paired SE)")
assert results["mf"].test_rmse < global_test - 0.1
print(f"test RMSE: global mean {global_test:.4f}, MF {results['mf'].test_rmse:.4f}, "
      f"biased MF {results['biased-mf'].test_rmse:.4f}")

# %% [markdown]
# Biased MF with 128 factors beats plain MF with 64 on validation and on test, by more than two
# paired standard errors over the held-out ratings (printed above), and both are more than 0.1
# below the global mean's test RMSE. Each model was trained once (seed 0): exercise 1 shows how far
# a seed moves such a run. The two runs differ in size as well as in the offsets, so this compares
# the two tuned models; exercise 1 varies the number of factors alone.

# %% tags=["results"]
print(json.dumps({"global mean test RMSE": round(global_test, 4),
                  **{f"{name} test RMSE": round(r.test_rmse, 4) for name, r in results.items()}}))

# %% [markdown]
# ## 2.4 Why a linear model is limiting
#
# Biased MF is the baseline AutoRec must beat. Its prediction is *bilinear*: linear in $p_u$
# for a fixed movie and linear in $q_i$ for a fixed user. Two consequences:
#
# * Every user is a single point in a $k$-dimensional taste space, and a prediction is a dot
#   product with the movie's point. Interactions that are not well approximated by a low-rank
#   dot product (a taste for a genre only in combination with another, say) cannot be expressed.
# * Factors are free parameters looked up by id. A user's vector is fitted from that user's
#   ratings only, and a user who arrives after training has none: MF must be re-trained, or the
#   new user's vector fitted with the movie factors held fixed ("folding in").
#
# AutoRec keeps the idea of a low-dimensional code, but computes the code from a whole vector of
# ratings through a non-linear encoder, $g(V r + \mu)$, and decodes it with $f(W h + b)$. With
# identity activations it is again a low-rank linear model (notebook 03 shows this numerically);
# the non-linearity is where it can do better.
#
# Whether AutoRec helps with a *new user* depends on the variant, because the two encode different
# vectors:
#
# * **U-AutoRec** encodes a user's ratings of all movies. A new user's rating vector has the same
#   length as every other user's, so the trained network encodes it and predicts the new user's
#   ratings of every movie with no fitting at all: one forward pass.
# * **I-AutoRec** (the paper's better variant) encodes a movie's ratings by all *training* users.
#   A new user is a new output of the network (a new row of $W$ and a new entry of $b$) and a new
#   input (a new column of $V$), none of which the trained network has. Retraining everything is
#   not required, though: keep $V$, $\mu$ and therefore every movie's code
#   $h_i = g(V r_i + \mu)$ fixed, and leave the new input column out. With the paper's identity
#   decoder $f$, the new user's prediction for movie $i$ is $w^\top h_i + c$, linear in the new
#   row $w$ of $W$ and the new entry $c$ of $b$, so those are fitted from the new user's own few
#   ratings by a small ridge regression, just as MF's folding-in fits $p_u$ with $Q$ fixed. That is
#   still a fit per new user, which U-AutoRec does not need. For a new *movie* the roles swap.
#
# The shapes show it, and the last lines fold a new user into I-AutoRec (the networks here are
# untrained: only the shapes and the mechanics matter).

# %%
i_net = AutoRec(n_inputs=data.n_users, hidden=500)  # I-AutoRec: input = one movie's ratings by all users
u_net = AutoRec(n_inputs=data.n_items, hidden=300)  # U-AutoRec: input = one user's ratings of all movies
print("I-AutoRec V:", tuple(i_net.layers[0].weight.shape), "W:", tuple(i_net.layers[-1].weight.shape))
print("U-AutoRec V:", tuple(u_net.layers[0].weight.shape), "W:", tuple(u_net.layers[-1].weight.shape))
new_user = torch.zeros(1, data.n_items)
new_user[0, [0, 49, 99]] = torch.tensor([5.0, 4.0, 1.0])  # a newcomer who rated three movies
with torch.no_grad():
    assert u_net(new_user).shape == (1, data.n_items)  # U-AutoRec: predictions for every movie at once
assert i_net.layers[0].weight.shape[1] == i_net.layers[-1].weight.shape[0] == data.n_users  # no slot for user 944

# I-AutoRec, folding in: each movie's code from its ratings by the 943 training users (V, mu fixed)...
movie_rows = torch.zeros(data.n_items, data.n_users)
movie_rows[i_idx, u_idx] = torch.as_tensor(r_obs, dtype=torch.float32)
with torch.no_grad():
    codes = i_net.g(i_net.layers[0](movie_rows)).double()  # h_i for every movie: (1682, 500)
# ...then the new user's row w of W and entry c of b by ridge regression on the 3 movies they rated
rated, their_ratings = [0, 49, 99], torch.tensor([5.0, 4.0, 1.0], dtype=torch.float64)
X = torch.cat([codes[rated], torch.ones(len(rated), 1, dtype=torch.float64)], 1)  # [h_i, 1]
penalty = torch.diag(torch.tensor([1.0] * codes.shape[1] + [0.0], dtype=torch.float64))  # w penalised, c not
w_c = torch.linalg.solve(X.T @ X + penalty, X.T @ their_ratings)
new_user_predictions = torch.cat([codes, torch.ones(data.n_items, 1, dtype=torch.float64)], 1) @ w_c
assert w_c.shape == (codes.shape[1] + 1,) and new_user_predictions.shape == (data.n_items,)
print(f"folded in: {len(w_c)} new numbers (a row of W and an entry of b) fitted from {len(rated)} ratings; "
      f"predictions for all {len(new_user_predictions):,} movies")

# %% [markdown]
# ## Summary
#
# * MF predicts $p_u^\top q_i$, biased MF $\mu + b_u + b_i + p_u^\top q_i$; both are fitted on
#   observed ratings only, with the penalty $\frac{\lambda}{2}$ on the factors (and offsets) of
#   every rated pair, summed over the batch.
# * The global mean plus user and movie offsets, with no factors at all, already beats each of the
#   per-user and per-movie means by more than 0.05 on validation.
# * On ML-100K's 90/10 split biased MF (128 factors) reaches the test RMSE printed above, more than
#   0.1 below the global mean's, and is the baseline for the rest of the course.
# * Validation chooses the epoch; test is only reported.
# * U-AutoRec predicts for a new user with no fitting at all; I-AutoRec, like MF, needs that user's
#   own new weights (a row of $W$ and an entry of $b$), which can be fitted by a small ridge
#   regression with everything else fixed, as MF folds in a new user's $p_u$.
#
# ## Exercises
#
# Each exercise trains biased MF with the course defaults except for one thing, and is checked by
# a function from `autorec_lib.exercises.ch02`: it looks at your runs first (model, settings,
# split) and recomputes from them the numbers you report. Pass `progress=False, eval_test=False`
# to `experiment.train`. `eval_test=False` only drops the per-epoch test curve: `experiment.train`
# still scores the test part once at the end (`result.scores["test"]`). Nothing in these exercises
# is chosen by a test score, and the checks never read a test rating.

# %%
from autorec_lib.exercises import ch02

# %% [markdown]
# ### Exercise 1: how much do more factors buy?
#
# Train biased MF with `n_factors` of 4 and 16; the course default of 128 is
# `results["biased-mf"]` from above. Put the three runs in a dict `factor_runs` keyed by the
# number of factors, their validation RMSEs in `factor_table` (same keys), and in `gain` how much
# 128 factors lower the validation RMSE compared with 4 (RMSE at 4 minus RMSE at 128).
#
# *Hint:* `experiment.train` passes model options such as `n_factors` as keyword arguments. A
# `Result` holds a score for each part of the split in `result.scores`; only one of them may be
# used to compare settings.

# %% tags=["solution"]
factor_runs = {k: experiment.train(data, split, "biased-mf", n_factors=k, progress=False, eval_test=False)
               for k in (4, 16)}
factor_runs[128] = results["biased-mf"]
factor_table = {k: r.scores["valid"].rmse for k, r in sorted(factor_runs.items())}
gain = factor_table[4] - factor_table[128]
pd.Series(factor_table, name="validation RMSE").rename_axis("n_factors").round(4).to_frame()

# %%
ch02.check_factor_sweep(factor_runs, factor_table, gain, data, split)

# %% tags=["answer"]
# For the discussion below: the same three sizes trained again with seed 1, on the same split, so
# that only the initialisation and the order of the batches change.
seed_table = pd.DataFrame({
    "seed 0": factor_table,
    "seed 1": {k: experiment.train(data, split, "biased-mf", seed=1, n_factors=k, progress=False,
                                   eval_test=False).scores["valid"].rmse for k in factor_table}}).rename_axis("n_factors")
seed_table["seed 1 - seed 0"] = seed_table["seed 1"] - seed_table["seed 0"]
moved = seed_table["seed 1 - seed 0"].abs()
for seed in ("seed 0", "seed 1"):
    assert seed_table[seed].max() - seed_table[seed].min() < 0.01  # within 0.01 of each other
    assert seed_table[seed].idxmin() == 128
    margin = results["mf"].scores["valid"].rmse - seed_table.loc[4, seed]  # 4 biased factors below plain MF's 64...
    assert 0 < margin < min(0.01, 2 * moved.max())  # ... by a margin of the order of a seed's movement
assert factor_table[16] > factor_table[4] and seed_table.loc[16, "seed 1"] < seed_table.loc[4, "seed 1"]  # the order flips
assert min(moved[4], moved[16]) > abs(factor_table[16] - factor_table[4]) and moved[4] > gain
offsets_share = ((baseline_rmse["global mean"] - baseline_rmse["global mean + offsets"])
                 / (baseline_rmse["global mean"] - factor_table[128]))
assert offsets_share > 0.8
print(f"offsets alone close {offsets_share:.0%} of the validation-RMSE gap between the global mean and 128 factors")
seed_table.round(4)

# %% [markdown] tags=["solution"]
# **What the solution shows.** More factors buy little: with seed 0 the three validation RMSEs lie
# within 0.01 of each other, and 16 factors do not even beat 4. How far can such small differences
# be trusted? The cell above trains the three sizes again with seed 1 on the *same* split, so only
# the initialisation and the order of the batches change. The 4- and 16-factor runs move by more
# than the difference between them (and the 4-factor run by more than `gain`), and with seed 1
# 16 factors do beat 4. So one run per setting cannot rank these sizes; all it supports is that
# the differences are small. (128 factors come out lowest with both seeds, but two seeds are not a
# measurement of that.)
#
# Much of the job is done by the offsets. With no factors at all, the global mean plus offsets of
# section 2.1 closes more than four fifths of the validation-RMSE gap between the global mean and
# biased MF with 128 factors (printed above). And on top of the offsets, 4 factors come out below
# plain MF with 64 with both seeds, but by less than 0.01, about as much as a seed moves these runs
# (plain MF was run once, with seed 0): not a measurement that they are better.

# %% [markdown]
# ### Exercise 2: no penalty
#
# Train biased MF with `lam` = 0, keeping every other course default.
# For that run and for `results["biased-mf"]` (λ = 0.2), compute the *gap*: validation RMSE minus
# the RMSE on the training ratings, both with the weights the run kept. Put the two runs in
# `lam_runs` and their gaps in `gaps`, both keyed by λ (0.0 and 0.2). Which λ leaves the wider
# gap, and what does that say about the penalty? (The history's `train_loss` is not an RMSE: it
# is a squared error per rating plus the penalty, so compare RMSE with RMSE.)
#
# *Hint:* a keyword of `experiment.train` that names a setting changes that setting alone. `metrics.evaluate`
# scores any predictor on any frame of ratings, and `result.learner.predict` is a trained run's
# predictor.

# %% tags=["solution"]
lam_runs = {0.0: experiment.train(data, split, "biased-mf", lam=0.0, progress=False, eval_test=False),
            0.2: results["biased-mf"]}
train_rmse = {lam: metrics.evaluate(r.learner.predict, split.train, split.train, data.scale).rmse
              for lam, r in lam_runs.items()}
gaps = {lam: r.scores["valid"].rmse - train_rmse[lam] for lam, r in lam_runs.items()}
free = lam_runs[0.0].history
free_valid = free.frame().valid_rmse
assert gaps[0.0] > gaps[0.2] + 0.1 and train_rmse[0.0] < train_rmse[0.2] - 0.1
assert lam_runs[0.0].scores["valid"].rmse > lam_runs[0.2].scores["valid"].rmse + 0.03
assert lam_runs[0.0].scores["valid"].rmse - lam_runs[0.2].scores["valid"].rmse > 10 * moved.max()  # vs exercise 1's seeds
assert free.best_epoch < results["biased-mf"].history.best_epoch and free_valid[free.best_epoch:].is_monotonic_increasing
pd.DataFrame({"train RMSE": train_rmse, "valid RMSE": {lam: r.scores["valid"].rmse for lam, r in lam_runs.items()},
              "gap": gaps, "best epoch": {lam: r.history.best_epoch for lam, r in lam_runs.items()}}).rename_axis("lam").round(4)

# %%
ch02.check_no_penalty(lam_runs, gaps, data, split)

# %% [markdown] tags=["solution"]
# **What the solution shows.** Without the penalty the 128 factors per user and movie fit the
# training ratings much more closely: the training RMSE is more than 0.1 lower than with λ = 0.2,
# the validation RMSE is worse (by more than 0.03), and the gap between them widens by more than
# 0.1 (the table above). That is one run each, but the validation RMSE moves by more than ten times
# the 0.005 by which a seed moved the runs of exercise 1. The best validation epoch comes earlier, and after it the validation RMSE
# rises every epoch until early stopping ends the run: early stopping alone limits the damage, but
# it does not replace λ.

# %% [markdown]
# ### Exercise 3: the canonical `u1` split
#
# ML-100K ships a split of its own, `u1` (notebook 01). Is biased MF's task harder or easier there
# than on our random split? You may not use test ratings to answer, so compare what validation can
# tell you. Make `u1 = splits.make_split(data, "u1")` and train biased MF on it with the course
# defaults. Then build, each keyed by `"random"` and `"u1"`:
#
# * `u1_runs`: the two runs (for `"random"`, the run from above, `results["biased-mf"]`);
# * `split_by_name`: the split each run was trained on (`split` and `u1`);
# * `u1_table`: a DataFrame with those two rows and the columns `"train ratings"` (how many
#   ratings the model was trained on) and `"valid RMSE"`.
#
# Which split gets the higher validation RMSE, and what can that say about the two test parts?
#
# *Hint:* read `help(splits.make_split)`: where does a split's validation part come from, and what
# is left for training? Then ask what a validation RMSE measured that way can, and cannot, say about
# the split's test part.

# %% tags=["solution"]
u1 = splits.make_split(data, "u1")
u1_runs = {"random": results["biased-mf"],
           "u1": experiment.train(data, u1, "biased-mf", progress=False, eval_test=False)}
split_by_name = {"random": split, "u1": u1}
u1_table = pd.DataFrame({name: {"train ratings": len(split_by_name[name].train), "valid RMSE": r.scores["valid"].rmse}
                         for name, r in u1_runs.items()}).T.astype({"train ratings": int})
u1_table.round(4)

# %%
ch02.check_u1_split(u1_runs, u1_table, data, split_by_name)

# %% [markdown]
# **Going further (no check; the solution notebook shows one way).** Validation compared the
# splits on the task their validation parts pose. Does `u1`'s test part pose the same task? Find
# out without reading a test rating: look only at which users `u1.test` holds, how many training
# ratings those users keep compared with the others, and how the model does on *validation*
# ratings of those users compared with the rest. Only then, once, print both runs' test RMSE next
# to their validation RMSE.

# %% tags=["answer"]
# Which users u1 holds out ratings of: only the user column of u1.test is read, never a rating.
test_users = np.unique(u1.test["user"].to_numpy())
per_user = np.bincount(u1.train["user"], minlength=data.n_users)
is_test_user = np.isin(np.arange(data.n_users), test_users)
in_test_users = u1.valid["user"].isin(test_users)
groups = pd.DataFrame(
    {group: {"users": int(users.sum()), "median training ratings": float(np.median(per_user[users])),
             "valid RMSE on u1": metrics.evaluate(u1_runs["u1"].learner.predict, u1.valid[rows], u1.train, data.scale).rmse}
     for group, users, rows in (("users in u1's test part", is_test_user, in_test_users),
                                ("other users", ~is_test_user, ~in_test_users))}).T.astype({"users": int})
assert len(test_users) == 459 and data.user_ids[test_users].max() == 462
assert tuple(groups["median training ratings"]) == (36.0, 58.5)
assert groups["valid RMSE on u1"].iloc[0] > groups["valid RMSE on u1"].iloc[1] + 0.005
assert u1_table.loc["u1", "train ratings"] == 72_000 and u1_table.loc["random", "train ratings"] == 81_000
assert u1_table["valid RMSE"].idxmax() == "u1" and len(u1.test) == 20_000 and len(split.test) == 10_000
display(groups.round(4))
reported = {name: {"valid RMSE": r.scores["valid"].rmse, "test RMSE (reported once)": r.test_rmse}
            for name, r in u1_runs.items()}
assert u1_runs["u1"].test_rmse > u1_runs["u1"].scores["valid"].rmse + 0.005
pd.DataFrame(reported).T.round(4)

# %% [markdown] tags=["solution"]
# **What the solution shows.** Each validation part is a random 10% carve-out of its split's
# training pool, so each measures how well the model predicts randomly chosen held-out ratings *of
# that pool*. The pools differ, though: ours is a random 90% of all ratings, while `u1`'s is
# `u1.base`, from which the test file took 20,000 ratings of only some users (below), so its users
# are not represented as in ours. The two validation RMSEs therefore do not pose exactly the same
# task, and each comes from a single training seed. With that caveat, `u1` gets the higher
# validation RMSE, and one clear difference is the amount of data: its model trains on 72,000
# ratings instead of 81,000 (u1's test file holds 20% of the ratings, ours 10%).
#
# That is all validation can say. It cannot say how hard `u1`'s *test* part is, because that part
# is not a random sample: without reading a single test rating, its user column shows that it
# holds ratings of only 459 users, all with ids up to 462, and those users keep fewer ratings for
# training (a median of 36, against 58.5 for the others). On `u1`'s own validation ratings the
# model already does worse for those users than for the rest (the first table above). So expect
# `u1`'s test RMSE to sit above its validation RMSE. Reported once, after everything was chosen, it
# does (the second table). A validation part should look like the test part it stands in for;
# `u1`'s random carve-out does not.
