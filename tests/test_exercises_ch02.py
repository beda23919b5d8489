"""The checks of notebook 02's exercises: the reference solutions pass, plausible wrong answers fail.

Everything trains biased MF on small synthetic data in ML-100K's format (60 users, 50 movies, with
a ``u1.base``/``u1.test`` pair written beside it), in seconds.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

from autorec_lib import datasets, experiment, metrics, splits  # noqa: E402
from autorec_lib.config import course_config
from autorec_lib.exercises import CheckFailed, ch02  # noqa: E402
from conftest import write_ml100k  # noqa: E402
from exercise_support import assert_hides, one_thread  # noqa: E402, F401 (one_thread: autouse fixture)

SEEDS = (0, 1, 2, 3, 4, 5)  # the notebook trains with seed 0; 1 to 5 are unseen
LAM = course_config("biased-mf").train.lam


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Synthetic ratings, plus a canonical-style u1 split: a random 20% of the lines as u1.test."""
    folder = write_ml100k(tmp_path_factory.mktemp("ch02") / "ml-100k", n_users=60, n_items=50, density=0.25, seed=2)
    lines = (folder / "u.data").read_text().splitlines()
    order = np.random.default_rng(0).permutation(len(lines))
    cut = len(lines) // 5
    (folder / "u1.test").write_text("".join(lines[i] + "\n" for i in sorted(order[:cut])))
    (folder / "u1.base").write_text("".join(lines[i] + "\n" for i in sorted(order[cut:])))
    return datasets.load("ml-100k", folder)


def make_split(data, seed: int = 0) -> splits.Split:
    return splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=seed)


def train(data, split, seed: int = 0, model: str = "biased-mf", **changes):
    """A run as the notebook's solutions make it: course defaults but for ``changes``."""
    return experiment.train(data, split, model, seed=seed, progress=False, eval_test=False, **changes)


def valid(result) -> float:
    return result.scores["valid"].rmse


# --------------------------------------------------------------------------------------------
# Exercise 1: n_factors 4, 16, 128
# --------------------------------------------------------------------------------------------

def factor_solution(data, split, seed: int = 0):
    runs = {k: train(data, split, seed, n_factors=k) for k in ch02.FACTORS}
    table = {k: valid(r) for k, r in runs.items()}
    return runs, table, table[4] - table[128]


def solved_once(solution):
    """A module fixture: the split of seed 0 and the reference answer on it."""
    @pytest.fixture(scope="module")
    def fixture(data):
        split = make_split(data)
        return (split, *solution(data, split))
    return fixture


factors = solved_once(factor_solution)


def test_factor_sweep_accepts_string_keys_and_a_series(factors, data):
    split, runs, table, gain = factors
    ch02.check_factor_sweep({str(k): r for k, r in runs.items()}, pd.Series(table), gain, data, split)


def test_factor_sweep_reports_gain_with_the_learners_sign(factors, data, capsys):
    split, runs, table, gain = factors
    ch02.check_factor_sweep(runs, table, gain, data, split)
    assert f"= {gain:+.4f}" in capsys.readouterr().out


def test_factor_sweep_rejects_swapped_table_labels(factors, data):
    split, runs, table, gain = factors
    swapped = {**table, 4: table[16], 16: table[4]}
    with pytest.raises(CheckFailed, match="swapped"):
        ch02.check_factor_sweep(runs, swapped, gain, data, split)


def test_factor_sweep_rejects_runs_filed_under_the_wrong_size(factors, data):
    split, runs, table, gain = factors
    with pytest.raises(CheckFailed, match="n_factors=16, expected 4"):
        ch02.check_factor_sweep({**runs, 4: runs[16], 16: runs[4]}, table, gain, data, split)


def test_factor_sweep_rejects_test_scores(factors, data):
    split, runs, table, gain = factors
    test_table = {k: r.test_rmse for k, r in runs.items()}
    with pytest.raises(CheckFailed, match="TEST RMSE"):
        ch02.check_factor_sweep(runs, test_table, test_table[4] - test_table[128], data, split)


