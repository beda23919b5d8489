"""The checks of notebook 09's exercises: the reference solutions pass (on unseen data too), plausible wrong
answers fail, and no failure message gives the expected value away.

Exercise 3 trains a small I-AutoRec on synthetic data in ML-100K's format (60 users, 50 movies), in seconds.
"""
from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

from autorec_lib import datasets, experiment, metrics, splits  # noqa: E402
from autorec_lib.exercises import CheckFailed, ch09  # noqa: E402
from conftest import write_ml100k  # noqa: E402

RECORD_PATH = Path(__file__).parents[1] / "notebooks" / "results" / "reproduction.json"
COMMITTED = json.loads(RECORD_PATH.read_text())  # the record notebook 09 reads (a repository file, no data needed)


def runs_of(model: str, config: str, protocol: str = "random") -> dict:
    return next(e for e in COMMITTED["results"] if (e["model"], e["config"]) == (model, config))[protocol]


TUNED = next(j for j, e in enumerate(COMMITTED["results"]) if (e["model"], e["config"]) == ("I-AutoRec", "tuned"))
TEST = runs_of("I-AutoRec", "tuned")["test"]
VALID = runs_of("I-AutoRec", "tuned")["valid"]
FOLD_TEST = runs_of("I-AutoRec", "tuned", "folds")["test"]
DEFAULT_TEST = runs_of("I-AutoRec", "default")["test"]


def part(test, valid) -> dict:
    """One protocol's summary, shaped like scripts/reproduce.py's (labels, lists and their mean and sd)."""
    return {"labels": list(range(len(test))), "test": list(test), "valid": list(valid),
            "test_mean": float(np.mean(test)), "test_sd": float(np.std(test, ddof=1))}


def record() -> dict:
    """A fresh copy of the committed reproduction record."""
    return copy.deepcopy(COMMITTED)


def test_the_check_holds_the_committed_records_digest():
    """check_mean_sd keeps the seed count and a digest of the committed record's tuned random-split test
    RMSEs: a new reproduction must update them, or the notebook's own record would be refused."""
    assert len(TEST) == ch09.RECORD_SEEDS and ch09._test_digest(TEST) == ch09.RECORD_DIGEST, (
        "notebooks/results/reproduction.json's tuned I-AutoRec random-split test RMSEs changed (a new run of "
        "scripts/reproduce.py?): set ch09.RECORD_SEEDS to their number and ch09.RECORD_DIGEST to "
        f"{ch09._test_digest(TEST)!r} in autorec_lib/exercises/ch09.py")


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


def test_mean_sd_accepts_other_numeric_types(capsys):
    import torch

    ch09.check_mean_sd({"mean": np.float32(np.mean(TEST)), "sd": torch.tensor(float(np.std(TEST, ddof=1)))}, record())
    ch09.check_mean_sd({"mean": np.mean(TEST), "sd": np.std(np.asarray(TEST, np.float32), ddof=1)}, record())
    assert capsys.readouterr().out.count("correct:") == 2


def test_mean_sd_refuses_a_made_up_or_cut_down_record():
    """The reviewer's: a self-consistent record of two made-up seeds, and the real one cut to four seeds
    with its labels, seeds, mean and sd made to agree. Both are whole; neither is the course's record."""
    fake = {"protocol": {"seeds": [0, 1]}, "results": [{"model": "I-AutoRec", "config": "tuned", "random": {
        "test": [0.5, 0.7], "labels": [0, 1], "test_mean": 0.6, "test_sd": 0.1414213562373095}}]}
    cut = record()
    cut["protocol"]["seeds"] = [0, 1, 2, 3]
    cut["results"][TUNED]["random"] = part(TEST[:4], VALID[:4])
    other = record()  # five other values, as another reproduction would write them
    other["results"][TUNED]["random"] = part([v + 0.001 for v in TEST], VALID)
    for rec, values in ((fake, [0.5, 0.7]), (cut, TEST[:4]), (other, [v + 0.001 for v in TEST])):
        with pytest.raises(CheckFailed, match="not those of the course's record"):
            ch09.check_mean_sd({"mean": float(np.mean(values)), "sd": float(np.std(values, ddof=1))}, rec)


def test_mean_sd_refuses_a_record_changed_by_accident():
    """The reviewer's: `t = entry(...)["test"]; t.remove(max(t))` changes the record itself; keeping the
    three best seeds, too. Either gives a mean and sd of fewer seeds than the protocol ran."""
    for change in (lambda t: t.remove(max(t)), lambda t: t.__setitem__(slice(None), sorted(t)[:3]),
                   lambda t: t.__setitem__(0, 0.85)):
        rec = record()
        values = rec["results"][TUNED]["random"]["test"]
        change(values)
        with pytest.raises(CheckFailed, match="not as scripts/reproduce.py wrote them"):
            ch09.check_mean_sd({"mean": float(np.mean(values)), "sd": float(np.std(values, ddof=1))}, rec)


