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
# # 1. Setup and data: MovieLens 100K
#
# This course builds AutoRec (Sedhain, Menon, Sanner and Xie, *AutoRec: Autoencoders Meet
# Collaborative Filtering*, WWW 2015) from the ground up. Before any model, we need to know the
# data it learns from, and how we will judge it.
#
# **What you will learn**
#
# * how to check that your environment has what the course needs, and which device it will use;
# * how `autorec_lib` finds MovieLens 100K (a local folder, a cache, or a verified download);
# * what the rating matrix looks like: its size, how empty it is, how ratings are spread, and
#   the long tail of users and items;
# * how we measure a model's error (RMSE and MAE), and how we split ratings into train,
#   validation and test, and why the validation part matters.

# %%
import os
import platform
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

import autorec_lib
from autorec_lib import datasets, metrics, splits
from autorec_lib.exercises import ch01

# %% [markdown]
# ## 1.1 The environment
#
# The library works with PyTorch alone; MXNet is optional (notebook 05 needs it). PyTorch itself
# runs on the CPU unless told otherwise; the library's `pick_device("auto")` chooses a CUDA GPU when
# PyTorch sees one, and the CPU otherwise. The last row of the table shows its choice here.
#
# **GPUs.** Nothing to change in the code: on a machine whose PyTorch sees a CUDA GPU (on Colab:
# *Runtime → Change runtime type → GPU*), every notebook's PyTorch code runs on it. MXNet is another
# matter: the course installs its CPU build (`mxnet==1.9.1`, the last release), so MXNet computes on
# the CPU even on a GPU machine. Its GPU builds (`mxnet-cu112` to `mxnet-cu117`) target CUDA 11 and
# none was made for CUDA 12; the course neither installs nor tests them. MXNet also needs Python 3.11
# and NumPy < 1.24, so it is missing on Colab, where notebook 05 runs its PyTorch half only.

# %%
import torch

from autorec_lib.torch_backend import pick_device

try:
    import mxnet
    mxnet_version = mxnet.__version__
except ImportError:
    mxnet_version = "not installed (only notebook 05 needs it)"
env = {"python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__,
       "torch": torch.__version__, "mxnet": mxnet_version, "autorec_lib": autorec_lib.__version__,
       "device": str(pick_device("auto"))}
