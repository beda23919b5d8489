"""Grade a class: learners' notebooks in, ``gradebook.csv`` and ``feedback/<learner>.md`` out.

:func:`grade_class` finds the submissions (notebooks, or folders searched for them), names each
learner by the file's stem (with its folders where two stems are the same), recognises each
notebook's chapter, grades the gradable ones ``jobs`` at a time (:mod:`.run`), and writes the
gradebook and the feedback atomically. A file that is not a notebook, a notebook of no known chapter
and a solution notebook are reported by name and get a row saying why; they never stop the others.
"""
from __future__ import annotations

import csv
import io
import os
import shutil
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from . import TIMEOUT
from . import run as runner
from .manifest import Chapter, course_chapters, read_notebook, recognise
from .sandbox import Isolation, Limits, detect

SKIP = (".ipynb_checkpoints", "__pycache__")
STATUSES = (runner.PASS, runner.FAIL, runner.MISSING, runner.ERROR, runner.TIMEOUT)


class GradingError(ValueError):
    """The command cannot grade as asked (the message says what to change)."""


@dataclass
class Submission:
    path: Path
    learner: str = ""
    chapter: Chapter | None = None
    nb: object = field(default=None, repr=False)
    note: str = ""  # why it was not graded, or how its execution stopped
    grades: dict = field(default_factory=dict)  # check column -> runner.Grade
    seconds: float = 0.0

    @property
    def points(self) -> int:
        return sum(g.status == runner.PASS for g in self.grades.values())

    @property
    def possible(self) -> int:
        return len(self.chapter.checks) if self.chapter else 0

    def summary(self) -> str:
        if not self.grades:
            return f"{self.learner}: not graded: {self.note}"
        marks = ", ".join(f"{column.split('.', 1)[1]} {self.grades[column].status}" for column in self.columns())
        stopped = f"; {self.note}" if self.note else ""
        return (f"{self.learner}: {self.chapter.name} {self.points}/{self.possible} ({marks}) "
                f"in {self.seconds:.0f} s{stopped}")

    def columns(self) -> list[str]:
        return [c.column for c in self.chapter.checks] if self.chapter else []


def find_submissions(paths: list[str | Path]) -> list[Path]:
    """The files to grade: each path given, and every file under each folder given (hidden ones skipped)."""
    found = []
    for given in map(Path, paths):
        if given.is_dir():
            for root, dirs, files in os.walk(given):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP)
                found += [Path(root) / f for f in sorted(files) if not f.startswith(".")]
        elif given.is_file():
            found.append(given)
        else:
            raise GradingError(f"{given} does not exist: pass learners' notebooks (.ipynb) or folders of them")
    unique = {p.resolve(): p for p in found}
    return sorted(unique.values(), key=lambda p: str(p.resolve()))


def learner_names(paths: list[Path]) -> dict[Path, str]:
    """Each file's learner: its stem, or ``folder/stem`` (with as many folders as it takes) where stems repeat."""
    names = {}
    parts = {p: p.resolve().with_suffix("").parts for p in paths}
    for path in paths:
        depth = 1
        while True:
            name = "/".join(parts[path][-depth:])
            clash = [q for q in paths if q != path and "/".join(parts[q][-depth:]) == name]
            if not clash or depth >= len(parts[path]):
                break
            depth += 1
        names[path] = name
    return names


def classify(submission: Submission, chapters: list[Chapter]) -> None:
    """Read the file and recognise its chapter, or say why it cannot be graded."""
    if submission.path.suffix != ".ipynb":
        submission.note = "not a notebook (only .ipynb files are graded)"
        return
    try:
        submission.nb = read_notebook(submission.path)
    except ValueError as err:
        submission.note = str(err)
        return
    submission.chapter, submission.note = recognise(submission.nb, chapters)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def hidden_folders(submissions: list[Submission], out: Path, run_root: Path, solutions: Path | None = None
                   ) -> tuple[list[str], list[str]]:
    """Folders to hide from every kernel (the submissions' folders, ``out`` and the solution notebooks'),
    and notes on those kept visible because a kernel needs what they hold."""
    import autorec_lib

    from ..download import DATA_ENV, cache_dir

    needed = {"the Python installation": [Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve()],
              "autorec_lib": [Path(autorec_lib.__file__).resolve().parent],
              "the data": [Path(os.environ[DATA_ENV]).resolve()] if os.environ.get(DATA_ENV) else [],
              "the download cache": [cache_dir().resolve()],
              "the grader's temporary folder": [run_root]}
    wanted = sorted({s.path.resolve().parent for s in submissions} | {out.resolve()}
                    | ({solutions.resolve()} if solutions else set()))
    hide, notes = [], []
    for folder in wanted:
        holds = [what for what, paths in needed.items() if any(_inside(p.resolve(), folder) for p in paths)]
        if holds:
            notes.append(f"{folder} is not hidden from the kernels: it holds {' and '.join(holds)}")
        else:
            hide.append(folder)
    outermost = [f for f in hide if not any(o != f and _inside(f, o) for o in hide)]
    return [str(f) for f in outermost], notes


class _Data:
    """The grader's own data sets, loaded once each (values named by a learner's notebook get these)."""

    def __init__(self):
        self.lock, self.loaded = threading.Lock(), {}

    def __call__(self, name: str):
        from .. import datasets

        with self.lock:
            if name not in self.loaded:
                self.loaded[name] = datasets.load(name)
            return self.loaded[name]


