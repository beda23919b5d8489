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
    with pytest.raises(CheckFailed, match="not trained on"):
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

def gaps_of(runs, data, split) -> dict:
    train_rmse = {lam: metrics.evaluate(r.learner.predict, split.train, split.train, data.scale).rmse
                  for lam, r in runs.items()}
    return {lam: valid(r) - train_rmse[lam] for lam, r in runs.items()}


def penalty_solution(data, split, seed: int = 0):
    runs = {0.0: train(data, split, seed, lam=0.0), LAM: train(data, split, seed)}
    return runs, gaps_of(runs, data, split)


penalty = solved_once(penalty_solution)


def test_no_penalty_rejects_a_run_whose_lam_is_not_zero(penalty, data):
    split, runs, gaps = penalty
    small = train(data, split, lam=0.02)
    with pytest.raises(CheckFailed, match="lam=0.02, not 0"):
        ch02.check_no_penalty({**runs, 0.0: small}, gaps, data, split)


def test_no_penalty_rejects_swapped_lam_labels(penalty, data):
    split, runs, gaps = penalty
    with pytest.raises(CheckFailed, match="trained with lam="):
        ch02.check_no_penalty({0.0: runs[LAM], LAM: runs[0.0]}, gaps, data, split)


def test_no_penalty_rejects_the_training_loss_in_place_of_the_training_rmse(penalty, data):
    split, runs, gaps = penalty
    loss_gaps = {lam: valid(r) - r.history.records[r.history.best_epoch - 1]["train_loss"] for lam, r in runs.items()}
    with pytest.raises(CheckFailed, match="not the training loss"):
        ch02.check_no_penalty(runs, loss_gaps, data, split)


def test_no_penalty_rejects_gaps_from_the_test_split(penalty, data):
    split, runs, gaps = penalty
    test_gaps = {lam: gaps[lam] - valid(r) + r.test_rmse for lam, r in runs.items()}
    with pytest.raises(CheckFailed, match="test RMSE"):
        ch02.check_no_penalty(runs, test_gaps, data, split)


def test_no_penalty_rejects_a_gap_taken_the_other_way_round(penalty, data):
    split, runs, gaps = penalty
    with pytest.raises(CheckFailed, match="not the other way round"):
        ch02.check_no_penalty(runs, {lam: -g for lam, g in gaps.items()}, data, split)


def test_no_penalty_rejects_a_differently_sized_model(penalty, data):
    split, runs, gaps = penalty
    small = train(data, split, lam=0.0, n_factors=16)
    with pytest.raises(CheckFailed, match="n_factors=16, expected 128"):
        ch02.check_no_penalty({**runs, 0.0: small}, gaps, data, split)


# --------------------------------------------------------------------------------------------
# Exercise 3: the u1 split, judged on validation only
# --------------------------------------------------------------------------------------------

def u1_solution(data, seed: int = 0):
    split_by_name = {"random": make_split(data, seed), "u1": splits.make_split(data, "u1", seed=seed)}
    runs = {name: train(data, split, seed) for name, split in split_by_name.items()}
    return runs, u1_table(runs, split_by_name), split_by_name


def u1_table(runs, split_by_name):
    return pd.DataFrame({name: {"train ratings": len(split_by_name[name].train), "valid RMSE": valid(r)}
                         for name, r in runs.items()}).T.astype({"train ratings": int})


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
    runs, table, split_by_name = u1_solution(data, seed)
    return runs, table, data, split_by_name


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
    runs, table, split_by_name = u1
    ch02.check_u1_split(runs, table.to_dict("index"), data, split_by_name)


def test_u1_split_rejects_test_scores(u1, data):
    runs, table, split_by_name = u1
    bad = table.assign(**{"valid RMSE": [runs[name].test_rmse for name in table.index]})
    with pytest.raises(CheckFailed, match="TEST RMSE"):
        ch02.check_u1_split(runs, bad, data, split_by_name)


def test_u1_split_rejects_swapped_rows(u1, data):
    runs, table, split_by_name = u1
    bad = table.copy()
    bad["valid RMSE"] = table["valid RMSE"].to_numpy()[::-1]
    with pytest.raises(CheckFailed, match="labels swapped"):
        ch02.check_u1_split(runs, bad, data, split_by_name)


