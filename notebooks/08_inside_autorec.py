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
# # 8. Inside AutoRec
#
# So far we have judged AutoRec by its error. This chapter opens the trained model. I-AutoRec
# squeezes each movie's column of ratings through a hidden layer of 500 units: that hidden vector,
# the movie's *code*, is all the decoder sees. What do the codes hold? Do movies of one genre get
# similar codes, although the model never saw a genre? Are they a better map of the catalogue than
# the item factors of matrix factorization? Then we ask a question the derivation of chapter 3
# leaves open: an autoencoder is trained to reproduce its input, so why does AutoRec not simply
# copy it? Not because of the masked loss, which a copy satisfies perfectly; we measure what does
# stop it, and then show what the masked loss is for: what breaks without it when the task is
# predicting ratings.
#
# **What you will learn**
#
# * how to read I-AutoRec's item codes $g(V r + \mu)$ out of a trained model, and MF's item factors;
# * how to look at them: a 2-D projection (PCA) coloured by genre, and nearest neighbours by cosine similarity;
# * how to measure what a picture suggests: genre agreement of neighbours against a shuffled baseline;
# * why the network does not learn to copy its input (a copy has zero masked loss), measured;
# * why, for rating prediction, the loss must see only observed ratings, shown by training on the wrong loss;
# * what the library's `dropout` drops, and how input corruption links AutoRec to denoising
#   autoencoders and CDAE.

# %%
import inspect
import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Code

from autorec_lib import datasets, experiment, metrics, splits, training
from autorec_lib.config import course_config
from autorec_lib.matrix import RatingMatrix
from autorec_lib.objective import masked_sse
from autorec_lib.torch_backend import AutoRec, AutoRecLearner, build_learner, build_model, seed_everything

data = datasets.load("ml-100k")
split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)

# %% [markdown]
# We train the course's I-AutoRec and biased MF with their default settings (chapter 4), on the
# CPU, so that every number below is the same from run to run on one machine; another machine (a
# different BLAS build, instruction set or thread count) may give slightly different numbers.

# %%
iautorec = experiment.train(data, split, "autorec", "item", progress=False, eval_test=False, device="cpu")
mf = experiment.train(data, split, "biased-mf", progress=False, eval_test=False, device="cpu")
train_seconds = {name: sum(r["seconds"] for r in result.history.records)
                 for name, result in (("I-AutoRec", iautorec), ("biased MF", mf))}
for name, result in (("I-AutoRec", iautorec), ("biased MF", mf)):
    print(f"{name}: best epoch {result.history.best_epoch}, validation RMSE {result.scores['valid'].rmse:.4f}, "
          f"{train_seconds[name]:.0f} s of training")

# %% [markdown]
# ## 8.1 The item codes
#
# I-AutoRec's input for movie $i$ is its column of the training matrix, $r_i \in \mathbb{R}^{943}$:
# user $u$'s rating where they rated the movie, 0 elsewhere. The encoder maps it to the code
#
# $$z_i = g(V r_i + \mu) \in (0, 1)^{500}, \qquad g = \text{sigmoid},$$
#
# and the decoder reconstructs all 943 ratings from the code alone, $h(r_i) = f(W z_i + b)$. In the
# library's names (`learner.get_weights()`), $V$ is `W0` (500 × 943), $\mu$ is `b0`, $W$ is `W1`
# (943 × 500) and $b$ is `b1`. The learner keeps the training matrix it was trained on, one row per
# movie, as a sparse matrix `learner.matrix.csr`, so all 1682 codes are one matrix product:

# %%
learner = iautorec.learner
weights = learner.get_weights()
V, mu = weights["W0"], weights["b0"]  # the encoder
R = learner.matrix.csr  # training ratings, one row per movie (1682 x 943), 0 where unrated
codes = 1 / (1 + np.exp(-(R @ V.T + mu)))
print("weights:", {name: w.shape for name, w in weights.items()}, "codes:", codes.shape)

# the same as the model's own first layer and activation
with torch.no_grad():
    learner.model.eval()
    first_rows = torch.from_numpy(R[:5].toarray())
    by_torch = learner.model.g(learner.model.layers[0](first_rows)).numpy()
assert learner.matrix.variant == "item" and R.shape == (data.n_items, data.n_users)
assert np.allclose(codes[:5], by_torch, atol=1e-5)

# %% [markdown]
# The library has no function for the codes yet; the three lines above are all it takes. A movie
# with no training rating has $r_i = 0$, so its code is $g(\mu)$ whatever the movie: every such
# movie gets the same code, and the codes cannot tell them apart.

# %%
train_counts = np.bincount(split.train["item"], minlength=data.n_items)  # training ratings per movie
unrated = np.flatnonzero(train_counts == 0)
assert len(unrated) == 41 and np.allclose(codes[unrated], 1 / (1 + np.exp(-mu)))
print(f"{len(unrated)} movies have no training rating; all of them have the code g(mu)")

# %% [markdown]
# Biased MF represents movie $i$ by its factor vector $q_i$ (128 numbers; chapter 2), the rows of
# its item embedding, `Q` in `get_weights()`; its offset $b_i$ is kept apart and left out here.

# %%
factors = mf.learner.get_weights()["Q"]
assert factors.shape == (data.n_items, mf.config.net.n_factors) == (1682, 128)

# %% [markdown]
# ## 8.2 Genres, and a picture
#
# The model never saw a genre; MovieLens lists them in `u.item`, whose last 19 columns are 0/1 flags
# in the order of `u.genre`. We read them for the movies in `data.item_ids` order, so row $i$ is
# movie index $i$.

# %%
genre_names = [line.split("|")[0] for line in (data.path / "u.genre").read_text().splitlines() if line]
u_item = pd.read_csv(data.path / "u.item", sep="|", header=None, encoding="latin-1", index_col=0)
genres = u_item.iloc[:, -19:].set_axis(genre_names, axis=1).reindex(data.item_ids).astype(bool)
genres.index = np.arange(data.n_items)
assert len(genre_names) == 19 and genres.to_numpy().sum(axis=1).min() >= 1
genres.sum().sort_values(ascending=False).to_frame("movies").T

# %% [markdown]
# To draw 500-dimensional codes we project them onto their two directions of largest variance
# (principal component analysis): subtract the mean code $\bar x$ from every row of the matrix $X$ of
# codes, take the singular value decomposition $X - \bar x = U S P^\top$, and keep the first two
# columns of $P$. Three lines of NumPy:

