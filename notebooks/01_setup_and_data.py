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
# * how we split ratings into train, validation and test, and why the validation part matters.

# %%
import platform

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import autorec_lib
from autorec_lib import datasets, splits

# %% [markdown]
# ## 1.1 The environment
#
# The library works with PyTorch alone; MXNet is optional (notebook 05 needs it). PyTorch picks
# up a CUDA GPU by itself when there is one, and falls back to the CPU.

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
pd.Series(env, name="version").to_frame()

# %% [markdown]
# ## 1.2 Loading MovieLens 100K
#
# `datasets.load("ml-100k")` looks for the data in this order: a `path=` argument, the folder
# named by the environment variable `AUTOREC_DATA` (it should contain `ml-100k/`), the cache
# `~/.cache/autorec`, and finally a download from GroupLens whose MD5 checksum is verified before
# the files are unpacked into the cache. An interrupted download never leaves half a data set.
#
# The loader maps MovieLens's user and movie ids onto contiguous indices `0..n-1`, which is what
# a matrix (and an embedding table) needs, and keeps the maps back to the original ids.

# %%
data = datasets.load("ml-100k")
print(data.path)
data.ratings.head()

# %%
# NBVAL_CHECK_OUTPUT
n_ratings = len(data.ratings)
density = n_ratings / (data.n_users * data.n_items)
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
# Ratings are whole stars from 1 to 5. Most are 3 or 4: a model that always predicts the mean
# (about 3.53) is already not terrible, which is why we will always compare against it.

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
print(f"mean rating {data.ratings['rating'].mean():.3f}")
print(f"ratings per user: median {np.median(per_user):.0f}, min {per_user.min()}, max {per_user.max()}")
print(f"ratings per movie: median {np.median(per_item):.0f}, min {per_item.min()}, max {per_item.max()}; "
      f"{(per_item == 1).sum()} movies have a single rating")

# %% [markdown]
# Every user has at least 20 ratings (GroupLens kept only such users), but movies trail off: a
# few hundred have fewer than five. Those are the hard cases for any collaborative model.
#
# ## 1.4 A picture of the rating matrix
#
# Sorting users and movies by how many ratings they have shows the structure: a dense corner of
# active users and popular movies, and a vast empty rest. AutoRec reads this matrix one row at a
# time: rows are movies for I-AutoRec, users for U-AutoRec.

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

# %% [markdown]
# ## 1.5 The split protocol
#
# We judge a model by how well it predicts ratings it has never seen: RMSE over held-out
# ratings. The course uses a 90/10 random split of the ratings (the protocol of the AutoRec paper),
# and carves a further 10% of the training ratings out as a **validation** split.
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
print("no rating appears in two parts, and together they are all 100,000")

# %% [markdown]
# Some test ratings belong to a movie with no rating left in the training part. No collaborative
# model can say anything about such a movie; following the paper, these get the default rating 3,
# and `autorec_lib.metrics.evaluate` reports how many there were.

# %%
unseen_items = ~split.test["item"].isin(split.train["item"])
unseen_users = ~split.test["user"].isin(split.train["user"])
print(f"{unseen_items.sum()} test ratings of movies unseen in training, {unseen_users.sum()} of unseen users")

# %% [markdown]
# ML-100K also ships canonical splits: `u1`…`u5` (five disjoint 20% test folds) and `ua`/`ub`
# (exactly ten test ratings per user). `make_split(data, "u1")` reads them from their files.

# %%
# NBVAL_CHECK_OUTPUT
for name in ("u1", "ua"):
    train, test = splits.canonical_split(data, name)
    print(f"{name}: {len(train)} train, {len(test)} test")

# %% [markdown]
# ## Summary
#
# * MovieLens 100K has 100,000 ratings by 943 users of 1,682 movies: the rating matrix is 93.7%
#   empty, and the number of ratings per movie has a long tail.
# * `autorec_lib.datasets.load` finds the data locally (`AUTOREC_DATA`), in its cache, or downloads
#   and verifies it; indices are contiguous and map back to MovieLens ids and titles.
# * We split 90/10 at random, carve a validation part out of training, choose everything on
#   validation and report test RMSE; unseen movies and users get the default rating 3.
#
# ## Exercises
#
# 1. Load `ml-latest-small` with `datasets.load("ml-latest-small")`. How full is its rating
#    matrix, and what is its rating scale?
# 2. Plot the mean rating of each *user* against their number of ratings. Do heavy raters rate
#    differently from light ones?
# 3. Make a per-user holdout split with `splits.make_split(data, "holdout")`. How many test
#    ratings does it have, and why might results on it differ from the random split?

# %% tags=["results"]
import json
print(json.dumps({"users": data.n_users, "items": data.n_items, "ratings": n_ratings,
                  "density": round(density, 4), **{f"{k} ratings": v for k, v in split.sizes().items()}}))