def test_u1_split_rejects_counting_the_validation_part_as_training(u1, data):
    runs, table, split_by_name = u1
    bad = table.copy()
    bad["train ratings"] = [len(split_by_name[n].train) + len(split_by_name[n].valid) for n in table.index]
    with pytest.raises(CheckFailed, match="validation part too") as failure:
        ch02.check_u1_split(runs, bad, data, split_by_name)
    assert_hides(str(failure.value), [len(split_by_name["u1"].train), len(split_by_name["random"].train)])
    as_floats = table.astype({"train ratings": float})  # a right count typed as a float passes
    ch02.check_u1_split(runs, as_floats, data, split_by_name)


def test_u1_split_rejects_a_run_trained_on_the_other_split(u1, data):
    runs, table, split_by_name = u1
    with pytest.raises(CheckFailed, match="not trained on the 'u1' split"):
        ch02.check_u1_split({**runs, "u1": runs["random"]}, table, data, split_by_name)


def test_u1_split_rejects_splits_filed_under_the_wrong_name(u1, data):
    runs, table, split_by_name = u1
    swapped = {"random": split_by_name["u1"], "u1": split_by_name["random"]}
    with pytest.raises(CheckFailed, match="make_split"):
        ch02.check_u1_split(runs, table, data, swapped)


def test_u1_split_rejects_non_default_settings(u1, data):
    runs, table, split_by_name = u1
    other = train(data, split_by_name["u1"], lam=1.0)
    bad = table.copy()
    bad.loc["u1", "valid RMSE"] = valid(other)
    with pytest.raises(CheckFailed, match="course defaults"):
        ch02.check_u1_split({**runs, "u1": other}, bad, data, split_by_name)


def test_u1_split_never_reads_test_ratings(u1, data):
    """The check passes with every test rating replaced by NaN: it cannot have used them."""
    runs, table, split_by_name = u1
    blind = {name: dataclasses.replace(s, test=s.test.assign(rating=np.nan)) for name, s in split_by_name.items()}
    ch02.check_u1_split(runs, table, data, blind)


def test_no_check_reads_test_ratings(factors, penalty, data):
    split, runs, table, gain = factors
    blind = dataclasses.replace(split, test=split.test.assign(rating=np.nan))
    ch02.check_factor_sweep(runs, table, gain, data, blind)
    split, runs, gaps = penalty
    ch02.check_no_penalty(runs, gaps, data, dataclasses.replace(split, test=split.test.assign(rating=np.nan)))


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
    split, runs, gaps = penalty
    with pytest.raises(CheckFailed, match="gaps") as failure:
        ch02.check_no_penalty(runs, {**gaps, 0.0: gaps[0.0] + 0.01}, data, split)
    assert_hides(str(failure.value), [gaps[0.0]])


# --------------------------------------------------------------------------------------------
# Runs judged by what they were trained on, not by what they say (an adversarial review's attempts)
# --------------------------------------------------------------------------------------------

def swapped(split):
    """``split`` with its validation and test parts swapped: a run trained on it picks its epoch on test ratings."""
    return dataclasses.replace(split, valid=split.test, test=split.valid)


@pytest.fixture(scope="module")
def elsewhere(data, factors):
    """The runs of exercises 1 and 2, trained on a split holding out 20% for testing ("wide") and on the
    course split with validation and test swapped ("swapped"): (split, runs by n_factors, the lam=0 run)."""
    wide = splits.make_split(data, "random", test_fraction=0.2, valid_fraction=0.1, seed=0)
    return {name: (s, {k: train(data, s, n_factors=k) for k in ch02.FACTORS}, train(data, s, lam=0.0))
            for name, s in (("wide", wide), ("swapped", swapped(factors[0])))}


@pytest.mark.parametrize("name, match", [("wide", "test_fraction=0.2"), ("swapped", "valid and test parts")])
def test_runs_on_another_split_are_refused_even_with_that_split(factors, elsewhere, data, name, match):
    course = factors[0]
    other, runs, lam0 = elsewhere[name]
    table = {k: valid(r) for k, r in runs.items()}
    for split, why in ((other, match), (course, "not trained on")):
        with pytest.raises(CheckFailed, match=why):
            ch02.check_factor_sweep(runs, table, table[4] - table[128], data, split)
        lam_runs = {0.0: lam0, LAM: runs[128]}
        with pytest.raises(CheckFailed, match=why):
            ch02.check_no_penalty(lam_runs, gaps_of(lam_runs, data, other), data, split)


