"""The checks of notebook 09's exercises: the reference solutions pass (on unseen data too), plausible wrong
answers fail, and no failure message gives the expected value away.

Exercise 3 trains a small I-AutoRec on synthetic data in ML-100K's format (60 users, 50 movies), in seconds.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

from autorec_lib import datasets, experiment, metrics, splits  # noqa: E402
from autorec_lib.exercises import CheckFailed, ch09  # noqa: E402
from conftest import write_ml100k  # noqa: E402

TEST = [0.881, 0.874, 0.892, 0.879, 0.886]
VALID = [0.879, 0.890, 0.893, 0.884, 0.880]
FOLD_TEST = [0.91, 0.90, 0.89, 0.89, 0.90]
DEFAULT_TEST = [0.882, 0.876, 0.893, 0.878, 0.887]


def record() -> dict:
    """A reproduction record shaped like scripts/reproduce.py's output."""
    part = lambda test, valid: {"test": test, "valid": valid, "test_mean": float(np.mean(test))}
    return {"results": [{"model": "I-AutoRec", "config": "tuned", "random": part(TEST, VALID),
                         "folds": part(FOLD_TEST, VALID)},
                        {"model": "I-AutoRec", "config": "default", "random": part(DEFAULT_TEST, VALID),
                         "folds": part(FOLD_TEST, VALID)},
                        {"model": "biased MF", "config": "default", "random": part([0.9] * 5, VALID),
                         "folds": part([0.92] * 5, VALID)}]}


# --------------------------------------------------------------------------------------------
# Exercise 1
# --------------------------------------------------------------------------------------------

def test_mean_sd_accepts_the_sample_sd_of_the_seeds(capsys):
    ch09.check_mean_sd({"mean": float(np.mean(TEST)), "sd": float(np.std(TEST, ddof=1))}, record())
    assert capsys.readouterr().out.startswith("correct:")


@pytest.mark.parametrize("answer, message", [
    ({"mean": float(np.mean(TEST)), "sd": float(np.std(TEST))}, "n - 1"),
    ({"mean": float(np.mean(TEST)), "sd": float(np.std(TEST, ddof=1) / np.sqrt(5))}, "standard error"),
    ({"mean": float(np.mean(FOLD_TEST)), "sd": float(np.std(TEST, ddof=1))}, "folds"),
    ({"mean": float(np.mean(VALID)), "sd": float(np.std(TEST, ddof=1))}, "validation"),
    ({"mean": 0.5, "sd": 0.01}, "not the mean"),
    ({"mean": float(np.mean(DEFAULT_TEST)), "sd": float(np.std(DEFAULT_TEST, ddof=1))}, "'default' I-AutoRec"),
    ({"mean": float(np.mean(TEST)), "sd": 0.01}, "not the standard deviation"),
    ({"mean": float(np.mean(TEST))}, "keys"),
    ((0.88, 0.007), "dict"),
    ({"mean": "0.88", "sd": 0.007}, "number"),
])
def test_mean_sd_rejects_wrong_statistics(answer, message):
    with pytest.raises(CheckFailed, match=message):
        ch09.check_mean_sd(answer, record())


def test_mean_sd_accepts_other_numeric_types_and_the_recorded_numbers(capsys):
    import torch

    ch09.check_mean_sd({"mean": np.float32(np.mean(TEST)), "sd": torch.tensor(float(np.std(TEST, ddof=1)))}, record())
    for seed in range(5):  # any five values the check never saw: it recomputes, it stores no answer
        values = list(np.random.default_rng(100 + seed).normal(0.9, 0.01, 5))
        rec = record()
        rec["results"][0]["random"]["test"] = values
        ch09.check_mean_sd({"mean": float(np.mean(values)), "sd": float(np.std(values, ddof=1))}, rec)
    assert capsys.readouterr().out.count("correct:") == 6


def test_mean_sd_messages_never_show_the_expected_statistics():
    for answer in ({"mean": 0.5, "sd": 0.01}, {"mean": float(np.mean(TEST)), "sd": 0.01}):
        with pytest.raises(CheckFailed) as err:
            ch09.check_mean_sd(answer, record())
        for secret in (np.mean(TEST), np.std(TEST, ddof=1)):
            assert f"{secret:.4f}" not in str(err.value) and f"{secret:.6f}" not in str(err.value)


def test_mean_sd_refuses_something_other_than_the_record():
    with pytest.raises(CheckFailed, match="reproduction record"):
        ch09.check_mean_sd({"mean": 0.88, "sd": 0.007}, {"I-AutoRec": TEST})


# --------------------------------------------------------------------------------------------
# Exercise 2
# --------------------------------------------------------------------------------------------

def test_snippets_accepts_the_pitfall_each_commits(capsys):
    ch09.check_snippets(dict(ch09._SNIPPET_ANSWERS))
    assert capsys.readouterr().out.startswith("correct:")


@pytest.mark.parametrize("name, wrong", [("A", "none"), ("A", "test-input"), ("B", "test-input"),
                                         ("C", "test-epoch"), ("D", "test-epoch"), ("D", "user-rows")])
def test_snippets_rejects_a_wrong_choice_with_that_snippets_hint(name, wrong):
    answers = {**ch09._SNIPPET_ANSWERS, name: wrong}
    with pytest.raises(CheckFailed, match=f"answers\\['{name}'\\]"):
        ch09.check_snippets(answers)


