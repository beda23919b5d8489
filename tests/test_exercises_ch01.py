"""The checks of notebook 01's exercises: the reference solutions pass, plausible wrong answers fail."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from autorec_lib import datasets, splits
from autorec_lib.exercises import CheckFailed, ch01
from exercise_support import assert_hides


# --------------------------------------------------------------------------------------------
# Data: a small synthetic ml-latest-small (half stars), and the real one when present
# --------------------------------------------------------------------------------------------

def write_latest_small(folder: Path, n_users: int = 12, n_items: int = 20, seed: int = 0) -> Path:
    """A small ratings.csv/movies.csv in ml-latest-small's format, half stars 0.5..5."""
    rng = np.random.default_rng(seed)
    rows = [(u, i) for u in range(n_users) for i in range(n_items) if rng.random() < 0.4]
    values = np.arange(1, 11) / 2
    ratings = values[np.arange(len(rows)) % len(values)]  # every half star occurs
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["userId,movieId,rating,timestamp"] + [
        f"{u + 1},{10 * (i + 1)},{r:g},{1_000_000 + k}" for k, ((u, i), r) in enumerate(zip(rows, ratings))]
    (folder / "ratings.csv").write_text("\n".join(lines) + "\n")
    movies = ["movieId,title,genres"] + [f"{10 * (i + 1)},Movie {i} (2000),Drama" for i in range(n_items + 3)]
    (folder / "movies.csv").write_text("\n".join(movies) + "\n")
    return folder


@pytest.fixture
def small_latest(tmp_path):
    return datasets.load("ml-latest-small", write_latest_small(tmp_path / "ml-latest-small"))


@pytest.fixture(scope="session")
def latest_small_real():
    try:
        return datasets.load("ml-latest-small", download=False)
    except datasets.DataError as err:
        if os.environ.get("AUTOREC_REQUIRE_REAL_DATA") == "1":
            pytest.fail(f"real data required but missing: {err}")
        pytest.skip(f"real ml-latest-small not available: {err}")


# --------------------------------------------------------------------------------------------
# The reference solutions (the same code as the notebook's solution cells)
# --------------------------------------------------------------------------------------------

def latest_small_solution(small) -> dict:
    values = np.unique(small.ratings["rating"])
    counts = {"n_ratings": len(small.ratings), "n_users": small.n_users, "n_movies": small.n_items}
    return {**counts, "density": counts["n_ratings"] / (counts["n_users"] * counts["n_movies"]),
            "lowest": float(values.min()), "highest": float(values.max()),
            "step": float(np.diff(values).min())}


def heavy_vs_light_solution(data) -> dict:
    per_user = data.ratings.groupby("user")["rating"].agg(["size", "mean"])
    heavy = per_user["size"] > per_user["size"].median()
    return {"spearman": per_user["size"].corr(per_user["mean"], method="spearman"),
            "p_value": stats.spearmanr(per_user["size"], per_user["mean"]).pvalue,
            "heavy_mean": per_user.loc[heavy, "mean"].mean(),
            "light_mean": per_user.loc[~heavy, "mean"].mean()}


def loaded_again(data):
    """A copy of ``data`` loaded from its files, for tests that edit it in place (the fixtures are shared)."""
    return datasets.load(data.name, data.path)


def light_users(data):
    counts = data.ratings.groupby("user").size()
    return counts.index[counts <= counts.median()]


def holdout_solution(data, seed: int = 0) -> dict:
    split, holdout = holdout_splits(data, seed)
    light = light_users(data)
    return {"n_test": len(holdout.test),
            "light_share_random": float(split.test["user"].isin(light).mean()),
            "light_share_holdout": float(holdout.test["user"].isin(light).mean())}


def holdout_splits(data, seed: int = 0):
    return (splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=seed),
            splits.make_split(data, "holdout", seed=seed))


def rejected(check, answer, data, match: str = "", *args, hidden=()) -> str:
    """The check fails with a message matching ``match`` that shows none of the ``hidden`` values."""
    with pytest.raises(CheckFailed, match=match) as failure:
        check(answer, data, *args)
    assert_hides(str(failure.value), hidden)
    return str(failure.value)