def test_a_run_whose_split_was_relabelled_is_refused_by_its_scores(factors, elsewhere, data):
    """A run trained on the swapped split, its recorded split set to the course's: it scored its epochs on
    what is the course split's test part, and its validation score is not what it scores on validation."""
    split, runs, table, gain = factors
    relabelled = dataclasses.replace(elsewhere["swapped"][1][16], split=split)
    with pytest.raises(CheckFailed, match="not trained and scored on"):
        ch02.check_factor_sweep({**runs, 16: relabelled}, {**table, 16: valid(relabelled)}, gain, data, split)


def test_u1_split_refuses_splits_made_otherwise_or_tampered_with(u1, elsewhere, data):
    runs, table, split_by_name = u1
    wide, wide_runs, _ = elsewhere["wide"]
    attempts = {"a random split holding out 20%": ({**runs, "random": wide_runs[128]},
                                                   {**split_by_name, "random": wide}, "test_fraction=0.2"),
                "the random split renamed 'u1'": ({"random": runs["random"], "u1": runs["random"]},
                                                  {"random": split_by_name["random"],
                                                   "u1": dataclasses.replace(split_by_name["random"], name="u1")},
                                                  "made as splits.make_split\\(data, 'random'")}
    u1_wide = splits.make_split(data, "u1", valid_fraction=0.3)
    attempts["u1 with 30% for validation"] = ({**runs, "u1": train(data, u1_wide)}, {**split_by_name, "u1": u1_wide},
                                              "valid_fraction=0.3")
    u1_swapped = swapped(split_by_name["u1"])
    attempts["u1 with validation and test swapped"] = ({**runs, "u1": train(data, u1_swapped)},
                                                       {**split_by_name, "u1": u1_swapped}, "valid and test parts")
    for label, (bad_runs, bad_splits, match) in attempts.items():
        with pytest.raises(CheckFailed, match=match):
            ch02.check_u1_split(bad_runs, u1_table(bad_runs, bad_splits), data, bad_splits)


@pytest.mark.parametrize("setting", [{"lr": 0.01}, {"optimizer": "sgd"}, {"seed": 3, "lr": 0.002}])
def test_a_run_whose_config_was_swapped_for_the_right_one_is_refused(factors, data, setting):
    split, runs, table, gain = factors
    other = train(data, split, n_factors=4, **setting)
    relabelled = dataclasses.replace(other, config=runs[4].config)
    with pytest.raises(CheckFailed, match="does not describe the model it carries") as failure:
        ch02.check_factor_sweep({**runs, 4: relabelled}, {**table, 4: valid(relabelled)}, gain, data, split)
    assert "lr" in str(failure.value) or "optimizer" in str(failure.value)


def test_a_relabelled_network_is_refused(penalty, data):
    split, runs, gaps = penalty
    small = train(data, split, lam=0.0, n_factors=16)
    relabelled = dataclasses.replace(small, config=runs[0.0].config)
    with pytest.raises(CheckFailed, match="network's configuration"):
        ch02.check_no_penalty({**runs, 0.0: relabelled}, gaps_of({**runs, 0.0: relabelled}, data, split), data, split)


def test_no_penalty_refuses_a_warm_started_run(penalty, data):
    split, runs, gaps = penalty
    warm = experiment.train(data, split, "biased-mf", lam=0.0, init_weights=runs[LAM].learner.get_weights(),
                            progress=False, eval_test=False)
    with pytest.raises(CheckFailed, match="init_weights"):
        ch02.check_no_penalty({**runs, 0.0: warm}, gaps_of({**runs, 0.0: warm}, data, split), data, split)


def test_keys_typed_otherwise_name_the_same_settings(factors, penalty, data, capsys):
    import torch

    split, runs, gaps = penalty
    as_float32 = {np.float32(k): v for k, v in runs.items()}
    as_tensors = {torch.tensor(k): v for k, v in gaps.items()}
    ch02.check_no_penalty(as_float32, as_tensors, data, split)
    ch02.check_no_penalty({str(k): v for k, v in runs.items()}, pd.Series(gaps), data, split)
    split, runs, table, gain = factors
    ch02.check_factor_sweep({float(k): r for k, r in runs.items()}, {np.int64(k): v for k, v in table.items()},
                            np.float32(gain) if abs(np.float32(gain) - gain) < 1e-6 else gain, data, split)
    assert capsys.readouterr().out.count("correct:") == 3
    with pytest.raises(CheckFailed, match="keyed by exactly"):
        ch02.check_factor_sweep({4.7: runs[4], 16: runs[16], 128: runs[128]}, table, gain, data, split)
    with pytest.raises(CheckFailed, match="keyed by exactly"):
        ch02.check_factor_sweep({4: runs[4], 4.0: runs[16], 128: runs[128]}, table, gain, data, split)


