"""scripts/reproduce.py: tuning never sees the test part, and the choice reads validation scores only."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

from autorec_lib import datasets, experiment, splits  # noqa: E402
from conftest import write_ml100k  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def reproduce():
    spec = importlib.util.spec_from_file_location("reproduce", ROOT / "scripts" / "reproduce.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = write_ml100k(tmp_path_factory.mktemp("repro") / "ml-100k", n_users=40, n_items=30, density=0.3)
    data = datasets.load("ml-100k", folder)
    return data, splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)


def test_validation_only_puts_the_validation_part_where_the_test_part_was(reproduce, small):
    _, split = small
    seen = reproduce.validation_only(split)
    assert seen.test.equals(split.valid) and seen.valid.equals(split.valid) and seen.train.equals(split.train)
    keys = lambda frame: set(zip(frame["user"], frame["item"]))
    assert not keys(seen.test) & keys(split.test)


def test_a_tuning_run_hands_the_trainer_no_test_rating_and_records_no_test_score(reproduce, small, monkeypatch):
    data, split = small
    seen = []
    real = experiment.train

    def spy(data, split_, *args, **kwargs):
        seen.append(split_)
        return real(data, split_, *args, **{**kwargs, "epochs": 2})

    monkeypatch.setattr(reproduce.experiment, "train", spy)
    record = reproduce.train_once(data, split, "I-AutoRec", {"hidden": 8}, 0, score_test=False)
    assert "test" not in record and "test_mae" not in record
    assert seen[0].test.equals(split.valid)
    scored = reproduce.train_once(data, split, "I-AutoRec", {"hidden": 8}, 0, score_test=True)
    assert seen[1].test.equals(split.test) and "test" in scored


def test_choose_takes_the_lowest_mean_validation_and_refuses_test_scores(reproduce):
    rows = [{"point": {"lam": 1.0}, "runs": [{"valid": 0.90}, {"valid": 0.88}]},
            {"point": {"lam": 2.0}, "runs": [{"valid": 0.87}, {"valid": 0.92}]}]
    assert reproduce.choose(rows) == {"hidden": 500, "lam": 1.0, "lr": 1e-3}  # defaults fill the rest
    rows[1]["runs"][0]["test"] = 0.5
    with pytest.raises(ValueError, match="test score"):
        reproduce.choose(rows)


def test_refit_trains_on_train_and_validation_without_a_validation_part(reproduce, small):
    _, split = small
    refit = reproduce.refit_split(split)
    assert refit.valid is None and len(refit.train) == len(split.train) + len(split.valid)
    assert refit.test.equals(split.test)


def test_the_cache_resumes_finished_runs(reproduce, tmp_path):
    cache = reproduce.RunCache(tmp_path / "runs.jsonl")
    calls = []
    compute = lambda: calls.append(1) or {"valid": 0.9}
    assert cache.get(["k", 1], compute) == {"valid": 0.9}
    again = reproduce.RunCache(tmp_path / "runs.jsonl")
    assert again.get(["k", 1], compute) == {"valid": 0.9} and len(calls) == 1


def test_the_committed_record_chose_on_validation(reproduce):
    path = ROOT / "notebooks" / "results" / "reproduction.json"
    if not path.exists():
        pytest.skip("no reproduction record yet")
    record = json.loads(path.read_text())
    points = record["tuning"]["points"]
    assert all("test" not in p for p in points)
    best = min(points, key=lambda p: p["valid_mean"])
    assert {k: best[k] for k in record["tuning"]["keys"]} == record["tuning"]["chosen"]


def test_the_cache_drops_a_torn_last_line_and_appends_after_the_good_ones(reproduce, tmp_path, capsys):
    path = tmp_path / "runs.jsonl"
    path.write_text(json.dumps({"key": json.dumps(["k", 1]), "valid": 0.9}) + "\n" + '{"key": "[\\"k\\", 2]", "va')
    cache = reproduce.RunCache(path)
    assert "incomplete" in capsys.readouterr().out
    assert cache.get(["k", 2], lambda: {"valid": 0.8}) == {"valid": 0.8}  # trained again
    again = reproduce.RunCache(path)  # every line parses now
    assert again.runs == {json.dumps(["k", 1]): {"valid": 0.9}, json.dumps(["k", 2]): {"valid": 0.8}}


def test_the_cache_refuses_a_broken_line_before_the_last(reproduce, tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text("not json\n" + json.dumps({"key": json.dumps(["k", 1]), "valid": 0.9}) + "\n")
    with pytest.raises(ValueError, match="line 1, is not JSON"):
        reproduce.RunCache(path)
