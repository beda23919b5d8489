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
# # 7. Evaluating recommendations
#
# So far every model was judged by its RMSE on held-out ratings. But a recommender is used to
# *rank*: it shows a person a short list of movies they have not seen. A model can predict ratings
# well and still fill that list badly, for example with obscure movies it rates highly from three
# ratings, or with the same blockbusters for everybody. This notebook measures the lists
# themselves: we define a protocol, compute top-10 metrics for I-AutoRec, U-AutoRec, biased MF and
# a most-popular baseline, find where RMSE and ranking disagree, look at popularity bias, and
# end with the cold-start cases: movies and users with few or no training ratings.
#
# **What you will learn**
#
# * how to turn held-out ratings into a top-k evaluation: relevant items, candidates, and the
#   users who cannot be scored;
# * precision, recall, hit rate and NDCG at k, catalogue coverage and a popularity measure, as
#   formulas and as code (`autorec_lib.metrics`);
# * how to tell a difference between two models from noise: paired per-user differences with
#   their standard errors, and a bootstrap over users for RMSE;
# * that the model with the best RMSE need not make the best lists, and that a list of the most
#   popular movies is a baseline that is hard to beat;
# * how error grows as a movie or a user has fewer training ratings, and what I-AutoRec and
#   U-AutoRec can (and cannot) do for a user they have never seen.

# %%
import inspect
import json
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Code

from autorec_lib import datasets, experiment, metrics, splits

data = datasets.load("ml-100k")
split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)
K = 10

# %% [markdown]
# ## 7.1 The protocol
#
# A held-out rating tells us two things: the user saw the movie, and how much they liked it. For
# a top-k evaluation we need a set of **relevant** items per user, movies that belong on their
# list. We call a held-out movie relevant when its rating is **4 or more**. Counting every held-out
# movie as relevant would reward a model for predicting which movies a person *watches*, including
# the ones they rated 1 or 2; counting only 5s would leave many more users with nothing to find
# (counted below). A 4 or 5 is above the mean training rating (printed below), and a little more
# than half of the validation ratings reach it.
#
# The **candidates** for a user are every movie they have not rated in the training split: the
# model ranks all of them, and the movies they already rated never appear on their list. When we
# score the test split, the validation ratings are known too, so those movies leave the candidates
# as well. The lists have **k = 10** movies. A user whose held-out ratings hold no relevant movie
# cannot be scored (every list would score 0 for them, whatever the model) and is skipped; we
# count how many.
#
# One caveat holds for every number below: a candidate that the user never rated counts as not
# relevant, although they might love it. The metrics therefore measure how well a model finds the
# movies a user did rate highly, which underestimates every model by an unknown amount; they are
# meant for *comparing* models on the same split, not as absolute truths.

# %%
relevant_valid = metrics.relevant_items(split.valid)
n_skipped = split.valid["user"].nunique() - len(relevant_valid)
share_relevant = float((split.valid["rating"] >= metrics.RELEVANT_FROM).mean())
mean_train = float(split.train["rating"].mean())
print(f"mean training rating {mean_train:.2f}; {share_relevant:.1%} of validation ratings are 4 or 5")
print(f"{len(relevant_valid)} users have a relevant validation movie, {n_skipped} have none and are skipped")
n_without_5 = split.valid["user"].nunique() - split.valid.loc[split.valid["rating"] == 5, "user"].nunique()
print(f"counting only 5s as relevant, {n_without_5} of the {split.valid['user'].nunique()} validation users "
      "would have none")
assert metrics.RELEVANT_FROM == 4.0 and 3.5 < mean_train < 4.0 and 0.5 < share_relevant < 0.6
assert n_without_5 > 4 * n_skipped

# %% [markdown]
# For one user with the set $R$ of relevant held-out movies and a list $i_1, \dots, i_k$, best
# first, let $\mathrm{rel}_j = 1$ when $i_j \in R$, else 0. Then
#
# $$\text{precision@}k = \frac{1}{k}\sum_{j=1}^{k} \mathrm{rel}_j, \qquad
# \text{recall@}k = \frac{1}{|R|}\sum_{j=1}^{k} \mathrm{rel}_j, \qquad
# \text{hit@}k = \max_{j \le k} \mathrm{rel}_j,$$
#
# and the **normalised discounted cumulative gain** rewards a hit more the higher it is on the list:
#
# $$\mathrm{DCG@}k = \sum_{j=1}^{k} \frac{\mathrm{rel}_j}{\log_2(j+1)}, \qquad
# \mathrm{NDCG@}k = \frac{\mathrm{DCG@}k}{\mathrm{IDCG@}k}, \qquad
# \mathrm{IDCG@}k = \sum_{j=1}^{\min(k, |R|)} \frac{1}{\log_2(j+1)},$$
#
# where IDCG is the DCG of an ideal list, all relevant movies first, so a perfect list scores 1.
# Each metric is averaged over the users with a relevant movie. Two measures look at all lists
# together: **catalogue coverage**, the share of the 1682 movies that appear on at least one
# user's list, and **popularity**, the share of all list places taken by the 100 movies with the
# most training ratings (and the mean popularity percentile of what is recommended). Here is the
# library's code; its unit tests check NDCG against scikit-learn's `ndcg_score`.

# %%
Code(inspect.getsource(metrics.ndcg_at_k) + "\n\n" + inspect.getsource(metrics.top_k), language="python")

# %% [markdown]
# ## 7.2 Four recommenders
#
# We train I-AutoRec, U-AutoRec and biased MF with the course defaults (chosen on the validation
# split in notebooks 02 and 04). The fourth recommender learns nothing personal: **most popular**
# scores every movie by its number of training ratings and shows each user the most-rated movies
# they have not rated yet. The test split is not scored during training (`eval_test=False`); it is
# used once, for the final report in Sec. 7.7. Every comparison before that is on the validation
# split.