def test_u1_split_accepts_a_table_with_more_columns(u1, data, capsys):
    runs, table, split_by_name = u1
    more = table.assign(**{"best epoch": [runs[name].history.best_epoch for name in table.index]})
    ch02.check_u1_split(runs, more, data, split_by_name)
    assert capsys.readouterr().out.startswith("correct:")
    with pytest.raises(CheckFailed, match="should have the columns"):
        ch02.check_u1_split(runs, table.drop(columns="train ratings"), data, split_by_name)


def test_an_unclipped_training_rmse_gets_a_hint_about_clipping(penalty, data):
    split, runs, gaps = penalty
    unclipped = {lam: valid(r) - metrics.rmse(r.learner.predict(split.train["user"].to_numpy(),
                                                                split.train["item"].to_numpy()),
                                              split.train["rating"].to_numpy())
                 for lam, r in runs.items()}
    assert max(abs(unclipped[k] - gaps[k]) for k in gaps) > 1e-4  # some training predictions leave the scale
    with pytest.raises(CheckFailed, match="clipped to the rating scale"):
        ch02.check_no_penalty(runs, unclipped, data, split)


def test_checks_refuse_another_data_set_or_data_edited_in_place(factors, data):
    split, runs, table, gain = factors
    with pytest.raises(CheckFailed, match="about ml-100k"):
        ch02.check_factor_sweep(runs, table, gain, dataclasses.replace(data, name="ml-latest-small"), split)
    edited = datasets.load(data.name, data.path)
    edited.ratings["rating"] = edited.ratings["rating"].clip(upper=4.0)
    with pytest.raises(CheckFailed, match="changed in place"):
        ch02.check_factor_sweep(runs, table, gain, edited, split)


def test_no_message_names_a_binary_answer():
    """Which lambda has the wider gap and which split the higher RMSE follow from the numbers asked for: no
    check takes them, so no refusal can give them away."""
    import inspect

    assert "wider" not in inspect.signature(ch02.check_no_penalty).parameters
    assert "higher" not in inspect.signature(ch02.check_u1_split).parameters


def test_runs_carried_to_the_grader_pass_as_they_do_here(tmp_path, penalty, data, capsys):
    """The grader rebuilds a Result from its checkpoint (its learner on the CPU) and loads its own copy of the
    data: the checks of the run and its split still pass there."""
    from autorec_lib.grading import plain

    split, runs, gaps = penalty
    kernel, grader = tmp_path / "kernel", tmp_path / "grader"
    plain.collect(str(kernel), {"runs": lambda: runs, "split": lambda: split})
    assert plain.snapshot(kernel, grader)
    encoded, problems = plain.read_index(grader)
    decode = plain.Decoder(grader, lambda name: datasets.load(name, data.path))
    got = {k: decode(v) for k, v in encoded.items()}
    assert problems == {} and got["runs"][0.0] is not runs[0.0]
    ch02.check_no_penalty(got["runs"], gaps, datasets.load(data.name, data.path), got["split"])
    assert capsys.readouterr().out.startswith("correct:")


def test_a_relabelled_run_carried_to_the_grader_is_refused_there_too(tmp_path, factors, data):
    """The grader rebuilds a run from its checkpoint, which is written from the run's config: the learner's
    own settings cross beside it, so a config swapped in inside the notebook is caught in the grader too."""
    from autorec_lib.grading import plain

    split, runs, table, gain = factors
    other = train(data, split, n_factors=4, lr=0.01)
    relabelled = dataclasses.replace(other, config=runs[4].config)
    kernel, grader = tmp_path / "kernel", tmp_path / "grader"
    plain.collect(str(kernel), {"runs": lambda: {**runs, 4: relabelled}})
    assert plain.snapshot(kernel, grader)
    encoded, problems = plain.read_index(grader)
    got = plain.Decoder(grader, lambda name: datasets.load(name, data.path))(encoded["runs"])
    assert problems == {}
    with pytest.raises(CheckFailed, match="does not describe the model it carries"):
        ch02.check_factor_sweep(got, {**table, 4: valid(relabelled)}, gain, datasets.load(data.name, data.path), split)


