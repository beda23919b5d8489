"""The Colab setup cell: one template, written at the top of every notebook.

On Google Colab the cell installs the course library from its repository at the ref of
``[tool.autorec]`` in pyproject.toml and finds or downloads MovieLens 100K with the library's
checksum-verified loader; anywhere else it does nothing. The ref is ``main``, the development
branch, and the cell says so (it installs the library as it is on the day it runs); to fix a term's
notebooks to a release, set ``ref`` to its tag (or a commit) and run ``--write``: the cell then
names that fixed ref.

    python scripts/colab_cell.py --write [notebooks/NN_name.ipynb ...]   # insert or refresh the cell
    python scripts/colab_cell.py --check                                 # exit 1 if a notebook lacks it
    python scripts/colab_cell.py --links                                 # the README's launch links

``--write`` edits each notebook's JSON (stored outputs kept), regenerates its jupytext ``.py`` twin
and its learner's copy (scripts/make_student.py). A new cell is numbered 1 and the cells after it
one higher, as a top-to-bottom run numbers them (outside Colab the cell prints nothing).
"""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TAG = "colab-setup"
TEMPLATE = '''\
# Setup for Google Colab (elsewhere this cell does nothing): install the course library from
# {where}
# (pyproject.toml's [tool.autorec] names it), and find or download MovieLens 100K (the library
# checks the download's SHA-256 against the digest it ships). Colab's own PyTorch is used; MXNet
# is not available there.
try:
    import google.colab  # noqa: F401  (only Colab has it)
    ON_COLAB = True
except ImportError:
    ON_COLAB = False
if ON_COLAB:
    import subprocess
    import sys

    SOURCE = "git+{repository}@{ref}"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"autorec-lib @ {{SOURCE}}"], check=True)
    from autorec_lib import datasets

    print(f"autorec_lib installed from {{SOURCE}}; MovieLens 100K at {{datasets.load('ml-100k').path}}")'''


def settings(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    """The ``[tool.autorec]`` table: ``repository`` and ``ref``."""
    return tomllib.loads(pyproject.read_text())["tool"]["autorec"]


DEVELOPMENT_BRANCHES = ("main", "master")


def ref_words(ref: str) -> str:
    """What the ref is, in the cell's words: the development branch moves, a tag or commit does not."""
    if ref in DEVELOPMENT_BRANCHES:
        return f"the repository's development branch, {ref}, as it is on the day this cell runs"
    return f"the repository at {ref}, a fixed release tag or commit"


def cell_source(config: dict[str, str] | None = None) -> str:
    config = config or settings()
    return TEMPLATE.format(repository=config["repository"].rstrip("/"), ref=config["ref"],
                           where=ref_words(config["ref"]))


def launch_url(notebook: Path, config: dict[str, str] | None = None) -> str:
    """Colab's URL that opens ``notebook`` (a chapter, or a learner's copy in ``student/``) from the
    repository at the ref of ``[tool.autorec]``."""
    config = config or settings()
    github = config["repository"].rstrip("/").removeprefix("https://github.com/")
    where = notebook.name if notebook.parent.name != "student" else f"student/{notebook.name}"
    return f"https://colab.research.google.com/github/{github}/blob/{config['ref']}/notebooks/{where}"


def is_setup_cell(cell) -> bool:
    return TAG in cell.metadata.get("tags", [])


def with_setup_cell(nb: nbformat.NotebookNode, source: str) -> bool:
    """Put the setup cell with ``source`` first in ``nb``; True when ``nb`` changed."""
    if nb.cells and is_setup_cell(nb.cells[0]):
        if nb.cells[0].source == source:
            return False
        nb.cells[0].source = source
        return True
    for cell in nb.cells:  # a fresh cell runs first: every later execution count moves up by one
        if cell.cell_type == "code" and cell.get("execution_count"):
            cell.execution_count += 1
            for out in cell.outputs:
                if out.get("execution_count"):
                    out.execution_count += 1
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [TAG]}, execution_count=1)
    cell.id = TAG  # fixed, so that rewriting a notebook changes nothing
    nb.cells.insert(0, cell)
    return True


def problems(notebook: Path, source: str) -> list[str]:
    nb = nbformat.read(notebook, as_version=4)
    if not nb.cells or not is_setup_cell(nb.cells[0]):
        return [f"{notebook.name} does not start with the Colab setup cell"]
    if nb.cells[0].source != source:
        return [f"{notebook.name}'s Colab setup cell is not the current template (repository/ref in pyproject.toml)"]
    return []


def write(notebook: Path, source: str) -> bool:
    import jupytext

    nb = nbformat.read(notebook, as_version=4)
    if not with_setup_cell(nb, source):
        return False
    nbformat.write(nb, notebook)
    twin = notebook.with_suffix(".py")
    if twin.exists():
        twin.write_text(jupytext.writes(jupytext.read(notebook), fmt="py:percent"))
    return True


def main(argv: list[str]) -> int:
    flags = {a for a in argv if a.startswith("--")}
    paths = [Path(a).resolve() for a in argv if not a.startswith("--")] or sorted(NOTEBOOKS.glob("0*.ipynb"))
    source = cell_source()
    if "--links" in flags:
        for path in paths:
            print(f"| `{path.name}` | [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                  f"({launch_url(path)}) |")
        return 0
    if "--write" in flags:
        changed = [p for p in paths if write(p, source)]
        for path in changed:
            print(f"wrote the Colab setup cell into {path.relative_to(ROOT)} and its .py twin")
        if changed:
            sys.path.insert(0, str(Path(__file__).parent))
            import make_student

            make_student.main([str(p) for p in changed])
        return 0
    found = [msg for p in paths for msg in problems(p, source)]
    for msg in found:
        print(f"{msg}: run `python scripts/colab_cell.py --write`", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
