"""The README is the course's front door, and nothing on it may rot: every command it gives is run
by a named test or by CI (RUN_BY; the few that cannot be are named in NOT_RUN with the reason), its
ten lines of Python run, and its chapter times and results table are what the website computes
from the notebooks and the record (scripts/build_site.py)."""
from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
JUPYTERLAB_TEST = "tests/test_jupyterlab.py::test_a_learner_opens_make_lab_types_the_solutions_into_chapter_1_and_runs_it_all"
# Each README command -> (who runs it: a file, or file::test function; a string that must appear in
# that file or function, showing that it runs the command).
RUN_BY = {
    "make course": ("tests/test_make_targets.py::test_make_course_executes_the_notebooks_and_prints_their_results",
                    '_make(course, "course")'),
    "make lab": (JUPYTERLAB_TEST, '"make", "--no-print-directory", "lab"'),
    # the recipe of `make lab`, which that test runs with VENV set to the environment under test
    ".venv/bin/jupyter lab notebooks/student": (JUPYTERLAB_TEST, "$(VENV)/bin/jupyter lab notebooks/student"),
    "jupyter lab notebooks/student": (JUPYTERLAB_TEST, "$(VENV)/bin/jupyter lab notebooks/student"),
    "make test": (".ci/run", "\nmake test\n"),
    "make site": ("tests/test_site.py", '"site", f"PY={sys.executable}"'),
    "make sync": ("tests/test_make_targets.py::"
                  "test_make_sync_regenerates_a_notebook_from_its_twin_executes_it_and_remakes_the_learners_copy",
                  '_make(course, "sync")'),
    "make grade SUBMISSIONS=submissions/ OUT=grades JOBS=2": (
        "tests/test_grading_units.py::test_make_grade_runs_the_grader_in_the_course_environment",
        '"grade", f"SUBMISSIONS={folder}"'),
    "python -m autorec_lib grade submissions/ --out grades --jobs 2": (
        "tests/test_grading.py", '"-m", "autorec_lib", "grade", str(folder), "--out", str(out)'),
}
NOT_RUN = {
    "conda env create -f environment.yml": "no conda on CI's machine; tests/test_course.py checks that "
                                           "environment.yml names the same versions as pyproject.toml",
    "conda activate autorec": "needs the conda environment above",
}
COMMAND_WORDS = {"make", "python", "python3", "pip", "conda", "jupyter", "npm", "npx", "apt-get", "apt",
                 "pytest", "torchrun", "export", "bash", "sh", "git", "cd", "source", "docker"}


sys.path.insert(0, str(ROOT / "scripts"))
import build_site  # noqa: E402
import colab_cell  # noqa: E402


def readme_commands(text: str) -> list[str]:
    """The shell commands in ``text``: every line of a fenced block that is not Python, and every
    inline code span that starts with a command word and its arguments (`make` alone names the
    tool) or with a path into an environment's bin/."""
    commands = []
    for language, body in re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.M | re.S):
        if language not in ("python", "py", "pycon"):
            commands += [line.split(" #")[0].strip() for line in body.splitlines()
                         if line.strip() and not line.lstrip().startswith("#")]
    prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    for span in re.findall(r"`([^`\n]+)`", prose):
        words = span.split()
        if (len(words) > 1 and words[0] in COMMAND_WORDS) or (words and re.match(r"^\.?[\w./-]*/bin/\w", words[0])):
            commands.append(span.strip())
    return list(dict.fromkeys(commands))


def _runner_text(runner: str) -> str:
    """The text of a file, or the source of one test function in it (which must exist)."""
    path, _, function = runner.partition("::")
    text = (ROOT / path).read_text()
    if not function:
        return text
    found = [node for node in ast.walk(ast.parse(text))
             if isinstance(node, ast.FunctionDef) and node.name == function]
    assert found, f"{runner}: no such test"
    return ast.get_source_segment(text, found[0])


def test_the_command_finder_reads_blocks_and_inline_commands_and_skips_python_and_names():
    text = ("Run\n\n```sh\nmake course   # set up\n# a comment\nmake lab\n```\n\n```python\nimport os\n```\n\n"
            "then `make site` or `.venv/bin/jupyter lab x`; the tool `make`, the folder `notebooks/`, `AUTOREC_DATA`.\n")
    assert readme_commands(text) == ["make course", "make lab", "make site", ".venv/bin/jupyter lab x"]