assert env["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
pd.Series(env, name="version").to_frame()

# %% [markdown]
# ## 1.2 Loading MovieLens 100K
#
# `datasets.load("ml-100k")` looks for the data in this order: a `path=` argument, the folder
# named by the environment variable `AUTOREC_DATA` (it should contain `ml-100k/`), the cache
# (`~/.cache/autorec`, or the folder named by the environment variable `AUTOREC_CACHE`), and
# finally a download from GroupLens whose MD5 checksum is verified before the files are unpacked into the
# cache. An interrupted download never leaves half a data set.
#
# The loader maps MovieLens's user and movie ids onto contiguous indices `0..n-1`, which is what
# a matrix (and an embedding table) needs, and keeps the maps back to the original ids.

# %%
data = datasets.load("ml-100k")
root = os.environ.get(datasets.DATA_ENV)
source = ("$AUTOREC_DATA" if root and data.path == Path(root) / data.name
          else "the cache" if data.path.parent == datasets.cache_dir() else "the path given")
print(f"{data.name} found in {source}, folder {data.path.name}/")
data.ratings.head()

# %%
# NBVAL_CHECK_OUTPUT
n_ratings = len(data.ratings)
density = n_ratings / (data.n_users * data.n_items)
assert (data.n_users, data.n_items, n_ratings) == (943, 1682, 100_000)
assert f"{density:.1%}" == "6.3%" and f"{1 - density:.1%}" == "93.7%"
print(f"{data.n_users} users, {data.n_items} movies, {n_ratings} ratings")
print(f"the rating matrix is {density:.1%} full: {1 - density:.1%} of its entries are unknown")

# %% [markdown]
# Each index maps back to a MovieLens id and a title:

# %%
# NBVAL_CHECK_OUTPUT
item = int(data.ratings["item"].iloc[0])
print(f"item index {item} is MovieLens movie {data.item_ids[item]}: {data.titles[item]}")

# %% [markdown]
# ## 1.3 How ratings are spread
#
# Ratings are whole stars from 1 to 5, and most (61%) are 3 or 4; their mean is 3.53. Predicting
# that mean for everyone is the first baseline every model must beat; we measure it in section 1.5.
# Movies with more ratings also tend to have a higher mean rating (right panel).

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
counts = data.ratings["rating"].value_counts().sort_index()
axes[0].bar(counts.index, counts.values, color="tab:blue")
axes[0].set(title="ratings by star", xlabel="stars", ylabel="ratings")
per_user = data.ratings.groupby("user").size().sort_values(ascending=False).to_numpy()
per_item = data.ratings.groupby("item").size().sort_values(ascending=False).to_numpy()
axes[1].plot(per_user, label="users")
axes[1].plot(per_item, label="movies")
axes[1].set(yscale="log", title="the long tail", xlabel="rank", ylabel="ratings (log)")
axes[1].legend()
mean_by_item = data.ratings.groupby("item")["rating"].agg(["mean", "size"])
axes[2].scatter(mean_by_item["size"], mean_by_item["mean"], s=4, alpha=0.4)
axes[2].set(xscale="log", title="popular movies rate higher", xlabel="ratings of the movie (log)",
            ylabel="its mean rating")
fig.tight_layout()

# %%
# NBVAL_CHECK_OUTPUT
share_3_4 = counts.loc[[3.0, 4.0]].sum() / n_ratings
popular_rho = mean_by_item["size"].corr(mean_by_item["mean"], method="spearman")
top_decile = per_item[: int(np.ceil(0.1 * data.n_items))].sum() / n_ratings
assert list(counts.index) == [1.0, 2.0, 3.0, 4.0, 5.0]  # whole stars, 1 to 5
assert 0.5 < share_3_4 and f"{share_3_4:.0%}" == "61%" and f"{data.ratings['rating'].mean():.2f}" == "3.53"
assert popular_rho > 0.3  # more ratings go with a higher mean rating
assert per_user.min() == 20 and 200 <= (per_item < 5).sum() < 500  # "a few hundred" movies
assert f"{top_decile:.0%}" == "43%" and (per_item < 5).sum() == 333
print(f"mean rating {data.ratings['rating'].mean():.3f}; {share_3_4:.0%} of ratings are 3 or 4 stars")
print(f"ratings per user: median {np.median(per_user):.0f}, min {per_user.min()}, max {per_user.max()}")
print(f"ratings per movie: median {np.median(per_item):.0f}, min {per_item.min()}, max {per_item.max()}; "
      f"{(per_item == 1).sum()} movies have a single rating, {(per_item < 5).sum()} fewer than five")
print(f"the 10% most-rated movies hold {top_decile:.0%} of all ratings")
print(f"Spearman correlation of a movie's number of ratings and its mean rating: {popular_rho:.2f}")

# %% [markdown]
# Every user has at least 20 ratings (GroupLens kept only such users), but movies trail off: the
# 10% most-rated movies hold 43% of all ratings, and a few hundred movies (333) have fewer than
# five. Those are the hard cases for any collaborative model.
#
# ## 1.4 A picture of the rating matrix
#
# Sorting users and movies by how many ratings they have shows the structure: a dense corner of
# active users and popular movies, and a vast, nearly empty rest. In this picture users are rows
# and movies are columns. AutoRec reads the matrix one vector at a time: I-AutoRec one movie's
# column (its ratings by all 943 users), U-AutoRec one user's row (their ratings of all 1,682
# movies).

# %%
user_order = np.argsort(-np.bincount(data.ratings["user"], minlength=data.n_users))
item_order = np.argsort(-np.bincount(data.ratings["item"], minlength=data.n_items))
rank_u = np.empty_like(user_order); rank_u[user_order] = np.arange(data.n_users)
rank_i = np.empty_like(item_order); rank_i[item_order] = np.arange(data.n_items)
matrix = np.full((data.n_users, data.n_items), np.nan)
matrix[rank_u[data.ratings["user"]], rank_i[data.ratings["item"]]] = data.ratings["rating"]
fig, ax = plt.subplots(figsize=(9, 5))
image = ax.imshow(matrix, aspect="auto", interpolation="nearest", cmap="viridis")
ax.set(title="ML-100K ratings (users and movies sorted by activity; white = unknown)",
       xlabel="movies", ylabel="users")
fig.colorbar(image, ax=ax, label="stars");

# %%
# NBVAL_CHECK_OUTPUT
top_u, top_i = int(np.ceil(0.1 * data.n_users)), int(np.ceil(0.1 * data.n_items))
corner = np.isfinite(matrix[:top_u, :top_i]).mean()
rest = np.isfinite(matrix[top_u:, top_i:]).mean()
assert corner > 0.5 and rest < 0.05
print(f"the 10% most active users x the 10% most-rated movies: {corner:.0%} full; "
      f"the other users x the other movies: {rest:.1%} full")

# %% [markdown]
# ## 1.5 Measuring error, and the split protocol
#
# We judge a model by how well it predicts ratings it has never seen. For a set $\mathcal{T}$ of
# held-out (user, movie) pairs with true ratings $r_{ui}$ and predictions $\hat r_{ui}$,
#
# $$\mathrm{RMSE} = \sqrt{\frac{1}{|\mathcal{T}|}\sum_{(u,i)\in\mathcal{T}} (\hat r_{ui} - r_{ui})^2},
# \qquad
# \mathrm{MAE} = \frac{1}{|\mathcal{T}|}\sum_{(u,i)\in\mathcal{T}} |\hat r_{ui} - r_{ui}|.$$
#
# RMSE, the root mean squared error, is the AutoRec paper's metric (the paper reports RMSE only);
# the course also reports the mean absolute error (MAE) beside it. Squaring makes RMSE punish a
# few large misses more than MAE does, and RMSE is never below MAE.
# `autorec_lib.metrics.evaluate(predict, held_out, train, scale)` computes both after two
# adjustments: every prediction is clipped to the rating scale (1 to 5 here, so a prediction of
# 6 stars is scored as 5), and a pair whose user or movie has no rating in `train` gets the
# default rating 3 instead of a model prediction (the paper's rule); `n_default` says how many
# pairs got it.
#
# The AutoRec paper splits each of its data sets (MovieLens 1M and 10M, and Netflix; not 100K) at
# random into 90% train and 10% test, holds out 10% of the training part to tune hyperparameters,
# and reports the RMSE averaged over five such splits. The course applies the same protocol to
# ML-100K, with a single split (seed 0) in every notebook to keep the runs short: the 10% held out
# for tuning is our **validation** split.
#
# Why the extra split? Every choice we make while training (how many epochs, λ, the hidden
# size) is a fit to whatever data we look at. If we picked them by test RMSE, the test RMSE would
# no longer be an honest estimate of performance on new ratings. So: choose on validation, report
# on test, and look at test as little as possible.

# %%
split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)
pd.Series(split.sizes(), name="ratings").to_frame().T

