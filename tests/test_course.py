"""The course's own consistency: pins, the README's commands, notebook pairs, the exercise copy."""
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))


def _pins(requirements) -> dict[str, str]:
    pins = {}
    for req in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^;\s]+)", req.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_environment_yml_names_the_same_versions_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pyproject = {}
    for group in project["optional-dependencies"].values():
        pyproject.update(_pins(group))
    text = (ROOT / "environment.yml").read_text()
    conda = _pins(line.strip().lstrip("- ") for line in text.splitlines() if "==" in line)
    assert conda == pyproject
    assert {"torch": "2.13.0", "mxnet": "1.9.1", "numpy": "1.23.5"}.items() <= pyproject.items()
    assert "- python=3.11" in text and project["requires-python"] == ">=3.11"


def test_ci_runs_the_test_command_the_readme_gives():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = re.findall(r"^make (\w+)$", readme, flags=re.M)
    assert {"course", "test"} <= set(commands)
    assert re.search(r"^make test$", ci, flags=re.M)


def test_readme_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    for nb in NOTEBOOKS:
        assert nb.name in readme, f"README does not list {nb.name}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_and_its_jupytext_pair_are_in_sync(notebook):
    jupytext = pytest.importorskip("jupytext")
    pair = notebook.with_suffix(".py")
    assert pair.exists(), f"{notebook.name} has no percent-format pair {pair.name}"
    assert jupytext.writes(jupytext.read(notebook), fmt="py:percent") == pair.read_text(), \
        f"{notebook.name} and {pair.name} differ: run `jupytext --sync {pair.relative_to(ROOT)}`"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_teaches_to_the_course_template_and_stores_outputs(notebook):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(notebook, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for heading in ("What you will learn", "## Summary", "Exercises" if "06" not in notebook.name else "## Exercise 1"):
        assert heading in text, f"{notebook.name} lacks '{heading}'"
    assert any("results" in c.metadata.get("tags", []) for c in nb.cells)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), f"{notebook.name} is not fully executed"


def test_student_exercise_notebook_is_generated_from_the_solutions():
    pytest.importorskip("nbformat")
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_student.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    student = (ROOT / "notebooks" / "student" / "06_exercises.ipynb").read_text()
    assert "my_masked_loss(pred, target, mask):\\n    return" not in student
    assert student.count("NotImplementedError(") == 5


def test_every_exercise_check_has_a_reference():
    import json
    from autorec_lib import exercises
    refs = json.loads(exercises.REFERENCE_FILE.read_text())
    assert set(refs) == {"hidden_sweep", "activations", "deep", "dropout"}
    assert set(refs["hidden_sweep"]) == {str(k) for k in exercises.HIDDEN_SIZES}


def test_exercise_checks_reject_wrong_answers():
    from autorec_lib import exercises
    with pytest.raises(exercises.CheckFailed, match="missing hidden sizes: 500"):
        exercises.check_hidden_sweep({k: 0.9 for k in exercises.HIDDEN_SIZES[:-1]})
    ref = {int(k): v for k, v in __import__("json").loads(exercises.REFERENCE_FILE.read_text())["hidden_sweep"].items()}
    with pytest.raises(exercises.CheckFailed, match="differs from the reference"):
        exercises.check_hidden_sweep({k: v + 0.05 for k, v in ref.items()})
    exercises.check_hidden_sweep({k: v + 0.005 for k, v in ref.items()})  # within tolerance


def test_masked_loss_check_catches_a_mean_and_a_missing_mask():
    pytest.importorskip("torch")
    from autorec_lib import exercises
    with pytest.raises(exercises.CheckFailed, match="average"):
        exercises.check_masked_loss(lambda p, t, m: (((p - t) * m) ** 2).sum() / m.sum())
    with pytest.raises(exercises.CheckFailed):
        exercises.check_masked_loss(lambda p, t, m: ((p - t) ** 2).sum())
    exercises.check_masked_loss(lambda p, t, m: (((p - t) * m) ** 2).sum())
