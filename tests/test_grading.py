"""Grading a class (issue 23): ``python -m autorec_lib grade`` on a synthetic class of chapter 1.

The class is built from the committed solution notebook and the learner's copy (so it follows them as
they change): the solution written into the copy's stubs and the blank copy (two learners with the same
file name in two folders), partial and wrong answers, a notebook that tampers with the checks, one
that loops forever after the first exercise, one that crashes in the middle, one whose answers are
crafted pickles, files that are not notebooks, the solution notebook itself and a notebook of no known chapter. The
class is graded once (``--jobs 2``) by the command line, in a subprocess, and each test reads the
result. Wrong answers are made without knowing an answer's keys: every number in the answer is changed.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from autorec_lib import datasets
from autorec_lib.grading import book, manifest, plain, run, sandbox

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "notebooks" / "01_setup_and_data.ipynb"
LEARNER = ROOT / "notebooks" / "student" / SOLUTION.name
TIMEOUT = 45  # seconds per notebook in the class run: chapter 1 takes about 13 with two at once on two busy cores
PERTURB = '''
def _perturbed(value):  # every number changed, whatever the answer's shape
    if isinstance(value, dict):
        return {k: _perturbed(v) for k, v in value.items()}
    if isinstance(value, (bool, np.bool_)):
        return not value
    if isinstance(value, (int, float, np.number)):
        return value * 1.5 + 1
    return value
'''
TAMPER = '''
import autorec_lib.exercises as _exercises
from autorec_lib.exercises import ch01 as _ch01
for _name in dir(_ch01):  # every check now "passes" in this kernel
    if _name.startswith("check_"):
        setattr(_ch01, _name, lambda *args, **kwargs: print("correct: well done"))
_exercises.fail = lambda message: None
data.ratings["rating"] = 5.0  # the reference data, edited inside the kernel
print("correct: all three exercises")
'''
ESCAPES = '''
import os, socket
_escapes = []
for _target in {targets!r}:  # the submissions folder and the gradebook's folder
    try:
        with open(os.path.join(_target, "written-by-a-learner.txt"), "w") as _f:
            _f.write("x")
        if os.listdir(_target) != ["written-by-a-learner.txt"]:  # the real folder, not an empty stand-in
            _escapes.append(f"wrote into {{_target}}")
    except OSError:
        pass
if os.path.exists({alice!r}):
    _escapes.append("saw another learner's notebook")
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3).close()
    _escapes.append("reached the network")
except OSError:
    pass
if _escapes:
    raise RuntimeError("escaped: " + ", ".join(_escapes))
'''
PICKLES = '''
import itertools
import numpy as np
import torch
import autorec_lib.grading.plain as _plain

class _Payload:  # unpickling it anywhere would create the marker file
    def __reduce__(self):
        return (open, ({marker!r}, "w"))

_kinds = itertools.cycle(["ndarray", "tensor", "result"])

def _forged(value, files, depth=0):  # the kernel's encoder replaced: every value becomes a pickle
    kind = next(_kinds)
    name, path = files.new({{"ndarray": ".npy", "tensor": ".pt", "result": ".npz"}}[kind])
    if kind == "ndarray":
        np.save(path, np.array([_Payload()], dtype=object), allow_pickle=True)
        return {{"$": "ndarray", "file": name}}
    if kind == "tensor":
        torch.save({{"weights": _Payload()}}, path)
        return {{"$": "tensor", "file": name}}
    np.savez(path, __meta__=np.array([_Payload()], dtype=object))
    return {{"$": "result", "checkpoint": name, "history": None, "scores": None, "data": None, "split": None,
            "device": "cpu", "seconds": 0.0}}

_plain.encode = _forged
'''


def read(path: Path):
    return nbformat.read(path, as_version=4)


def filled(exercises: set[str] | None = None):
    """The learner's copy with the solution written into the stubs (of ``exercises`` only, when given)."""
    solution = {c.id: c for c in read(SOLUTION).cells}
    nb = read(LEARNER)
    for cell in nb.cells:
        original = solution.get(cell.id)
        if original is not None and manifest.is_solution_cell(original) and (exercises is None or cell.id in exercises):
            cell.source = original.source
    return nb


def cell(nb, cell_id: str):
    return next(c for c in nb.cells if c.id == cell_id)


def add(nb, cell_id: str, code: str, before: bool = False):
    target = cell(nb, cell_id)
    target.source = f"{code}\n{target.source}" if before else f"{target.source}\n{code}"
    return nb