# %%
keys = {part: set(zip(df["user"], df["item"])) for part, df in
        {"train": split.train, "valid": split.valid, "test": split.test}.items()}
assert not keys["train"] & keys["test"] and not keys["train"] & keys["valid"] and not keys["valid"] & keys["test"]
assert sum(map(len, keys.values())) == n_ratings
assert split.sizes() == {"train": 81_000, "valid": 9_000, "test": 10_000}  # 90/10, then 10% of the 90%
print("no rating appears in two parts, and together they are all 100,000")

# %% [markdown]
# The simplest predictors show what RMSE and MAE look like: the mean of the training ratings for
# every pair, and the constant 3, scored on the validation split.

# %%
# NBVAL_CHECK_OUTPUT
mu = split.train["rating"].mean()
baselines = {"training mean": lambda u, i: np.full(len(u), mu),
             "always 3": lambda u, i: np.full(len(u), 3.0)}
scores = {name: metrics.evaluate(f, split.valid, split.train, data.scale) for name, f in baselines.items()}
# the formula by hand, with the library's two adjustments, gives the same numbers
known = split.valid["user"].isin(split.train["user"]) & split.valid["item"].isin(split.train["item"])
by_hand = np.clip(np.where(known, mu, metrics.DEFAULT_RATING), *data.scale)
errors = by_hand - split.valid["rating"].to_numpy(np.float64)
assert np.isclose(scores["training mean"].rmse, np.sqrt(np.mean(errors ** 2)))
assert np.isclose(scores["training mean"].mae, np.mean(np.abs(errors)))
assert scores["training mean"].n_default == (~known).sum() > 0
assert all(s.rmse >= s.mae for s in scores.values()) and data.scale == (1.0, 5.0)
assert scores["training mean"].rmse < scores["always 3"].rmse
# clipping: predicting 6 stars everywhere scores exactly as predicting 5
too_high, five = (metrics.evaluate(lambda u, i, c=c: np.full(len(u), c), split.valid, split.train, data.scale)
                  for c in (6.0, 5.0))
