"""What there is to grade, read from the solution notebooks at run time.

Every code cell of a solution notebook whose source calls a check (``ch01.check_holdout(answer, data)``,
or ``ex.check_best(...)`` where ``ex`` was imported as ``from autorec_lib.exercises import ch06 as ex``)
becomes a *check cell*: for each such call, the check's module and name, its argument expressions and
the cell's id, with the ``solution`` cells of its exercise (those since the previous check cell). The
grader replaces a check cell by :meth:`CheckCell.collecting_source`, the same cell in which each check
call only collects its arguments; nothing here knows an answer's keys or a chapter's checks.

A learner's copy is recognised by its cells' ids (``scripts/make_student.py`` keeps them); the solution
notebook itself, whose cells are tagged ``solution`` or ``answer``, is refused.
"""
from __future__ import annotations

import ast
import importlib
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

EXERCISES = "autorec_lib.exercises"
SOLUTION_TAGS = ("solution", "answer")  # a learner's copy has neither (make_student drops or renames them)
SOLUTIONS = Path(__file__).resolve().parents[2] / "notebooks"  # the course's solution notebooks (a checkout)
COLLECT = "__import__('autorec_lib.grading.plain', fromlist=['collect']).collect"
MIN_SHARED = 0.5  # a submission is a chapter's copy when it holds at least this share of the chapter's code cells


class ManifestError(ValueError):
    """The solution notebooks cannot be read into a manifest (the message says which and why)."""


@dataclass(frozen=True)
class Argument:
    source: str  # the expression as written in the solution notebook
    literal: bool  # a constant (``3.0``, ``"Fargo (1996)"``): evaluated by the grader itself
    value: object = None


@dataclass(frozen=True)
class Check:
    column: str  # the gradebook's column: ``ch01.check_holdout`` (``ch06.check_best[best_hidden]`` when repeated)
    module: str  # ``autorec_lib.exercises.ch01``
    function: str  # ``check_holdout``
    args: tuple[Argument, ...]
    kwargs: tuple[tuple[str, Argument], ...]
    cell_id: str
    exercise_cells: tuple[str, ...]  # ids of the solution cells of this exercise

    def expressions(self) -> dict[str, str]:
        """The arguments the kernel evaluates, by key: ``"0"``, ``"1"`` ... positional, ``"k:name"`` keyword."""
        named = [(str(k), a) for k, a in enumerate(self.args)] + [(f"k:{n}", a) for n, a in self.kwargs]
        return {key: a.source for key, a in named if not a.literal}

    def call(self, values: dict):
        """Call the check in this process with ``values`` (by key) for the kernel's arguments."""
        def value(key, argument):
            return argument.value if argument.literal else values[key]

        function = getattr(importlib.import_module(self.module), self.function)
        args = [value(str(k), a) for k, a in enumerate(self.args)]
        kwargs = {n: value(f"k:{n}", a) for n, a in self.kwargs}
        return function(*args, **kwargs)


@dataclass(frozen=True)
class CheckCell:
    cell_id: str
    lines: tuple[str, ...]  # the solution cell's source
    calls: tuple[tuple[int, int, Check], ...]  # (first line, last line, check), 0-based, in order

    def collecting_source(self, folders: dict[str, str]) -> str:
        """The cell with each check call replaced by a call that collects its arguments into ``folders[column]``."""
        lines = list(self.lines)
        for first, last, check in reversed(self.calls):
            thunks = ", ".join(f"{key!r}: lambda: ({source})" for key, source in check.expressions().items())
            lines[first:last + 1] = [f"{COLLECT}({folders[check.column]!r}, {{{thunks}}})"]
        return "\n".join(lines)


@dataclass(frozen=True)
class Chapter:
    name: str  # the solution notebook's stem, e.g. ``01_setup_and_data``
    path: Path
    code_cells: frozenset[str]
    check_cells: dict[str, CheckCell]  # by cell id, in notebook order
    checks: tuple[Check, ...]  # in notebook order


def python_source(source: str) -> str:
    """A cell's source as Python (IPython's magics translated), for parsing only."""
    try:
        ast.parse(source)
        return source
    except SyntaxError:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(python_source(source))
    except SyntaxError:
        return None


def exercise_aliases(trees) -> dict[str, str]:
    """Names bound to ``autorec_lib.exercises.chNN`` modules by the notebook's imports: alias -> module."""
    aliases = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == EXERCISES:
                for a in node.names:
                    aliases[a.asname or a.name] = f"{EXERCISES}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith(EXERCISES + ".") and a.asname:
                        aliases[a.asname] = a.name
    return aliases


def _argument(node: ast.expr, source: str) -> Argument:
    text = ast.get_source_segment(source, node)
    try:
        return Argument(text, True, ast.literal_eval(node))
    except ValueError:
        return Argument(text, False)


def _check_call(stmt: ast.stmt, aliases: dict[str, str]) -> tuple[str, str] | None:
    """(module, function) when ``stmt`` is a statement ``alias.check_x(...)``."""
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return None
    func = stmt.value.func
    if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in aliases
            and func.attr.startswith("check_")):
        return aliases[func.value.id], func.attr
    return None