# --------------------------------------------------------------------------------------------
# Exercise 1: ml-latest-small's density and scale
# --------------------------------------------------------------------------------------------

def test_latest_small_solution_passes_on_synthetic_half_stars(small_latest, capsys):
    ch01.check_latest_small(latest_small_solution(small_latest), small_latest)
    assert capsys.readouterr().out.startswith("correct:")


def test_latest_small_solution_passes_on_the_real_data(latest_small_real, capsys):
    answer = latest_small_solution(latest_small_real)
    ch01.check_latest_small(answer, latest_small_real)
    assert "1.7% full" in capsys.readouterr().out


def test_latest_small_accepts_a_density_rounded_right_and_numbers_typed_otherwise(latest_small_real, capsys):
    import torch

    answer = latest_small_solution(latest_small_real)
    density = answer["density"]
    for rounded in (0.017, 0.0170, round(density, 5), np.float32(0.017), np.float32(density), torch.tensor(density)):
        ch01.check_latest_small({**answer, "density": rounded}, latest_small_real)
    as_floats = {k: float(v) for k, v in answer.items()}  # counts typed as floats
    ch01.check_latest_small(as_floats, latest_small_real)
    as_tensors = {k: torch.tensor(v) for k, v in answer.items()}
    ch01.check_latest_small(as_tensors, latest_small_real)
    assert capsys.readouterr().out.count("correct:") == 8


def test_latest_small_rejects_densities_of_other_counts_or_rounded_wrong(latest_small_real):
    """Every one of these is within 1e-4 of the right density, as close as its rounding to 0.017: the
    counts it came from are asked for, and the density must be theirs."""
    small, answer = latest_small_real, latest_small_solution(latest_small_real)
    r = small.ratings
    listed = 9742  # movies.csv lists movies nobody rated
    wrong_counts = {"the largest indices": {"n_users": int(r["user"].max()), "n_movies": int(r["item"].max())},
                    "one user too few": {"n_users": small.n_users - 1},
                    "one user too many": {"n_users": small.n_users + 1},
                    "every listed movie": {"n_movies": listed}, "100 ratings dropped": {"n_ratings": len(r) - 100}}
    for counts in wrong_counts.values():
        merged = {**answer, **counts}
        density = merged["n_ratings"] / (merged["n_users"] * merged["n_movies"])
        assert abs(density - answer["density"]) < 1e-4 and round(density, 3) == 0.017
        for d in (density, round(density, 3)):
            rejected(ch01.check_latest_small, {**merged, "density": d}, small, "is not right yet",
                     hidden=[small.n_users, small.n_items, len(r)])
    for wrong in (0.0169, 0.0171, 0.01695, len(r) / (small.n_users * listed)):
        rejected(ch01.check_latest_small, {**answer, "density": wrong}, small, "not n_ratings / \\(n_users",
                 hidden=[answer["density"]])
    rejected(ch01.check_latest_small, {**answer, "density": 0.02}, small, "two or more significant digits")


def test_latest_small_rejects_wrong_counts_with_a_hint_and_without_the_count(small_latest):
    answer = latest_small_solution(small_latest)
    for key, match in (("n_users", "largest index"), ("n_movies", "at least one rating"), ("n_ratings", "rows")):
        for wrong in (answer[key] - 1, answer[key] + 1, answer[key] + 3):
            rejected(ch01.check_latest_small, {**answer, key: wrong}, small_latest, match, hidden=[answer[key]])
    rejected(ch01.check_latest_small, {**answer, "n_users": answer["n_users"] + 0.5}, small_latest, "whole number")


def test_latest_small_rejects_a_percentage_and_the_sparsity(small_latest):
    answer = latest_small_solution(small_latest)
    rejected(ch01.check_latest_small, {**answer, "density": 100 * answer["density"]}, small_latest, "range")
    rejected(ch01.check_latest_small, {**answer, "density": 1 - answer["density"]}, small_latest, "UNKNOWN")


def test_latest_small_rejects_ml100k_whole_star_scale(small_latest):
    answer = latest_small_solution(small_latest)
    rejected(ch01.check_latest_small, {**answer, "lowest": 1.0}, small_latest, "lowest")
    rejected(ch01.check_latest_small, {**answer, "step": 1.0}, small_latest, "step")