# %%
# NBVAL_IGNORE_OUTPUT
start = time.perf_counter()
results = {
    "I-AutoRec": experiment.train(data, split, "autorec", "item", progress=False, eval_test=False),
    "U-AutoRec": experiment.train(data, split, "autorec", "user", progress=False, eval_test=False),
    "biased MF": experiment.train(data, split, "biased-mf", progress=False, eval_test=False),
}
train_seconds = time.perf_counter() - start
for name, r in results.items():
    print(f"{name:9s} best validation epoch {r.history.best_epoch:3d} of {len(r.history.records):3d} run "
          f"(cap {r.config.train.epochs}), {r.seconds:5.1f} s")
print(f"training took {train_seconds:.0f} s in all on this machine")

# %%
popularity = metrics.item_popularity(split.train, data.n_items)


def most_popular(users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """The most-popular baseline's score: a movie's number of training ratings, the same for every user."""
    return popularity[items].astype(np.float64)


predictors = {name: r.learner.predict for name, r in results.items()} | {"most popular": most_popular}
scores = {name: metrics.score_matrix(predict, data.n_users, data.n_items) for name, predict in predictors.items()}
seen_train = metrics.rated_mask(split.train, data.n_users, data.n_items)
valid_lists = {name: metrics.top_k(s, seen_train, K) for name, s in scores.items()}
assert all(lists.shape == (data.n_users, K) and not np.take_along_axis(seen_train, lists, 1).any()
           for lists in valid_lists.values())  # ten movies each, none already rated in training

# %% [markdown]
# ## 7.3 RMSE and ranking on the validation split
#
# Most popular predicts no rating, only an order, so it has no RMSE (a model that predicted each
# movie's mean rating would have one, but it would rank by mean rating, which is another
# recommender). The other three get both kinds of score.

# %%
def ranking_row(lists: np.ndarray, held_out: pd.DataFrame) -> dict:
    ranking = metrics.evaluate_ranking(lists, held_out, K)
    return {"precision@10": ranking.precision, "recall@10": ranking.recall, "hit@10": ranking.hit_rate,
            "NDCG@10": ranking.ndcg, "coverage": metrics.catalogue_coverage(lists, data.n_items),
            "top-100 share": metrics.top_popular_share(lists, split.train, data.n_items),
            "popularity pct": metrics.popularity_percentile(lists, split.train, data.n_items),
            "users": ranking.n_users, "skipped": ranking.n_skipped}


valid_table = pd.DataFrame({name: {"RMSE": results[name].scores["valid"].rmse if name in results else np.nan,
                                   **ranking_row(lists, split.valid)}
                            for name, lists in valid_lists.items()}).T.astype({"users": int, "skipped": int})
valid_table.round(4)

# %% [markdown]
# ## 7.4 Where RMSE and ranking disagree
#
# Read the table by columns. Before reading an order into it, ask how large a difference has to be
# to mean something. Every model is scored on the same 848 users, so two models are compared user
# by user: for a ranking metric, the mean of the per-user differences and its standard error (SE:
# the sd of the differences over √848), and a 95% interval around it; `metrics.ranking_per_user`
# gives each user's values, `metrics.paired_difference` the rest. RMSE is not a mean over users, so
# its difference gets a paired bootstrap instead (`metrics.rmse_difference`): draw the validation
# part's 915 users with replacement, each with all their ratings, score both models on the draw,
# and repeat 2000 times. A difference whose interval
# leaves out 0 is marked clear (✓); the others are within the noise of this validation split.

# %%
ranking_columns = ["precision@10", "recall@10", "hit@10", "NDCG@10"]
PER_USER = dict(zip(ranking_columns, ("precision", "recall", "hit", "ndcg")))


def comparisons(lists: dict, held_out: pd.DataFrame, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """For each pair (a, b): a − b on RMSE (bootstrap over users) and on each ranking metric (paired per
    user), on ``held_out``; each cell a metrics.PairedDifference."""
    per_user = {name: metrics.ranking_per_user(ranked, held_out, K) for name, ranked in lists.items()}
    predicted = {name: metrics.predict_with_default(r.learner.predict, held_out, split.train, data.scale)[0]
                 for name, r in results.items()}
    rows = {}
    for a, b in pairs:
        row = {"RMSE": metrics.rmse_difference(predicted[a], predicted[b], held_out["rating"].to_numpy(),
                                               held_out["user"].to_numpy()) if b in predicted and a in predicted else None}
        rows[f"{a} − {b}"] = row | {c: metrics.paired_difference(per_user[a][PER_USER[c]], per_user[b][PER_USER[c]])
                                    for c in ranking_columns}
    return pd.DataFrame(rows).T


def shown(table: pd.DataFrame) -> pd.DataFrame:
    """The comparisons as text: mean ± SE, ✓ when the 95% interval leaves out 0."""
    return table.map(lambda d: "" if d is None else f"{d.mean:+.4f} ± {d.se:.4f}" + (" ✓" if d.clear else ""))


PAIRS = [("I-AutoRec", "biased MF"), ("U-AutoRec", "biased MF"), ("I-AutoRec", "U-AutoRec"),
         ("most popular", "biased MF"), ("most popular", "U-AutoRec"), ("most popular", "I-AutoRec")]
valid_pairs = comparisons(valid_lists, split.valid, PAIRS)
assert split.valid["user"].nunique() == 915 and valid_table["users"].eq(848).all()  # as the text says
shown(valid_pairs)

# %%
def verdicts(table: pd.DataFrame, pairs: pd.DataFrame) -> None:
    """What Sec. 7.4 states, asserted on one held-out part (validation here, test in Sec. 7.7)."""
    d = lambda a, b, column: pairs.loc[f"{a} − {b}", column]
    # RMSE: I-AutoRec, then biased MF, then U-AutoRec, each step clear
    assert table["RMSE"].dropna().sort_values().index.tolist() == ["I-AutoRec", "biased MF", "U-AutoRec"]
    assert d("I-AutoRec", "biased MF", "RMSE").high < 0 and d("U-AutoRec", "biased MF", "RMSE").low > 0
    for c in ranking_columns:
        # biased MF makes clearly the worst lists; most popular clearly beats biased MF and U-AutoRec
        assert all(d(a, "biased MF", c).low > 0 for a in ("I-AutoRec", "U-AutoRec", "most popular"))
        assert d("most popular", "U-AutoRec", c).low > 0 and d("I-AutoRec", "U-AutoRec", c).low > 0
    # most popular against I-AutoRec: clearly ahead on recall and hit rate, a tie on precision and NDCG
    assert d("most popular", "I-AutoRec", "recall@10").low > 0 and d("most popular", "I-AutoRec", "hit@10").low > 0
    assert not d("most popular", "I-AutoRec", "precision@10").clear and not d("most popular", "I-AutoRec", "NDCG@10").clear


v = valid_table
verdicts(valid_table, valid_pairs)
tie = {c: valid_pairs.loc["most popular − I-AutoRec", c] for c in ("precision@10", "NDCG@10")}
print("most popular minus I-AutoRec on validation: "
      + "; ".join(f"{c} {d}, 95% interval {d.low:+.4f} to {d.high:+.4f}" for c, d in tie.items()))
assert all(abs(d.mean) < d.se for d in tie.values())  # smaller than one standard error

# %% [markdown]
# By RMSE the order is I-AutoRec, biased MF, U-AutoRec, and each step is clear. By the ranking
# metrics it is different:
#
# * **biased MF**, second by RMSE, makes the worst lists of the four on every ranking metric, each
#   difference clear; U-AutoRec, last by RMSE, makes clearly better lists than biased MF on all four;
# * **most popular**, which learns nothing about anyone, clearly beats both biased MF and U-AutoRec on
#   every ranking metric, and clearly beats even I-AutoRec on recall and hit rate. Against
#   I-AutoRec on precision and NDCG the two are **tied within the noise**: the differences (printed
#   above) are smaller than their standard errors, and which one comes out ahead on a given split
#   is luck. The points in the table put I-AutoRec ahead on precision and most popular on NDCG; the
#   data do not.
#
# RMSE averages over the ratings people *gave*, mostly to movies they chose to watch; a top-10 list
# is drawn from *all* 1682 movies, most of which a user would never pick. A model that predicts a
# high rating for an obscure movie with a handful of ratings pays little in RMSE (such movies are
# rarely in the held-out set) but loses a list place to it; the next cell measures how often
# that happens. Cremonesi, Koren and Turrin (*Performance of
# recommender algorithms on top-N recommendation tasks*, RecSys 2010) made the same observation on
# MovieLens and Netflix: models tuned for RMSE are not the best at top-N, and a popularity list is
# a strong baseline.

# %%
rare = popularity <= 5  # movies with at most five training ratings
rare_places = {name: float(rare[lists].mean()) for name, lists in valid_lists.items()}
rare_valid = float(rare[split.valid["item"].to_numpy()].mean())
mf_lists = valid_lists["biased MF"]
mf_rare = mf_lists[rare[mf_lists]]  # the rare movies on biased MF's lists, one entry per place
mf_rare_score = float(np.median(np.clip(np.take_along_axis(scores["biased MF"], mf_lists, 1)[rare[mf_lists]],
                                        *data.scale)))
print(f"{rare.sum()} movies have at most five training ratings; they hold {rare_valid:.1%} of the validation "
      "ratings")
print("share of list places they take:", {name: round(share, 3) for name, share in rare_places.items()})
print(f"biased MF lists {len(np.unique(mf_rare))} different ones, with a median clipped score of {mf_rare_score:.2f}")
assert max(rare_places, key=rare_places.get) == "biased MF" and rare_places["I-AutoRec"] == 0
assert 0.07 < rare_places["biased MF"] < 0.09 and 0.015 < rare_valid < 0.025 and 4.4 < mf_rare_score < 4.6

# %% [markdown]
# Biased MF gives about 8% of its list places to movies with at most five training ratings, which
# hold only about 2% of the validation ratings, with a median (clipped) score of about 4.5;
# I-AutoRec never lists one. Every such place is one that a movie with more evidence behind its
# score could have taken.

# %% [markdown]
# ## 7.5 Popularity bias
#
# How much of each list is the same few famous movies? The plot shows, per model, the share of all
# 943 × 10 list places taken by one of the 100 most-rated training movies (6% of the catalogue),
# beside the catalogue coverage.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
colours = ["tab:blue", "tab:orange", "tab:green", "tab:grey"]
for ax, column, label in ((axes[0], "top-100 share", "share of list places"),
                          (axes[1], "coverage", "share of the 1682 movies")):
    ax.bar(v.index, v[column], color=colours)
    ax.set(ylabel=label, ylim=(0, 1.05))
    for x, value in enumerate(v[column]):
        ax.text(x, value + 0.02, f"{value:.0%}", ha="center", fontsize=9)
axes[0].set_title("places taken by the 100 most-rated movies")
axes[1].set_title("catalogue coverage of the top-10 lists")
fig.tight_layout()

# %%
print(v[["top-100 share", "coverage", "popularity pct"]].round(3))
by_ndcg = v["NDCG@10"].sort_values(ascending=False).index.tolist()
by_share = v["top-100 share"].sort_values(ascending=False).index.tolist()
top100 = np.argsort(-popularity, kind="stable")[:100]
valid_top100 = float(np.isin(split.valid["item"], top100).mean())
print("by NDCG@10:      ", by_ndcg)
print("by top-100 share:", by_share)
print(f"the 100 most-rated movies are {100 / data.n_items:.1%} of the catalogue and get {valid_top100:.1%} "
      "of the validation ratings")
assert v.loc["most popular", "top-100 share"] == 1.0
assert v["coverage"].idxmin() == "most popular" and v.loc["most popular", "coverage"] < 0.05
learned = v.drop(index="most popular")
assert learned["top-100 share"].idxmax() == "I-AutoRec" and v.loc["I-AutoRec", "top-100 share"] > 0.5
assert learned["top-100 share"].idxmin() == "biased MF" and v["coverage"].idxmax() == "biased MF"
assert by_share == ["most popular", "I-AutoRec", "U-AutoRec", "biased MF"]
assert set(by_ndcg[:2]) == set(by_share[:2]) and by_ndcg[2:] == by_share[2:]  # the top two: tied (Sec. 7.4)
assert 0.25 < valid_top100 < 0.35 and 0.055 < 100 / data.n_items < 0.065

# %% [markdown]
# Most popular fills every place with the 100 most-rated movies and covers only a few percent of
# the catalogue, by construction. Of the learned models, I-AutoRec leans on the most-rated movies
# most: more than half of its list places; biased MF least, with the widest coverage. Together with
# Sec. 7.4 this says something uncomfortable: on this protocol, the order of the four by NDCG@10
# (most popular and I-AutoRec tied within the noise, then U-AutoRec, then biased MF, each of those
# steps clear) follows their order by the share of list places given to the 100 most-rated movies,
# so the lists that score best are the ones closest to "what everybody watches". The held-out ratings themselves
# are skewed towards popular movies (people rate what they watch): the 100 most-rated movies, 6%
# of the catalogue, get about 30% of the validation ratings, so a metric computed on them rewards
# popularity. Coverage and the popularity share are what keep that in view.

# %% [markdown]
# ## 7.6 Cold start
#
# ### Error by number of training ratings
#
# How good is a prediction for a movie the model has seen rated twice? We split the validation
# ratings by how many training ratings their movie has (0, 1–5, 6–20, 21–50, more than 50), and
# again by how many their user has, and score each group as the course scores everything
# (clipped, the default rating 3 when the movie or the user has no training rating). Like every
# comparison before the final report, this one uses the validation split.

# %%
BINS = [-1, 0, 5, 20, 50, np.inf]
LABELS = ["0", "1–5", "6–20", "21–50", ">50"]
user_counts = np.bincount(split.train["user"], minlength=data.n_users)


def error_by_count(counts: np.ndarray, column: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validation ratings grouped by the training count of their movie or user: each model's RMSE, and the
    same with its uncertainty (a bootstrap over the group's users) beside I-AutoRec's paired differences."""
    groups = pd.cut(counts[split.valid[column].to_numpy()], BINS, labels=LABELS)
    rows, noisy = {}, {}
    for label in LABELS:
        part = split.valid[groups == label]
        rows[label], noisy[label] = {"valid ratings": len(part)}, {}
        if not len(part):
            continue
        y, users = part["rating"].to_numpy(), part["user"].to_numpy()
        predicted = {name: metrics.predict_with_default(r.learner.predict, part, split.train, data.scale)[0]
                     for name, r in results.items()}
        # a model's RMSE minus a perfect predictor's (0): the RMSE itself, with its bootstrap SE
        noisy[label] = {name: metrics.rmse_difference(pred, y, y, users) for name, pred in predicted.items()} | {
            f"I-AutoRec − {other}": metrics.rmse_difference(predicted["I-AutoRec"], predicted[other], y, users)
            for other in ("U-AutoRec", "biased MF")}
        rows[label] |= {name: noisy[label][name].mean for name in results}
    return pd.DataFrame(rows).T.astype({"valid ratings": int}), pd.DataFrame(noisy).T


def with_noise(counted: pd.DataFrame, noise: pd.DataFrame) -> pd.DataFrame:
    """Each model's RMSE ± SE, and I-AutoRec's paired differences (✓: clear), per group."""
    differences = [c for c in noise.columns if "−" in c]
    table = noise[differences].map(lambda d: "" if not isinstance(d, metrics.PairedDifference) else
                                   f"{d.mean:+.4f} ± {d.se:.4f}" + (" ✓" if d.clear else ""))
    rmse = noise[list(results)].map(lambda d: f"{d.mean:.4f} ± {d.se:.4f}" if isinstance(d, metrics.PairedDifference)
                                     else "")
    return pd.concat([counted[["valid ratings"]], rmse, table], axis=1)


(by_movie, movie_noise), (by_user, user_noise) = error_by_count(popularity, "item"), error_by_count(user_counts, "user")
with_noise(by_movie, movie_noise)

# %%
with_noise(by_user, user_noise)

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
for name, colour in zip(results, colours):
    ax.plot(LABELS, by_movie[name], marker="o", color=colour, label=name)
ax.set(xlabel="training ratings of the movie", ylabel="validation RMSE",
       title="error by how often the movie was rated in training")
for x, n in enumerate(by_movie["valid ratings"]):
    ax.annotate(f"n={int(n)}", (x, by_movie[list(results)].iloc[x].max()), textcoords="offset points",
                xytext=(0, 6), ha="center", fontsize=8)
ax.legend();

# %% [markdown]
# The error falls as a movie has more training ratings, for all three models: from above 1.1
# (U-AutoRec above 1.3) for the movies with one to five, to below 0.89 for those with more than
# 50, which hold most of the validation ratings. That fall is clear for every model (more than
# twice the standard error of the difference). On this split the RMSE falls at every step
# between neighbouring groups too, but the small groups are noisy (their RMSEs have standard errors
# of 0.03 to 0.09), and some of those steps are within the noise. I-AutoRec's error is clearly below
# U-AutoRec's in every group of rated movies, but clearly below biased MF's only among the movies
# with more than 50 ratings; in the smaller groups the two are within the noise. The movies with
# no training rating at all are scored with the default 3 by every model, hence the same RMSE for
# all three. Users: every user of ML-100K rated at least 20 movies, so in this split every user
# keeps at least 13 training ratings and the first two user groups are empty; the users with 6 to
# 20 training ratings get clearly worse predictions than those with more than 50, from all three
# models.

# %%
movie_rmse, user_rmse = by_movie.drop(columns="valid ratings"), by_user.drop(columns="valid ratings")
assert (movie_rmse.loc["0"].nunique() == 1) and by_movie.loc["0", "valid ratings"] > 0
assert (movie_rmse.loc["1–5"] > 1.1).all() and movie_rmse.loc["1–5", "U-AutoRec"] > 1.3
assert (movie_rmse.loc[">50"] < 0.89).all()


def fall(noise: pd.DataFrame, name: str, high: str, low: str) -> tuple[float, float]:
    """RMSE of group ``high`` minus group ``low``, and the SE of that difference (independent groups)."""
    a, b = noise.loc[high, name], noise.loc[low, name]
    return a.mean - b.mean, float(np.hypot(a.se, b.se))


for name in results:
    assert by_movie.loc["1–5":, name].is_monotonic_decreasing, name  # on this split, at every step
    assert by_user.loc["6–20":, name].is_monotonic_decreasing, name
    drop, se = fall(movie_noise, name, "1–5", ">50")
    assert drop > 2 * se, name                                        # clearly, from 1–5 to >50
    drop, se = fall(user_noise, name, "6–20", ">50")
    assert drop > 2 * se, name
drop, se = fall(movie_noise, "I-AutoRec", "1–5", "6–20")
assert drop < 2 * se                                                  # a step within the noise
assert 0.03 < min(movie_noise.loc[g, n].se for g in ("1–5", "6–20") for n in results)
assert max(movie_noise.loc[g, n].se for g in ("1–5", "6–20") for n in results) < 0.09
assert all(movie_noise.loc[g, "I-AutoRec − U-AutoRec"].high < 0 for g in LABELS[1:])
assert [movie_noise.loc[g, "I-AutoRec − biased MF"].clear for g in LABELS[1:]] == [False, False, False, True]
assert movie_noise.loc[">50", "I-AutoRec − biased MF"].mean < 0
assert by_movie.loc[">50", "valid ratings"] > by_movie["valid ratings"].sum() / 2
assert user_counts.min() == 13 and (by_user.loc[["0", "1–5"], "valid ratings"] == 0).all()

# %% [markdown]
# ### The default rating
#
# `Evaluation.n_default` counts the held-out ratings that got the default rating 3 because their
# user or movie has no training rating. It depends on the split only, so it is the same for every
# model; on the validation split it is exactly the "0" row of the movie table.

# %%
n_default = {name: r.scores["valid"].n_default for name, r in results.items()}
print(n_default)
assert len(set(n_default.values())) == 1
assert n_default["I-AutoRec"] == by_movie.loc["0", "valid ratings"]

# %% [markdown]
# ### A new user
#
# What can each variant do for someone who was not in the training data at all? Their ratings
# arrive after training, as a vector over the 1682 movies.
#
# **U-AutoRec** encodes a *user's* rating vector: its input is one row of the user × movie matrix,
# so a new user's vector goes through the trained network like anyone else's, and the output is a
# predicted rating for every movie. No retraining is needed. First we check that this is the very
# computation the library does for a known user: feeding user 0's training vector through the
# network reproduces `learner.predict` for user 0, to float32 rounding (the library sums the
# weights of the rated movies instead of multiplying the whole vector, and computes only the
# outputs it is asked for).

# %%
u_learner = results["U-AutoRec"].learner


def encode_new_user(ratings: dict[int, float]) -> np.ndarray:
    """U-AutoRec's predictions for every movie, from a rating vector that was never trained on."""
    vector = np.zeros((1, data.n_items), dtype=np.float32)
    vector[0, list(ratings)] = list(ratings.values())
    u_learner.model.eval()  # no dropout at prediction time
    with torch.no_grad():
        out = u_learner.model(torch.from_numpy(vector).to(u_learner.device))
    return u_learner.output.to_rating(out).cpu().numpy()[0].astype(np.float64)


user0 = split.train[split.train["user"] == 0]
as_new = encode_new_user(dict(zip(user0["item"], user0["rating"])))
library = u_learner.predict(np.zeros(data.n_items, dtype=np.int64), np.arange(data.n_items))
assert np.allclose(as_new, library, atol=1e-5)
print(f"user 0 encoded as a new vector: max difference from learner.predict {np.abs(as_new - library).max():.1e}")

# %% [markdown]
# Now a new user who loves the original *Star Wars* trilogy and *Raiders of the Lost Ark* and
# dislikes two romantic comedies. Their top ten, among the movies they have not rated, with
# titles and scores clipped to the rating scale:

# %%
def find(title: str) -> int:
    return int(np.flatnonzero(data.titles == title)[0])


new_user = {find("Star Wars (1977)"): 5.0, find("Empire Strikes Back, The (1980)"): 5.0,
            find("Return of the Jedi (1983)"): 5.0, find("Raiders of the Lost Ark (1981)"): 5.0,
            find("Sleepless in Seattle (1993)"): 1.0, find("Pretty Woman (1990)"): 1.0}
new_scores = encode_new_user(new_user)
best = metrics.top_n(new_scores, np.array(list(new_user)), K)
new_recs = pd.DataFrame({"title": data.titles[best], "score": np.clip(new_scores[best], *data.scale)})
assert not set(best) & set(new_user) and new_recs["score"].between(*data.scale).all()
new_recs.round(3)

# %% [markdown]
# That list looks like a list for anybody: well-liked classics, all scored between 3.7 and 4. To
# see how much the six ratings changed, we encode an empty vector, a user who has rated nothing,
# and compare.

# %%
nobody_scores = encode_new_user({})
nobody_best = metrics.top_n(nobody_scores, np.array(list(new_user)), K)
overlap = len(set(best) & set(nobody_best))
correlation = float(np.corrcoef(new_scores, nobody_scores)[0, 1])
print(f"{overlap} of the new user's top {K} are also in the top {K} for an empty vector")
print(f"correlation of the two score vectors over all {data.n_items} movies: {correlation:.3f}; "
      f"mean absolute difference {np.abs(new_scores - nobody_scores).mean():.3f}")
assert overlap > K // 2 and correlation > 0.98 and new_recs["score"].between(3.7, 4.0).all()

# %% [markdown]
# More than half of the list is the same as for a user with no ratings at all, and over all movies
# the two score vectors are almost perfectly correlated: six ratings barely personalise U-AutoRec.
# A likely reason: the network was trained only on users with at least 13 training ratings, and
# with 6 of its 1682 inputs set it falls back to what is liked in general. The forward pass works
# for a new user; it takes more ratings than six before it says much about them.

# %% [markdown]
# **I-AutoRec** encodes a *movie's* vector of ratings by the 943 training users; a user is one
# input position and one output unit of the network. A new user has neither: the trained
# encoder $V$ has 943 input columns and the decoder 943 output rows. The library's `predict`
# therefore cannot answer for a user index beyond the training users; it refuses with an
# `IndexError` that says so:

# %%
i_learner = results["I-AutoRec"].learner
print("I-AutoRec input size:", results["I-AutoRec"].config.net.n_inputs, "= users", data.n_users)
try:
    i_learner.predict(np.array([data.n_users]), np.array([find("Star Wars (1977)")]))
    refused = False
except IndexError as err:
    refused = True
    print(f"IndexError: {err}")
assert refused and results["I-AutoRec"].config.net.n_inputs == data.n_users

# %% [markdown]
# In an evaluation the library never gets that far: `metrics.evaluate` gives every rating of a user
# without training ratings the default 3 before the model is asked. To see it, pretend user 0 is
# new by dropping their training ratings and score their validation ratings with both variants:
# both get the default for each one. To use a new user's ratings, I-AutoRec has to be retrained or
# at least given a new output unit fitted to them: with the movies' codes fixed and the identity
# decoder, that unit's weights are a small ridge regression of the user's ratings on the codes of
# the movies they rated ("folding in" the user; not done here). U-AutoRec only needs one forward
# pass, though, as above, a few ratings move it little.

# %%
without_user0 = split.train[split.train["user"] != 0]
user0_valid = split.valid[split.valid["user"] == 0]
for name in ("I-AutoRec", "U-AutoRec"):
    predicted, n_default_user0 = metrics.predict_with_default(results[name].learner.predict, user0_valid,
                                                              without_user0, data.scale)
    print(f"{name}: {n_default_user0} of {len(user0_valid)} validation ratings of user 0 get the default",
          np.unique(predicted))
    assert n_default_user0 == len(user0_valid) and (predicted == metrics.DEFAULT_RATING).all()

# %% [markdown]
# ## 7.7 The final comparison, on the test split
#
# Everything above that chose or compared something used the validation split. Once, at the end,
# the test split reports: candidates are the movies a user rated in neither training nor
# validation.

# %%
seen_train_valid = metrics.rated_mask([split.train, split.valid], data.n_users, data.n_items)
test_lists = {name: metrics.top_k(s, seen_train_valid, K) for name, s in scores.items()}
test_table = pd.DataFrame({name: {"RMSE": results[name].scores["test"].rmse if name in results else np.nan,
                                  **ranking_row(lists, split.test)}
                           for name, lists in test_lists.items()}).T.astype({"users": int, "skipped": int})
test_table.round(4)

# %%
test_pairs = comparisons(test_lists, split.test, PAIRS)
shown(test_pairs)

# %%
t = test_table
same_order = {column: t[column].dropna().sort_values().index.tolist() == v[column].dropna().sort_values().index.tolist()
              for column in ["RMSE", *ranking_columns]}
print("same order of the models' point estimates as on validation:", same_order)
verdicts(test_table, test_pairs)  # every verdict of Sec. 7.4, clear or tied, holds on test too

# %% [markdown]
# The test split tells the same story as validation, verdict by verdict: I-AutoRec has clearly the
# lowest RMSE, then biased MF, then U-AutoRec; biased MF makes clearly the weakest lists of the four
# and U-AutoRec clearly better ones; most popular clearly beats both on every ranking metric and
# I-AutoRec on recall and hit rate, while on precision and NDCG most popular and I-AutoRec are
# again within the noise of each other. (The point estimates fall in the same order as on
# validation, printed above; for the tied pair that is not evidence of anything, since a tie can
# come out either way.)

# %% [markdown]
# ## Summary
#
# * A top-k evaluation needs a protocol: relevant = held-out rating ≥ 4, candidates = every movie
#   the user has not rated (in training, and validation when scoring test), k = 10, users without a
#   relevant movie skipped and counted. Unrated candidates count as not relevant, so the numbers
#   compare models; they are not absolute.
# * Precision, recall, hit rate and NDCG at k measure the lists; catalogue coverage and the share
#   of the most-rated movies measure what the lists are made of.
# * Two models scored on the same users are compared user by user: the mean paired difference and
#   its standard error (a bootstrap over users for RMSE). A difference inside its 95% interval of
#   0 is a tie, whichever way the point estimates fall.
# * RMSE and ranking disagree: biased MF clearly beats U-AutoRec on RMSE and clearly loses to it on
#   every ranking metric, and a most-popular list, which has no RMSE at all, clearly beats both of
#   them and even I-AutoRec on recall and hit rate; on precision and NDCG it ties I-AutoRec.
# * Error rises steeply for movies with few training ratings (clearly, between the rarely and the
#   often rated ones); movies with none get the default 3.
# * U-AutoRec takes a new user's rating vector in one forward pass, without retraining, but six
#   ratings barely personalise it: its list for them is mostly the list for an empty vector.
#   I-AutoRec has no input or output for a new user: it needs at least a new output unit fitted to
#   their ratings (a ridge regression on the fixed movie codes), or retraining.
#
# ## Exercises
#
# They use the models and lists of this notebook and the **validation** split only.
#
# ### Exercise 1: NDCG by hand
#
# Using only NumPy and the formulas of Sec. 7.1 (not `metrics.ndcg_at_k`), write
# `ndcg_by_hand(listed, held_out)`: the NDCG@10 of a list of ten movie indices, best first, for a
# user whose held-out ratings are the rows `held_out` of a ratings frame (columns `user`, `item`,
# `rating`, `timestamp`, like `split.valid`). Then take `ndcg_user`, the user with the most
# relevant validation movies (defined in the next cell), and compute `my_ndcg`, the NDCG@10 of
# I-AutoRec's list for them, `valid_lists["I-AutoRec"][ndcg_user]`, on their validation ratings.
# Compare with the library's value. The check also runs your function on lists of its own and on
# some other users' lists.
#
# *Hint:* first build the 0/1 vector `rel` over the ten list places. The discount of place $j$
# (counting from 1) is $1/\log_2(j+1)$. Read the formula for IDCG again with $|R|$ in mind: one
# user may have more relevant movies than places, another fewer.

# %%
ndcg_user = max(relevant_valid, key=lambda u: (len(relevant_valid[u]), -u))
print(f"user {ndcg_user} has {len(relevant_valid[ndcg_user])} relevant validation movies")

# %% tags=["solution"]
def ndcg_by_hand(listed, held_out) -> float:
    liked = held_out.loc[held_out["rating"] >= 4, "item"].to_numpy()  # relevant: a rating of 4 or more
    rel = np.isin(np.asarray(listed)[:K], liked).astype(float)
    discount = 1 / np.log2(np.arange(1, K + 1) + 1)
    return (rel * discount).sum() / discount[:min(K, len(liked))].sum()


listed = valid_lists["I-AutoRec"][ndcg_user]
mine = split.valid[split.valid["user"] == ndcg_user]
my_ndcg = ndcg_by_hand(listed, mine)
liked = mine.loc[mine["rating"] >= 4, "item"].to_numpy()
rel = np.isin(listed, liked).astype(float)
discount = 1 / np.log2(np.arange(1, K + 1) + 1)
library_ndcg = metrics.ndcg_at_k(listed, liked, K)
print(f"hits at places {np.flatnonzero(rel) + 1}; NDCG@10 by hand {my_ndcg:.4f}, library {library_ndcg:.4f}")
assert abs(my_ndcg - library_ndcg) < 1e-12 and len(liked) > K and rel.sum() >= 1
assert discount[K - 1] < discount[0] / 3

# %%
from autorec_lib.exercises import ch07

ch07.check_ndcg_by_hand(ndcg_by_hand, my_ndcg, ndcg_user, results, split, data)

# %% [markdown] tags=["solution"]
# *What the solution shows.* This user has more than ten relevant validation movies, so the ideal
# list is ten hits and IDCG sums all ten discounts; dividing by the discounts of all their
# relevant movies instead would be wrong. A user with fewer relevant movies than places has an
# ideal list with fewer hits, and IDCG sums only that many discounts: most users are such users
# (exercise 2 counts them), which is why the check runs the function on other lists too. The
# by-hand value equals the library's to machine precision. Note how little of the list counts:
# the discount of place 10 is less than a third of place 1's.

# %% [markdown]
# ### Exercise 2: how the metrics change with k
#
# For I-AutoRec and most popular, compute precision, recall and NDCG on the validation split at
# k = 1, 5, 10, 20 and 50, with the protocol of Sec. 7.1. Answer `by_k`, a dict with the keys
# `"I-AutoRec"` and `"most popular"`, each a DataFrame indexed by k with the columns
# `"precision"`, `"recall"` and `"ndcg"`. How does each metric move with k, and why? Does the order
# of the two models depend on k?
#
# *Hint:* `metrics.top_k` on the score matrices of Sec. 7.2 (candidates: not rated in training)
# and `metrics.evaluate_ranking(lists, split.valid, k)`. Movies with equal scores (most popular
# gives many movies the same count) may come in any order: the check accepts every order.

# %% tags=["solution"]
KS = (1, 5, 10, 20, 50)
by_k = {}
for name in ("I-AutoRec", "most popular"):
    rows = {}
    for k in KS:
        ranking = metrics.evaluate_ranking(metrics.top_k(scores[name], seen_train, k), split.valid, k)
        rows[k] = {"precision": ranking.precision, "recall": ranking.recall, "ndcg": ranking.ndcg}
    by_k[name] = pd.DataFrame(rows).T.rename_axis("k")
# what the interpretation below states
n_relevant = pd.Series({u: len(items) for u, items in relevant_valid.items()})
print(f"relevant validation movies per user: median {n_relevant.median():.0f}, "
      f"{(n_relevant <= 5).mean():.0%} of the users have at most 5")
for frame in by_k.values():
    assert frame["recall"].is_monotonic_increasing and frame["precision"].is_monotonic_decreasing
assert n_relevant.median() <= 5 and (n_relevant <= 5).mean() > 0.5
pd.concat(by_k, axis=1).round(4)

# %%
ch07.check_by_k(by_k, results["I-AutoRec"], split, data)

# %% tags=["answer"]
# For the interpretation: the same numbers user by user, so that changes with k and the order of the
# two models come with their noise.
per_k = {(name, k): metrics.ranking_per_user(metrics.top_k(scores[name], seen_train, k), split.valid, k)
         for name in by_k for k in KS}
order_by_k = pd.DataFrame({k: {c: metrics.paired_difference(per_k["I-AutoRec", k][c], per_k["most popular", k][c])
                               for c in ("precision", "recall", "ndcg")} for k in KS}).T.rename_axis("k")
steps = lambda column: pd.DataFrame({name: {f"{a} → {b}": metrics.paired_difference(
    per_k[name, b][column], per_k[name, a][column]) for a, b in zip(KS, KS[1:])} for name in by_k})
ndcg_steps, precision_steps = steps("ndcg"), steps("precision")
assert all(d.high < 0 for d in precision_steps.to_numpy().ravel())  # precision falls at every step, clearly
assert not any(order_by_k.loc[k, c].clear for k in KS for c in ("precision", "ndcg"))  # ties at every k
assert [order_by_k.loc[k, "recall"].high < 0 for k in KS] == [False, False, True, True, True]
assert ndcg_steps.loc["1 → 5", "I-AutoRec"].high < 0 and not ndcg_steps.loc["1 → 5", "most popular"].clear
assert all(ndcg_steps.loc[step, name].low > 0 for step in ndcg_steps.index[1:] for name in by_k)
print("I-AutoRec minus most popular, by k:")
print(shown(order_by_k).to_string())
print("NDCG from one k to the next (later minus earlier):")
print(shown(ndcg_steps).to_string())

# %% [markdown] tags=["solution"]
# *What the solution shows.* Recall can only grow with k (a longer list can only find more of a
# user's relevant movies), and here precision falls as k grows, clearly at every step (paired over
# users; asserted in the cell above the interpretation): most users have only a handful of
# relevant validation movies (at most five for more than half of them, printed above), so the
# extra places are mostly misses. NDCG need not be monotone in k: for I-AutoRec it dips from k = 1
# to k = 5, clearly (paired over users, printed above), for most popular it stays level within the
# noise, and for both it then rises at every step to k = 50, clearly. While k is below $|R|$, each
# new place adds its full discount to IDCG but only the chance of a hit to DCG, so NDCG can fall;
# once k passes $|R|$, IDCG stays put while every further hit still adds to DCG, so NDCG rises.
# Does the order of the two models depend on k? On precision and NDCG the two are tied within the
# noise at every k, so the point estimates trading places from one k to another is noise; on
# recall, most popular is clearly ahead from k = 10 on. A comparison at one k is a comparison at
# that k only, and without its uncertainty it may be no comparison at all.

# %% [markdown]
# ### Exercise 3: mean reciprocal rank
#
# The **reciprocal rank** of a list is $1/j$ for the place $j$ (counting from 1) of its first
# relevant movie among the first k, and 0 when none of them is relevant; the **mean reciprocal
# rank** (MRR@k) averages it over users. Write `reciprocal_rank(recommended, relevant, k)` (a list
# or array of items best first, a collection of relevant items (a list, an array or a set), an int), then compute `mrr`, a dict
# with each of the four models' MRR@10 on the validation split, from `valid_lists`, over the same
# users as the other metrics. Which model puts a relevant movie highest, and how does MRR relate
# to the hit rate?
#
# *Hint:* `np.flatnonzero` finds the places of the hits. The users to average over are the keys
# of `metrics.relevant_items(split.valid)`.

# %% tags=["solution"]
def reciprocal_rank(recommended, relevant, k: int = 10) -> float:
    hits = np.flatnonzero(np.isin(np.asarray(recommended)[:k], list(relevant)))
    return 1.0 / (hits[0] + 1) if len(hits) else 0.0


mrr = {name: float(np.mean([reciprocal_rank(lists[u], relevant_valid[u], K) for u in relevant_valid]))
       for name, lists in valid_lists.items()}
# what the interpretation below states
for name in mrr:
    assert valid_table.loc[name, "hit@10"] / K <= mrr[name] <= valid_table.loc[name, "hit@10"]
assert sorted(mrr, key=mrr.get, reverse=True) == ["I-AutoRec", "most popular", "U-AutoRec", "biased MF"]
{name: round(value, 4) for name, value in mrr.items()}

# %%
ch07.check_mrr(reciprocal_rank, mrr, results, split, data)

# %% tags=["answer"]
# For the interpretation: neighbours in the MRR order, compared user by user.
per_user_rr = {name: [reciprocal_rank(lists[u], relevant_valid[u], K) for u in sorted(relevant_valid)]
               for name, lists in valid_lists.items()}
mrr_steps = {f"{a} − {b}": metrics.paired_difference(per_user_rr[a], per_user_rr[b])
             for a, b in (("I-AutoRec", "most popular"), ("most popular", "U-AutoRec"), ("U-AutoRec", "biased MF"))}
assert [d.clear for d in mrr_steps.values()] == [False, True, True] and all(d.mean > 0 for d in mrr_steps.values())
for pair, d in mrr_steps.items():
    print(f"MRR@10, {pair}: {d}" + (", clear" if d.clear else ", within the noise"))

# %% [markdown] tags=["solution"]
# *What the solution shows.* By MRR@10 the point estimates put I-AutoRec first, then most popular,
# U-AutoRec and biased MF. The last two steps of that order are clear, but I-AutoRec and most
# popular are within the noise of each other (printed above), as they are at precision@1 in
# exercise 2 and at NDCG@10 in Sec. 7.4: most popular's lead on NDCG and I-AutoRec's on MRR are one
# tie seen through two metrics, not two metrics disagreeing. MRR is never above the
# hit rate (a hit at place 1 gives 1, any other hit less, no hit 0) and never below a tenth of it
# (a hit at place 10 still gives 1/10), so it sits between hit@10 / 10 and hit@10 for every model.

# %% tags=["results"]
summary = {f"{name} {part} {metric}": round(float(table.loc[name, column]), 4)
           for part, table in (("valid", valid_table), ("test", test_table)) for name in table.index
           for metric, column in (("NDCG@10", "NDCG@10"), ("precision@10", "precision@10"))}
summary |= {f"{name} top-100 share": round(float(valid_table.loc[name, "top-100 share"]), 4)
            for name in valid_table.index}
summary |= {f"{name} test RMSE": round(r.test_rmse, 4) for name, r in results.items()}
summary["training seconds"] = round(train_seconds, 1)
print(json.dumps(summary))

# %% [markdown]
# ## Questions
#
# Answer in words; there is no check. Compare with the model answers in the solution notebook.
#
# 1. On the validation split, most popular and I-AutoRec differ in NDCG@10 by less than the
#    noise. Without looking at the test split, how would you find out which of the two ranks
#    better on ML-100K, and how would you report the answer?
# 2. Biased MF has a lower RMSE than U-AutoRec but makes worse lists. In your own words, what in the
#    two measurements lets that happen, and which measure would you choose a model by for a
#    "top picks for you" screen?

# %% [markdown] tags=["answer"]
# **Model answers.**
#
# 1. Repeat the comparison on more held-out users: several random splits (seeds), each with its
#    own validation part, training both models on each. On every split compare them user by user;
#    then combine the splits (the mean of the per-split paired differences and its standard error
#    over splits, or all users' differences together). Report the mean difference with its
#    uncertainty, and call it a tie if the interval still includes 0. Choosing which model to report
#    on test by the validation result is fine; looking at test to decide is not.
# 2. RMSE is computed on the ratings people gave, mostly to movies they chose; a list is drawn
#    from every movie they did not rate. A model can be accurate on the first and still put
#    obscure movies with a few high ratings at the top of the second (biased MF gives such movies
#    about 8% of its places). For a top-picks screen, choose by a ranking metric on held-out
#    ratings (NDCG or precision at the list's length), and watch coverage and popularity beside
#    it, with the uncertainty of each comparison.
