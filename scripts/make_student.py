"""Make the learners' copies of the notebooks from the solution notebooks (the one source).

Every notebook with cells tagged ``solution`` gets a copy in ``notebooks/student/``: code cells
tagged ``solution`` become stubs that raise ``NotImplementedError``; markdown cells tagged
``solution`` and cells of either kind tagged ``answer`` (interpretations, discussions and the
asserts behind them: whatever gives an answer away) are dropped; all outputs are cleared, and the
jupytext pairing is removed. ``--check`` exits 1 when a committed copy differs from what would be made.

    python scripts/make_student.py [--check] [notebooks/02_matrix_factorization.ipynb ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
STUDENT = NOTEBOOKS / "student"
STUB = ("# Your solution here: see the exercise and its hint above.\n"
        "raise NotImplementedError(\"write your solution in this cell, then run the check below\")")
NOTE = ("> **This is the learner's copy.** Write your answer in each cell that raises "
        "`NotImplementedError`, then run the check below it. The solutions are in "
        "`notebooks/{name}`, the notebook this copy was made from.")


def is_solution(cell) -> bool:
    return "solution" in cell.metadata.get("tags", [])


def gives_answer_away(cell) -> bool:
    return "answer" in cell.metadata.get("tags", []) or (cell.cell_type == "markdown" and is_solution(cell))


def student_notebook(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(solution)  # deep copy
    nb.metadata.pop("jupytext", None)
    cells = []
    for cell in nb.cells:
        if gives_answer_away(cell):
            continue
        if cell.cell_type == "code":
            if is_solution(cell):
                cell.source = STUB
                cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != "solution"] + ["exercise"]
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
        cells.append(cell)
    note = nbformat.v4.new_markdown_cell(NOTE.format(name=name))
    note.id = "learners-copy-note"  # fixed, so that regenerating the copy changes nothing
    title = next(k for k, cell in enumerate(cells) if cell.cell_type == "markdown")  # after the Colab setup cell
    cells.insert(title + 1, note)
    nb.cells = cells
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def solution_notebooks(paths: list[str]) -> list[Path]:
    chosen = [Path(p).resolve() for p in paths] or sorted(NOTEBOOKS.glob("0*.ipynb"))
    return [p for p in chosen if any(is_solution(c) for c in nbformat.read(p, as_version=4).cells)]


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path in solution_notebooks([a for a in argv if a != "--check"]):
        target = STUDENT / path.name
        expected = render(student_notebook(nbformat.read(path, as_version=4), path.name))
        if check:
            if not target.exists() or target.read_text() != expected:
                stale.append(target)
            continue
        STUDENT.mkdir(parents=True, exist_ok=True)
        target.write_text(expected)
        print(f"wrote {target.relative_to(ROOT)}")
    for target in stale:
        print(f"{target.relative_to(ROOT)} is out of date: run `make student`", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
