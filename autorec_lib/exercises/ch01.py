"""Check functions for the exercises of notebook 01 (setup and data).

Every check recomputes the answer from the data and the splits the learner made, so there is no
stored reference and every tolerance covers float rounding only. Light and heavy raters are split
at the median number of ratings per user: *light* users have at most the median, *heavy* ones
more. No check reads a test rating's value: exercise 3 looks at which users the test parts hold.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from . import close, entries, fail, number, passed, whole
from ..datasets import RatingData
from ..splits import Split

DENSITY_TOL = 1e-4  # accepts 0.017 for 0.0170, and dividing by all 9,742 listed movies (0.01697)
# An exact recomputation: float32 means (pandas averages the float32 ratings in float32) against
# float64 ones differ by < 1e-6; the off-by-one group boundary (the 6 users with exactly the median
# 65 ratings counted as heavy) moves the means by 2e-4 and 6e-4.
MEAN_TOL = 1e-5
CORR_TOL = 1e-4  # Spearman on the training part (-0.068), Pearson (-0.138) are far from the whole data's -0.060
SIGNIFICANCE = 0.05  # the 5% level of exercise 2
TEST_FRACTION = 0.1  # the random split of the notebook: 10% of the ratings held out
# A share recomputed from the same test part: equal but for float rounding. The slips it must refuse
# (all ratings, another part, the median users counted as heavy) move it by 1e-3 or more on ML-100K.
SHARE_TOL = 1e-7


def _need_data(data, name: str) -> RatingData:
    if not isinstance(data, RatingData):
        fail(f"pass the data set you loaded (a RatingData from datasets.load), got {type(data).__name__}")
    if data.name != name:
        fail(f"this exercise is about {name}, but the data passed is {data.name}: "
             f"load it with datasets.load({name!r})")
    return data


def _user_activity(ratings: pd.DataFrame, heavy_from_median: bool = False) -> pd.DataFrame:
    """Per user: ``size`` (number of ratings), ``mean`` (mean rating) and ``heavy`` (more ratings than
    the median user; with ``heavy_from_median``, the off-by-one boundary: the median user counts as heavy)."""
    table = ratings.groupby("user")["rating"].agg(["size", "mean"])
    median = table["size"].median()
    table["heavy"] = table["size"] >= median if heavy_from_median else table["size"] > median
    return table


def check_latest_small(answer: dict, small: RatingData) -> None:
    """Exercise 1: density and rating scale of ml-latest-small, recomputed from ``small``."""
    keys = ("density", "lowest", "highest", "step")
    entries(answer, keys, "latest_small")
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
    entries(answer, keys, "heavy_vs_light")
    _need_data(data, "ml-100k")
    if not isinstance(answer["significant"], (bool, np.bool_)):
        fail(f"significant should be True or False, got {type(answer['significant']).__name__} "
             f"{answer['significant']!r}: compare the p-value with 0.05 and store the outcome")
    table = _user_activity(data.ratings)
    rho = table["size"].corr(table["mean"], method="spearman")
    got = number(answer["spearman"], "spearman", -1.0, 1.0)
    if abs(got - rho) > CORR_TOL:
        if abs(got - table["size"].corr(table["mean"])) <= CORR_TOL:
            fail(f"spearman = {got:.4f} is the Pearson correlation; use method='spearman' (ranks)")
        fail(f"spearman = {got:.4f} is not right yet. Correlate, over the USERS of the whole data set, each "
             "user's number of ratings with that user's mean rating, with method='spearman'.")
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
            "over the whole data set; heavy means more ratings than the median, light means at most the median.")
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


def _need_split(split, kind: str, what: str, data: RatingData) -> Split:
    """``split`` must be a Split of ``data`` made by ``splits.make_split(data, kind, ...)`` (any seed)."""
    spec = getattr(split, "spec", None)
    if not isinstance(split, Split) or spec is None:
        fail(f"{what} should be the Split that splits.make_split(data, {kind!r}, ...) returns, got "
             f"{type(split).__name__}")
    if spec.split != kind or (kind == "random" and spec.test_fraction != TEST_FRACTION):
        made = f"{spec.split!r}" + (f" with test_fraction={spec.test_fraction}" if spec.test_fraction else "")
        fail(f"{what} was made as a {made} split; the exercise compares the random split of Sec. 1.5 "
             f"(test_fraction={TEST_FRACTION}) with splits.make_split(data, 'holdout')")
    if spec.dataset != data.name:
        fail(f"{what} was made from {spec.dataset}, not from the {data.name} data passed")
    return split


def _share_mistake(value: float, data: RatingData, split: Split, light: pd.Index) -> str:
    """A sentence naming the slip that gives the share ``value``, when one does."""
    off_by_one = _user_activity(data.ratings, heavy_from_median=True)
    slips = {
        "It is the light raters' share of ALL the ratings, not of the test part's.":
            data.ratings["user"].isin(light).mean(),
        "It is the light raters' share of the TRAINING part, not of the test part.":
            split.train["user"].isin(light).mean(),
        "It is the light raters' share of the VALIDATION part, not of the test part.":
            split.valid["user"].isin(light).mean(),
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
    _need_data(data, "ml-100k")
    _need_split(split, "random", "split", data)
    _need_split(holdout, "holdout", "holdout", data)
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
                 "(at most the median number of ratings in the whole data set).")
    passed(f"{n} test ratings, one per user; light raters hold {r:.1%} of the random test part "
           f"and {h:.1%} of the holdout one")