@pytest.mark.parametrize("answers, message", [
    ({"A": "user-rows", "B": "test-epoch", "C": "test-input"}, "one entry per snippet"),
    ({**ch09._SNIPPET_ANSWERS, "A": "c"}, "not one of"),
    (["user-rows", "test-epoch", "test-input", "none"], "dict"),
])
def test_snippets_rejects_malformed_answers(answers, message):
    with pytest.raises(CheckFailed, match=message):
        ch09.check_snippets(answers)


def test_every_snippet_has_an_answer_and_a_hint_and_every_pitfall_is_used():
    assert set(ch09.SNIPPETS) == set(ch09._SNIPPET_ANSWERS) == set(ch09.SNIPPET_HINTS)
    assert set(ch09._SNIPPET_ANSWERS.values()) == set(ch09.PITFALLS)


# --------------------------------------------------------------------------------------------
# Exercise 3
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = write_ml100k(tmp_path_factory.mktemp("ch09") / "ml-100k", n_users=60, n_items=50, density=0.3, seed=2)
    data = datasets.load("ml-100k", folder)
    split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)
    run = experiment.train(data, split, "autorec", "item", progress=False, eval_test=False,
                           hidden=20, epochs=30, lam=1.0, batch_size=16, lr=1e-2)
    return data, split, run


def solution(data, split, run) -> dict:
    inputs = pd.concat([split.train, split.valid], ignore_index=True)
    model = ch09.leaky_learner(run, inputs, data)
    return {"honest": run.scores["valid"].rmse,
            "leaky": metrics.evaluate(model.predict, split.valid, split.train, data.scale).rmse}


def test_leak_accepts_the_validation_rescore_and_the_leak_lowers_it(trained, capsys):
    data, split, run = trained
    leak = solution(data, split, run)
    ch09.check_leak_on_valid(leak, run, split, data)
    assert capsys.readouterr().out.startswith("correct:")
    assert leak["leaky"] < leak["honest"]


def test_leaky_learner_on_training_ratings_gives_the_honest_scores_back(trained):
    data, split, run = trained
    honest = ch09.leaky_learner(run, split.train, data)
    assert metrics.evaluate(honest.predict, split.valid, split.train, data.scale).rmse == pytest.approx(
        run.scores["valid"].rmse, abs=1e-6)


def test_leak_rejects_the_honest_score_as_leaky(trained):
    data, split, run = trained
    leak = {"honest": run.scores["valid"].rmse, "leaky": run.scores["valid"].rmse}
    with pytest.raises(CheckFailed, match="equals the honest score"):
        ch09.check_leak_on_valid(leak, run, split, data)


def test_leak_rejects_a_leak_measured_through_the_test_part(trained):
    data, split, run = trained
    inputs = pd.concat([split.train, split.test], ignore_index=True)
    model = ch09.leaky_learner(run, inputs, data)
    leak = {"honest": run.scores["valid"].rmse,
            "leaky": metrics.evaluate(model.predict, split.test, split.train, data.scale).rmse}
    with pytest.raises(CheckFailed, match="leak\\['leaky'\\]"):
        ch09.check_leak_on_valid(leak, run, split, data)


def test_leak_rejects_the_test_score_as_honest(trained):
    data, split, run = trained
    leak = {**solution(data, split, run), "honest": run.scores["test"].rmse}
    with pytest.raises(CheckFailed, match="leak\\['honest'\\]"):
        ch09.check_leak_on_valid(leak, run, split, data)


@pytest.mark.parametrize("seed", (11, 12, 13, 14, 15))
def test_leak_solution_passes_on_data_the_notebook_never_used(tmp_path, seed, capsys):
    folder = write_ml100k(tmp_path / "ml-100k", n_users=60, n_items=50, density=0.3, seed=seed)
    data = datasets.load("ml-100k", folder)
    split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=seed)
    run = experiment.train(data, split, "autorec", "item", progress=False, eval_test=False, seed=seed,
                           hidden=20, epochs=10, lam=1.0, batch_size=16, lr=1e-2)
    leak = solution(data, split, run)
    ch09.check_leak_on_valid({k: np.float32(v) for k, v in leak.items()}, run, split, data)
    assert capsys.readouterr().out.startswith("correct:")


def test_leak_messages_never_show_the_expected_scores(trained):
    data, split, run = trained
    leak = solution(data, split, run)
    for key in ("honest", "leaky"):
        with pytest.raises(CheckFailed) as err:
            ch09.check_leak_on_valid({**leak, key: leak[key] + 0.05}, run, split, data)
        assert f"{leak[key]:.4f}" not in str(err.value) and f"{leak[key]:.3f}" not in str(err.value)


def test_leak_rejects_a_run_on_another_split(trained):
    data, split, run = trained
    other = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=9)
    with pytest.raises(CheckFailed, match="not trained and scored on"):
        ch09.check_leak_on_valid(solution(data, split, run), run, other, data)


def test_leak_rejects_a_user_autorec_and_a_missing_key(trained):
    data, split, run = trained
    user = experiment.train(data, split, "autorec", "user", progress=False, eval_test=False, hidden=10, epochs=3)
    with pytest.raises(CheckFailed, match="I-AutoRec"):
        ch09.check_leak_on_valid(solution(data, split, run), user, split, data)
    with pytest.raises(CheckFailed, match="keys"):
        ch09.check_leak_on_valid({"leaky": 0.9}, run, split, data)


def test_the_leak_check_never_reads_the_test_part(trained, capsys):
    data, split, run = trained
    blind = dataclasses.replace(split, test=None)  # any use of the test part would fail
    ch09.check_leak_on_valid(solution(data, split, run), run, blind, data)
    assert capsys.readouterr().out.startswith("correct:")