def test_latest_small_rejects_ml100k_data_and_its_answer(small_data):
    rejected(ch01.check_latest_small, latest_small_solution(small_data), small_data, "ml-latest-small")


def test_latest_small_rejects_data_edited_in_place(small_latest):
    """Ratings rounded up to whole stars in place: the answer computed from them is refused, not graded."""
    small = loaded_again(small_latest)
    small.ratings["rating"] = np.ceil(small.ratings["rating"])
    rejected(ch01.check_latest_small, latest_small_solution(small), small, "changed in place")


def test_latest_small_rejects_missing_keys_and_wrong_types(small_latest):
    answer = latest_small_solution(small_latest)
    rejected(ch01.check_latest_small, {k: v for k, v in answer.items() if k != "step"}, small_latest, "step")
    rejected(ch01.check_latest_small, [answer["density"]], small_latest, "dict")
    rejected(ch01.check_latest_small, {**answer, "density": "1.7%"}, small_latest, "number")
    rejected(ch01.check_latest_small, answer, small_latest.ratings, "RatingData")


# --------------------------------------------------------------------------------------------
# Exercise 2: heavy and light raters
# --------------------------------------------------------------------------------------------

def test_heavy_vs_light_solution_passes(ml100k, small_data, capsys):
    ch01.check_heavy_vs_light(heavy_vs_light_solution(ml100k), ml100k)
    ch01.check_heavy_vs_light(heavy_vs_light_solution(small_data), small_data)
    assert capsys.readouterr().out.count("correct:") == 2


def test_an_object_given_for_a_number_is_refused_by_its_type_alone(small_data):
    """A whole SciPy result (or a summary table) where one number is asked for holds the right answer: the
    refusal names its type (and shape), never its contents."""
    answer = heavy_vs_light_solution(small_data)
    per_user = small_data.ratings.groupby("user")["rating"].agg(["size", "mean"])
    test = stats.spearmanr(per_user["size"], per_user["mean"])
    hidden = [answer["spearman"], answer["p_value"], answer["heavy_mean"], answer["light_mean"]]
    for key, value, match in (("p_value", test, "got SignificanceResult$"), ("spearman", test, "SignificanceResult"),
                              ("heavy_mean", per_user.describe(), "shape \\(8, 2\\)"),
                              ("light_mean", SimpleNamespace(statistic=answer["light_mean"]), "SimpleNamespace")):
        message = rejected(ch01.check_heavy_vs_light, {**answer, key: value}, small_data, match, hidden=hidden)
        assert str(test.pvalue)[:6] not in message and "statistic" not in message, message


def test_heavy_vs_light_rejects_pearson_and_a_log_count_correlation(ml100k):
    answer = heavy_vs_light_solution(ml100k)
    per_user = ml100k.ratings.groupby("user")["rating"].agg(["size", "mean"])
    rejected(ch01.check_heavy_vs_light, {**answer, "spearman": per_user["size"].corr(per_user["mean"])},
             ml100k, "Pearson")
    log_pearson = np.log(per_user["size"]).corr(per_user["mean"])
    rejected(ch01.check_heavy_vs_light, {**answer, "spearman": log_pearson}, ml100k, "spearman")


def test_heavy_vs_light_rejects_the_movies_correlation(ml100k):
    per_item = ml100k.ratings.groupby("item")["rating"].agg(["size", "mean"])
    answer = {**heavy_vs_light_solution(ml100k),
              "spearman": per_item["size"].corr(per_item["mean"], method="spearman")}
    rejected(ch01.check_heavy_vs_light, answer, ml100k, "USERS")


def test_heavy_vs_light_rejects_swapped_groups(ml100k):
    answer = heavy_vs_light_solution(ml100k)
    swapped = {**answer, "heavy_mean": answer["light_mean"], "light_mean": answer["heavy_mean"]}
    rejected(ch01.check_heavy_vs_light, swapped, ml100k, "swapped")


def test_heavy_vs_light_rejects_pooled_rating_means(ml100k):
    r = ml100k.ratings
    counts = r.groupby("user").size()
    heavy_users = counts.index[counts > counts.median()]
    pooled = {**heavy_vs_light_solution(ml100k),
              "heavy_mean": r.loc[r["user"].isin(heavy_users), "rating"].mean(),
              "light_mean": r.loc[~r["user"].isin(heavy_users), "rating"].mean()}
    rejected(ch01.check_heavy_vs_light, pooled, ml100k, "heavy_mean")