def test_factor_sweep_rejects_a_missing_size(factors, data):
    split, runs, table, gain = factors
    with pytest.raises(CheckFailed, match="exactly"):
        ch02.check_factor_sweep({k: runs[k] for k in (4, 128)}, table, gain, data, split)


def test_factor_sweep_rejects_other_training_settings(factors, data):
    split, runs, table, gain = factors
    short = train(data, split, n_factors=16, epochs=3)
    with pytest.raises(CheckFailed, match="epochs"):
        ch02.check_factor_sweep({**runs, 16: short}, {**table, 16: valid(short)}, gain, data, split)


def test_factor_sweep_rejects_plain_mf(factors, data):
    split, runs, table, gain = factors
    plain = train(data, split, model="mf", n_factors=16)
    with pytest.raises(CheckFailed, match="'mf' model"):
        ch02.check_factor_sweep({**runs, 16: plain}, {**table, 16: valid(plain)}, gain, data, split)


def test_factor_sweep_rejects_runs_trained_on_another_split(factors, data):
    split, runs, table, gain = factors
    other = make_split(data, seed=5)
    with pytest.raises(CheckFailed, match="not trained and scored on"):
        ch02.check_factor_sweep(runs, table, gain, data, other)


def test_factor_sweep_rejects_a_gain_of_the_wrong_sign_or_type(factors, data):
    split, runs, table, gain = factors
    with pytest.raises(CheckFailed, match="other way round"):
        ch02.check_factor_sweep(runs, table, -gain, data, split)
    with pytest.raises(CheckFailed, match="should be a number"):
        ch02.check_factor_sweep(runs, table, f"{gain:.4f}", data, split)


def test_factor_sweep_rejects_something_that_is_not_a_result(factors, data):
    split, runs, table, gain = factors
    with pytest.raises(CheckFailed, match="Result"):
        ch02.check_factor_sweep({**runs, 4: table[4]}, table, gain, data, split)


# --------------------------------------------------------------------------------------------
# Exercise 2: lam = 0 and the gap between validation and training RMSE
# --------------------------------------------------------------------------------------------

def penalty_solution(data, split, seed: int = 0):
    runs = {0.0: train(data, split, seed, lam=0.0), LAM: train(data, split, seed)}
    train_rmse = {lam: metrics.evaluate(r.learner.predict, split.train, split.train, data.scale).rmse
                  for lam, r in runs.items()}
    gaps = {lam: valid(r) - train_rmse[lam] for lam, r in runs.items()}
    return runs, gaps, max(gaps, key=gaps.get)


penalty = solved_once(penalty_solution)


def test_no_penalty_rejects_a_run_whose_lam_is_not_zero(penalty, data):
    split, runs, gaps, wider = penalty
    small = train(data, split, lam=0.02)
    with pytest.raises(CheckFailed, match="lam=0.02, not 0"):
        ch02.check_no_penalty({**runs, 0.0: small}, gaps, wider, data, split)


def test_no_penalty_rejects_swapped_lam_labels(penalty, data):
    split, runs, gaps, wider = penalty
    with pytest.raises(CheckFailed, match="trained with lam="):
        ch02.check_no_penalty({0.0: runs[LAM], LAM: runs[0.0]}, gaps, wider, data, split)


def test_no_penalty_rejects_the_training_loss_in_place_of_the_training_rmse(penalty, data):
    split, runs, gaps, wider = penalty
    loss_gaps = {lam: valid(r) - r.history.records[r.history.best_epoch - 1]["train_loss"] for lam, r in runs.items()}
    with pytest.raises(CheckFailed, match="not the training loss"):
        ch02.check_no_penalty(runs, loss_gaps, max(loss_gaps, key=loss_gaps.get), data, split)


