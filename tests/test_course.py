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


def test_learners_copies_are_generated_from_the_solution_notebooks():
    pytest.importorskip("nbformat")
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_student.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_checked_exercises_and_a_learners_copy_without_answers(notebook):
    nbformat = pytest.importorskip("nbformat")
    solution = nbformat.read(notebook, as_version=4)
    tags = lambda c: c.metadata.get("tags", [])
    solutions = [c for c in solution.cells if c.cell_type == "code" and "solution" in tags(c)]
    assert solutions, f"{notebook.name} has no solution cells"
    student = nbformat.read(ROOT / "notebooks" / "student" / notebook.name, as_version=4)
    stubs = [c for c in student.cells if "exercise" in tags(c)]
    assert len(stubs) == len(solutions)
    assert all("NotImplementedError" in c.source for c in stubs)
    kept = {c.source for c in student.cells}
    given_away = [c for c in solution.cells if "answer" in tags(c) or "solution" in tags(c)]
    assert not [c.source[:60] for c in given_away if c.source in kept]
    markdown = [c.source for c in solution.cells if c.cell_type == "markdown"]
    exercises = [s for s in markdown if re.search(r"^#{2,3} Exercise \d", s, flags=re.M)]
    hints = [s for s in markdown if "*Hint:*" in s]
    assert len(hints) >= len(exercises) > 0, f"{notebook.name}: every exercise needs a hint"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_hold_no_progress_bar_frames_widgets_or_machine_paths(notebook):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(notebook, as_version=4)
    assert "widgets" not in nb.metadata, f"{notebook.name} stores stale widget state in its metadata"
    for k, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            text = out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
            assert "\r" not in text, f"{notebook.name} cell {k}: a progress bar's frames were stored"
            assert "application/vnd.jupyter.widget-view+json" not in out.get("data", {}), \
                f"{notebook.name} cell {k}: a widget stub was stored"
            assert not re.search(r"/(work|root|home|tmp)/", text), f"{notebook.name} cell {k}: a machine path"
