"""The README's `make course` and `make sync` do what it says, run here on one small notebook in a copy of
the course (their setup step is skipped: the environment under test is the one running these tests)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "notebooks/03_autorec_derivation.ipynb"  # the quickest chapter to execute
SKIP_SETUP = ["-o", "setup", "-o", "setup-legacy", "-o", "setup-current"]


@pytest.fixture
def course(tmp_path) -> Path:
    """A copy of the course: what make's recipes read and write, never the checkout itself."""
    copy = tmp_path / "course"
    copy.mkdir()
    for name in ("Makefile", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, copy / name)
    for folder in ("notebooks", "scripts", "autorec_lib"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    return copy


def _make(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(course), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    return subprocess.run(["make", "--no-print-directory", *SKIP_SETUP, *args, f"VENV={sys.prefix}",
                           f"NOTEBOOKS={NOTEBOOK}"], cwd=course, env=env, capture_output=True, text=True,
                          timeout=600)


def test_make_course_executes_the_notebooks_and_prints_their_results(course):
    done = _make(course, "course")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    executed = course / "build" / "course" / Path(NOTEBOOK).name
    assert executed.exists() and executed.with_suffix(".html").exists()
    cells = nbformat.read(executed, as_version=4).cells
    assert any(c.get("outputs") for c in cells if c.cell_type == "code")
    assert "03_autorec_derivation" in done.stdout


def test_make_sync_regenerates_a_notebook_from_its_twin_executes_it_and_remakes_the_learners_copy(course):
    twin = course / NOTEBOOK.replace(".ipynb", ".py")
    marker = "# (edited in the twin)"
    twin.write_text(twin.read_text().replace("# %%\nimport", f"# %%\n{marker}\nimport", 1))
    done = _make(course, "sync")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    notebook = nbformat.read(course / NOTEBOOK, as_version=4)
    edited = [c for c in notebook.cells if marker in c.source]
    assert edited and edited[0].execution_count is not None  # regenerated from the twin, then executed
    student = nbformat.read(course / "notebooks" / "student" / Path(NOTEBOOK).name, as_version=4)
    assert any(marker in c.source for c in student.cells)