def test_no_penalty_rejects_gaps_from_the_test_split(penalty, data):
    split, runs, gaps, wider = penalty
    test_gaps = {lam: gaps[lam] - valid(r) + r.test_rmse for lam, r in runs.items()}
    with pytest.raises(CheckFailed, match="test RMSE"):
        ch02.check_no_penalty(runs, test_gaps, wider, data, split)


def test_no_penalty_rejects_a_gap_taken_the_other_way_round(penalty, data):
    split, runs, gaps, wider = penalty
    with pytest.raises(CheckFailed, match="not the other way round"):
        ch02.check_no_penalty(runs, {lam: -g for lam, g in gaps.items()}, wider, data, split)


def test_no_penalty_rejects_a_choice_that_contradicts_the_gaps(penalty, data):
    split, runs, gaps, wider = penalty
    with pytest.raises(CheckFailed, match="by your own gaps"):
        ch02.check_no_penalty(runs, gaps, LAM if wider == 0.0 else 0.0, data, split)
    with pytest.raises(CheckFailed, match="one of"):
        ch02.check_no_penalty(runs, gaps, 1.0, data, split)


def test_no_penalty_rejects_a_differently_sized_model(penalty, data):
    split, runs, gaps, wider = penalty
    small = train(data, split, lam=0.0, n_factors=16)
    with pytest.raises(CheckFailed, match="n_factors=16, expected 128"):
        ch02.check_no_penalty({**runs, 0.0: small}, gaps, wider, data, split)


# --------------------------------------------------------------------------------------------
# Exercise 3: the u1 split, judged on validation only
# --------------------------------------------------------------------------------------------

def u1_solution(data, seed: int = 0):
    split_by_name = {"random": make_split(data, seed), "u1": splits.make_split(data, "u1", seed=seed)}
    runs = {name: train(data, split, seed) for name, split in split_by_name.items()}
    table = pd.DataFrame({name: {"train ratings": len(split_by_name[name].train), "valid RMSE": valid(r)}
                          for name, r in runs.items()}).T.astype({"train ratings": int})
    return runs, table, table["valid RMSE"].idxmax(), split_by_name


@pytest.fixture(scope="module")
def u1(data):
    return u1_solution(data)


# --------------------------------------------------------------------------------------------
# Every reference solution passes, on every seed (the seed of the split and of the training)
# --------------------------------------------------------------------------------------------

def with_split(solution):
    def answer(data, seed):
        split = make_split(data, seed)
        return (*solution(data, split, seed), data, split)
    return answer


def u1_answer(data, seed):
    runs, table, higher, split_by_name = u1_solution(data, seed)
    return runs, table, higher, data, split_by_name


REFERENCE = {"factor sweep": (ch02.check_factor_sweep, with_split(factor_solution)),
             "no penalty": (ch02.check_no_penalty, with_split(penalty_solution)),
             "u1 split": (ch02.check_u1_split, u1_answer)}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("exercise", REFERENCE)
def test_the_reference_solution_passes_on_every_seed(data, exercise, seed, capsys):
    check, answer = REFERENCE[exercise]
    check(*answer(data, seed))
    assert capsys.readouterr().out.startswith("correct:")


def test_u1_split_accepts_a_dict_of_rows(u1, data):
    runs, table, higher, split_by_name = u1
    ch02.check_u1_split(runs, table.to_dict("index"), higher, data, split_by_name)


def test_u1_split_rejects_test_scores(u1, data):
    runs, table, higher, split_by_name = u1
    bad = table.assign(**{"valid RMSE": [runs[name].test_rmse for name in table.index]})
    with pytest.raises(CheckFailed, match="TEST RMSE"):
        ch02.check_u1_split(runs, bad, bad["valid RMSE"].idxmax(), data, split_by_name)


def test_u1_split_rejects_swapped_rows(u1, data):
    runs, table, higher, split_by_name = u1
    bad = table.copy()
    bad["valid RMSE"] = table["valid RMSE"].to_numpy()[::-1]
    with pytest.raises(CheckFailed, match="labels swapped"):
        ch02.check_u1_split(runs, bad, higher, data, split_by_name)