def grade_one(submission: Submission, own: Path, hide: list[str], isolation: Isolation, timeout: float,
              load_data) -> None:
    try:
        execution = runner.execute(submission.nb, submission.chapter, own, hide, isolation, timeout, load_data)
        submission.seconds, submission.note = execution.seconds, execution.stopped
        submission.grades = runner.grade_checks(submission.chapter, execution)
    except Exception as err:  # noqa: BLE001 (one notebook never stops the class)
        submission.note = f"the grader could not run it: {type(err).__name__}: {err}"
        submission.grades = {c.column: runner.Grade(runner.ERROR, submission.note) for c in submission.chapter.checks}
    finally:
        runner.remove(own)


def _echo(line: str) -> None:
    from tqdm import tqdm

    with runner.STDOUT:
        tqdm.write(line, file=sys.stdout)


def grade_class(paths: list[str | Path], out: str | Path, timeout: float = TIMEOUT, jobs: int = 1,
                solutions: str | Path | None = None, limits: Limits = Limits(), progress: bool = True
                ) -> list[Submission]:
    """Grade every submission under ``paths`` into ``out`` (see the module's docstring); returns them, sorted."""
    from tqdm import tqdm

    out = Path(out)
    files = find_submissions(paths)
    for given in map(Path, paths):
        if _inside(out.resolve(), given.resolve()) or _inside(given.resolve(), out.resolve()):
            raise GradingError(f"--out {out} and the submissions {given} overlap: write the gradebook to a folder "
                               "of its own, outside the submissions")
    chapters = course_chapters(Path(solutions) if solutions else None)
    solutions = chapters[0].path.parent
    names = learner_names(files)
    submissions = sorted((Submission(p, names[p]) for p in files), key=lambda s: (s.learner, str(s.path)))
    for submission in submissions:
        classify(submission, chapters)
    out.mkdir(parents=True, exist_ok=True)
    gradable = [s for s in submissions if s.chapter is not None]
    run_root = Path(tempfile.mkdtemp(prefix="autorec-grade-"))
    try:
        os.chmod(run_root, 0o711)
        probe_env = runner.kernel_environment(run_root / "probe")
        isolation = detect(limits, probe_env, run_root / "probe")
        hide, notes = hidden_folders(submissions, out, run_root, solutions)
        _echo(isolation.describe() + "".join(f"\n  ({n})" for n in notes if isolation.namespaces))
        hide.append(str(run_root))
        for s in submissions:
            if s.chapter is None:
                _echo(s.summary())
        load_data = _Data()
        bar = tqdm(total=len(gradable), desc="grading", unit="notebook", file=sys.stderr, disable=not progress)
        pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        try:
            tasks = {pool.submit(grade_one, s, run_root / f"k{k:03d}", hide, isolation, timeout, load_data): s
                     for k, s in enumerate(gradable)}
            for task in as_completed(tasks):
                task.result()
                _echo(tasks[task].summary())
                bar.update(1)
        except KeyboardInterrupt:
            # the kernels die with this process (their parent-death signal); the gradebook stays as it was
            _echo("interrupted: no gradebook written")
            shutil.rmtree(run_root, ignore_errors=True)
            os._exit(130)
        pool.shutdown()
        bar.close()
    finally:
        shutil.rmtree(run_root, ignore_errors=True)
    write_gradebook(out / "gradebook.csv", submissions, chapters)
    write_feedback(out / "feedback", submissions)
    return submissions


def gradebook_rows(submissions: list[Submission], chapters: list[Chapter]) -> list[list[str]]:
    """The gradebook as rows: a header, then one row per submission in learner order."""
    present = {s.chapter.name for s in submissions if s.chapter}
    columns = [c.column for ch in chapters if ch.name in present for c in ch.checks]
    rows = [["learner", "chapter", *columns, "points", "possible", "note"]]
    for s in submissions:
        marks = [s.grades[c].status if c in s.grades else "" for c in columns]
        graded = bool(s.grades)
        rows.append([s.learner, s.chapter.name if s.chapter else "", *marks,
                     str(s.points) if graded else "", str(s.possible) if graded else "", s.note])
    return rows


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_gradebook(path: Path, submissions: list[Submission], chapters: list[Chapter]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(gradebook_rows(submissions, chapters))
    _write_text(path, buffer.getvalue())


def feedback(submission: Submission) -> str:
    """One learner's feedback: for each exercise its status and the check's own message."""
    lines = [f"# Feedback for {submission.learner}", "", f"File: `{submission.path.name}`"]
    if not submission.grades:
        return "\n".join(lines + ["", f"Not graded: {submission.note}", ""])
    lines += [f"Chapter: {submission.chapter.name}", "",
              f"**{submission.points} of {submission.possible}** checks passed."]
    if submission.note:
        lines += ["", f"Note: {submission.note}"]
    for column in submission.columns():
        grade = submission.grades[column]
        lines += ["", f"## {column}: {grade.status}", "", grade.message or "(no message)"]
    return "\n".join(lines) + "\n"


def write_feedback(folder: Path, submissions: list[Submission]) -> None:
    """Replace ``folder`` by one holding every submission's feedback (built aside, then swapped in)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-new-"))
    try:
        for s in submissions:
            _write_text(fresh / f"{s.learner}.md", feedback(s))
        os.chmod(fresh, 0o755)
        old = folder.with_name(f".{folder.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            os.replace(folder, old)
        os.replace(fresh, folder)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
