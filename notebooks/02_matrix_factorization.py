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
# # 2. Background: matrix factorization
#
# AutoRec was proposed as an alternative to the model that dominated rating prediction at the
# time: matrix factorization (MF). This notebook builds that baseline, so that every AutoRec
# number later in the course has something honest to be compared with.
#
# **What you will learn**
#
# * the latent-factor model and its objective over *observed* ratings only;
# * biased MF: why a global mean plus user and item offsets explain so much;
# * how to train both with `autorec_lib`, read their learning curves, and report a baseline RMSE
#   on exactly the split AutoRec will use;
# * why a model that is linear in its factors is limiting, which motivates AutoRec.

# %%
import inspect
import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Code

from autorec_lib import datasets, experiment, metrics, splits
from autorec_lib.torch_backend import MF

data = datasets.load("ml-100k")
split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)

# %% [markdown]
# ## 2.1 The simplest baselines
#
# Before any learning, three predictors set the floor: the global mean rating, each user's mean,
# and each movie's mean (falling back to the global mean when unknown). `metrics.evaluate` scores a
# prediction function on held-out ratings only, clipping to the 1–5 scale.

# %%
train = split.train
mu = train["rating"].mean()
user_mean = train.groupby("user")["rating"].mean().reindex(range(data.n_users)).fillna(mu).to_numpy()
item_mean = train.groupby("item")["rating"].mean().reindex(range(data.n_items)).fillna(mu).to_numpy()
baselines = {
    "global mean": lambda u, i: np.full(len(u), mu),
    "user mean": lambda u, i: user_mean[u],
    "item mean": lambda u, i: item_mean[i],
}
baseline_rmse = {name: metrics.evaluate(f, split.valid, train, data.scale).rmse for name, f in baselines.items()}
pd.Series(baseline_rmse, name="validation RMSE").round(4).to_frame()

# %% [markdown]
# ## 2.2 Latent factors
#
# MF gives every user $u$ a vector $p_u \in \mathbb{R}^k$ and every movie $i$ a vector
# $q_i \in \mathbb{R}^k$, and predicts $\hat r_{ui} = p_u^\top q_i$. With $\Omega$ the set of
# observed (user, movie) pairs, it minimises
#
# $$\sum_{(u,i) \in \Omega} \left(r_{ui} - p_u^\top q_i\right)^2 + \frac{\lambda}{2}\sum_{(u,i)\in\Omega}\left(\lVert p_u\rVert^2 + \lVert q_i\rVert^2\right).$$
#
# Two things to notice. The sum runs over **observed** ratings only: an unknown entry is not a
# zero, it is simply unknown. And the penalty, applied to the factors of each rated pair, keeps
# the factors of rarely seen users and movies small.
#
# **Biased MF** adds what the baselines above already capture: a global mean $\mu$, a user offset
# $b_u$ (some people rate everything high) and a movie offset $b_i$ (some movies are better):
#
# $$\hat r_{ui} = \mu + b_u + b_i + p_u^\top q_i .$$
#
# Here is the library's PyTorch model; `forward` is the formula above.

# %%
Code(inspect.getsource(MF), language="python")

# %% [markdown]
# ## 2.3 Training both
#
# `experiment.train` runs the training loop shared by all models in the course: mini-batches of
# ratings, Adam, a progress bar, and after every epoch the validation RMSE. It keeps the weights
# of the epoch with the best **validation** RMSE and stops when that has not improved for a few
# epochs. The test RMSE is recorded for the plots, never used to choose anything. The
# hyperparameters (64 factors... see `experiment.defaults`) were chosen on the validation split by
# `scripts/tune.py`.

# %%
print(experiment.defaults("biased-mf"))

# %%
# NBVAL_IGNORE_OUTPUT
results = {name: experiment.train(data, split, name) for name in ("mf", "biased-mf")}

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.6), sharey=True)
for ax, (name, result) in zip(axes, results.items()):
    result.history.plot(ax=ax)
    ax.axhline(baseline_rmse["global mean"], color="black", lw=0.8, label="global mean")
    ax.set_title(f"{name}: best epoch {result.history.best_epoch}")
    ax.legend()
axes[0].set_ylim(0.85, 1.15)
fig.tight_layout()

# %% [markdown]
# Both curves fall steeply in the first few epochs and then flatten; plain MF's validation RMSE
# creeps back up as it starts to fit the noise of the training ratings, and the run stops a few
# epochs after its best. The dotted line marks the epoch the validation split chose; the test
# curve has its minimum in about the same place, which is what a good validation split gives.

# %%
table = pd.DataFrame({name: {"valid RMSE": r.scores["valid"].rmse, "test RMSE": r.test_rmse,
                             "best epoch": r.history.best_epoch, "s/epoch": r.history.seconds_per_epoch}
                      for name, r in results.items()}).T
table.round(4)

# %%
global_test = metrics.evaluate(baselines["global mean"], split.test, train, data.scale).rmse
assert results["biased-mf"].test_rmse < global_test - 0.1, "biased MF should beat the global mean clearly"
assert results["biased-mf"].test_rmse < results["mf"].test_rmse, "the biases should help"
print(f"test RMSE: global mean {global_test:.4f}, MF {results['mf'].test_rmse:.4f}, "
      f"biased MF {results['biased-mf'].test_rmse:.4f}")

# %% [markdown]
# ## 2.4 Why a linear model is limiting
#
# Biased MF is the baseline AutoRec must beat. Its prediction is *bilinear*: linear in $p_u$
# for a fixed movie and linear in $q_i$ for a fixed user. Two consequences:
#
# * Every user is a single point in a $k$-dimensional taste space, and a prediction is a dot
#   product with the movie's point. Interactions that are not well approximated by a low-rank
#   dot product (a taste for a genre only in combination with another, say) cannot be expressed.
# * Factors are free parameters looked up by id. A user with three ratings gets a vector fitted
#   from three numbers, and a model has to be re-fitted to place a new user.
#
# AutoRec keeps the idea of a low-dimensional code, but computes the code from a whole row of
# ratings through a non-linear encoder, $g(V r + \mu)$, and decodes it with $f(W h + b)$. With
# identity activations it is again a low-rank linear model (notebook 03 shows this numerically);
# the non-linearity is where it can do better.
#
# ## Summary
#
# * MF predicts $p_u^\top q_i$ and is fitted on observed ratings only, with an L2 penalty.
# * Biased MF adds $\mu + b_u + b_i$; on ML-100K's 90/10 split it reaches the test RMSE printed
#   above, well below the global mean's, and is the baseline for the rest of the course.
# * Validation chooses the epoch; test is only reported.
#
# ## Exercises
#
# 1. Train biased MF with `n_factors` of 4, 16 and 128 (`experiment.train(data, split, "biased-mf",
#    n_factors=...)`). How much do more factors buy?
# 2. Set `lam` to 0 through a `TrainConfig` and train again. What happens to the gap between the
#    training loss and the validation RMSE?
# 3. Evaluate biased MF on the canonical `u1` split (`splits.make_split(data, "u1")`). Is it
#    easier or harder than the random split, and why might that be?

# %% tags=["results"]
print(json.dumps({"global mean test RMSE": round(global_test, 4),
                  **{f"{name} test RMSE": round(r.test_rmse, 4) for name, r in results.items()}}))
