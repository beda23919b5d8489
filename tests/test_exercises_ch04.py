"""The checks of notebook 04's exercises: the reference solutions pass, plausible wrong answers fail.

Everything trains on small synthetic data in ML-100K's format (60 users, 50 movies), in seconds.
"""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

from autorec_lib import datasets, experiment, metrics, splits  # noqa: E402
from autorec_lib.config import TrainConfig  # noqa: E402
from autorec_lib.exercises import CheckFailed, ch04  # noqa: E402
from conftest import write_ml100k  # noqa: E402

SEEDS = (0, 1, 2)


# --------------------------------------------------------------------------------------------
# Data and trained models, made once for the module
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Synthetic data and a split in which one movie with validation ratings has no training rating."""
    folder = write_ml100k(tmp_path_factory.mktemp("ch04") / "ml-100k", n_users=60, n_items=50, density=0.25, seed=1)
    data = datasets.load("ml-100k", folder)
    split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)
    unseen = int(split.valid["item"].value_counts().index[0])  # a movie with validation ratings
    moved = split.train["item"] == unseen
    split = splits.Split(train=split.train[~moved].reset_index(drop=True),
                         test=pd.concat([split.test, split.train[moved]], ignore_index=True),
                         valid=split.valid, name=split.name)
    return data, split


@pytest.fixture(scope="module")
def models(setup):
    """Adam I-AutoRec and biased MF (the notebook's `results`) and Rprop I-AutoRec, per seed."""
    data, split = setup
    out = {}
    for seed in SEEDS:
        out[seed] = {
            "I-AutoRec": experiment.train(data, split, "autorec", "item", progress=False, seed=seed),
            "biased MF": experiment.train(data, split, "biased-mf", progress=False, seed=seed),
            "Rprop": rprop_solution(data, split, seed),
        }
    return out


# --------------------------------------------------------------------------------------------
# The reference solutions (the notebook's solution cells)
# --------------------------------------------------------------------------------------------

def rprop_solution(data, split, seed=0, **changes):
    cfg = TrainConfig(**{**ch04.RPROP, "seed": seed, **changes})
    return experiment.train(data, split, "autorec", "item", **cfg.as_dict(), eval_test=False, progress=False)


def optimizer_table(adam, rprop) -> pd.DataFrame:
    runs = {"Adam": adam, "Rprop": rprop}
    return pd.DataFrame([{"epochs run": len(r.history.records), "best epoch": r.history.best_epoch,
                          "train seconds": sum(rec["seconds"] for rec in r.history.records),
                          "valid RMSE": r.scores["valid"].rmse} for r in runs.values()], index=list(runs))


def few_ratings_solution(result, data, split):
    counts = np.bincount(split.train["user"], minlength=data.n_users)
    user = int(counts.argmin())
    return user, _recs(result, user, data, split)  # scores clipped to the rating scale


def overlap_solution(recs, result, data, clip=False) -> int:
    return len(set(recs["item"]) & set(ch04.everyones_top(result, data, clip)))


def rare_solution(results, split, data, subset=None) -> dict:
    if subset is None:
        counts = np.bincount(split.train["item"], minlength=data.n_items)
        subset = split.valid[counts[split.valid["item"]] < 10]
    rare = {"n ratings": len(subset)}
    for name in ("I-AutoRec", "biased MF"):
        rare[name] = metrics.evaluate(results[name].learner.predict, subset, split.train, data.scale).rmse
    return rare


# --------------------------------------------------------------------------------------------
# Exercise 1: Rprop
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_rprop_solution_passes_on_three_seeds(setup, models, seed, capsys):
    data, split = setup
    adam, rprop = models[seed]["I-AutoRec"], models[seed]["Rprop"]
    ch04.check_rprop(rprop, optimizer_table(adam, rprop), adam, split, data)
    assert capsys.readouterr().out.startswith("correct:")


def test_rprop_check_rejects_the_adam_run_passed_as_rprop(setup, models):
    data, split = setup
    adam = models[0]["I-AutoRec"]
    with pytest.raises(CheckFailed, match="optimizer 'adam'"):
        ch04.check_rprop(adam, optimizer_table(adam, adam), adam, split, data)


def test_rprop_check_rejects_a_different_lambda_and_a_budget_cut_short(setup, models):
    data, split = setup
    adam = models[0]["I-AutoRec"]
    other_lam = rprop_solution(data, split, lam=1.0)
    with pytest.raises(CheckFailed, match="lam"):
        ch04.check_rprop(other_lam, optimizer_table(adam, other_lam), adam, split, data)
    short = rprop_solution(data, split, epochs=5)
    with pytest.raises(CheckFailed, match="budget was 5 epochs"):
        ch04.check_rprop(short, optimizer_table(adam, short), adam, split, data)


def test_rprop_check_rejects_another_model_size_and_u_autorec(setup, models):
    data, split = setup
    adam = models[0]["I-AutoRec"]
    small = experiment.train(data, split, "autorec", "item", **TrainConfig(**ch04.RPROP).as_dict(),
                             eval_test=False, progress=False, hidden=20)
    with pytest.raises(CheckFailed, match="change only the optimizer"):
        ch04.check_rprop(small, optimizer_table(adam, small), adam, split, data)
    user = experiment.train(data, split, "autorec", "user", **TrainConfig(**ch04.RPROP).as_dict(),
                            eval_test=False, progress=False)
    with pytest.raises(CheckFailed, match="I-AutoRec"):
        ch04.check_rprop(user, optimizer_table(adam, user), adam, split, data)


def test_rprop_check_rejects_mini_batches(setup, models):
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    learner = SimpleNamespace(matrix=rprop.learner.matrix, batch_size=16, predict=rprop.learner.predict)
    mini = dataclasses.replace(rprop, learner=learner)
    with pytest.raises(CheckFailed, match="full batch"):
        ch04.check_rprop(mini, optimizer_table(adam, mini), adam, split, data)


def test_rprop_check_rejects_scores_that_are_not_the_runs_own(setup, models):
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    borrowed = dataclasses.replace(rprop, scores=models[1]["Rprop"].scores)
    with pytest.raises(CheckFailed, match="not trained and scored on"):
        ch04.check_rprop(borrowed, optimizer_table(adam, borrowed), adam, split, data)


def test_rprop_check_rejects_a_passed_rprop_run_as_the_adam_result(setup, models):
    data, split = setup
    rprop = models[0]["Rprop"]
    with pytest.raises(CheckFailed, match="results\\['I-AutoRec'\\]"):
        ch04.check_rprop(rprop, optimizer_table(rprop, rprop), rprop, split, data)


def test_rprop_check_rejects_swapped_rows(setup, models):
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    table = optimizer_table(adam, rprop).rename(index={"Adam": "Rprop", "Rprop": "Adam"})
    with pytest.raises(CheckFailed, match="swapped"):
        ch04.check_rprop(rprop, table, adam, split, data)


def test_rprop_check_rejects_the_test_rmse_and_seconds_with_evaluation(setup, models):
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    table = optimizer_table(adam, rprop)
    table.loc["Rprop", "valid RMSE"] = rprop.scores["test"].rmse
    with pytest.raises(CheckFailed, match="test RMSE"):
        ch04.check_rprop(rprop, table, adam, split, data)
    table = optimizer_table(adam, rprop)
    table.loc["Adam", "train seconds"] = adam.seconds
    with pytest.raises(CheckFailed, match="evaluations"):
        ch04.check_rprop(rprop, table, adam, split, data)


def test_rprop_check_rejects_the_best_epoch_as_epochs_run(setup, models):
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    table = optimizer_table(adam, rprop)
    table.loc["Rprop", "epochs run"] = rprop.history.best_epoch
    with pytest.raises(CheckFailed, match="best epoch"):
        ch04.check_rprop(rprop, table, adam, split, data)


def test_rprop_check_rejects_a_dict_and_a_missing_column(setup, models):
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    table = optimizer_table(adam, rprop)
    with pytest.raises(CheckFailed, match="DataFrame"):
        ch04.check_rprop(rprop, table.to_dict(orient="index"), adam, split, data)
    with pytest.raises(CheckFailed, match="lacks the columns"):
        ch04.check_rprop(rprop, table.drop(columns="train seconds"), adam, split, data)
    with pytest.raises(CheckFailed, match="Result"):
        ch04.check_rprop(table, table, adam, split, data)


# --------------------------------------------------------------------------------------------
# Exercise 2: recommendations for the user with the fewest training ratings
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_few_ratings_solution_passes_on_three_seeds(setup, models, seed, capsys):
    data, split = setup
    result = models[seed]["I-AutoRec"]
    user, recs = few_ratings_solution(result, data, split)
    ch04.check_few_ratings_recommendations(user, recs, result, split, data)
    ch04.check_overlap(overlap_solution(recs, result, data), recs, result, data)
    ch04.check_overlap(overlap_solution(recs, result, data, clip=True), recs, result, data)
    assert capsys.readouterr().out.count("correct:") == 3


class StubLearner:
    """Known predictions (user u, movie i) -> table[u, i], some off the 1-5 scale."""

    def __init__(self, table):
        self.table = table

    def predict(self, users, items):
        return self.table[np.asarray(users), np.asarray(items)].astype(np.float32)


@pytest.fixture
def stub(setup):
    data, split = setup
    rng = np.random.default_rng(0)
    table = rng.uniform(0.0, 6.0, size=(data.n_users, data.n_items))  # outside 1..5 on purpose
    learner = StubLearner(table)
    config = SimpleNamespace(model_type="autorec", variant="item", net=None, train=None)
    result = SimpleNamespace(config=config, history=None, scores={}, learner=learner)
    return result, data, split


def _recs(result, user, data, split, clip=True, n=10, train=None):
    recs = metrics.recommend(result.learner.predict, user, split.train if train is None else train, data.n_items,
                             data.titles, data.item_ids, n, data.scale if clip else None)
    return recs


def test_few_ratings_check_passes_the_solution_on_known_predictions(stub, capsys):
    result, data, split = stub
    user, recs = few_ratings_solution(result, data, split)
    ch04.check_few_ratings_recommendations(user, recs, result, split, data)
    assert capsys.readouterr().out.startswith("correct:")


def test_few_ratings_check_rejects_the_wrong_user(stub):
    result, data, split = stub
    counts = np.bincount(split.train["user"], minlength=data.n_users)
    for user in (int(counts.argmax()), int(np.flatnonzero(counts > counts.min())[0])):
        with pytest.raises(CheckFailed, match="fewest"):
            ch04.check_few_ratings_recommendations(user, _recs(result, user, data, split), result, split, data)
    with pytest.raises(CheckFailed, match="an int"):
        ch04.check_few_ratings_recommendations(float(counts.argmin()), None, result, split, data)


def test_few_ratings_check_rejects_a_user_counted_on_all_ratings(stub):
    result, data, split = stub
    train_counts = np.bincount(split.train["user"], minlength=data.n_users)
    all_counts = np.bincount(data.ratings["user"], minlength=data.n_users)
    user = int(all_counts.argmin())
    assert train_counts[user] != train_counts.min()  # the mistake matters on this split
    with pytest.raises(CheckFailed, match="fewest"):
        ch04.check_few_ratings_recommendations(user, _recs(result, user, data, split), result, split, data)


def test_few_ratings_check_rejects_unclipped_scores(stub):
    result, data, split = stub
    user, _ = few_ratings_solution(result, data, split)
    recs = _recs(result, user, data, split, clip=False)
    assert recs["score"].max() > data.scale[1]
    with pytest.raises(CheckFailed, match="clip"):
        ch04.check_few_ratings_recommendations(user, recs, result, split, data)


def test_few_ratings_check_rejects_rated_movies_and_other_users_lists(stub):
    result, data, split = stub
    user, _ = few_ratings_solution(result, data, split)
    with_rated = _recs(result, user, data, split, train=split.train.iloc[:0])
    assert with_rated["item"].isin(split.train.loc[split.train["user"] == user, "item"]).any()
    with pytest.raises(CheckFailed, match="already rated"):
        ch04.check_few_ratings_recommendations(user, with_rated, result, split, data)
    other = (user + 1) % data.n_users
    with pytest.raises(CheckFailed):
        ch04.check_few_ratings_recommendations(user, _recs(result, other, data, split), result, split, data)


def test_few_ratings_check_rejects_wrong_shapes_orders_and_picks(stub):
    result, data, split = stub
    user, recs = few_ratings_solution(result, data, split)
    with pytest.raises(CheckFailed, match="has 9 rows"):
        ch04.check_few_ratings_recommendations(user, recs.head(9), result, split, data)
    with pytest.raises(CheckFailed, match="sorted"):
        ch04.check_few_ratings_recommendations(user, recs.iloc[::-1], result, split, data)
    with pytest.raises(CheckFailed, match="twice"):
        doubled = pd.concat([recs.head(9), recs.head(1)], ignore_index=True)
        ch04.check_few_ratings_recommendations(user, doubled, result, split, data)
    lower = _recs(result, user, data, split, n=11).iloc[1:].reset_index(drop=True)  # ranks 2 to 11
    with pytest.raises(CheckFailed, match="not the top 10"):
        ch04.check_few_ratings_recommendations(user, lower, result, split, data)
    with pytest.raises(CheckFailed, match="DataFrame"):
        ch04.check_few_ratings_recommendations(user, recs["item"].tolist(), result, split, data)


def test_overlap_check_rejects_other_users_overlaps_and_a_fraction(setup, models):
    data, split = setup
    result = models[0]["I-AutoRec"]
    user, recs = few_ratings_solution(result, data, split)
    right = overlap_solution(recs, result, data)
    with pytest.raises(CheckFailed, match="an int"):
        ch04.check_overlap(right / 10, recs, result, data)
    everyone = set(ch04.everyones_top(result, data, clip=False))
    others = {len(everyone & set(_recs(result, u, data, split)["item"])) for u in range(data.n_users)}
    wrong = (others | {right + 1, right - 1}) - {-1, right, overlap_solution(recs, result, data, clip=True)}
    assert len(wrong) >= 2  # other users' overlaps, and off by one
    for value in wrong:
        with pytest.raises(CheckFailed, match="shares"):
            ch04.check_overlap(value, recs, result, data)


# --------------------------------------------------------------------------------------------
# Exercise 3: movies with fewer than 10 training ratings, on the validation split
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_rare_movies_solution_passes_on_three_seeds(setup, models, seed, capsys):
    data, split = setup
    results = models[seed]
    ch04.check_rare_movies(rare_solution(results, split, data), results, split, data)
    assert capsys.readouterr().out.startswith("correct:")


def _subset(split, data, counts_from, keep):
    counts = np.bincount(counts_from["item"], minlength=data.n_items)
    return split.valid[keep(counts[split.valid["item"].to_numpy()])]


@pytest.mark.parametrize("mistake, match", [
    ("at most 10", "not <= 10"),
    ("counted on all ratings", "fewer than 10 training ratings"),
    ("counted on train and validation", "training ratings only"),
    ("movies without training ratings left out", "no training rating at all"),
    ("whole validation split", "keep only"),
])
def test_rare_movies_check_rejects_a_wrongly_built_subset(setup, models, mistake, match):
    data, split = setup
    results = models[0]
    subsets = {
        "at most 10": _subset(split, data, split.train, lambda c: c <= 10),
        "counted on all ratings": _subset(split, data, data.ratings, lambda c: c < 10),
        "counted on train and validation": _subset(split, data, pd.concat([split.train, split.valid]),
                                                   lambda c: c < 10),
        "movies without training ratings left out": _subset(split, data, split.train, lambda c: (c < 10) & (c > 0)),
        "whole validation split": split.valid,
    }
    right = rare_solution(results, split, data)
    wrong = rare_solution(results, split, data, subsets[mistake])
    assert wrong["n ratings"] != right["n ratings"]  # the mistake matters on this data
    with pytest.raises(CheckFailed, match=match):
        ch04.check_rare_movies(wrong, results, split, data)


def test_rare_movies_check_rejects_the_test_split(setup, models):
    data, split = setup
    results = models[0]
    counts = np.bincount(split.train["item"], minlength=data.n_items)
    on_test = split.test[counts[split.test["item"]] < 10]
    answer = rare_solution(results, split, data, on_test)
    answer["n ratings"] = rare_solution(results, split, data)["n ratings"]  # even with the right count
    with pytest.raises(CheckFailed, match="not test"):
        ch04.check_rare_movies(answer, results, split, data)


def test_rare_movies_check_rejects_swapped_labels_and_swapped_models(setup, models):
    data, split = setup
    results = models[0]
    right = rare_solution(results, split, data)
    assert abs(right["I-AutoRec"] - right["biased MF"]) > 1e-4
    swapped = {**right, "I-AutoRec": right["biased MF"], "biased MF": right["I-AutoRec"]}
    with pytest.raises(CheckFailed, match="swapped"):
        ch04.check_rare_movies(swapped, results, split, data)
    with pytest.raises(CheckFailed, match="I-AutoRec"):
        ch04.check_rare_movies(right, {"I-AutoRec": results["biased MF"], "biased MF": results["I-AutoRec"]},
                               split, data)


def test_rare_movies_check_rejects_wrong_types_and_keys(setup, models):
    data, split = setup
    results = models[0]
    right = rare_solution(results, split, data)
    with pytest.raises(CheckFailed, match="exactly the keys"):
        ch04.check_rare_movies({k: v for k, v in right.items() if k != "n ratings"}, results, split, data)
    with pytest.raises(CheckFailed, match="should be a number"):
        ch04.check_rare_movies({**right, "I-AutoRec": f"{right['I-AutoRec']:.4f}"}, results, split, data)
    with pytest.raises(CheckFailed, match="an int"):
        ch04.check_rare_movies({**right, "n ratings": float(right["n ratings"])}, results, split, data)
