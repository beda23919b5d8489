"""Check functions for the exercises of notebook 01 (setup and data).

Every check recomputes the answer from the data and the splits the learner made, so there is no
stored reference and every tolerance covers float rounding only. The data and the splits are first
shown to be what ``datasets.load`` and ``splits.make_split`` made (ratings as the files hold them,
a split's parts as its spec rebuilds them), so a check never computes from an edited copy. Light
and heavy raters are split at the median number of ratings per user: *light* users have at most the
median, *heavy* ones more. No check reads a test rating's value: exercise 3 looks at which users the
test parts hold.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from . import close, course_split, entries, fail, number, passed, rating_data, whole
from ..datasets import RatingData
from ..splits import Split

# A density is accepted unrounded (float32 rounding at most) or correctly rounded to two or more
# significant digits: the counts it comes from are asked for and checked exactly.
DENSITY_RTOL = 1e-6
# An exact recomputation: float32 means (pandas averages the float32 ratings in float32) against
# float64 ones differ by < 1e-6; the off-by-one group boundary moves the means by far more.
MEAN_TOL = 1e-5
CORR_TOL = 1e-6  # the rank correlation over users, recomputed by any route: equal but for float rounding
P_TOL = 1e-6  # the same t-test of the rank correlation, computed by SciPy or by hand, agrees far closer
TEST_FRACTION = 0.1  # the random split of the notebook: 10% of the ratings held out
# A share recomputed from the same test part: equal but for float rounding. The slips it must refuse
# (all ratings, another part, the median users counted as heavy) move it by 1e-3 or more on ML-100K.
SHARE_TOL = 1e-7
UNROUNDED = " Keep it unrounded."


def _user_activity(ratings: pd.DataFrame, heavy_from_median: bool = False) -> pd.DataFrame:
    """Per user: ``size`` (number of ratings), ``mean`` (mean rating) and ``heavy`` (more ratings than
    the median user; with ``heavy_from_median``, the off-by-one boundary: the median user counts as heavy)."""
    table = ratings.groupby("user")["rating"].agg(["size", "mean"])
    median = table["size"].median()
    table["heavy"] = table["size"] >= median if heavy_from_median else table["size"] > median
    return table


def _rounded_right(x: float, value: float) -> bool:
    """``x`` is ``value`` itself (to float32 rounding) or ``value`` rounded to two or more significant digits."""
    first = max(1, 1 - math.floor(math.log10(value)))  # the decimals that keep two significant digits
    return any(math.isclose(x, round(value, d), rel_tol=DENSITY_RTOL) for d in range(first, 17))


def check_latest_small(answer: dict, small: RatingData) -> None:
    """Exercise 1: ml-latest-small's counts, density and rating scale, recomputed from ``small``."""
    keys = ("n_ratings", "n_users", "n_movies", "density", "lowest", "highest", "step")
    entries(answer, keys, "latest_small")
    rating_data(small, "ml-latest-small", "small")
    ratings = small.ratings["rating"].to_numpy(np.float64)
    counts = {"n_ratings": (len(ratings), "Count the rows of small.ratings: each is one rating."),
              "n_users": (small.n_users, "Count the distinct users who rated (small.n_users); indices start at "
                                         "0, so the largest index is not the count."),
              "n_movies": (small.n_items, "Count the distinct movies with at least one rating (small.n_items), "
                                          "not every movie movies.csv lists; indices start at 0.")}
    got = {}
    for key, (expected, hint) in counts.items():
        got[key] = whole(answer[key], key, 1)
        if got[key] != expected:
            fail(f"{key} = {got[key]} is not right yet. {hint}")
    density = got["n_ratings"] / (got["n_users"] * got["n_movies"])
    x = number(answer["density"], "density", 0.0, 1.0)  # refuses a percentage such as 1.7
    if not _rounded_right(x, density):
        if _rounded_right(x, 1 - density):
            fail(f"density = {x:.4f} is the fraction of UNKNOWN entries; the question asks for the known ones")
        fail(f"density = {x:.4g} is not n_ratings / (n_users x n_movies) of your counts: compute it from them "
             "(rounded, if at all, to two or more significant digits).")
    values = np.unique(ratings)
    expected = {"lowest": values.min(), "highest": values.max(), "step": np.diff(values).min()}
    for key in ("lowest", "highest", "step"):
        close(answer[key], float(expected[key]), 1e-9, key,
              "Look at the distinct values of the rating column (np.unique), not at ML-100K's scale.")
    passed(f"ml-latest-small is {density:.1%} full; ratings go from {expected['lowest']:g} to "
           f"{expected['highest']:g} in steps of {expected['step']:g}")


