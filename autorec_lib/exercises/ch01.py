"""Check functions for the exercises of notebook 01 (setup and data).

Every check recomputes the answer from the data the learner loaded, so there is no stored
reference. Light and heavy raters are split at the median number of ratings per user: *light*
users have at most the median, *heavy* ones more. No check reads test ratings.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from . import close, fail, number, passed
from ..datasets import RatingData

DENSITY_TOL = 1e-4  # accepts 0.017 for 0.0170, and dividing by all 9,742 listed movies (0.01697)
MEAN_TOL = 1e-3  # an exact recomputation; only float32 rounding and printed digits differ
CORR_TOL = 1e-3  # Pearson (-0.138) or a log-count Pearson (-0.082) differ from Spearman (-0.060) by far more
SIGNIFICANCE = 0.05  # the 5% level of exercise 2
TEST_FRACTION = 0.1  # the random split of the notebook: 10% of the ratings held out


def _need_dict(answer, keys: tuple[str, ...], name: str) -> dict:
    if not isinstance(answer, dict):
        fail(f"{name} should be a dict with keys {', '.join(keys)}, got {type(answer).__name__}")
    missing = [k for k in keys if k not in answer]
    if missing:
        fail(f"{name} lacks {', '.join(missing)} (expected keys: {', '.join(keys)})")
    return answer


def _need_data(data, name: str) -> RatingData:
    if not isinstance(data, RatingData):
        fail(f"pass the data set you loaded (a RatingData from datasets.load), got {type(data).__name__}")
    if data.name != name:
        fail(f"this exercise is about {name}, but the data passed is {data.name}: "
             f"load it with datasets.load({name!r})")
    return data


def user_activity(ratings: pd.DataFrame) -> pd.DataFrame:
    """Per user: ``size`` (number of ratings), ``mean`` (mean rating) and ``heavy`` (more than the median)."""
    table = ratings.groupby("user")["rating"].agg(["size", "mean"])
    table["heavy"] = table["size"] > table["size"].median()
    return table


def check_latest_small(answer: dict, small: RatingData) -> None:
    """Exercise 1: density and rating scale of ml-latest-small, recomputed from ``small``."""
    keys = ("density", "lowest", "highest", "step")
    _need_dict(answer, keys, "latest_small")
    _need_data(small, "ml-latest-small")
    ratings = small.ratings["rating"].to_numpy(np.float64)
    density = len(ratings) / (small.n_users * small.n_items)
    x = number(answer["density"], "density", 0.0, 1.0)  # refuses a percentage such as 1.7
    if abs(x - (1 - density)) < DENSITY_TOL and abs(x - density) > DENSITY_TOL:
        fail(f"density {x:.4f} is the fraction of UNKNOWN entries; the question asks for the known ones")
    close(x, density, DENSITY_TOL, "density",
          "Divide the number of ratings by (number of users x number of movies).")
    values = np.unique(ratings)
    expected = {"lowest": values.min(), "highest": values.max(), "step": np.diff(values).min()}
    for key in ("lowest", "highest", "step"):
        close(answer[key], float(expected[key]), 1e-9, key,
              "Look at the distinct values of the rating column (np.unique), not at ML-100K's scale.")
    passed(f"ml-latest-small is {density:.1%} full; ratings go from {expected['lowest']:g} to "
           f"{expected['highest']:g} in steps of {expected['step']:g}")


def check_heavy_vs_light(answer: dict, data: RatingData) -> None:
    """Exercise 2: Spearman correlation of users' activity and mean rating, the two groups' means,
    and whether the correlation is significant at the 5% level (a bool)."""
    keys = ("spearman", "heavy_mean", "light_mean", "significant")
    _need_dict(answer, keys, "heavy_vs_light")
    _need_data(data, "ml-100k")
    if not isinstance(answer["significant"], (bool, np.bool_)):
        fail(f"significant should be True or False, got {type(answer['significant']).__name__} "
             f"{answer['significant']!r}: compare the p-value with 0.05 and store the outcome")
    table = user_activity(data.ratings)
    rho = table["size"].corr(table["mean"], method="spearman")
    got = number(answer["spearman"], "spearman", -1.0, 1.0)
    if abs(got - rho) > CORR_TOL:
        if abs(got - table["size"].corr(table["mean"])) <= CORR_TOL:
            fail(f"spearman = {got:.4f} is the Pearson correlation; use method='spearman' (ranks)")
        fail(f"spearman = {got:.4f}, expected {rho:.4f}. Correlate, over USERS, each user's number "
             "of ratings with that user's mean rating, with method='spearman'.")
    heavy = table.loc[table["heavy"], "mean"].mean()
    light = table.loc[~table["heavy"], "mean"].mean()
    h = number(answer["heavy_mean"], "heavy_mean", 1.0, 5.0)
    li = number(answer["light_mean"], "light_mean", 1.0, 5.0)
    if abs(h - light) <= MEAN_TOL and abs(li - heavy) <= MEAN_TOL:
        fail("heavy_mean and light_mean are swapped: heavy raters are those with MORE ratings than the median")
    hint = ("Average each user's mean rating over the users of the group (not all their ratings pooled); "
            "heavy means more ratings than the median, light means at most the median.")
    close(h, heavy, MEAN_TOL, "heavy_mean", hint)
    close(li, light, MEAN_TOL, "light_mean", hint)
    p_value = stats.spearmanr(table["size"], table["mean"]).pvalue
    if bool(answer["significant"]) != bool(p_value < SIGNIFICANCE):
        fail(f"significant = {bool(answer['significant'])} does not match the p-value of the Spearman "
             "correlation over the users. A correlation or a gap that looks real can be chance: "
             "test the rank correlation (its null hypothesis is 'no correlation') and compare its "
             "p-value with 0.05.")
    passed(f"Spearman {rho:.3f} (p-value {p_value:.2f}); heavy raters' mean rating {heavy:.3f}, "
           f"light raters' {light:.3f}")


def check_holdout(answer: dict, data: RatingData) -> None:
    """Exercise 3: size of the per-user holdout test part, and the light raters' share of each test part.

    The expected values come from the ratings' per-user counts alone: the holdout takes one rating
    of every user with more than one, and a random 10% test part holds each rating with the same
    chance, so its light share is close to the light users' share of all ratings.
    """
    keys = ("n_test", "light_share_random", "light_share_holdout")
    _need_dict(answer, keys, "holdout_answer")
    _need_data(data, "ml-100k")
    table = user_activity(data.ratings)
    eligible = table["size"] > 1
    n_test = int(eligible.sum())
    n = number(answer["n_test"], "n_test", 0, len(data.ratings))
    if n != int(n):
        fail(f"n_test = {n} should be a whole number of ratings")
    if int(n) != n_test:
        fail(f"n_test = {int(n)}, expected {n_test}. Count the ratings in the TEST part of "
             "splits.make_split(data, 'holdout'), not its training or validation part.")
    p_random = float(data.ratings["user"].isin(table.index[~table["heavy"]]).mean())
    p_holdout = float((~table["heavy"] & eligible).sum() / n_test)
    # The random test part's share is a sample of size TEST_FRACTION * n: 5 binomial standard
    # deviations. Measured on ML-100K, seeds 0-19: share 0.1728 +- 0.0029 (range 0.1656-0.1783),
    # against 0.1736 expected and a tolerance of 0.019.
    tol = 5 * math.sqrt(p_random * (1 - p_random) / (TEST_FRACTION * len(data.ratings)))
    r = number(answer["light_share_random"], "light_share_random", 0.0, 1.0)
    h = number(answer["light_share_holdout"], "light_share_holdout", 0.0, 1.0)
    if abs(r - p_holdout) < abs(r - p_random) and abs(h - p_random) < abs(h - p_holdout):
        fail("light_share_random and light_share_holdout look swapped")
    close(r, p_random, tol, "light_share_random",
          "Take the fraction of the random split's test ratings whose user is a light rater "
          "(at most the median number of ratings).")
    close(h, p_holdout, 1e-9, "light_share_holdout",
          "Take the fraction of the holdout split's test ratings whose user is a light rater.")
    passed(f"{n_test} test ratings, one per user; light raters hold {r:.1%} of the random test part "
           f"and {h:.1%} of the holdout one")