def test_heavy_vs_light_asks_for_the_p_value_not_a_guessable_verdict(ml100k):
    """Whether the correlation is significant follows from the p-value, so the p-value is asked for: a
    bool (guessed or not) is not a number, and no message names the verdict."""
    answer = heavy_vs_light_solution(ml100k)
    for guess in (False, True, np.bool_(False)):
        message = rejected(ch01.check_heavy_vs_light, {**answer, "p_value": guess}, ml100k, "should be a number")
        assert "significant" not in message
    import torch
    rejected(ch01.check_heavy_vs_light, {**answer, "p_value": torch.tensor(False)}, ml100k, "should be a number")
    without = {k: v for k, v in answer.items() if k != "p_value"}
    rejected(ch01.check_heavy_vs_light, {**without, "significant": False}, ml100k, "p_value")


def test_heavy_vs_light_rejects_other_tests_p_values_without_showing_the_right_one(ml100k):
    answer = heavy_vs_light_solution(ml100k)
    per_user = ml100k.ratings.groupby("user")["rating"].agg(["size", "mean"])
    size, mean = per_user["size"], per_user["mean"]
    hidden = [answer["p_value"]]
    rejected(ch01.check_heavy_vs_light, {**answer, "p_value": stats.spearmanr(size, mean, alternative="less").pvalue},
             ml100k, "one-sided", hidden=hidden)
    rejected(ch01.check_heavy_vs_light, {**answer, "p_value": stats.pearsonr(size, mean)[1]}, ml100k, "Pearson",
             hidden=hidden)
    heavy = size > size.median()
    others = {"Kendall's tau": stats.kendalltau(size, mean).pvalue,
              "Welch's t-test of the gap": stats.ttest_ind(mean[heavy], mean[~heavy], equal_var=False).pvalue,
              "rounded": round(answer["p_value"], 2), "one minus p": 1 - answer["p_value"], "guessed": 0.05}
    for label, p in others.items():  # (a rounded p-value is the learner's own number: the message may echo it)
        message = rejected(ch01.check_heavy_vs_light, {**answer, "p_value": p}, ml100k, "p_value",
                           hidden=[] if label == "rounded" else hidden)
        assert "unrounded" in message, label
    split = splits.make_split(ml100k, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)
    on_train = heavy_vs_light_solution(SimpleNamespace(ratings=split.train))
    rejected(ch01.check_heavy_vs_light, {**answer, "p_value": on_train["p_value"]}, ml100k, "whole data set",
             hidden=hidden)


def test_heavy_vs_light_accepts_other_correct_formulations(ml100k, capsys):
    import torch

    per_user = ml100k.ratings.assign(rating=ml100k.ratings["rating"].astype(np.float64)).groupby("user")["rating"]
    size, mean = per_user.size(), per_user.mean()  # float64 means instead of pandas' float32 ones
    heavy = size > np.median(size)
    by_ranks = stats.pearsonr(size.rank(), mean.rank())  # the rank correlation as Pearson's on ranks, and its test
    answer = {"spearman": stats.spearmanr(size, mean)[0],  # SciPy's instead of pandas' rank correlation
              "p_value": by_ranks[1], "heavy_mean": np.float32(mean[heavy].mean()), "light_mean": mean[~heavy].mean()}
    ch01.check_heavy_vs_light(answer, ml100k)
    rho = by_ranks[0]  # the t-test of a correlation by hand
    t = rho * np.sqrt((len(size) - 2) / (1 - rho ** 2))
    by_hand = {**answer, "spearman": torch.tensor(rho), "p_value": torch.tensor(2 * stats.t.sf(abs(t), len(size) - 2)),
               "light_mean": np.float32(answer["light_mean"])}
    ch01.check_heavy_vs_light(by_hand, ml100k)
    assert capsys.readouterr().out.count("correct:") == 2