# --------------------------------------------------------------------------------------------
# A second adversarial review: runs judged by their weights, their own training data and their history
# --------------------------------------------------------------------------------------------

def relabelled_run(run, **net):
    """A deep copy of ``run`` whose config AND learner's network config say ``net`` (its weights unchanged)."""
    import copy

    fake = copy.deepcopy(run)
    fake.config = fake.config.replace(**net)
    fake.learner.model.config = dataclasses.replace(fake.learner.model.config, **net)
    return fake


def test_a_run_relabelled_in_its_config_and_its_learners_is_refused_by_its_weights(factors, data):
    """One 128-factor run passed as the 4- and 16-factor runs, both configs relabelled: P and Q say 128."""
    split, runs, table, gain = factors
    fakes = {4: relabelled_run(runs[128], n_factors=4), 16: relabelled_run(runs[128], n_factors=16)}
    with pytest.raises(CheckFailed, match="shapes of the network's weights"):
        ch02.check_factor_sweep({**runs, **fakes}, {**table, 4: table[128], 16: table[128]}, 0.0, data, split)


def test_an_autorec_run_relabelled_in_both_configs_is_refused_by_its_weights(data):
    """The shared guard reads AutoRec's weight shapes too: a hidden layer of 8 does not pass for one of 16."""
    from autorec_lib import exercises

    split = make_split(data)
    run = train(data, split, model="autorec", hidden=8, epochs=2)
    exercises.result(run, "run")  # as trained: accepted
    with pytest.raises(CheckFailed, match="shapes of the network's weights"):
        exercises.result(relabelled_run(run, hidden=(16,)), "run")


def trained_elsewhere(data, split, **changes):
    """A run trained on another seed's split (whose training part holds some of ``split``'s validation
    ratings), its recorded split and its scores then replaced by ``split``'s: all it records is consistent."""
    from autorec_lib.training import evaluate_learner

    run = train(data, make_split(data, seed=1), **changes)
    return dataclasses.replace(run, split=split, scores=evaluate_learner(run.learner, split, data.scale))


def test_a_run_trained_on_another_split_is_refused_by_its_learners_data(factors, penalty, data):
    split, runs, table, gain = factors
    fake = trained_elsewhere(data, split, n_factors=4)
    with pytest.raises(CheckFailed, match="learner was not trained on the training part"):
        ch02.check_factor_sweep({**runs, 4: fake}, {**table, 4: valid(fake)}, valid(fake) - table[128], data, split)
    split, runs, gaps = penalty
    fake = trained_elsewhere(data, split, lam=0.0)
    with pytest.raises(CheckFailed, match="learner was not trained on the training part"):
        ch02.check_no_penalty({**runs, 0.0: fake}, gaps_of({**runs, 0.0: fake}, data, split), data, split)
    del fake.learner.users  # its data hidden: the library's learner always holds them
    with pytest.raises(CheckFailed, match="learner was not trained on the training part"):
        ch02.check_no_penalty({**runs, 0.0: fake}, gaps_of({**runs, 0.0: fake}, data, split), data, split)


def test_an_autorec_run_trained_on_another_split_is_refused_by_its_matrix(data):
    from autorec_lib import exercises

    split = make_split(data)
    exercises.trained_on(train(data, split, model="autorec", hidden=8, epochs=2), split, "run")  # accepted
    fake = trained_elsewhere(data, split, model="autorec", hidden=8, epochs=2)
    with pytest.raises(CheckFailed, match="learner was not trained on the training part"):
        exercises.trained_on(fake, split, "run")


def cut_short(run, n: int):
    import copy

    fake = copy.deepcopy(run)
    fake.history.records = fake.history.records[:n]
    fake.history.best_epoch = int(np.argmin([r["valid_rmse"] for r in fake.history.records])) + 1
    return fake