# %%
def pca_2d(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows projected on their first two principal directions, and the share of variance of each."""
    centred = vectors - vectors.mean(axis=0)
    _, s, directions = np.linalg.svd(centred, full_matrices=False)
    return centred @ directions[:2].T, s[:2] ** 2 / (s ** 2).sum()


projected = {"I-AutoRec codes": pca_2d(codes), "biased MF factors": pca_2d(factors)}
for name, (_, share) in projected.items():
    print(f"{name}: the first two directions keep {share.sum():.0%} of the variance")

# %% [markdown]
# A movie is coloured by one of four genres when it has exactly one of the four (it may have other
# genres too) and at least 20 training ratings, so that its code rests on some data; every other
# movie is grey. A third panel colours the codes by how many training ratings each movie has.

# %%
SHOWN = ["Children's", "Horror", "Documentary", "Film-Noir"]
MIN_RATINGS = 20
well_rated = train_counts >= MIN_RATINGS
one_of_them = genres[SHOWN].sum(axis=1).to_numpy() == 1

fig, axes = plt.subplots(1, 3, figsize=(16, 5))
for ax, (name, (points, share)) in zip(axes, projected.items()):
    ax.scatter(*points.T, s=4, c="lightgrey", label="other movies")
    for genre, colour in zip(SHOWN, ("tab:green", "tab:red", "tab:blue", "black")):
        mask = well_rated & one_of_them & genres[genre].to_numpy()
        ax.scatter(*points[mask].T, s=14, c=colour, label=f"{genre} ({mask.sum()})")
    ax.set(title=f"{name}, PCA ({share.sum():.0%} of variance)", xlabel="PC 1", ylabel="PC 2")
    ax.legend(fontsize=8, markerscale=2)
points = projected["I-AutoRec codes"][0]
shade = axes[2].scatter(*points.T, s=4, c=np.log10(1 + train_counts), cmap="viridis")
fig.colorbar(shade, ax=axes[2], label="log10(1 + training ratings)")
axes[2].set(title="I-AutoRec codes, by number of ratings", xlabel="PC 1", ylabel="PC 2")
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the picture with care, and check what it seems to say:

# %%
pc = {name: points for name, (points, _) in projected.items()}
popularity_corr = {name: abs(np.corrcoef(p[:, 0], np.log1p(train_counts))[0, 1]) for name, p in pc.items()}
share = {name: s.sum() for name, (_, s) in projected.items()}
print({name: round(c, 2) for name, c in popularity_corr.items()}, "correlation of PC 1 with log(1 + ratings)")
assert popularity_corr["I-AutoRec codes"] > 0.6 and popularity_corr["biased MF factors"] < 0.2
assert share["I-AutoRec codes"] > 0.35 and share["biased MF factors"] < 0.2
from_g_mu = np.linalg.norm(codes - 1 / (1 + np.exp(-mu)), axis=1)  # each code's distance from g(mu)
rare = (train_counts > 0) & (train_counts < 5)
print(f"median distance of a code from g(mu): {np.median(from_g_mu[rare]):.2f} for the {rare.sum()} movies with "
      f"1 to 4 training ratings, {np.median(from_g_mu[well_rated]):.2f} for the {well_rated.sum()} with at least "
      f"{MIN_RATINGS}")
assert np.median(from_g_mu[rare]) < 0.2 * np.median(from_g_mu[well_rated])


def offsets(points: np.ndarray) -> pd.DataFrame:
    """How far each coloured genre's centre lies from the centre of all well-rated movies, in standard deviations."""
    everyone = points[well_rated]
    return pd.DataFrame({genre: (points[well_rated & one_of_them & genres[genre].to_numpy()].mean(axis=0)
                                 - everyone.mean(axis=0)) / everyone.std(axis=0) for genre in SHOWN},
                        index=["PC 1", "PC 2"]).T


centres = pd.concat({name: offsets(p) for name, p in pc.items()}, axis=1)
assert (centres.loc[["Children's", "Horror"], "I-AutoRec codes"].abs() < 0.5).all().all()
assert centres.abs().max().max() < 1.5
centres.round(2)

# %% [markdown]
# * The codes' strongest direction (PC 1) is **how much a movie is rated**: its correlation with
#   $\log(1 + \text{ratings})$ is above 0.6 in absolute value, against below 0.2 for MF's
#   factors. Rarely rated movies have nearly empty inputs $r_i$, so their codes crowd near $g(\mu)$:
#   the median distance from $g(\mu)$ of a movie with 1 to 4 training ratings is less than a fifth of
#   that of a movie with at least 20.
# * Two directions keep more than a third of the codes' variance, but less than a fifth of MF's:
#   MF spreads its information over many directions, and a 2-D picture of MF shows little.
# * Genres do not form clean clusters in either picture. The table gives each coloured genre's centre
#   in standard deviations of all well-rated movies: none lies 1.5 away, and the centres of
#   Children's and Horror lie within half a standard deviation of the middle along both axes of the
#   codes' picture, mixed in with everything else. Yet in the full space both turn out to be among
#   the four genres the codes group most strongly (Sec. 8.4): a projection to two dimensions throws
#   most of the structure away, so we measure in the full space.
#
# ## 8.3 Nearest neighbours
#
# Two movies are similar when their vectors point the same way: the cosine similarity
# $\cos(z_i, z_j) = z_i^\top z_j / (\lVert z_i\rVert\,\lVert z_j\rVert)$. Normalising the rows once turns
# all similarities into one matrix product.

# %%
def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (a zero row stays zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1)


def nearest(vectors: np.ndarray, movie: int, n: int = 5) -> np.ndarray:
    """The ``n`` movies most similar to ``movie`` by cosine similarity, most similar first (itself left out)."""
    unit = unit_rows(vectors)
    similarity = unit @ unit[movie]
    similarity[movie] = -np.inf
    return np.argsort(-similarity, kind="stable")[:n]


def movie_index(title: str) -> int:
    return int(np.flatnonzero(data.titles == title)[0])


FAMOUS = ["Star Wars (1977)", "Toy Story (1995)", "Scream (1996)"]
neighbours = {(title, name): data.titles[nearest(vectors, movie_index(title))]
              for title in FAMOUS for name, vectors in (("I-AutoRec codes", codes), ("biased MF factors", factors))}
pd.set_option("display.max_colwidth", 45)
pd.DataFrame(neighbours, index=pd.RangeIndex(1, 6, name="rank"))

# %%
def shared(title: str, vectors: np.ndarray, genre: str) -> int:
    """How many of the 5 nearest neighbours of ``title`` have ``genre``."""
    return int(genres[genre].to_numpy()[nearest(vectors, movie_index(title))].sum())


first_two = {name: set(neighbours[("Star Wars (1977)", name)][:2]) for name in ("I-AutoRec codes", "biased MF factors")}
assert all(two == {"Empire Strikes Back, The (1980)", "Return of the Jedi (1983)"} for two in first_two.values())
assert all(neighbours[("Scream (1996)", name)][0] == "Scream 2 (1997)" for name in first_two)
toy = {name: shared("Toy Story (1995)", v, "Children's") for name, v in (("codes", codes), ("MF", factors))}
scream = {name: shared("Scream (1996)", v, "Horror") for name, v in (("codes", codes), ("MF", factors))}
scream_mf_counts = train_counts[nearest(factors, movie_index("Scream (1996)"))]
print(f"Children's among Toy Story's 5 neighbours: {toy}; Horror among Scream's: {scream}")
print("training ratings of Scream's MF neighbours:", scream_mf_counts)
assert toy["codes"] >= 4 > toy["MF"] and scream["codes"] == scream["MF"] >= 3 and scream_mf_counts.min() < 10


def rarely_rated_share(vectors: np.ndarray, n: int = 5) -> np.ndarray:
    """For every well-rated movie, the share of its ``n`` nearest movies with fewer than 10 training ratings."""
    unit = unit_rows(vectors)
    similarity = unit[well_rated] @ unit.T
    similarity[np.arange(well_rated.sum()), np.flatnonzero(well_rated)] = -np.inf  # not itself
    top = np.argsort(-similarity, axis=1, kind="stable")[:, :n]
    return (train_counts[top] < 10).mean(axis=1)


rarely_by_movie = {"codes": rarely_rated_share(codes), "MF": rarely_rated_share(factors)}
rarely = {k: float(v.mean()) for k, v in rarely_by_movie.items()}
rarely_gap = metrics.paired_difference(rarely_by_movie["MF"], rarely_by_movie["codes"])  # the same movies
print(f"share of the 5 nearest neighbours of well-rated movies that have fewer than 10 training ratings: "
      f"{ {k: round(v, 3) for k, v in rarely.items()} } (MF minus codes, movie by movie: {rarely_gap}); "
      f"share of such movies in the catalogue: {(train_counts < 10).mean():.3f}")
assert rarely["MF"] > 0.25 and rarely["MF"] > 0.9 * (train_counts < 10).mean() and rarely["codes"] < 0.1
assert rarely_gap.low > 0.15

# %% [markdown]
# Both representations put *The Empire Strikes Back* and *Return of the Jedi* first for *Star Wars*,
# and *Scream 2* first for *Scream*. Beyond the obvious pairs they differ: at least four of *Toy
# Story*'s five code neighbours are children's films (animated classics), fewer of its MF
# neighbours are. *Scream* has as many horror films among its five neighbours under both (three),
# but one of its MF neighbours has fewer than 10 training ratings. That is no accident: over all
# well-rated movies, more than a quarter of MF's five nearest neighbours have fewer than 10 training
# ratings, nearly as many as such movies' share of the catalogue, against less than a tenth of the
# codes' neighbours (compared movie by movie, a clear difference: its 95% interval lies above
# 0.15). A rarely rated movie's factor vector rests on a handful of ratings, so its
# direction is noisy, and the cosine, which ignores how much evidence a vector rests on, ranks it
# like any other; a rarely rated movie's code sits near $g(\mu)$, away from the well-rated movies.
# Three examples prove nothing, though; next we measure genres over all movies.
#
# ## 8.4 Do neighbours share a genre? Measured
#
# For every movie with at least 20 training ratings we take its 10 nearest neighbours among those
# movies and count the share that have at least one genre in common with it. Against what? Genres
# are unevenly spread (Drama and Comedy are everywhere), so any 10 movies share a genre fairly
# often. The baseline keeps everything and shuffles the genre rows among these well-rated movies:
# the neighbours stay the same, their genres become random draws from the same movies.

# %%
K = 10


def neighbour_table(vectors: np.ndarray, candidates: np.ndarray, k: int = K) -> np.ndarray:
    """For each movie, its ``k`` nearest ``candidates`` (a boolean mask) by cosine similarity."""
    unit = unit_rows(vectors)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    similarity[:, ~candidates] = -np.inf
    return np.argsort(-similarity, axis=1, kind="stable")[:, :k]


def agreement_per_movie(table: np.ndarray, flags: np.ndarray, movies: np.ndarray) -> np.ndarray:
    """For each of ``movies`` (a boolean mask), the share of its neighbours that have a genre in common with it."""
    common = (flags[table] & flags[:, None, :]).any(axis=-1)
    return common[movies].mean(axis=1)


def genre_agreement(table: np.ndarray, flags: np.ndarray, movies: np.ndarray) -> float:
    """The share of ``movies``' neighbours that have at least one genre in common with them."""
    return float(agreement_per_movie(table, flags, movies).mean())


def shuffled(flags: np.ndarray, movies: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``flags`` with the rows of ``movies`` (a boolean mask) permuted among themselves; other rows unchanged."""
    rows = np.flatnonzero(movies)
    out = flags.copy()
    out[rows] = flags[rng.permutation(rows)]
    return out


flags = genres.to_numpy()
rng = np.random.default_rng(0)
shuffles = [shuffled(flags, well_rated, rng) for _ in range(20)]
tables = {"I-AutoRec codes": neighbour_table(codes, well_rated),
          "biased MF factors": neighbour_table(factors, well_rated)}
agreement = pd.DataFrame({name: {"genre agreement": genre_agreement(table, flags, well_rated),
                                 "shuffled genres": np.mean([genre_agreement(table, s, well_rated) for s in shuffles])}
                          for name, table in tables.items()}).T
print(f"{well_rated.sum()} movies with at least {MIN_RATINGS} training ratings, {K} neighbours each")
agreement.round(3)

# %%
codes_agree, mf_agree = agreement["genre agreement"]
chance = agreement["shuffled genres"].max()
# the same 879 movies under each representation: compared movie by movie
per_movie = {name: agreement_per_movie(table, flags, well_rated) for name, table in tables.items()}
by_chance = {name: np.mean([agreement_per_movie(table, s, well_rated) for s in shuffles], axis=0)
             for name, table in tables.items()}
genre_gaps = {"codes − MF factors": metrics.paired_difference(per_movie["I-AutoRec codes"], per_movie["biased MF factors"]),
              "MF factors − shuffled": metrics.paired_difference(per_movie["biased MF factors"], by_chance["biased MF factors"])}
for pair, d in genre_gaps.items():
    print(f"genre agreement, {pair}: {d}, 95% interval {d.low:+.3f} to {d.high:+.3f}")
assert codes_agree > mf_agree + 0.08 and mf_agree > chance + 0.1
assert all(d.clear and d.mean > 0 for d in genre_gaps.values()) and genre_gaps["codes − MF factors"].low > 0.08
assert 0.6 < codes_agree < 0.7 and 0.45 < mf_agree < 0.58 and 0.3 < chance < 0.4

# %% [markdown]
# About two thirds of a movie's code neighbours share a genre with it (between 0.6 and 0.7), against
# about half for MF's factors and under 0.4 by chance: both representations carry genre
# information, learned from ratings alone, and the codes carry more of it. Compared movie by movie
# (the same 879 movies under each), the codes' lead over MF and MF's over chance are both clear:
# the codes' lead's 95% interval lies above 0.08 (printed above; one trained model of each, one
# split). Which genres? For each genre, the share of its movies' neighbours that have
# that genre, next to its *base rate*, the share of all well-rated movies that have it. A common
# genre is shared often by chance, so we compare genres by the ratio of the two, the **lift** (1
# means no better than chance), sorted by the codes' lift:

# %%
def per_genre_movies(table: np.ndarray, genre: str) -> np.ndarray:
    """For each of ``genre``'s well-rated movies, the share of its neighbours that have ``genre``."""
    has = genres[genre].to_numpy()
    return has[table[well_rated & has]].mean(axis=1)


def per_genre(table: np.ndarray, genre: str) -> float:
    """The share of the neighbours of ``genre``'s well-rated movies that have ``genre``."""
    return float(per_genre_movies(table, genre).mean())


present = [g for g in genre_names if (well_rated & genres[g].to_numpy()).any()]
by_genre = pd.DataFrame({"movies": [int((well_rated & genres[g].to_numpy()).sum()) for g in present],
                         "base rate": [genres[g].to_numpy()[well_rated].mean() for g in present],
                         **{name: [per_genre(table, g) for g in present] for name, table in tables.items()}},
                        index=present)
for name in tables:
    by_genre[f"lift, {name}"] = by_genre[name] / by_genre["base rate"]
by_genre = by_genre.sort_values("lift, I-AutoRec codes", ascending=False)
# each genre's movies, compared one by one: against the base rate, and the codes against MF's factors
genre_noise = pd.DataFrame({g: {
    **{f"{name} − base rate": metrics.paired_difference(per_genre_movies(table, g),
                                                       np.full(by_genre.loc[g, "movies"], by_genre.loc[g, "base rate"]))
       for name, table in tables.items()},
    "codes − MF factors": metrics.paired_difference(per_genre_movies(tables["I-AutoRec codes"], g),
                                                    per_genre_movies(tables["biased MF factors"], g))}
    for g in by_genre.index}).T
by_genre["lift SE, codes"] = [genre_noise.loc[g, "I-AutoRec codes − base rate"].se / by_genre.loc[g, "base rate"]
                              for g in by_genre.index]
by_genre.round(3)

# %%
lift_codes, lift_mf = by_genre["lift, I-AutoRec codes"], by_genre["lift, biased MF factors"]
few = set(by_genre.index[by_genre["movies"] < MIN_RATINGS])
print(f"{len(by_genre)} genres; with fewer than {MIN_RATINGS} well-rated movies: {sorted(few)}")
assert (lift_codes > 1).all() and list(lift_mf.index[lift_mf <= 1]) == ["Fantasy"]
assert set(lift_codes.index[lift_codes > 6]) == {"Animation", "Horror", "Film-Noir", "Children's"}
assert lift_codes[lift_codes <= 6].max() < 4.5
assert set(lift_codes.index[lift_codes < 1.7]) == {"Comedy", "Drama", "Romance"}
assert list(by_genre.index[lift_codes < lift_mf]) == ["War"] and lift_mf["War"] - lift_codes["War"] < 0.05
assert lift_codes["Horror"] > 2.5 * lift_mf["Horror"] and (lift_codes / lift_mf).idxmax() == "Horror"
assert few == {"Documentary", "Fantasy", "Film-Noir", "Western"}
assert by_genre.loc[sorted(few), "lift SE, codes"].min() > by_genre["lift SE, codes"].median()
above_base = {name: sorted(g for g in by_genre.index if genre_noise.loc[g, f"{name} − base rate"].low > 0)
              for name in tables}
codes_ahead = sorted(g for g in by_genre.index if genre_noise.loc[g, "codes − MF factors"].low > 0)
mf_ahead = sorted(g for g in by_genre.index if genre_noise.loc[g, "codes − MF factors"].high < 0)
print("genres found among their movies' neighbours clearly more often than their base rate:")
for name, found in above_base.items():
    print(f"  {name}: {len(found)} of {len(by_genre)}; not clearly: {sorted(set(by_genre.index) - set(found))}")
print(f"codes clearly ahead of MF's factors for {len(codes_ahead)} genres: {codes_ahead}; MF clearly ahead: {mf_ahead}")
assert set(by_genre.index) - set(above_base["I-AutoRec codes"]) == {"Documentary", "Fantasy"}
assert set(by_genre.index) - set(above_base["biased MF factors"]) == {"Documentary", "Fantasy", "Western"}
assert len(codes_ahead) == 9 and not mf_ahead and "Horror" in codes_ahead and "War" not in codes_ahead

# %% [markdown]
# For the **codes**, every genre is found among its movies' neighbours more often than its base rate
# (a lift above 1), clearly so (compared over the genre's movies) for all but Documentary and
# Fantasy; for **MF's factors**, every genre but Fantasy, clearly so for all but Documentary,
# Fantasy and Western. The codes' lift is higher than MF's for every genre except War, where the
# two are nearly equal; compared movie by movie within each genre, the codes are clearly ahead for
# nine genres (printed above), and MF's factors for none. The codes' highest lifts are Animation,
# Horror, Film-Noir and Children's, each above 6 times the base rate, while no other genre reaches
# 4.5; Horror shows the largest ratio of the codes' lift to MF's, more than 2.5, a clear lead. The
# broad genres Comedy, Drama and Romance have the codes' lowest lifts, under 1.7. How far one
# genre's lift is from another's is rough: a lift's standard error (last column) is the standard
# error of a share over the genre's movies divided by its base rate, large for a rare genre, and
# the four genres with fewer than 20 well-rated movies (Documentary, Fantasy, Film-Noir, Western)
# all have standard errors above the median. A plausible reading, which we have not tested: the
# genres grouped best are those with an audience of their own (families, horror fans, lovers of old films), whose members
# rate many of them, and who rates a movie is all a rating-based representation sees; comedy and
# drama are watched by nearly everyone and leave a weaker trace.
#
# ## 8.5 Why the autoencoder does not just copy its input
#
# An autoencoder is trained to output its input. A perfect copy, $h(r) = r$, would be useless here:
# the prediction for a user who has not rated movie $i$ is the user's output of $h(r_i)$, and that
# user's entry of the input is 0, so a copy would predict 0 for every unrated movie. AutoRec's
# objective (chapter 3)
#
# $$\min_\theta \sum_i \lVert (r_i - h(r_i;\theta)) \odot m_i \rVert^2 + \tfrac{\lambda}{2}(\lVert W\rVert^2 + \lVert V\rVert^2)$$
#
# sums the error over the *observed* entries only ($m_i$ is 1 where a rating exists). Does that
# stop copying? No: the copy is perfect at every observed entry, so its masked error is exactly 0,
# the lowest the first term can be. The masked loss *allows* copying; measured on all 1682 training
# rows, with the library's own loss function:

# %%
r_all, m_all = RatingMatrix(split.train, data.n_users, data.n_items, "item").dense(np.arange(data.n_items))
copy_loss = float(masked_sse(r_all, r_all, m_all))  # the copy's output is its input: h(r) = r
copy_valid = metrics.evaluate(lambda users, items: np.zeros(len(users)), split.valid, split.train, data.scale).rmse
print(f"the copy h(r) = r: masked training loss {copy_loss}; validation RMSE {copy_valid:.3f} (it predicts 0, "
      f"clipped to {data.scale[0]:g}), against {iautorec.scores['valid'].rmse:.3f} for the trained I-AutoRec")
assert copy_loss == 0.0 and copy_valid > 2.5

# %% [markdown]
# So something else keeps the trained network from copying. The network cannot represent the copy
# for free: the input passes through a **bottleneck** of 500 sigmoid units for 943 inputs, copying
# through it takes large weights, and **λ** charges for large weights; and **early stopping** keeps
# the epoch with the best validation RMSE, before the network fits the training ratings more
# closely. How much does a trained network copy? Write a held-out rating into the input and see how
# much of it comes back: for a validation pair $(u, i)$, put $r_{ui}$ into entry $u$ of movie $i$'s
# input row (where training left a 0) and compare output $u$ before and after. A copy gives back the
# whole rating (a share of 1); a network that ignores its own input entry gives back 0. (This is the
# leak of notebook 09's pitfall (a), measured per entry.)

# %%
valid_users, valid_items = split.valid["user"].to_numpy(), split.valid["item"].to_numpy()
valid_ratings = split.valid["rating"].to_numpy()


def given_back(weights: dict) -> np.ndarray:
    """For each validation pair (u, i): the change of output u of movie i's row when r_ui is written into
    entry u of its input, as a share of r_ui (1: a copy; 0: the entry's own input is ignored)."""
    V, mu, W, b = (weights[k].astype(np.float64) for k in ("W0", "b0", "W1", "b1"))
    before = R @ V.T + mu  # every movie's pre-activation from its training row
    a = before[valid_items]
    after = a + valid_ratings[:, None] * V[:, valid_users].T  # the same, with r_ui written into entry u
    change = (W[valid_users] * (1 / (1 + np.exp(-after)) - 1 / (1 + np.exp(-a)))).sum(axis=1)
    return change / valid_ratings


course_share = given_back(learner.get_weights())
print(f"I-AutoRec (λ = 100, early stopped at epoch {iautorec.history.best_epoch}) gives back "
      f"{course_share.mean():.1%} of a held-out rating written into its input (median {np.median(course_share):.1%})")

# %% [markdown]
# Little: the trained network predicts a held-out rating mostly from the *other* ratings of the
# movie, which is what we want. Two of the three guards can be switched off. Train the same network,
# with the same 500-unit bottleneck, once with the course's λ = 100 and once with λ = 1, for 80
# epochs each without early stopping (the course's run kept epoch 64), and measure the share it
# gives back and its validation RMSE every 10 epochs. The learner is the library's usual one for
# this machine, driven epoch by epoch through its public `train_epoch`:

# %%
def copying_over_epochs(lam: float, epochs: int = 80, every: int = 10) -> pd.DataFrame:
    """The share given back and the validation RMSE every ``every`` epochs, training I-AutoRec with ``lam``."""
    run = course_config("autorec", "item").replace(lam=lam, device="cpu").bind(data.n_users, data.n_items)
    seed_everything(run.train.seed)
    learner_ = build_learner(build_model(run.net), RatingMatrix(split.train, data.n_users, data.n_items, "item"),
                             split.train, run.train, data.scale)
    rng, rows = np.random.default_rng(run.train.seed), {}
    for epoch in range(1, epochs + 1):
        learner_.train_epoch(rng)
        if epoch % every == 0:
            rows[epoch] = {"share given back": given_back(learner_.get_weights()).mean(),
                           "valid RMSE": metrics.evaluate(learner_.predict, split.valid, split.train, data.scale).rmse}
    return pd.DataFrame(rows).T.rename_axis("epoch")


copying = pd.concat({f"λ = {lam:g}": copying_over_epochs(lam) for lam in (1.0, 100.0)}, axis=1)
copying.round(4)

# %%
low, course_lam = copying["λ = 1"], copying["λ = 100"]
shares = {name: frame["share given back"] for name, frame in (("λ = 1", low), ("λ = 100", course_lam))}
assert all(share.is_monotonic_increasing for share in shares.values())           # copying grows with training
assert (shares["λ = 1"].loc[20:] > shares["λ = 100"].loc[20:]).all()              # more with less weight decay
assert shares["λ = 1"].iloc[-1] > 1.5 * shares["λ = 100"].iloc[-1]
assert low["valid RMSE"].idxmin() < low.index[-1] and low["valid RMSE"].iloc[-1] > low["valid RMSE"].min() + 0.02
assert course_lam["valid RMSE"].min() < low["valid RMSE"].min()
assert course_share.mean() < shares["λ = 100"].iloc[-1]                           # the kept epoch copies less
assert 0.01 < course_share.mean() < 0.03
print(f"after 80 epochs: λ = 1 gives back {shares['λ = 1'].iloc[-1]:.1%}, λ = 100 {shares['λ = 100'].iloc[-1]:.1%}; "
      f"λ = 1's validation RMSE bottoms out at epoch {low['valid RMSE'].idxmin()} ({low['valid RMSE'].min():.4f}) "
      f"and is {low['valid RMSE'].iloc[-1]:.4f} at epoch 80")

# %% [markdown]
# In both runs (one seed each) the share given back grows at every check as training goes on:
# left to train, the network copies more and more of its input. With λ = 1 it copies more than
# with λ = 100 from epoch 20 on, by epoch 80 more than one and a half times as much, and its
# validation RMSE, after bottoming out, climbs by more than 0.02: copying is what overfitting
# looks like here. λ = 100 holds the climb back, and early stopping ends the course's run at the
# epoch with the best validation RMSE, where it gives back about 2%. The third guard, the
# bottleneck, needs no experiment: the network's output depends on its input only through 500
# code units, so however it is trained its Jacobian has rank at most 500, and the identity map of
# 943 inputs, whose Jacobian has rank 943, is out of its reach. It can give back part of a rating,
# as the λ = 1 run does, but it cannot copy every entry.
#
# What the masked loss *does* do is another thing: the outputs at unobserved entries are never
# asked to equal anything, so the zeros of the input are never taught as ratings. Those free
# outputs are the predictions. How far from 0 are they in the trained model?

# %%
every_user = np.repeat(np.arange(data.n_users), data.n_items)
every_movie = np.tile(np.arange(data.n_items), data.n_users)
unobserved = np.ones((data.n_users, data.n_items), dtype=bool)
unobserved[split.train["user"], split.train["item"]] = False


def mean_unobserved(predict) -> float:
    """The mean raw prediction over every (user, movie) pair without a training rating."""
    return float(predict(every_user, every_movie).reshape(data.n_users, data.n_items)[unobserved].mean())


correct_unobserved = mean_unobserved(learner.predict)
print(f"{unobserved.mean():.1%} of the pairs have no training rating; I-AutoRec's mean prediction over "
      f"them is {correct_unobserved:.2f}")
assert correct_unobserved > 2.5 and 0.945 < unobserved.mean() < 0.955

# %% [markdown]
# Now the mistake. Put the unobserved entries into the loss, as if each were a rating of some fill
# value $c$: the target becomes $r_i + c\,(1 - m_i)$ and every entry counts. With $c = 0$ this is the
# plain autoencoder loss on the zero-filled matrix; $c = \bar r$, the mean training rating, is the
# "impute the mean" variant. The library's plain learner computes the loss of a batch in one
# method, `batch_loss`; a subclass changes only that method, so the model, optimizer, batches and λ
# are the course's (the decoder is the identity, so ratings enter the loss as they are):

# %%
Code(inspect.getsource(AutoRecLearner.batch_loss), language="python")

# %%
from autorec_lib.exercises.ch08 import FilledLoss  # in the library, where exercise 3's check uses it too

Code(inspect.getsource(FilledLoss), language="python")

# %% [markdown]
# We train three models for the same budget, **30 epochs** each (patience 10, the validation epoch
# kept as always): the right objective, fill 0 and fill $\bar r$. Thirty epochs is a cut budget to
# save time, so the first run is *not* the course's best I-AutoRec (that is `iautorec` above); it is
# the fair comparison for the other two.

# %%
BUDGET = 30
matrix = RatingMatrix(split.train, data.n_users, data.n_items, "item")
mean_rating = float(split.train["rating"].mean())


def train_on(fill: float | None, epochs: int = BUDGET) -> tuple[AutoRecLearner, training.History]:
    """I-AutoRec with the course's settings and ``epochs``; ``fill=None`` is the right objective."""
    run = course_config("autorec", "item").replace(epochs=epochs, device="cpu").bind(data.n_users, data.n_items)
    cfg = run.train
    seed_everything(cfg.seed)
    model = build_model(run.net)
    # the plain learner's dense rows and mask for all three: the wrong objectives put every entry in
    # the loss, not only the ratings, and the right one computes the same way, so only the loss differs
    if fill is None:
        wrong_or_right = AutoRecLearner(model, matrix, cfg, torch.device("cpu"), data.scale)
    else:
        wrong_or_right = FilledLoss(model, matrix, cfg, torch.device("cpu"), data.scale)
        wrong_or_right.fill = fill
    history = training.fit(wrong_or_right, split, data.scale, cfg, progress=False, eval_test=False)
    return wrong_or_right, history


objectives = {"observed only (right)": None, "fill 0 (wrong)": 0.0, f"fill mean {mean_rating:.2f} (wrong)": mean_rating}
runs = {name: train_on(fill) for name, fill in objectives.items()}
raw_valid = {name: run.predict(valid_users, valid_items) for name, (run, _) in runs.items()}
wrong_loss = pd.DataFrame({name: {
    "valid RMSE": metrics.evaluate(run.predict, split.valid, split.train, data.scale).rmse,
    "best epoch": history.best_epoch,
    "train seconds": sum(r["seconds"] for r in history.records),
    "mean prediction, validation pairs": raw_valid[name].mean(),
    "sd of predictions, validation pairs": raw_valid[name].std(),
    "mean prediction, all unrated pairs": mean_unobserved(run.predict)} for name, (run, history) in runs.items()}).T
wrong_loss = wrong_loss.astype({"best epoch": int})
wrong_loss.round(3)

# %%
right, zero, filled_mean = wrong_loss.index
rmse = wrong_loss["valid RMSE"]
mean_baseline = metrics.rmse(np.full(len(split.valid), mean_rating), split.valid["rating"].to_numpy())
below_scale = (raw_valid[zero] < data.scale[0]).mean()
print(f"predicting the mean training rating for everyone: validation RMSE {mean_baseline:.4f}; "
      f"fill 0 predicts below {data.scale[0]:g} for {below_scale:.0%} of the validation pairs")
assert rmse[right] + 0.1 < rmse[filled_mean] < mean_baseline < rmse[filled_mean] + 0.1 < rmse[zero]
assert below_scale > 0.5
assert rmse[zero] > 2.0 and wrong_loss.loc[zero, "mean prediction, all unrated pairs"] < 0.5
assert abs(wrong_loss.loc[filled_mean, "mean prediction, all unrated pairs"] - mean_rating) < 0.1
spread = wrong_loss["sd of predictions, validation pairs"]
print(f"spread of the fill-mean model's predictions on the validation pairs: {spread[filled_mean] / spread[right]:.2f} "
      "times the right model's")
assert 0.15 < spread[filled_mean] / spread[right] < 0.25
# the same validation ratings under each model: paired bootstraps over the validation users
scored_valid = {name: metrics.predict_with_default(run.predict, split.valid, split.train, data.scale)[0]
                for name, (run, _) in runs.items()} | {"the mean for everyone": np.full(len(split.valid), mean_rating)}


def rmse_gap(a: str, b: str) -> metrics.PairedDifference:
    """Validation RMSE of ``a`` minus ``b`` (keys of ``scored_valid``), with a bootstrap over users."""
    return metrics.rmse_difference(scored_valid[a], scored_valid[b], valid_ratings, valid_users)


fill_gaps = {"fill mean − right": rmse_gap(filled_mean, right),
             "the mean for everyone − fill mean": rmse_gap("the mean for everyone", filled_mean)}
for pair, d in fill_gaps.items():
    print(f"validation RMSE, {pair}: {d}, 95% interval {d.low:+.4f} to {d.high:+.4f}")
assert fill_gaps["fill mean − right"].low > 0.1 and fill_gaps["the mean for everyone − fill mean"].clear

# %%
fig, ax = plt.subplots(figsize=(8, 4))
bins = np.linspace(-1, 6, 71)
for name, values in raw_valid.items():
    ax.hist(values, bins=bins, histtype="step", linewidth=2, label=f"{name}: RMSE {rmse[name]:.3f}")
ax.hist(split.valid["rating"], bins=np.arange(0.75, 5.5, 0.5), alpha=0.25, color="grey", label="true ratings")
ax.set(title="Raw predictions on the validation pairs (30 epochs each)", xlabel="predicted rating (not clipped)",
       ylabel="validation pairs")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The ordering is clear. With fill 0 the model learns what it was told: the mean of its predictions
# over all unrated pairs is below 0.5, and even on the validation pairs (which people did go on to
# rate) more than half the predictions fall below the scale, so the validation RMSE is above 2. With the mean as
# fill, its predictions over the unrated pairs average within 0.1 of the fill value and are squeezed
# together (their spread on the validation pairs is about a fifth of the right model's): its
# RMSE is worse than the right objective's by more than 0.1 (clearly: the bootstrap's 95% interval
# lies above 0.1), and better than predicting the mean for everyone by less than 0.1, though
# clearly better. The right objective, with the same budget, leaves the unobserved outputs free,
# and the decoder fills them from what similar users rated. (About 95% of the matrix is unobserved,
# so in the wrong objectives the fill values outnumber the real ratings about 19 to 1. With about 20
# times as many terms in the loss, the same λ and learning rate are in effect different settings: the
# wrong objectives run untuned, so read their numbers as what the fill value does, not as the best
# such a model could do.)
#
# All of this is about **predicting ratings**, where a missing rating means "unknown". For top-N
# recommendation, where the question is which movies a user will watch at all, missing entries do
# carry information (people choose what they watch), and objectives that fill them with 0 or weigh
# them down are standard and often rank better: PureSVD, a plain SVD of the zero-filled matrix
# (Cremonesi, Koren and Turrin, "Performance of Recommender Algorithms on Top-N Recommendation
# Tasks", RecSys 2010), weighted matrix factorization for implicit feedback (Hu, Koren and Volinsky,
# "Collaborative Filtering for Implicit Feedback Datasets", ICDM 2008), Steck's weighting of the
# missing ratings ("Training and Testing of Recommender Systems on Data Missing Not at Random", KDD
# 2010), and CDAE (Sec. 8.6).
#
# ## 8.6 Dropout, denoising autoencoders and CDAE
#
# If copying is the danger, one can also fight it at the input. A **denoising autoencoder**
# (Vincent, Larochelle, Bengio and Manzagol, "Extracting and Composing Robust Features with Denoising
# Autoencoders", ICML 2008) corrupts each input, for instance by setting a random fraction of its
# entries to 0, and is trained to reconstruct the *clean* input: copying no longer works, because the
# dropped entries are not in the input. For ratings this corruption is exactly the situation of
# prediction: a rating set to 0 looks unobserved, and the model must produce it from the others.
# **CDAE** (Wu, DuBois, Zheng and Ester, "Collaborative Denoising Auto-Encoders for Top-N Recommender
# Systems", WSDM 2016) builds a recommender on this idea: a user-based autoencoder over a user's
# implicit-feedback vector (which items they interacted with), its input corrupted by dropout, with an
# extra user-specific input node, trained for top-N recommendation rather than rating prediction.
#
# Does the library's `dropout` option do this? Read `AutoRec.forward`:

# %%
Code(inspect.getsource(AutoRec.forward), language="python")

# %% [markdown]
# It does not. `dropout` is applied to the output of every hidden layer, after $g$: it zeroes random
# *code units* (and scales the others by $1/(1-p)$), in training mode only. The input ratings reach
# the encoder untouched. A hook on each layer shows what each receives, on a model with `dropout=0.5`
# in training mode:

# %%
seen = {}
probe = AutoRec(data.n_users, hidden=500, dropout=0.5).train()
hooks = [layer.register_forward_pre_hook(lambda module, args, k=k: seen.__setitem__(k, args[0].detach()))
         for k, layer in enumerate(probe.layers)]
batch = torch.from_numpy(R[:256].toarray())
with torch.no_grad():
    probe(batch)
    clean_code = probe.g(probe.layers[0](batch))
for hook in hooks:
    hook.remove()
kept = seen[1] != 0
print(f"encoder input identical to the ratings: {torch.equal(seen[0], batch)}; "
      f"share of code units zeroed: {1 - kept.float().mean():.3f}")
assert torch.equal(seen[0], batch)
assert abs(1 - kept.float().mean().item() - 0.5) < 0.01
assert torch.allclose(seen[1][kept], 2 * clean_code[kept])

# %% [markdown]
# So the library's dropout is *hidden-unit* dropout (regularising the code, as in notebook 06's
# exercise), not the input corruption of a denoising autoencoder or CDAE. Input dropout would be a
# few lines more: corrupt `r` before the model sees it, and keep the clean `r` and its mask as the
# target.
#
# ## Summary
#
# * I-AutoRec's item code is $g(V r_i + \mu)$, the encoder applied to a movie's column of training
#   ratings; from `get_weights()` it is one matrix product. Movies without training ratings all
#   share the code $g(\mu)$.
# * The codes' main direction is popularity. Genres are not separated in a 2-D picture, but in the
#   full space a movie's nearest codes share a genre with it far more often than chance, and clearly
#   more often than MF's factors do (two thirds against about half, compared movie by movie).
#   Relative to how common each genre
#   is, the codes group animation, horror, film noir and children's films most (over 6 times their
#   base rate) and comedy, drama and romance least (under 1.7 times).
# * Nearest neighbours by cosine similarity give sensible "more like this" lists for well-rated
#   movies under both models; rarely rated movies make unreliable neighbours, and they turn up among
#   MF's neighbours far more often than among the codes'.
# * The masked loss does not stop AutoRec from copying its input: the copy $h(r) = r$ has masked
#   loss 0. The bottleneck, λ and early stopping do: the course's I-AutoRec gives back only a small
#   share of a held-out rating written into its input, while the same network with λ = 1 gives back
#   more and more as it trains. What the masked loss does is leave the unobserved outputs free, to
#   be predictions: for rating
#   prediction, putting them in the loss as 0 or as the mean teaches the model to predict the fill
#   value: the validation RMSE rises above 2 (fill 0) or to within 0.1 of the predict-the-mean
#   baseline (fill mean), with the course's settings left untuned for these objectives. For top-N
#   ranking, filling or down-weighting the missing entries is a standard and often better choice.
# * The library's `dropout` drops code units, not inputs; input corruption is what denoising
#   autoencoders and CDAE use.

# %% [markdown] tags=["solution"]
# * From exercise 2: the raw rating rows, with no model at all, share a genre with their neighbours
#   as often as the codes do (within 0.03, within the noise), and clearly more often than MF's factors.

# %% [markdown]
# ## Exercises
#
# Each exercise has a cell for your answer and a check below it. They reuse `iautorec`, `mf`,
# `codes`, `nearest` and `train_on` from above; only exercise 3 trains one more model (30 epochs).
#
# ### Exercise 1: hide a rating, and predict it
#
# Take the user who gave *Star Wars (1977)* its lowest rating in the training split (if several
# users tie, the one with the smallest index); call their index `user`. Hide that rating: take Star
# Wars' input row (its column of training ratings, 943 numbers), set `user`'s entry to 0, and compute
# by hand, with NumPy and the weights of `learner.get_weights()`, the code of this row,
# `hidden_code` (500 numbers), and the model's prediction for `user` from it, `pred_hidden` (a float,
# not clipped). Also give `pred_shown`, the prediction for `user` from the full row. Is the low
# rating predicted when the model cannot see it in the input?
#
# *Hint:* a movie's row of the training matrix is a row of `learner.matrix.csr` (index it by the
# movie's index, not its MovieLens id); the encoder and the decoder are two different weight
# matrices, and only one of them takes a 943-number input. The output for user $u$ is entry $u$ of
# $f(W z + b)$, with $f$ the identity.

# %% tags=["solution"]
star = movie_index("Star Wars (1977)")
row = learner.matrix.csr[star].toarray().ravel()
raters = np.flatnonzero(row)
user = int(raters[np.argmin(row[raters])])  # argmin takes the first of ties: the smallest index
hidden_row = row.copy()
hidden_row[user] = 0.0
hidden_code = 1 / (1 + np.exp(-(V @ hidden_row + mu)))
pred_hidden = float(weights["W1"][user] @ hidden_code + weights["b1"][user])
pred_shown = float(weights["W1"][user] @ codes[star] + weights["b1"][user])
star_mean = row[raters].mean()
print(f"user {user} rated Star Wars {row[user]:.0f} (its mean training rating is {star_mean:.2f}); predicted "
      f"{pred_hidden:.3f} with the rating hidden, {pred_shown:.3f} with it shown")
assert row[user] == 1 and np.isclose(pred_shown, learner.predict(np.array([user]), np.array([star]))[0], atol=1e-4)
assert abs(pred_shown - pred_hidden) < 0.05 and np.abs(hidden_code - codes[star]).max() < 0.05
assert pred_hidden < 3 < 4 < star_mean

# %%
from autorec_lib.exercises import ch08

ch08.check_hidden_rating(user, hidden_code, pred_hidden, pred_shown, iautorec, data)

# %% [markdown] tags=["solution"]
# *What the solution shows.* The user gave Star Wars a 1, where its mean training rating is above 4.
# Hiding that rating changes the prediction by less than 0.05 and no code unit by more than 0.05:
# one rating among the movie's hundreds hardly moves its code. Yet the prediction stays below 3 with
# the rating hidden: it comes from the user's decoder row $W_u, b_u$, which encodes this user's taste.
# So the model is not copying the rating through the input, as Sec. 8.5 measured over all the
# validation pairs. A caution: that decoder row was trained
# with this very rating as a target, so this is not an honest held-out prediction; the validation
# split, whose ratings no part of training sees, is.

# %% [markdown]
# ### Exercise 2: neighbours without a model
#
# Item-based collaborative filtering compares movies by their raw rating columns. Find the 5 nearest
# neighbours of *Fargo (1996)* by cosine similarity of the rows of the training matrix
# (`learner.matrix.csr`, no model involved): `fargo_raw`, an array of 5 movie indices, most similar
# first, Fargo itself left out. Compare them with Fargo's code neighbours, and compare the genre
# agreement of raw rows and codes (Sec. 8.4's measure).
#
# *Hint:* the rows of `learner.matrix.csr` are movies, its columns users; cosine similarity divides
# by both lengths. Sec. 8.3's `nearest` takes a dense array.

# %% tags=["solution"]
fargo = movie_index("Fargo (1996)")
dense_rows = learner.matrix.csr.toarray()
fargo_raw = nearest(dense_rows, fargo)
raw_agree = genre_agreement(neighbour_table(dense_rows, well_rated), flags, well_rated)
fargo_codes = nearest(codes, fargo)
print("raw rows:", "; ".join(data.titles[fargo_raw]))
print("codes:   ", "; ".join(data.titles[fargo_codes]))
print(f"genre agreement of 10 neighbours: raw rows {raw_agree:.3f}, codes {codes_agree:.3f}, "
      f"MF {mf_agree:.3f}")
assert abs(raw_agree - codes_agree) < 0.03 and raw_agree > mf_agree
raw_per_movie = agreement_per_movie(neighbour_table(dense_rows, well_rated), flags, well_rated)
raw_gaps = {"raw rows − codes": metrics.paired_difference(raw_per_movie, per_movie["I-AutoRec codes"]),
            "raw rows − MF factors": metrics.paired_difference(raw_per_movie, per_movie["biased MF factors"])}
print("; ".join(f"{pair}: {d}" for pair, d in raw_gaps.items()))
assert not raw_gaps["raw rows − codes"].clear and raw_gaps["raw rows − MF factors"].low > 0
assert np.median(train_counts[fargo_raw]) > 2 * np.median(train_counts[fargo_codes])
assert genres["Drama"].to_numpy()[np.append(fargo_codes, fargo)].all()

# %%
ch08.check_raw_neighbours(fargo_raw, "Fargo (1996)", iautorec, data)

# %% [markdown] tags=["solution"]
# *What the solution shows.* Fargo's raw-row neighbours are blockbusters (their median number of
# training ratings is more than twice that of its code neighbours): a raw rating column is long when
# many people rated the movie, and the overlap of two columns is dominated by the users who rate
# everything popular. The code neighbours are all dramas, as Fargo is, and less rated. On
# Sec. 8.4's genre measure, though, raw rows do as well as the codes (within 0.03, and within the
# noise, compared movie by movie) and clearly better than MF's factors: the codes are not a better
# genre map than the ratings they were computed from. What
# they add is compression (500 numbers instead of 943) and a representation that the decoder can
# turn into ratings.

# %% [markdown]
# ### Exercise 3: what does the fill value do?
#
# Train the wrong objective of Sec. 8.5 once more with fill value 3, the middle of the rating scale,
# with the same budget (`train_on(3.0)`, 30 epochs). Call the learner `fill3_learner` and report
# `fill3 = {"valid RMSE": ..., "mean prediction": ...}`: its validation RMSE (scored as the course
# scores everything) and the mean of its raw predictions over the validation pairs. Where does it
# land against fill 0, fill mean and the right objective?
#
# *Hint:* `train_on` returns the learner and its history; `metrics.evaluate` scores a `predict`
# function on a set of ratings. "Raw" means what `predict` returns, before any clipping. The check
# replays the run's first epoch, so give it the learner and the history of one `train_on` call.

# %% tags=["solution"]
fill3_learner, fill3_history = train_on(3.0)
fill3 = {"valid RMSE": metrics.evaluate(fill3_learner.predict, split.valid, split.train, data.scale).rmse,
         "mean prediction": float(fill3_learner.predict(valid_users, valid_items).mean())}
print({k: round(v, 4) for k, v in fill3.items()})
assert rmse[right] + 0.1 < fill3["valid RMSE"] < rmse[zero]
assert fill3["valid RMSE"] > rmse[filled_mean]
scored_valid["fill 3 (wrong)"] = metrics.predict_with_default(fill3_learner.predict, split.valid, split.train,
                                                              data.scale)[0]
fill3_gaps = {"fill 3 − fill mean": rmse_gap("fill 3 (wrong)", filled_mean),
              "fill 3 − right": rmse_gap("fill 3 (wrong)", right), "fill 0 − fill 3": rmse_gap(zero, "fill 3 (wrong)")}
print("; ".join(f"{pair}: {d}" for pair, d in fill3_gaps.items()))
assert all(d.clear and d.mean > 0 for d in fill3_gaps.values()) and fill3_gaps["fill 3 − right"].low > 0.1
assert 3.0 < fill3["mean prediction"] < wrong_loss.loc[filled_mean, "mean prediction, validation pairs"]

# %%
ch08.check_fill(fill3, fill3_learner, fill3_history, 3.0, split, data)

# %% [markdown] tags=["solution"]
# *What the solution shows.* With fill 3 the model is pulled towards 3: its mean prediction on the
# validation pairs lies between 3 and the fill-mean model's, and its validation RMSE is clearly
# worse than the fill-mean model's and far worse (by more than 0.1, clearly) than the right
# objective's, though clearly better than fill 0's (bootstraps over the validation users, printed
# above). The closer the fill value is to the typical rating, the less the wrong objective
# hurts, but for rating prediction no fill value we tried helps: every one of them asks the model to
# predict a constant for 95% of the matrix. (For top-N ranking, filling the missing entries can help;
# see the end of Sec. 8.5.)

# %% tags=["results"]
print(json.dumps({"I-AutoRec valid RMSE": round(iautorec.scores["valid"].rmse, 4),
                  "genre agreement, codes": round(codes_agree, 3), "genre agreement, MF": round(mf_agree, 3),
                  "genre agreement, shuffled": round(chance, 3), "genre agreement, raw rows": round(raw_agree, 3),
                  **{f"valid RMSE {name}, {BUDGET} epochs": round(v, 4) for name, v in rmse.items()},
                  "valid RMSE fill 3 (wrong), 30 epochs": round(fill3["valid RMSE"], 4)}))

# %% [markdown]
# ## Questions
#
# Answer in words; there is no check. Compare with the model answers in the solution notebook.
#
# 1. The copy $h(r) = r$ has zero masked loss. What keeps the trained I-AutoRec from learning it,
#    and which measurement in Sec. 8.5 shows that the masked loss alone would not?
# 2. Filling the missing entries with the mean rating hurt rating prediction in Sec. 8.5, yet
#    objectives that fill or weigh missing entries are standard for top-N recommendation. Why can
#    both be right?

# %% [markdown] tags=["answer"]
# **Model answers.**
#
# 1. The network would have to carry all 943 inputs through 500 sigmoid units to its outputs,
#    which takes large weights; λ charges for large weights, and early stopping keeps the epoch
#    with the best validation RMSE. With λ = 1 instead of 100, the same bottleneck gives back a
#    growing share of a held-out rating written into its input as training goes on, while its
#    validation RMSE worsens: the loss, masked as always, did not stop it.
# 2. The two tasks ask different questions of a missing entry. For rating prediction, "unrated"
#    means "unknown": teaching the model that unknown entries equal a fill value pulls every
#    prediction towards it. For top-N recommendation, the question is which movies a person will
#    watch at all, and not having rated a movie is evidence (people choose what they watch), so
#    putting the missing entries in the loss, weighted down, carries real information.