def answer_of(check: manifest.Check) -> str:
    """The name the check's first argument is stored under (a plain name in every chapter-1 check)."""
    assert check.args[0].source.isidentifier(), check.args[0].source
    return check.args[0].source


def wrong(nb, check: manifest.Check):
    first = answer_of(check)
    return add(nb, check.exercise_cells[-1], f"{PERTURB}\n{first} = _perturbed({first})")


def build_class(folder: Path, out: Path, marker: Path, chapter: manifest.Chapter) -> dict[str, Path]:
    c1, c2, c3 = chapter.checks
    ex = [c.exercise_cells[0] for c in chapter.checks]
    folder.mkdir()
    notebooks = {  # two learners named alice, in two groups: the solution filled in, and the blank copy
        "groupA/alice": filled(),
        "groupB/alice": read(LEARNER),
        "partial": wrong(filled({ex[0], ex[1]}), c2),  # 1 right, 2 wrong, 3 not attempted
        "wrong": wrong(wrong(wrong(filled(), c1), c2), c3),
        "tamper": add(wrong(wrong(wrong(filled(), c1), c2), c3), ex[0], TAMPER + ESCAPES.format(
            targets=[str(folder), str(out)], alice=str(folder / "groupA" / "alice.ipynb")), before=True),
        # after the first exercise; it sleeps, so that the other notebooks keep the second core
        "loop": add(filled(), ex[1], "import time\nwhile True:\n    time.sleep(0.1)", before=True),
        "crash": add(filled(), ex[1], "1 / 0", before=True),  # in the middle
        "pickles": add(filled(), ex[0], PICKLES.format(marker=str(marker)), before=True),
    }
    unknown = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("x")])
    notebooks["unknown"] = unknown
    paths = {}
    for name, nb in notebooks.items():
        path = folder / f"{name}.ipynb"
        path.parent.mkdir(exist_ok=True)
        nbformat.write(nb, path)
        paths[name] = path
    (folder / "solution.ipynb").write_bytes(SOLUTION.read_bytes())
    (folder / "notes.ipynb").write_text("my answers are in the email\n")
    (folder / "answers.txt").write_text("42\n")
    return paths


@pytest.fixture(scope="module")
def chapter():
    return manifest.read_chapter(SOLUTION)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, ml100k, chapter):
    """The class, graded once by the command line: (gradebook rows by learner, the run's output, paths)."""
    try:
        datasets.locate("ml-latest-small", download=False)
    except datasets.DataError as err:
        if os.environ.get("AUTOREC_REQUIRE_REAL_DATA") == "1":
            pytest.fail(f"real data required but missing: {err}")
        pytest.skip(f"chapter 1 also needs ml-latest-small: {err}")
    base = tmp_path_factory.mktemp("grading")
    folder, out, marker = base / "class", base / "grades", base / "pickle-ran"
    paths = build_class(folder, out, marker, chapter)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "autorec_lib", "grade", str(folder), "--out", str(out),
                           "--jobs", "2", "--timeout", str(TIMEOUT), "--no-progress"],
                          capture_output=True, text=True, env=env, timeout=600)
    seconds = time.monotonic() - start
    print(f"graded the class of {len(paths) + 3} files in {seconds:.0f} s")
    assert done.returncode == 0, done.stderr
    with open(out / "gradebook.csv", newline="") as f:
        rows = {r["learner"]: r for r in csv.DictReader(f)}
    return {"rows": rows, "stdout": done.stdout, "folder": folder, "out": out, "marker": marker, "paths": paths,
            "before": before, "seconds": seconds}


def statuses(graded, learner, chapter):
    return [graded["rows"][learner][c.column] for c in chapter.checks]


@pytest.mark.realdata
def test_gradebook_has_a_row_per_submission_and_a_column_per_check(graded, chapter):
    rows = graded["rows"]
    assert sorted(rows) == sorted(["groupA/alice", "groupB/alice", "partial", "wrong", "tamper", "loop", "crash",
                                   "pickles", "unknown", "solution", "notes", "answers"])
    header = list(next(iter(rows.values())))
    assert header == ["learner", "chapter", *[c.column for c in chapter.checks], "points", "possible", "note"]
    assert [c.column for c in chapter.checks] == ["ch01.check_latest_small", "ch01.check_heavy_vs_light",
                                                  "ch01.check_holdout"]