def test_a_history_cut_short_run_on_or_trained_further_is_refused(factors, data):
    import copy

    from autorec_lib.training import evaluate_learner

    split, runs, table, gain = factors
    run = runs[4]
    n = len(run.history.records)
    further = copy.deepcopy(run)  # trained 3 more epochs after experiment.train returned, its scores recomputed
    rng = np.random.default_rng(0)
    for _ in range(3):
        further.learner.train_epoch(rng)
    further.scores = evaluate_learner(further.learner, split, data.scale)
    stopped = cut_short(run, n)
    stopped.history.stopped_early = not run.history.stopped_early  # its ending misreported
    fakes = {"cut to 2 epochs": cut_short(run, 2), "cut one epoch short": cut_short(run, n - 1),
             "ending misreported": stopped, "trained further": further}
    for label, fake in fakes.items():
        with pytest.raises(CheckFailed, match="history is not that of a run"):
            ch02.check_factor_sweep({**runs, 4: fake}, {**table, 4: valid(fake)}, valid(fake) - table[128], data, split)


def test_a_run_trained_with_more_patience_and_relabelled_is_refused_by_its_history(penalty, data):
    """Trained with more patience, then its config and its learner's both relabelled to the course's patience:
    its history goes on past where the course's patience stopped the run trained with it."""
    split, runs, gaps = penalty
    assert runs[0.0].history.stopped_early
    patience = course_config("biased-mf").train.patience
    run = train(data, split, lam=0.0, patience=patience + 10)
    assert len(run.history.records) > len(runs[0.0].history.records)  # it ran on
    fake = dataclasses.replace(run, config=run.config.replace(patience=patience))
    fake.learner.cfg = dataclasses.replace(fake.learner.cfg, patience=patience)
    with pytest.raises(CheckFailed, match="history is not that of a run"):
        ch02.check_no_penalty({**runs, 0.0: fake}, gaps_of({**runs, 0.0: fake}, data, split), data, split)


def test_a_run_that_spent_its_budget_or_stopped_early_has_a_whole_history(factors, penalty, data):
    from autorec_lib import exercises

    split, runs, table, gain = factors
    both = [*runs.values(), *penalty[1].values(), train(data, split, epochs=3)]
    assert any(r.history.stopped_early for r in both) and not all(r.history.stopped_early for r in both)
    for run in both:  # stopped early, or at the budget
        exercises.finished_training(run, "run", "")


def test_a_result_given_for_a_number_is_refused_by_its_type_alone(factors, data):
    """A whole Result (or its scores) where its validation RMSE is asked for: the refusal names the type, and
    shows none of the run's scores, test RMSE included."""
    split, runs, table, gain = factors
    run = runs[128]
    for value, what in ((run, "Result"), (run.scores, "dict"), (run.scores["valid"], "Evaluation")):
        with pytest.raises(CheckFailed, match=f"got {what}") as failure:
            ch02.check_factor_sweep(runs, {**table, 128: value}, gain, data, split)
        assert_hides(str(failure.value), [run.test_rmse, table[128], table[4], gain])
        assert "rmse" not in str(failure.value).lower().replace("validation rmse", "")


@pytest.mark.parametrize("zero", [np.float32(0.0), 1e-20, np.float64(0.0)])
def test_no_penalty_accepts_a_lam_of_zero_typed_otherwise(penalty, data, zero, capsys):
    split, runs, gaps = penalty
    run = train(data, split, lam=zero)
    ch02.check_no_penalty({**runs, 0.0: run}, gaps_of({**runs, 0.0: run}, data, split), data, split)
    assert capsys.readouterr().out.startswith("correct:")


def test_no_penalty_accepts_the_default_lam_typed_as_float32_or_computed(penalty, data, capsys):
    split, runs, gaps = penalty
    for lam in (np.float32(LAM), LAM * 3 / 3 + 1e-17, float(np.float32(LAM))):
        run = train(data, split, lam=lam)
        ch02.check_no_penalty({**runs, LAM: run}, gaps_of({**runs, LAM: run}, data, split), data, split)
    assert capsys.readouterr().out.count("correct:") == 3


def test_no_penalty_still_refuses_a_small_but_real_penalty(penalty, data):
    split, runs, gaps = penalty
    for lam in (1e-6, np.float32(1e-4)):
        small = train(data, split, lam=lam)
        with pytest.raises(CheckFailed, match="not 0"):
            ch02.check_no_penalty({**runs, 0.0: small}, gaps_of({**runs, 0.0: small}, data, split), data, split)