def test_heavy_vs_light_hints_at_rounding_without_naming_the_value(ml100k):
    answer = heavy_vs_light_solution(ml100k)
    for key in ("spearman", "heavy_mean", "light_mean"):
        for digits in (3, 4):
            message = rejected(ch01.check_heavy_vs_light, {**answer, key: round(answer[key], digits)}, ml100k, key)
            assert "unrounded" in message and "pooled" not in message.split(".")[0]


def test_heavy_vs_light_rejects_data_edited_in_place(ml100k):
    data = loaded_again(ml100k)
    data.ratings.drop(index=data.ratings.index[data.ratings["rating"] < 2], inplace=True)
    rejected(ch01.check_heavy_vs_light, heavy_vs_light_solution(data), data, "changed in place")


def test_heavy_vs_light_rejects_an_off_by_one_group_boundary(ml100k):
    """Six users have exactly the median 65 ratings: counted as heavy they move the means by < 0.001."""
    answer = heavy_vs_light_solution(ml100k)
    per_user = ml100k.ratings.groupby("user")["rating"].agg(["size", "mean"])
    heavy = per_user["size"] >= per_user["size"].median()
    wrong = {**answer, "heavy_mean": per_user.loc[heavy, "mean"].mean(), "light_mean": per_user.loc[~heavy, "mean"].mean()}
    assert max(abs(wrong[k] - answer[k]) for k in ("heavy_mean", "light_mean")) < 1e-3
    rejected(ch01.check_heavy_vs_light, wrong, ml100k, "exactly the median",
             hidden=[answer["heavy_mean"], answer["light_mean"]])


def test_heavy_vs_light_rejects_statistics_of_the_training_part(ml100k):
    split = splits.make_split(ml100k, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)
    on_train = heavy_vs_light_solution(SimpleNamespace(ratings=split.train))
    answer = heavy_vs_light_solution(ml100k)
    rejected(ch01.check_heavy_vs_light, {**answer, "spearman": on_train["spearman"]}, ml100k, "whole data set",
             hidden=[answer["spearman"]])
    for key in ("heavy_mean", "light_mean"):
        rejected(ch01.check_heavy_vs_light, {**answer, key: on_train[key]}, ml100k, key, hidden=[answer[key]])


def test_heavy_vs_light_rejects_the_wrong_data_set(small_latest):
    rejected(ch01.check_heavy_vs_light, heavy_vs_light_solution(small_latest), small_latest, "ml-100k")


# --------------------------------------------------------------------------------------------
# Exercise 3: the per-user holdout
# --------------------------------------------------------------------------------------------

UNSEEN_SEEDS = (1, 2, 3, 4, 5)  # the notebook splits with seed 0


def expected_holdout(data) -> dict:
    return holdout_solution(data, 0)


@pytest.mark.parametrize("seed", (0,) + UNSEEN_SEEDS)
def test_holdout_solution_passes_on_the_notebooks_seed_and_five_unseen_ones(ml100k, seed, capsys):
    ch01.check_holdout(holdout_solution(ml100k, seed), ml100k, *holdout_splits(ml100k, seed))
    assert capsys.readouterr().out.startswith("correct: 943 test ratings")


def test_holdout_accepts_a_count_and_shares_typed_otherwise(ml100k, capsys):
    import torch

    answer, parts = holdout_solution(ml100k), holdout_splits(ml100k)
    for n_test in (943.0, np.int64(943), np.float32(943), torch.tensor(943), np.array(943)):
        ch01.check_holdout({**answer, "n_test": n_test}, ml100k, *parts)
    as_float32 = {k: np.float32(v) for k, v in answer.items()}
    ch01.check_holdout(as_float32, ml100k, *parts)
    split, holdout = parts
    by_counting = {**answer, "light_share_random": split.test["user"].isin(light_users(ml100k)).sum() / len(split.test)}
    ch01.check_holdout(by_counting, ml100k, *parts)
    assert capsys.readouterr().out.count("correct:") == 7


def test_holdout_rejects_sizes_of_the_wrong_part(ml100k):
    answer, (split, holdout) = holdout_solution(ml100k), holdout_splits(ml100k)
    for wrong in (10_000, len(holdout.train), len(holdout.valid), len(holdout.train) + len(holdout.valid),
                  ml100k.n_users * 10, 942):
        rejected(ch01.check_holdout, {**answer, "n_test": wrong}, ml100k, "n_test", split, holdout, hidden=[943])
    rejected(ch01.check_holdout, {**answer, "n_test": 943.5}, ml100k, "whole number", split, holdout)
    rejected(ch01.check_holdout, {**answer, "n_test": "943"}, ml100k, "number", split, holdout)