@pytest.mark.realdata
@pytest.mark.parametrize("learner, expected", [
    ("groupA/alice", ["pass", "pass", "pass"]),  # the solution written into the learner's copy
    ("groupB/alice", ["missing", "missing", "missing"]),  # the blank copy
    ("partial", ["pass", "fail", "missing"]),
    ("wrong", ["fail", "fail", "fail"]),
    ("loop", ["pass", "timeout", "timeout"]),
    ("crash", ["pass", "error", "pass"]),
])
def test_each_learner_gets_what_their_notebook_earned(graded, chapter, learner, expected):
    row = graded["rows"][learner]
    assert statuses(graded, learner, chapter) == expected
    assert (row["chapter"], row["points"], row["possible"]) == ("01_setup_and_data", str(expected.count("pass")), "3")


@pytest.mark.realdata
def test_a_notebook_cannot_grade_itself(graded, chapter):
    """Monkeypatched checks, edited reference data and printed 'correct' earn nothing for wrong answers."""
    text = (graded["out"] / "feedback" / "tamper.md").read_text()
    assert statuses(graded, "tamper", chapter) == ["fail", "fail", "fail"], text  # the feedback says why
    assert "well done" not in text and "all three exercises" not in text


@pytest.mark.realdata
def test_crafted_pickles_earn_nothing_and_run_nothing(graded, chapter):
    assert statuses(graded, "pickles", chapter) == ["fail", "fail", "fail"]
    assert not graded["marker"].exists()
    text = (graded["out"] / "feedback" / "pickles.md").read_text()
    assert "cannot be graded" in text


@pytest.mark.realdata
def test_files_that_are_not_learners_copies_are_reported_by_name(graded):
    rows = graded["rows"]
    assert rows["notes"]["note"].startswith("not a readable Jupyter notebook")
    assert rows["answers"]["note"] == "not a notebook (only .ipynb files are graded)"
    assert rows["solution"]["note"].startswith("this is a solution notebook")
    assert rows["unknown"]["note"].startswith("unknown chapter")
    for learner in ("notes", "answers", "solution", "unknown"):
        assert rows[learner]["points"] == "" and f"{learner}: not graded:" in graded["stdout"]


@pytest.mark.realdata
def test_feedback_gives_each_exercise_its_status_and_the_checks_message(graded, chapter):
    feedback = graded["out"] / "feedback"
    assert sorted(str(p.relative_to(feedback)) for p in feedback.rglob("*.md")) == sorted(
        f"{name}.md" for name in graded["rows"])
    alice = (feedback / "groupA" / "alice.md").read_text()
    for check in chapter.checks:
        assert f"## {check.column}: pass" in alice
    assert alice.count("correct: ") == 3
    crash = (feedback / "crash.md").read_text()
    assert "ZeroDivisionError" in crash
    loop = (feedback / "loop.md").read_text()
    assert f"the time limit of {TIMEOUT} s ran out" in loop
    assert "NotImplementedError" in (feedback / "groupB" / "alice.md").read_text()
    for learner in ("groupA/alice", "groupB/alice", "loop"):
        assert f"{learner}: 01_setup_and_data" in graded["stdout"]  # one summary line each


@pytest.mark.realdata
def test_learners_cannot_touch_the_submissions_or_each_other(graded, chapter):
    """Where namespaces work, a kernel writes nothing into the submissions or the gradebook's folder, sees no
    other learner's notebook and reaches no network (the tampering notebook tries all three)."""
    if "submissions and gradebook hidden" not in graded["stdout"]:
        pytest.skip("no namespaces here: the kernels can reach what the grader's user can (the run says so)")
    after = sorted(p.relative_to(graded["folder"]) for p in graded["folder"].rglob("*"))
    assert after == graded["before"]
    assert not (graded["out"] / "written-by-a-learner.txt").exists()
    assert statuses(graded, "tamper", chapter)[0] == "fail"
    assert "escaped" not in (graded["out"] / "feedback" / "tamper.md").read_text()


@pytest.mark.realdata
def test_the_class_grades_within_the_test_budget(graded):
    assert graded["seconds"] < 150, f"grading the class took {graded['seconds']:.0f} s"


@pytest.mark.realdata
def test_grading_the_same_files_again_gives_the_same_rows(graded, tmp_path):
    again = book.grade_class([graded["paths"]["crash"], graded["folder"] / "notes.ipynb"],
                             tmp_path / "again", timeout=TIMEOUT, jobs=2, progress=False)
    rows = book.gradebook_rows(again, manifest.course_chapters())
    first = graded["rows"]
    for row in rows[1:]:
        assert row == list(first[row[0]].values())
