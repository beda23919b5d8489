"""The exercises' stored references are data the package only reads; `make reference` writes them."""
import importlib.util
import json
from pathlib import Path

from autorec_lib import exercises

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("record_references", ROOT / "scripts" / "record_references.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_package_has_no_way_to_write_references():
    assert not hasattr(exercises, "write_reference")
    assert not (ROOT / "autorec_lib" / "exercise_reference.json").exists()  # the stale copy nothing read


def test_the_script_writes_into_the_source_tree_that_the_checks_read():
    script = load_script()
    assert script.REFERENCE_DIR == ROOT / "autorec_lib" / "exercises" / "reference"
    assert (script.REFERENCE_DIR / "ch06.json").is_file()


def test_the_script_writes_a_reference_whole_and_the_checks_read_it_back(tmp_path, monkeypatch):
    script = load_script()
    path = script.write_reference("chXX", {"b": 1, "a": [0.5]}, folder=tmp_path)
    assert json.loads(path.read_text()) == {"a": [0.5], "b": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chXX.json"]  # no temporary file left
    monkeypatch.setattr(exercises, "REFERENCE_DIR", tmp_path)
    assert exercises.reference("chXX") == {"a": [0.5], "b": 1}


def test_the_study_cache_resumes_from_every_process_file_and_skips_a_line_cut_short(tmp_path, monkeypatch):
    script = load_script()
    options = {"hidden": (500,), "encoder": "sigmoid", "decoder": "identity", "dropout": 0.0}
    tag = json.dumps([script.option_tag(options), 3, 100.0, False, []])
    done = {"valid": 0.9, "test": 0.91, "best_epoch": 7, "epochs": 27, "stopped_early": True, "curve": [1.0, 0.9],
            "lr": [0.003, 0.003], "seconds": 1.0}
    protocol = script.protocol_id()
    (tmp_path / f"ch06-runs-{protocol}-1.jsonl").write_text(json.dumps({"tag": tag, **done}) + "\n")
    (tmp_path / f"ch06-runs-{protocol}-2.jsonl").write_text('{"tag": "cut sh')  # a process killed mid-line
    (tmp_path / "ch06-runs-0123456789-3.jsonl").write_text(json.dumps({"tag": tag, **done, "valid": 2.0}) + "\n")
    cache = script.RunCache(tmp_path)
    monkeypatch.setattr(script.ch06, "run", lambda *a, **k: (_ for _ in ()).throw(AssertionError("trained again")))
    assert cache.run(None, None, options, 3, 100.0) == done
    assert not cache.path.exists()  # nothing new to write


def test_runs_cached_under_another_protocol_are_not_reused(monkeypatch):
    script = load_script()
    before = script.protocol_id()
    monkeypatch.setattr(script.ch06, "MAX_EPOCHS", script.ch06.MAX_EPOCHS + 1)
    assert script.protocol_id() != before


def test_the_study_trains_each_setting_shared_by_two_groups_once():
    script = load_script()
    groups = script.settings()
    tags = [script.option_tag(o) for entries in groups.values() for o in entries.values()]
    assert len(tags) == 16 and len(set(tags)) == 14  # hidden 500 = sigmoid/identity = dropout 0