def test_holdout_rejects_swapped_shares(ml100k):
    answer = holdout_solution(ml100k)
    swapped = {**answer, "light_share_random": answer["light_share_holdout"],
               "light_share_holdout": answer["light_share_random"]}
    rejected(ch01.check_holdout, swapped, ml100k, "swapped", *holdout_splits(ml100k))


@pytest.mark.parametrize("part, match", [("all", "ALL the ratings"), ("train", "TRAINING part"),
                                         ("valid", "VALIDATION part")])
def test_holdout_rejects_the_random_share_of_another_part_of_the_data(ml100k, part, match):
    """The share of all ratings is within 0.001 of the test part's: a binomial tolerance accepted it."""
    answer, (split, holdout) = holdout_solution(ml100k), holdout_splits(ml100k)
    frames = {"all": ml100k.ratings, "train": split.train, "valid": split.valid}
    wrong = {**answer, "light_share_random": float(frames[part]["user"].isin(light_users(ml100k)).mean())}
    assert abs(wrong["light_share_random"] - answer["light_share_random"]) < 0.012
    rejected(ch01.check_holdout, wrong, ml100k, match, split, holdout, hidden=[answer["light_share_random"]])


def test_holdout_rejects_the_random_share_of_another_seeds_test_part(ml100k):
    answer, parts = holdout_solution(ml100k), holdout_splits(ml100k)
    other = holdout_solution(ml100k, seed=7)
    rejected(ch01.check_holdout, {**answer, "light_share_random": other["light_share_random"]}, ml100k,
             "light_share_random", *parts)


def test_holdout_rejects_an_off_by_one_group_boundary(ml100k):
    split, holdout = holdout_splits(ml100k)
    counts = ml100k.ratings.groupby("user").size()
    below = counts.index[counts < counts.median()]  # the median users left out of the light raters
    for key, part in (("light_share_random", split), ("light_share_holdout", holdout)):
        answer = {**holdout_solution(ml100k), key: float(part.test["user"].isin(below).mean())}
        rejected(ch01.check_holdout, answer, ml100k, "exactly the median", split, holdout)


def test_holdout_rejects_a_share_of_users_instead_of_ratings(ml100k):
    split, holdout = holdout_splits(ml100k)
    share_of_users = float(np.isin(split.test["user"].unique(), light_users(ml100k)).mean())  # each user once
    answer = {**holdout_solution(ml100k), "light_share_random": share_of_users}
    rejected(ch01.check_holdout, answer, ml100k, "users once each", split, holdout)


def test_holdout_rejects_the_holdout_training_part(ml100k):
    split, holdout = holdout_splits(ml100k)
    answer = {**holdout_solution(ml100k),
              "light_share_holdout": float(holdout.train["user"].isin(light_users(ml100k)).mean())}
    rejected(ch01.check_holdout, answer, ml100k, "TRAINING part", split, holdout)


def test_holdout_rejects_a_percentage(ml100k):
    answer = holdout_solution(ml100k)
    rejected(ch01.check_holdout, {**answer, "light_share_holdout": 100 * answer["light_share_holdout"]},
             ml100k, "range", *holdout_splits(ml100k))


def test_holdout_rejects_splits_of_the_wrong_kind_or_order(ml100k):
    answer, (split, holdout) = holdout_solution(ml100k), holdout_splits(ml100k)
    rejected(ch01.check_holdout, answer, ml100k, "holdout", holdout, split)  # the two splits swapped
    rejected(ch01.check_holdout, answer, ml100k, "test_fraction", splits.make_split(ml100k, "random", 0.2), holdout)
    rejected(ch01.check_holdout, answer, ml100k, "Split", split.test, holdout)


def test_holdout_hints_at_rounding(ml100k):
    answer, parts = holdout_solution(ml100k), holdout_splits(ml100k)
    for key in ("light_share_random", "light_share_holdout"):
        message = rejected(ch01.check_holdout, {**answer, key: round(answer[key], 3)}, ml100k, key, *parts)
        assert "unrounded" in message