def check_heavy_vs_light(answer: dict, data: RatingData) -> None:
    """Exercise 2: Spearman correlation of users' activity and mean rating, the two-sided p-value of its
    test, and the two groups' means."""
    keys = ("spearman", "p_value", "heavy_mean", "light_mean")
    entries(answer, keys, "heavy_vs_light")
    rating_data(data, "ml-100k")
    table = _user_activity(data.ratings)
    rho = table["size"].corr(table["mean"], method="spearman")
    got = number(answer["spearman"], "spearman", -1.0, 1.0)
    if abs(got - rho) > CORR_TOL:
        if abs(got - table["size"].corr(table["mean"])) <= CORR_TOL:
            fail(f"spearman = {got:.4f} is the Pearson correlation; use method='spearman' (ranks)")
        fail(f"spearman = {got:.4f} is not right yet. Correlate, over the USERS of the whole data set, each "
             "user's number of ratings with that user's mean rating, with method='spearman'." + UNROUNDED)
    test = stats.spearmanr(table["size"], table["mean"])
    p = number(answer["p_value"], "p_value", 0.0, 1.0)
    if abs(p - test.pvalue) > P_TOL:
        slips = {"That is a one-sided p-value; the question is whether the correlation differs from zero in "
                 "either direction (two-sided).": test.pvalue / 2,
                 "That is the p-value of the Pearson correlation; test the rank (Spearman) correlation.":
                     stats.pearsonr(table["size"], table["mean"])[1]}
        slip = next((f" {text}" for text, value in slips.items() if abs(p - value) <= P_TOL), "")
        fail(f"p_value = {p:.4g} is not right yet.{slip} Test the Spearman rank correlation over the users of the "
             "whole data set (null hypothesis: no correlation; two-sided), as SciPy's stats does." + UNROUNDED)
    h = number(answer["heavy_mean"], "heavy_mean", 1.0, 5.0)
    li = number(answer["light_mean"], "light_mean", 1.0, 5.0)
    groups = {}
    for boundary in (False, True):
        t = _user_activity(data.ratings, heavy_from_median=boundary)
        groups[boundary] = (t.loc[t["heavy"], "mean"].mean(), t.loc[~t["heavy"], "mean"].mean())
    heavy, light = groups[False]
    if abs(h - light) <= MEAN_TOL and abs(li - heavy) <= MEAN_TOL:
        fail("heavy_mean and light_mean are swapped: heavy raters are those with MORE ratings than the median")
    if (abs(h - heavy) > MEAN_TOL or abs(li - light) > MEAN_TOL) and \
            abs(h - groups[True][0]) <= MEAN_TOL and abs(li - groups[True][1]) <= MEAN_TOL:
        fail("heavy_mean and light_mean put the users with exactly the median number of ratings among the heavy "
             "raters; heavy means MORE ratings than the median, so those users are light")
    hint = ("Average each user's mean rating over the users of the group (not all their ratings pooled), "
            "over the whole data set; heavy means more ratings than the median, light means at most the median."
            + UNROUNDED)
    close(h, heavy, MEAN_TOL, "heavy_mean", hint)
    close(li, light, MEAN_TOL, "light_mean", hint)
    passed(f"Spearman {rho:.3f} (two-sided p-value {test.pvalue:.2f}); heavy raters' mean rating {heavy:.3f}, "
           f"light raters' {light:.3f}")


def _share_mistake(value: float, data: RatingData, split: Split, light: pd.Index) -> str:
    """A sentence naming the slip that gives the share ``value``, when one does."""
    off_by_one = _user_activity(data.ratings, heavy_from_median=True)
    slips = {
        "It is the light raters' share of ALL the ratings, not of the test part's.":
            data.ratings["user"].isin(light).mean(),
        "It is the light raters' share of the TRAINING part, not of the test part.":
            split.train["user"].isin(light).mean(),
        "It is the light raters' share of the VALIDATION part, not of the test part.":
            split.valid["user"].isin(light).mean() if split.valid is not None else math.nan,
        "It counts the test part's users once each; count its ratings.":
            np.isin(split.test["user"].unique(), light).mean(),
        "It leaves out the users with exactly the median number of ratings, who are light too.":
            split.test["user"].isin(off_by_one.index[~off_by_one["heavy"]]).mean(),
    }
    return next((f" {slip}" for slip, share in slips.items() if abs(value - share) <= SHARE_TOL), "")


def check_holdout(answer: dict, data: RatingData, split: Split, holdout: Split) -> None:
    """Exercise 3: size of the per-user holdout's test part, and the light raters' share of the test
    ratings of the random ``split`` (Sec. 1.5) and of ``holdout``.

    The exercise is about which users a test part holds, so this check reads the ``user`` column of
    the two test parts; it reads no test rating's value and scores nothing.
    """
    keys = ("n_test", "light_share_random", "light_share_holdout")
    entries(answer, keys, "holdout_answer")
    rating_data(data, "ml-100k")
    course_split(split, data, "split", "random", test_fraction=TEST_FRACTION)
    course_split(holdout, data, "holdout", "holdout")
    n = whole(answer["n_test"], "n_test", 0, len(data.ratings))
    if n != len(holdout.test):
        fail(f"n_test = {n} is not right yet. Count the ratings in the TEST part of "
             "splits.make_split(data, 'holdout'), not its training or validation part.")
    table = _user_activity(data.ratings)
    light = table.index[~table["heavy"]]
    expected = {"random": split.test["user"].isin(light).mean(), "holdout": holdout.test["user"].isin(light).mean()}
    r = number(answer["light_share_random"], "light_share_random", 0.0, 1.0)
    h = number(answer["light_share_holdout"], "light_share_holdout", 0.0, 1.0)
    if abs(r - expected["holdout"]) <= SHARE_TOL and abs(h - expected["random"]) <= SHARE_TOL:
        fail("light_share_random and light_share_holdout are swapped")
    for value, key, part in ((r, "random", split), (h, "holdout", holdout)):
        if abs(value - expected[key]) > SHARE_TOL:
            fail(f"light_share_{key} = {value:.4f} is not right yet.{_share_mistake(value, data, part, light)} "
                 f"Take the fraction of the ratings in the {key} split's TEST part whose user is a light rater "
                 "(at most the median number of ratings in the whole data set)." + UNROUNDED)
    passed(f"{n} test ratings, one per user; light raters hold {r:.1%} of the random test part "
           f"and {h:.1%} of the holdout one")
