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