def test_every_readme_command_is_run_by_a_named_test_or_by_ci():
    commands = readme_commands(README.read_text())
    assert {"make course", "make lab", "make test"} <= set(commands)
    unlisted = [c for c in commands if c not in RUN_BY and c not in NOT_RUN]
    assert not unlisted, f"README commands that nothing runs (add them to RUN_BY with their test): {unlisted}"
    stale = [c for c in [*RUN_BY, *NOT_RUN] if c not in commands]
    assert not stale, f"listed here but no longer in the README: {stale}"
    for command, (runner, evidence) in RUN_BY.items():
        assert evidence in _runner_text(runner), f"{runner} does not run `{command}` (no {evidence!r} in it)"


def test_the_readmes_lab_command_is_the_recipe_of_make_lab():
    recipe = (ROOT / "Makefile").read_text().split("\nlab:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    runs = [line.strip() for line in recipe if line.startswith("\t") and not line.startswith("\t@")]
    assert [line.replace("$(VENV)", ".venv") for line in runs] == [".venv/bin/jupyter lab notebooks/student"]


def test_the_readme_names_every_prerequisite():
    start = build_site.readme_section(README.read_text(), "start")
    flat = " ".join(start.split())
    for needed in ("`make`", "Python 3.11", "Python 3.12 if it finds one (Colab's), else 3.13, else 3.11",
                   "Node.js with npm", "Chromium", "`chromium-driver`", "`AUTOREC_DATA`"):
        assert needed in flat, f"the README's start does not name {needed}"
    makefile = (ROOT / "Makefile").read_text()
    assert "CURRENT_VERSIONS ?= 3.12 3.13 3.11" in makefile  # the order the README states


def test_the_first_screen_starts_people_on_colab_locally_and_with_conda():
    text = README.read_text()
    first_screen = text[:text.index("## The chapters")]
    learner = colab_cell.launch_url(ROOT / "notebooks" / "student" / "01_setup_and_data.ipynb")
    assert learner in first_screen
    for route in ("**1. On Colab", "**2. On your own machine", "**3. With conda"):
        assert route in first_screen
    assert "make lab" in first_screen and "conda env create -f environment.yml" in first_screen


def test_the_readmes_chapter_times_are_the_ones_the_site_computes():
    text = README.read_text()
    expected = build_site.readme_chapter_times(ROOT / "notebooks")
    shown = dict(re.findall(r"^\| \[`(0\d_\w+\.ipynb)`\]\([^)]*\) \| ([^|]+?) \|", text, flags=re.M))
    assert shown == expected, ("the README's chapter times differ from the notebooks' estimate; "
                               "`python scripts/build_site.py --print-readme` prints them")
    assert build_site.TIME_METHOD in " ".join(text.split()), "the README no longer says how the times are estimated"
    total = sum(build_site.chapter_time(p)["total"] for p in build_site.chapters(ROOT / "notebooks"))
    assert f"add up to about {round(total / 60)} hours" in " ".join(text.split())


def test_the_readmes_results_table_is_the_one_made_from_the_record():
    section = build_site.readme_section(README.read_text(), "results")
    made = build_site.results_table(build_site.read_record(ROOT / "notebooks"))
    assert section == made, "the README's results differ from the record: `python scripts/build_site.py --print-readme`"
    assert "s_per_epoch" not in section and "gflops" not in section


def test_the_readmes_ten_lines_of_python_run(ml100k, tmp_path):
    blocks = re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.M | re.S)
    assert len(blocks) == 1, "the README has one Python example, the practitioners' ten lines"
    code = blocks[0]
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    rmse = float(re.fullmatch(r"test RMSE (\d\.\d{4})", lines[0]).group(1))
    assert 0.85 < rmse < 0.95, lines[0]          # I-AutoRec with the course's defaults on ML-100K
    assert (tmp_path / "i-autorec.npz").is_file()
    assert re.fullmatch(r"\[\d\.\d+(, \d\.\d+)\]|\[ *\d\.\d+ +\d\.\d+ *\]", lines[-1]), lines[-1]