def is_solution_cell(cell) -> bool:
    return "solution" in cell.metadata.get("tags", [])


def read_chapter(path: Path) -> Chapter | None:
    """The chapter a solution notebook defines, or None when it calls no check."""
    nb = read_notebook(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    trees = {c.id: _parse(c.source) for c in code}
    aliases = exercise_aliases(t for t in trees.values() if t is not None)
    found: list[tuple[object, list]] = []  # (cell, [(first, last, module, function, args, kwargs)])
    for cell in code:
        tree = trees[cell.id]
        if tree is None or not aliases:
            continue
        calls = []
        source = python_source(cell.source)
        for stmt in tree.body:
            target = _check_call(stmt, aliases)
            if target:
                call = stmt.value
                if source != cell.source or any(isinstance(a, ast.Starred) for a in call.args) or \
                        any(k.arg is None for k in call.keywords):
                    raise ManifestError(f"{path.name}, cell {cell.id}: the call {target[1]} cannot be graded "
                                        "(write it as a plain call with named arguments, in a cell without magics)")
                calls.append((stmt.lineno - 1, stmt.end_lineno - 1, *target,
                              tuple(_argument(a, source) for a in call.args),
                              tuple((k.arg, _argument(k.value, source)) for k in call.keywords)))
        if calls:
            found.append((cell, calls))
    if not found:
        return None
    counts: dict[str, int] = {}
    for _, calls in found:
        for call in calls:
            counts[call[3]] = counts.get(call[3], 0) + 1
    check_cells, checks, previous = {}, [], -1
    positions = {c.id: k for k, c in enumerate(nb.cells)}
    for cell, calls in found:
        here = positions[cell.id]
        exercise = tuple(c.id for c in nb.cells[previous + 1:here] if c.cell_type == "code" and is_solution_cell(c))
        previous = here
        spans = []
        for first, last, module, function, args, kwargs in calls:
            short = f"{module.rsplit('.', 1)[1]}.{function}"
            column = short if counts[function] == 1 else f"{short}[{(args[0] if args else kwargs[0][1]).source}]"
            _require(module, function, path)
            check = Check(column, module, function, args, kwargs, cell.id, exercise)
            spans.append((first, last, check))
            checks.append(check)
        check_cells[cell.id] = CheckCell(cell.id, tuple(cell.source.split("\n")), tuple(spans))
    columns = [c.column for c in checks]
    if len(set(columns)) != len(columns):
        raise ManifestError(f"{path.name} calls the same check on the same first argument twice: "
                            f"{sorted({c for c in columns if columns.count(c) > 1})}")
    return Chapter(path.stem, path, frozenset(c.id for c in code), check_cells, tuple(checks))


def _require(module: str, function: str, path: Path) -> None:
    """Import the check now, before any learner's code runs (and fail here if the notebook names none)."""
    try:
        found = getattr(importlib.import_module(module), function, None)
    except ImportError as err:
        raise ManifestError(f"{path.name} calls {module}.{function}, but {module} does not import ({err})") from err
    if not callable(found):
        raise ManifestError(f"{path.name} calls {module}.{function}, which does not exist")


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """A notebook (version 4), with a :class:`ValueError` naming the file when it is not one."""
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, nbformat.ValidationError, ValueError,
            AttributeError, KeyError, TypeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"not a readable Jupyter notebook ({first[:200]})") from None
    return nb


def course_chapters(folder: Path | None = None) -> list[Chapter]:
    """Every chapter in ``folder`` (default: the course's ``notebooks/``): its notebooks that call checks."""
    folder = Path(folder) if folder is not None else SOLUTIONS
    if not folder.is_dir():
        raise ManifestError(f"no solution notebooks at {folder}: pass --solutions FOLDER (the course's notebooks/ "
                            "folder) when autorec_lib is installed outside a checkout of the course")
    chapters = [c for c in (read_chapter(p) for p in sorted(folder.glob("*.ipynb"))) if c is not None]
    if not chapters:
        raise ManifestError(f"{folder} holds no notebook that calls a check from {EXERCISES}")
    return chapters


def recognise(nb, chapters: list[Chapter]) -> tuple[Chapter | None, str]:
    """The chapter a submission is a learner's copy of, or (None, why not)."""
    tagged = sorted({t for c in nb.cells for t in c.metadata.get("tags", []) if t in SOLUTION_TAGS})
    if tagged:
        return None, (f"this is a solution notebook (cells tagged {' and '.join(tagged)}), not a learner's copy: "
                      "grade the copy a learner filled in")
    ids = {c.get("id") for c in nb.cells if c.cell_type == "code"}
    shares = sorted(((len(ids & ch.code_cells) / len(ch.code_cells), ch.name, ch) for ch in chapters),
                    key=lambda s: (-s[0], s[1]))
    best = shares[0]
    if best[0] < MIN_SHARED or (len(shares) > 1 and shares[1][0] == best[0]):
        return None, (f"unknown chapter: its cells match no chapter's learner copy (best: {best[1]}, "
                      f"{best[0]:.0%} of its code cells; a copy of notebooks/student/ keeps their ids)")
    return best[2], ""
