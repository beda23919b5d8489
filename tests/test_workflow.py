"""The instructors' GitHub Actions workflow: valid against the workflow schema (offline), actionlint
where it is installed, and doing what the README promises: `make test` on each stack, pip cached,
the executed notebooks uploaded, a notebook error failing the job."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
yaml = pytest.importorskip("yaml")


def _tool(name: str) -> str | None:
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


def test_there_is_a_workflow():
    assert [p.name for p in WORKFLOWS] == ["course.yml"]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_valid_against_the_github_workflow_schema(workflow):
    checker = _tool("check-jsonschema")
    assert checker, "check-jsonschema is part of the test extra"
    done = subprocess.run([checker, "--builtin-schema", "vendor.github-workflows", str(workflow)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_actionlint_where_it_is_installed(workflow):
    actionlint = _tool("actionlint")
    if not actionlint:
        pytest.skip("actionlint is not installed (its PyPI wrapper downloads it from GitHub when built)")
    done = subprocess.run([actionlint, str(workflow)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflow_runs_the_readme_test_command_on_both_stacks_and_uploads_the_notebooks():
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "course.yml").read_text())
    (job,) = flow["jobs"].values()
    stacks = {entry["stack"]: entry for entry in job["strategy"]["matrix"]["include"]}
    assert set(stacks) == {"legacy", "current"} and job["strategy"]["fail-fast"] is False
    makefile = (ROOT / "Makefile").read_text()
    assert stacks["legacy"]["python"] == re.search(r"^LEGACY_VERSION := (\S+)$", makefile, flags=re.M).group(1)
    assert stacks["current"]["python"] == "3.12"  # Colab's
    steps = job["steps"]
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["cache"] == "pip"
    runs = [s.get("run", "") for s in steps]
    assert any(r.startswith("make test STACKS=${{ matrix.stack }}") for r in runs)
    course = next(s for s in steps if s.get("run", "").startswith("make course"))
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert course["if"] == upload["if"] == "${{ !cancelled() }}"  # the notebooks are uploaded after a failure too
    assert upload["with"]["path"] == "build/course/" and upload["with"]["if-no-files-found"] == "error"
    assert steps.index(course) < steps.index(upload)