assert (too_high.rmse, too_high.mae) == (five.rmse, five.mae)
spread = split.valid["rating"].std(ddof=0)
assert abs(scores["training mean"].rmse - spread) < 0.01
print(f"training mean {mu:.3f}; standard deviation of the validation ratings {spread:.3f}")
pd.DataFrame([s.as_dict() for s in scores.values()], index=list(scores)).round(3)

# %% [markdown]
# Predicting the training mean for every pair gives a validation RMSE of 1.124, about the
# standard deviation of the validation ratings (1.125): it is the error of a model that knows
# nothing about users or movies, and the models of notebook 02 onwards must get well below it.
# The constant 3 does worse (1.243). In both, 21 validation ratings got the default rating 3
# because their movie has no rating in the training part.

# %%
# NBVAL_CHECK_OUTPUT
assert (round(scores["training mean"].rmse, 3), round(spread, 3), round(scores["always 3"].rmse, 3)) == (1.124, 1.125, 1.243)
for part in ("valid", "test"):
    held_out = getattr(split, part)
    unseen_items = (~held_out["item"].isin(split.train["item"])).sum()
    unseen_users = (~held_out["user"].isin(split.train["user"])).sum()
    print(f"{part}: {unseen_items} ratings of movies unseen in training, {unseen_users} of unseen users")
    assert unseen_items > 0 and unseen_users == 0
    assert unseen_items == {"valid": 21, "test": 25}[part]
assert scores["training mean"].n_default == scores["always 3"].n_default == 21

# %% [markdown]
# The test part has the same kind of ratings (25 here, none of them of an unseen user): whatever
# the model, they are scored with the default rating 3, as in the paper.
#
# ML-100K also ships canonical splits: `u1`…`u5` (five disjoint 20% test folds that together
# cover every rating) and `ua`/`ub` (exactly ten test ratings per user).
# `splits.canonical_split(data, "u1")` reads one pair of training and test files as they are;
# `splits.make_split(data, "u1")` reads the same files and then, as for the random split, carves a
# validation part (10%) out of the training file: 72,000 train, 8,000 validation, 20,000 test.

# %%
# NBVAL_CHECK_OUTPUT
folds = [splits.canonical_split(data, f"u{k}") for k in range(1, 6)]
fold_keys = [set(zip(test["user"], test["item"])) for _, test in folds]
assert all(len(train) + len(test) == n_ratings and len(test) == 0.2 * n_ratings for train, test in folds)
assert len(set().union(*fold_keys)) == n_ratings  # disjoint, and together every rating
lines = []
for name in ("u1", "ua", "ub"):
    train, test = splits.canonical_split(data, name)
    if name != "u1":
        assert (test.groupby("user").size() == 10).all() and test["user"].nunique() == data.n_users
    lines.append(f"canonical_split {name!r}: {len(train)} train, {len(test)} test")
u1 = splits.make_split(data, "u1")
assert u1.sizes() == {"train": 72_000, "valid": 8_000, "test": 20_000}
assert len(u1.train) + len(u1.valid) == len(folds[0][0])
lines.append(f"make_split 'u1': {u1.sizes()}")
print("\n".join(lines))

# %% [markdown]
# ## Summary
#
# * MovieLens 100K has 100,000 ratings by 943 users of 1,682 movies: the rating matrix is 93.7%
#   empty, and ratings per movie have a long tail (the 10% most-rated movies hold 43% of them).
# * `autorec_lib.datasets.load` finds the data locally (`AUTOREC_DATA`), in its cache, or downloads
#   and verifies it; indices are contiguous and map back to MovieLens ids and titles.
# * Error is RMSE (and MAE) over held-out ratings, with predictions clipped to the scale; held-out
#   ratings of movies or users unseen in training get the default rating 3.
# * We split 90/10 at random, carve a validation part out of training, choose everything on
#   validation and report test RMSE; predicting the training mean scores 1.124 on validation.
#
# ## Exercises
#
# The checks below each exercise recompute the answer from the data; run them after your code.