def test_mean_sd_names_rounded_statistics():
    right = {"mean": float(np.mean(TEST)), "sd": float(np.std(TEST, ddof=1))}
    for key in right:
        digits = next(d for d in (4, 3) if abs(round(right[key], d) - right[key]) > ch09.STAT_TOL)
        with pytest.raises(CheckFailed, match="looks rounded"):
            ch09.check_mean_sd({**right, key: round(right[key], digits)}, record())


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

ANSWERS = {"A": "user-rows", "B": "test-epoch", "C": "test-input", "D": "none"}  # the notebook's solution


def test_snippets_accepts_the_pitfall_each_commits(capsys):
    ch09.check_snippets(dict(ANSWERS))
    assert capsys.readouterr().out.startswith("correct:")


def test_snippets_gives_one_message_for_every_wrong_choice():
    """Whichever snippet is wrong and whatever it names, the words are the same: trying every option one
    snippet at a time tells nothing (the reviewers found all four answers in 10 calls)."""
    messages = set()
    for name in ANSWERS:
        for wrong in ch09.PITFALLS:
            if wrong != ANSWERS[name]:
                with pytest.raises(CheckFailed, match="not all four answers are right yet") as err:
                    ch09.check_snippets({**ANSWERS, name: wrong})
                messages.add(str(err.value))
    assert len(messages) == 1
    assert not any(name in next(iter(messages)) for name in ("'A'", "'B'", "'C'", "'D'"))


@pytest.mark.parametrize("answers, message", [
    ({"A": "user-rows", "B": "test-epoch", "C": "test-input"}, "one entry per snippet"),
    ({**ANSWERS, "A": "c"}, "not one of"),
    ({**ANSWERS, "A": ["user-rows"]}, "not one of"),
    ({**ANSWERS, "B": {"test-epoch"}}, "not one of"),
    (["user-rows", "test-epoch", "test-input", "none"], "dict"),
])
def test_snippets_rejects_malformed_answers(answers, message):
    with pytest.raises(CheckFailed, match=message):
        ch09.check_snippets(answers)


def test_no_public_name_or_plain_text_holds_the_snippet_answers():
    import inspect

    source = inspect.getsource(ch09)
    assert not any(f'"{name}": "{choice}"' in source for name, choice in ANSWERS.items())
    assert not hasattr(ch09, "SNIPPET_HINTS") and not hasattr(ch09, "_SNIPPET_ANSWERS")
    assert set(ch09.SNIPPETS) == set(ANSWERS)
    assert set(ANSWERS.values()) == set(ch09.PITFALLS)  # every pitfall is used once


def test_no_digest_gives_one_snippets_answer_away():
    """The reviewer's attack: SHA-256 of "<snippet>:<pitfall>" for the 16 pairs, matched against what the
    module holds. Now the module holds one slow digest of all four answers together, and none of its
    strings is the plain digest of one answer (in any of the forms tried)."""
    import hashlib
    import inspect

    source = inspect.getsource(ch09)
    for name in ch09.SNIPPETS:
        for choice in ch09.PITFALLS:
            for text in (f"{name}:{choice}", f"{name}={choice}", choice):
                for algorithm in ("sha256", "sha1", "md5", "sha512"):
                    assert hashlib.new(algorithm, text.encode()).hexdigest() not in source
    assert not hasattr(ch09, "_SNIPPET_DIGESTS")
    assert ch09.SNIPPET_ITERATIONS >= 1_000_000  # each try of a combination costs that many SHA-256 rounds
    assert ch09._snippets_digest(ANSWERS) == ch09._SNIPPETS_DIGEST
    assert ch09._snippets_digest({**ANSWERS, "A": "none", "D": "user-rows"}) != ch09._SNIPPETS_DIGEST


# --------------------------------------------------------------------------------------------
# Exercise 3
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """I-AutoRec with the course's settings, as Sec. 9.4 trains `run`."""
    folder = write_ml100k(tmp_path_factory.mktemp("ch09") / "ml-100k", n_users=60, n_items=50, density=0.3, seed=2)
    data = datasets.load("ml-100k", folder)
    split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)
    run = experiment.train(data, split, "autorec", "item", progress=False, eval_test=False)
    return data, split, run


def solution(data, split, run) -> dict:
    inputs = pd.concat([split.train, split.valid], ignore_index=True)
    model = ch09.leaky_learner(run, inputs, data)
    return {"honest": run.scores["valid"].rmse,
            "leaky": metrics.evaluate(model.predict, split.valid, split.train, data.scale).rmse}