def test_u1_split_rejects_counting_the_validation_part_as_training(u1, data):
    runs, table, higher, split_by_name = u1
    bad = table.copy()
    bad["train ratings"] = [len(split_by_name[n].train) + len(split_by_name[n].valid) for n in table.index]
    with pytest.raises(CheckFailed, match="validation part too") as failure:
        ch02.check_u1_split(runs, bad, higher, data, split_by_name)
    assert_hides(str(failure.value), [len(split_by_name["u1"].train), len(split_by_name["random"].train)])
    as_floats = table.astype({"train ratings": float})  # a right count typed as a float passes
    ch02.check_u1_split(runs, as_floats, higher, data, split_by_name)


def test_u1_split_rejects_a_run_trained_on_the_other_split(u1, data):
    runs, table, higher, split_by_name = u1
    with pytest.raises(CheckFailed, match="not trained and scored on the 'u1' split"):
        ch02.check_u1_split({**runs, "u1": runs["random"]}, table, higher, data, split_by_name)


def test_u1_split_rejects_splits_filed_under_the_wrong_name(u1, data):
    runs, table, higher, split_by_name = u1
    swapped = {"random": split_by_name["u1"], "u1": split_by_name["random"]}
    with pytest.raises(CheckFailed, match="make_split"):
        ch02.check_u1_split(runs, table, higher, data, swapped)


def test_u1_split_rejects_a_choice_that_contradicts_the_table(u1, data):
    runs, table, higher, split_by_name = u1
    with pytest.raises(CheckFailed, match="by your table"):
        ch02.check_u1_split(runs, table, "random" if higher == "u1" else "u1", data, split_by_name)


def test_u1_split_rejects_non_default_settings(u1, data):
    runs, table, higher, split_by_name = u1
    other = train(data, split_by_name["u1"], lam=1.0)
    bad = table.copy()
    bad.loc["u1", "valid RMSE"] = valid(other)
    with pytest.raises(CheckFailed, match="course defaults"):
        ch02.check_u1_split({**runs, "u1": other}, bad, bad["valid RMSE"].idxmax(), data, split_by_name)


def test_u1_split_never_reads_test_ratings(u1, data):
    """The check passes with every test rating replaced by NaN: it cannot have used them."""
    runs, table, higher, split_by_name = u1
    blind = {name: dataclasses.replace(s, test=s.test.assign(rating=np.nan)) for name, s in split_by_name.items()}
    ch02.check_u1_split(runs, table, higher, data, blind)


def test_no_check_reads_test_ratings(factors, penalty, data):
    split, runs, table, gain = factors
    blind = dataclasses.replace(split, test=split.test.assign(rating=np.nan))
    ch02.check_factor_sweep(runs, table, gain, data, blind)
    split, runs, gaps, wider = penalty
    ch02.check_no_penalty(runs, gaps, wider, data, dataclasses.replace(split, test=split.test.assign(rating=np.nan)))


def test_failure_messages_never_show_the_expected_numbers(factors, penalty, data):
    """A wrong number is refused with what is wrong and where to look, never with the right value."""
    split, runs, table, gain = factors
    rounded = {**table, 16: round(table[16], 3)}
    with pytest.raises(CheckFailed, match="unrounded") as failure:
        ch02.check_factor_sweep(runs, rounded, gain, data, split)
    assert_hides(str(failure.value), [table[16]])
    with pytest.raises(CheckFailed, match="gain") as failure:
        ch02.check_factor_sweep(runs, table, gain + 0.01, data, split)
    assert_hides(str(failure.value), [gain])
    split, runs, gaps, wider = penalty
    with pytest.raises(CheckFailed, match="gaps") as failure:
        ch02.check_no_penalty(runs, {**gaps, 0.0: gaps[0.0] + 0.01}, wider, data, split)
    assert_hides(str(failure.value), [gaps[0.0]])
