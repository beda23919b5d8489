"""Make the learner's copy of the exercise notebook from the solution notebook (the one source).

Cells tagged ``solution`` become stubs, all outputs are cleared, and the jupytext pairing is
dropped. ``--check`` exits 1 when the committed copy differs from what would be generated.

    python scripts/make_student.py [--check]
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "notebooks" / "06_exercises.ipynb"
STUDENT = ROOT / "notebooks" / "student" / "06_exercises.ipynb"
STUB = ("# Your solution here: see the exercise and its hint above.\n"
        "raise NotImplementedError(\"write your solution in this cell, then run the check below\")")


def student_notebook(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(solution)  # deep copy
    nb.metadata.pop("jupytext", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if "solution" in cell.metadata.get("tags", []):
            cell.source = STUB
            cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != "solution"] + ["exercise"]
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)
    first = nb.cells[0]
    first.source = first.source.replace(
        "This is the solution notebook. The learner's copy, `notebooks/student/06_exercises.ipynb`, is\n"
        "generated from it by `make student`, which replaces every cell tagged `solution` with a stub.",
        "Write your answer in each cell that raises `NotImplementedError`, then run the check below it.")
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def main(argv: list[str]) -> int:
    expected = render(student_notebook(nbformat.read(SOLUTION, as_version=4)))
    if "--check" in argv:
        if not STUDENT.exists() or STUDENT.read_text() != expected:
            print(f"{STUDENT} is out of date: run `make student`", file=sys.stderr)
            return 1
        return 0
    STUDENT.parent.mkdir(parents=True, exist_ok=True)
    STUDENT.write_text(expected)
    print(f"wrote {STUDENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