def test_leak_accepts_the_validation_rescore(trained, capsys):
    data, split, run = trained
    leak = solution(data, split, run)
    assert abs(leak["leaky"] - leak["honest"]) > 1e-4  # the leak changes the score
    ch09.check_leak_on_valid(leak, run, split, data)
    out = capsys.readouterr().out
    assert out.startswith("correct:") and ("falls" if leak["leaky"] < leak["honest"] else "does not profit") in out


def test_leak_lowers_the_validation_rmse_of_a_network_that_can_copy(tmp_path):
    """What the exercise measures: on data where a weakly penalised network learns to copy, the leak helps.
    (The check itself only takes the course's run.)"""
    data = datasets.load("ml-100k", write_ml100k(tmp_path / "ml-100k", n_users=60, n_items=50, density=0.3, seed=2))
    split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)
    run = experiment.train(data, split, "autorec", "item", progress=False, eval_test=False,
                           hidden=20, epochs=30, lam=1.0, batch_size=16, lr=1e-2)
    leak = solution(data, split, run)
    assert leak["leaky"] < leak["honest"]


@pytest.mark.parametrize("changes, message", [
    ({"epochs": 2}, "'epochs': 2"),  # the reviewer's 2-epoch run
    ({"lam": 1.0, "epochs": 20}, "'lam': 1.0"),
    ({"hidden": 20}, "not the course's I-AutoRec model")])
def test_leak_refuses_a_run_other_than_the_courses(trained, changes, message):
    data, split, _ = trained
    other = experiment.train(data, split, "autorec", "item", progress=False, eval_test=False, **changes)
    with pytest.raises(CheckFailed, match=message):
        ch09.check_leak_on_valid(solution(data, split, other), other, split, data)


def test_leak_refuses_a_warm_started_run_a_run_on_other_ratings_and_a_swapped_split(trained):
    data, split, run = trained
    warm = experiment.train(data, split, "autorec", "item", progress=False, eval_test=False,
                            init_weights=run.learner.get_weights())
    with pytest.raises(CheckFailed, match="started from given weights"):
        ch09.check_leak_on_valid(solution(data, split, warm), warm, split, data)
    leaky = dataclasses.replace(split, train=pd.concat([split.train, split.valid], ignore_index=True))
    on_more = experiment.train(data, leaky, "autorec", "item", progress=False, eval_test=False)
    with pytest.raises(CheckFailed, match="not trained"):
        ch09.check_leak_on_valid(solution(data, split, on_more), on_more, split, data)
    swapped = dataclasses.replace(split, valid=split.test, test=split.valid)
    with pytest.raises(CheckFailed, match="valid and test parts are not what splits.make_split makes"):
        ch09.check_leak_on_valid(solution(data, swapped, run), run, swapped, data)


def test_leak_names_rounded_scores(trained):
    data, split, run = trained
    leak = solution(data, split, run)
    for key in leak:
        assert abs(round(leak[key], 4) - leak[key]) > ch09.RMSE_TOL
        with pytest.raises(CheckFailed, match="looks rounded"):
            ch09.check_leak_on_valid({**leak, key: round(leak[key], 4)}, run, split, data)


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
    run = experiment.train(data, split, "autorec", "item", progress=False, eval_test=False, seed=seed)
    leak = solution(data, split, run)
    ch09.check_leak_on_valid({k: np.float32(v) for k, v in leak.items()}, run, split, data)
    assert capsys.readouterr().out.startswith("correct:")


def test_leak_and_mean_sd_checks_pass_what_crosses_to_the_grader(trained, tmp_path, capsys):
    """The grader rebuilds the run from its checkpoint, the split, the record and the numbers from plain data."""
    from test_grading_units import carry

    data, split, run = trained
    values = {"leak": solution(data, split, run), "run": run, "split": split, "data": data, "record": record(),
              "stats": {"mean": float(np.mean(TEST)), "sd": float(np.std(TEST, ddof=1))}}
    got, problems = carry(tmp_path, values, load_data=lambda name: data)
    assert problems == {}
    ch09.check_leak_on_valid(got["leak"], got["run"], got["split"], got["data"])
    ch09.check_mean_sd(got["stats"], got["record"])
    assert capsys.readouterr().out.count("correct:") == 2


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
    with pytest.raises(CheckFailed, match="was not trained on the 'random' split you passed"):
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
    blind = dataclasses.replace(split, test=split.test.assign(rating=np.nan))  # any use of a test rating would fail
    ch09.check_leak_on_valid(solution(data, split, run), run, blind, data)
    assert capsys.readouterr().out.startswith("correct:")