def test_holdout_rejects_a_split_whose_test_part_was_replaced(ml100k):
    """A Split is judged by its parts, not by the spec it carries: its test part replaced by its validation
    part (and the answer computed from that) is refused, for either split."""
    answer, (split, holdout) = holdout_solution(ml100k), holdout_splits(ml100k)
    light = light_users(ml100k)
    crafted = dataclasses.replace(split, test=split.valid)
    wrong = {**answer, "light_share_random": float(split.valid["user"].isin(light).mean())}
    rejected(ch01.check_holdout, wrong, ml100k, "split's test part is not what", crafted, holdout)
    crafted = dataclasses.replace(holdout, test=holdout.valid)
    wrong = {**answer, "n_test": len(holdout.valid),
             "light_share_holdout": float(holdout.valid["user"].isin(light).mean())}
    rejected(ch01.check_holdout, wrong, ml100k, "holdout's test part is not what", split, crafted)
    swapped = dataclasses.replace(split, valid=split.test, test=split.valid)
    rejected(ch01.check_holdout, answer, ml100k, "valid and test parts are not what", swapped, holdout)
    shorter = dataclasses.replace(holdout, test=holdout.test.iloc[1:])
    rejected(ch01.check_holdout, {**answer, "n_test": len(shorter.test)}, ml100k, "test part", split, shorter)
    renamed = dataclasses.replace(split, spec=dataclasses.replace(split.spec, seed=3))
    rejected(ch01.check_holdout, answer, ml100k, "not what splits.make_split makes", renamed, holdout)


def test_holdout_rejects_data_edited_in_place(ml100k):
    """The data shrunk in place to the random split's training part: light raters counted on it are refused."""
    data = loaded_again(ml100k)
    split, holdout = holdout_splits(data)
    train = split.train.set_index(["user", "item"]).index
    data.ratings.drop(index=data.ratings.index[~data.ratings.set_index(["user", "item"]).index.isin(train)],
                      inplace=True)
    light = light_users(data)
    answer = {"n_test": len(holdout.test), "light_share_random": float(split.test["user"].isin(light).mean()),
              "light_share_holdout": float(holdout.test["user"].isin(light).mean())}
    rejected(ch01.check_holdout, answer, data, "changed in place", split, holdout)


def test_holdout_reads_no_test_rating(ml100k, capsys):
    """Every test rating replaced by NaN: the check still passes, so it cannot have read them."""
    answer, (split, holdout) = holdout_solution(ml100k), holdout_splits(ml100k)
    blind = [dataclasses.replace(s, test=s.test.assign(rating=np.nan)) for s in (split, holdout)]
    ch01.check_holdout(answer, ml100k, *blind)
    assert capsys.readouterr().out.startswith("correct:")


def test_holdout_accepts_a_random_split_without_a_validation_part(ml100k, capsys):
    """The exercise reads the random split's test part only, which is the same with or without one."""
    answer, (split, holdout) = holdout_solution(ml100k), holdout_splits(ml100k)
    plain = splits.make_split(ml100k, "random", test_fraction=0.1, valid_fraction=None, seed=0)
    ch01.check_holdout(answer, ml100k, plain, holdout)
    assert capsys.readouterr().out.startswith("correct:")


def test_a_data_set_that_cannot_be_read_again_is_refused_by_name(small_latest, tmp_path):
    import shutil

    folder = tmp_path / "gone" / "ml-latest-small"
    shutil.copytree(small_latest.path, folder)
    small = datasets.load("ml-latest-small", folder)
    answer = latest_small_solution(small)
    shutil.rmtree(folder)
    rejected(ch01.check_latest_small, answer, small, "cannot be read again")


def test_source_comments_give_no_expected_value_away():
    """The check's source (which a learner can open) names no number the exercises ask for."""
    source = Path(ch01.__file__).read_text()
    for value in ("0.017", "0.0169", "1.7%", "-0.06", "0.060", "3.558", "3.618", "0.07", "943", "65 ratings",
                  "477", "17%", "51%", "610", "9,724", "9724", "100,836", "100836"):
        assert value not in source, value