# %% [markdown]
# ### Exercise 1: how full is ml-latest-small, and on what scale?
#
# Load the newer, small MovieLens set with `small = datasets.load("ml-latest-small")`. Store in
# a dict `latest_small`: `n_ratings`, `n_users` and `n_movies`, its numbers of ratings, of users
# and of movies (counting, like `small.n_items`, the movies that have at least one rating);
# `density`, the fraction of its user × movie matrix that holds a rating; `lowest` and `highest`,
# its lowest and highest rating; and `step`, the smallest gap between two distinct rating values.
# How does it compare with ML-100K?
#
# *Hint:* the density computation of section 1.2 works for any data set `datasets.load` returns.
# For the scale, do not trust what you know about ML-100K: look at the distinct values of the
# `rating` column.

# %% tags=["solution"]
small = datasets.load("ml-latest-small")
values = np.unique(small.ratings["rating"])
latest_small = {"n_ratings": len(small.ratings), "n_users": small.n_users, "n_movies": small.n_items}
latest_small.update(density=latest_small["n_ratings"] / (latest_small["n_users"] * latest_small["n_movies"]),
                    lowest=float(values.min()), highest=float(values.max()), step=float(np.diff(values).min()))
# backing the interpretation below
assert f"{latest_small['density']:.1%}" == "1.7%" and 0.2 < latest_small["density"] / density < 0.33
assert (small.n_users, small.n_items, len(small.ratings)) == (610, 9724, 100_836)
assert small.scale == (0.5, 5.0) and len(values) == 10
print(f"{small.n_users} users, {small.n_items} movies, {len(small.ratings)} ratings")
{k: round(v, 4) for k, v in latest_small.items()}

# %%
ch01.check_latest_small(latest_small, small)

# %% [markdown] tags=["solution"]
# **What the solution shows.** ml-latest-small has about as many ratings as ML-100K (100,836)
# but spreads them over 610 users and 9,724 movies, so its matrix is only 1.7% full, about a
# quarter of ML-100K's 6.3%. Its ratings go from 0.5 to 5 in half stars (ten values), not whole
# stars from 1 to 5: the library knows this (`small.scale == (0.5, 5.0)`), so predictions are
# clipped to 0.5–5 on this set.

# %% [markdown]
# ### Exercise 2: do heavy raters rate differently?
#
# Section 1.3 found that movies with more ratings tend to have a higher mean rating. Does the
# same hold for users, and is it more than chance? Store in a dict `heavy_vs_light`: `spearman`,
# the Spearman rank correlation, over the 943 users, between a user's number of ratings and their
# mean rating; `p_value`, the two-sided p-value of the test of that correlation (its null
# hypothesis: no correlation); `heavy_mean`, the average of the users' mean ratings over the
# *heavy* raters (more ratings than the median user, 65); and `light_mean`, the same over the
# *light* raters (the others). Is the correlation distinguishable from zero at the 5% level? A
# plot of each user's mean rating against their number of ratings helps you see it.
#
# *Hint:* section 1.3 did this for movies; here the rows to group are users, and in each group's
# average every user must count once, however many ratings they gave. A test of the rank
# correlation gives its p-value: look in SciPy's `stats`, imported at the top.

# %% tags=["solution"]
per_user_stats = data.ratings.groupby("user")["rating"].agg(["size", "mean"])
heavy = per_user_stats["size"] > per_user_stats["size"].median()
p_value = stats.spearmanr(per_user_stats["size"], per_user_stats["mean"]).pvalue
heavy_vs_light = {"spearman": per_user_stats["size"].corr(per_user_stats["mean"], method="spearman"),
                  "p_value": p_value,
                  "heavy_mean": per_user_stats.loc[heavy, "mean"].mean(),
                  "light_mean": per_user_stats.loc[~heavy, "mean"].mean()}
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.scatter(per_user_stats["size"], per_user_stats["mean"], s=5, alpha=0.5)
ax.set(xscale="log", xlabel="ratings by the user (log)", ylabel="the user's mean rating",
       title="users: activity vs mean rating")
