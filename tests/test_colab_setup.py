"""The Colab setup cell: one template at the top of every notebook and of every learner's copy,
its repository and ref those of pyproject.toml's [tool.autorec], described as what they are (main is
the development branch, not a pin); on a simulated Colab it installs the library from that source
(here: the local checkout, offline) and finds the data."""
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import write_ml100k

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))
sys.path.insert(0, str(ROOT / "scripts"))
import colab_cell  # noqa: E402

nbformat = pytest.importorskip("nbformat")


def test_pyproject_names_the_repository_and_ref_in_one_table():
    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["autorec"]
    assert set(table) == {"repository", "ref"}
    assert table["repository"] == "https://github.com/autorec-course/autorec-course"
    assert colab_cell.settings() == table


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_starts_with_the_current_setup_cell(notebook):
    first = nbformat.read(notebook, as_version=4).cells[0]
    table = colab_cell.settings()
    assert colab_cell.is_setup_cell(first) and first.cell_type == "code"
    assert first.source == colab_cell.cell_source(), "run `python scripts/colab_cell.py --write`"
    assert f'SOURCE = "git+{table["repository"]}@{table["ref"]}"' in first.source
    assert "datasets.load('ml-100k')" in first.source  # finds the data, or downloads and verifies it


def test_the_setup_cell_survives_into_every_learners_copy():
    for notebook in NOTEBOOKS:
        copy = ROOT / "notebooks" / "student" / notebook.name
        cells = nbformat.read(copy, as_version=4).cells
        assert cells[0].source == colab_cell.cell_source(), copy.name
        assert cells[1].cell_type == "markdown" and cells[2].id == "learners-copy-note"  # title, then the note


def test_the_cell_calls_main_the_development_branch_and_a_tag_a_fixed_ref():
    repository = "https://github.com/autorec-course/autorec-course"
    main = colab_cell.cell_source({"repository": repository, "ref": "main"})
    assert "the repository's development branch, main, as it is on the day this cell runs" in main
    assert "pinned" not in main.lower()
    tag = colab_cell.cell_source({"repository": repository, "ref": "v1.0"})
    assert "the repository at v1.0, a fixed release tag or commit" in tag
    assert "development branch" not in tag and f'SOURCE = "git+{repository}@v1.0"' in tag
    assert all(len(line) <= 100 for line in (main + "\n" + tag).splitlines() if line.startswith("#"))


def test_check_mode_accepts_the_notebooks_and_rejects_a_stale_cell(tmp_path):
    assert colab_cell.main(["--check"]) == 0
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("@" + colab_cell.settings()["ref"] + '"', '@v0.0.1"')
    stale = tmp_path / NOTEBOOKS[0].name
    nbformat.write(nb, stale)
    assert colab_cell.problems(stale, colab_cell.cell_source())


def test_writing_the_cell_into_a_notebook_without_one_numbers_it_first_and_keeps_outputs(tmp_path):
    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("# T"),
                                v4.new_code_cell("1 + 1", execution_count=1,
                                                 outputs=[v4.new_output("execute_result", {"text/plain": "2"},
                                                                        execution_count=1)])])
    path = tmp_path / "07_new.ipynb"
    nbformat.write(nb, path)
    pytest.importorskip("jupytext")
    assert colab_cell.write(path, colab_cell.cell_source())
    assert not colab_cell.write(path, colab_cell.cell_source())  # a second run changes nothing
    cells = nbformat.read(path, as_version=4).cells
    assert colab_cell.is_setup_cell(cells[0]) and cells[0].execution_count == 1
    assert cells[2].execution_count == 2 and cells[2].outputs[0].execution_count == 2
    assert cells[2].outputs[0].data["text/plain"] == "2"


def test_launch_links_open_each_notebook_and_learners_copy_at_the_ref():
    base = ("https://colab.research.google.com/github/autorec-course/autorec-course/blob/"
            f"{colab_cell.settings()['ref']}/notebooks/")
    assert colab_cell.launch_url(NOTEBOOKS[0]) == base + NOTEBOOKS[0].name
    student = NOTEBOOKS[0].parent / "student" / NOTEBOOKS[0].name
    assert colab_cell.launch_url(student) == base + "student/" + NOTEBOOKS[0].name


def _run_cell(source: str, tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    probe = "\nimport sys\nprint('ON_COLAB', ON_COLAB, 'autorec_lib' in sys.modules)\n"
    return subprocess.run([sys.executable, "-c", source + probe], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600, env={**os.environ, **env})


def test_outside_colab_the_setup_cell_does_nothing(tmp_path):
    done = _run_cell(colab_cell.cell_source(), tmp_path, {})
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ON_COLAB False False\n"


def test_on_colab_the_setup_cell_installs_the_library_from_its_source_and_finds_the_data(tmp_path):
    """Colab simulated by a `google.colab` module; the git source at the ref replaced by the checkout."""
    fake = tmp_path / "fake" / "google" / "colab"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    checkout = tmp_path / "checkout"  # what the repository holds at the ref: the files the package needs
    checkout.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, checkout / name)
    shutil.copytree(ROOT / "autorec_lib", checkout / "autorec_lib", ignore=shutil.ignore_patterns("__pycache__"))
    write_ml100k(tmp_path / "data" / "ml-100k")
    target = tmp_path / "site"  # there already, as site-packages is on Colab
    target.mkdir()
    source = colab_cell.cell_source()
    at_ref = f'SOURCE = "git+{colab_cell.settings()["repository"]}@{colab_cell.settings()["ref"]}"'
    assert at_ref in source
    source = source.replace(at_ref, f'SOURCE = "{checkout.as_uri()}"')
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path / "fake"), str(target)]),
           # offline, into a folder of its own, with the dependencies this environment already has
           "PIP_TARGET": str(target), "PIP_NO_DEPS": "1", "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",
           "AUTOREC_DATA": str(tmp_path / "data"), "AUTOREC_CACHE": str(tmp_path / "cache")}
    done = _run_cell(source + "\nimport autorec_lib\nprint('FROM', autorec_lib.__file__)", tmp_path, env)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0] == f"autorec_lib installed from {checkout.as_uri()}; MovieLens 100K at {tmp_path / 'data' / 'ml-100k'}"
    assert lines[1] == f"FROM {target / 'autorec_lib' / '__init__.py'}"
    assert lines[2] == "ON_COLAB True True"
    assert (target / "autorec_lib" / "exercises" / "reference").is_dir()  # package data installed too


def test_the_readme_has_a_colab_launch_link_for_every_notebook():
    readme = (ROOT / "README.md").read_text()
    missing = [nb.name for nb in NOTEBOOKS if colab_cell.launch_url(nb) not in readme]
    assert not missing, f"README lacks Colab links for {missing}: paste `python scripts/colab_cell.py --links`"