ax.set_xticks([20, 50, 100, 200, 500], labels=["20", "50", "100", "200", "500"])
# backing the interpretation below
gap = heavy_vs_light["light_mean"] - heavy_vs_light["heavy_mean"]
assert per_user_stats["size"].median() == 65 and heavy_vs_light["spearman"] < 0 and p_value > 0.05
assert 0 < gap < per_user_stats["mean"].std() / 5
assert [round(float(heavy_vs_light[k]), 3) for k in ("spearman", "heavy_mean", "light_mean")] == [-0.06, 3.558, 3.618]
assert f"{p_value:.2f}" == "0.07" and f"{per_user_stats['mean'].std():.2f}" == "0.45"
assert not heavy_vs_light["p_value"] < 0.05  # not significant at the 5% level
groups = [per_user_stats.loc[h, "mean"].astype(float) for h in (heavy, ~heavy)]
gap_se = np.sqrt(sum(g.var() / len(g) for g in groups))  # the standard error of a difference of two group means
assert f"{gap_se:.3f}" == "0.029" and 1.5 < gap / gap_se < 2.5
print(f"p-value of the Spearman correlation {p_value:.2f}; light minus heavy {gap:.3f} ± {gap_se:.3f} stars "
      f"(standard error); standard deviation of users' mean ratings {per_user_stats['mean'].std():.2f}")
{k: round(float(v), 3) for k, v in heavy_vs_light.items()}

# %%
ch01.check_heavy_vs_light(heavy_vs_light, data)

# %% [markdown] tags=["solution"]
# **What the solution shows.** Barely, if at all. Heavy raters' mean rating (3.558 on average) is
# 0.060 stars below light raters' (3.618), about two standard errors of that difference (0.029):
# a borderline gap, which depends on where the groups are cut. The rank correlation, which uses
# every user's count without a cut, is weakly negative (−0.06), and with a p-value of 0.07 it is
# not distinguishable from zero at the usual 5% level. Either way the effect is small next to how
# much users differ from each other: the users' mean ratings have a standard deviation of 0.45
# stars. A user's own average matters far more than how much they rate, which is why the biased
# models of notebook 02 give every user an offset.

# %% [markdown]
# ### Exercise 3: a per-user holdout split
#
# Make `holdout = splits.make_split(data, "holdout")`, which holds out one random rating of each
# user. Store in a dict `holdout_answer`: `n_test`, the number of ratings in its test part; and
# `light_share_random` and `light_share_holdout`, the fraction of the test ratings that belong to
# light raters (at most the median number of ratings in the whole data, as in exercise 2), in
# the random `split` of section 1.5 and in `holdout`. The check takes both splits too, to count
# who is in their test parts (it reads no test rating). Why might the RMSE of the same model differ
# between the two test parts?
#
# *Hint:* think about how many test ratings one user contributes under each split. `Series.isin`
# tells which test ratings belong to a given set of users.

# %% tags=["solution"]
holdout = splits.make_split(data, "holdout")
user_counts = data.ratings.groupby("user").size()
light_users = user_counts.index[user_counts <= user_counts.median()]
holdout_answer = {"n_test": len(holdout.test),
                  "light_share_random": float(split.test["user"].isin(light_users).mean()),
                  "light_share_holdout": float(holdout.test["user"].isin(light_users).mean())}
# backing the interpretation below
weight = holdout_answer["light_share_holdout"] / holdout_answer["light_share_random"]
noise = np.sqrt(len(split.test) / len(holdout.test))
assert holdout_answer["n_test"] == data.n_users and len(light_users) / data.n_users > 0.5
assert 2.5 < weight < 3.5 and round(noise, 1) == 3.3
assert len(light_users) == 477 and [f"{holdout_answer[k]:.0%}" for k in ("light_share_random", "light_share_holdout")] == ["17%", "51%"]
print(f"{len(light_users)} light raters of {data.n_users}; light share x{weight:.1f} in the holdout; "
      f"sqrt({len(split.test)} / {len(holdout.test)}) = {noise:.1f}")
{k: round(v, 4) for k, v in holdout_answer.items()}

# %%
ch01.check_holdout(holdout_answer, data, split, holdout)

# %% [markdown] tags=["solution"]
# **What the solution shows.** The holdout test part has 943 ratings, one per user. In the
# random split a user contributes test ratings in proportion to how many they have, so the light
# raters (477 of the 943 users) hold only 17% of its test ratings; in the holdout every user
# counts once, and they hold 51%. RMSE on the holdout therefore weighs light raters, the users
# with the fewest ratings to learn from, about three times as heavily. It also averages 943 errors instead
# of 10,000, so its random error (which shrinks like $1/\sqrt{|\mathcal{T}|}$) is about 3.3 times
# larger. And the paper's numbers come from random splits, so holdout RMSEs are not comparable
# with them.

# %% tags=["results"]
import json
print(json.dumps({"users": data.n_users, "items": data.n_items, "ratings": n_ratings,
                  "density": round(density, 4), **{f"{k} ratings": v for k, v in split.sizes().items()}}))
