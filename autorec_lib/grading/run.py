"""Grade one learner's notebook: execute it cell by cell in an isolated kernel, collect, check here.

Cells run in the learner's order in a fresh kernel (started by :mod:`.sandbox`) whose working folder
mirrors the course (:func:`working_copy`). Where the learner's notebook has a check cell (matched by
id), the grader runs the solution's version of that cell with each check call replaced by a collection call
(:meth:`.manifest.CheckCell.collecting_source`), whatever the learner wrote there; check cells the
learner deleted are collected after the last cell. What the collection wrote is copied out of the
kernel's reach at once (:func:`.plain.snapshot`), so later cells cannot change it, a timeout keeps it,
and no file written before the check cell can pass for it (each collection writes into a folder with
a fresh random name). The check then runs at once in the grader's process, on values rebuilt from
plain data, with the grader's own data sets, while the kernel waits: a function among the values is
called in the kernel (:meth:`_Kernel.call`), on inputs and outputs that cross as plain data. The
notebook's output is never read.
"""
from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import plain
from .manifest import Chapter, Check
from .sandbox import Isolation

PASS, FAIL, MISSING, ERROR, TIMEOUT = "pass", "fail", "missing", "error", "timeout"
STARTUP_TIMEOUT = 120  # seconds for a kernel to start (not counted in --timeout)
STDOUT = threading.Lock()  # held while a check runs (its printing is captured) and while a summary is printed


@dataclass
class Grade:
    status: str
    message: str


@dataclass
class CellEvent:
    """What happened to one executed cell: its position, id and exception (``ename: evalue``), if any."""

    position: int  # 1-based, in the learner's notebook (0: a check cell collected after the last cell; -1: a call)
    cell_id: str
    ename: str = ""
    evalue: str = ""

    def where(self) -> str:
        if self.position < 0:
            return self.cell_id
        return f"cell {self.position} (id {self.cell_id})" if self.position else f"the check cell {self.cell_id}"


@dataclass
class Execution:
    events: list[CellEvent] = field(default_factory=list)
    reached: set[str] = field(default_factory=set)  # check columns whose check cell ran (to its end or an error)
    stopped: str = ""  # why execution stopped early ("" when every cell ran)
    stopped_kind: str = ""  # TIMEOUT or ERROR
    seconds: float = 0.0  # spent executing cells (the checks' own time not counted)
    grades: dict = field(default_factory=dict)  # check column -> Grade: the checks graded during the execution
    checking: str = ""  # the check running now


def kernel_environment(workdir: Path) -> dict[str, str]:
    """The kernel's whole environment: what a course notebook needs, nothing else of the grader's shell."""
    import autorec_lib
    from ..download import CACHE_ENV, DATA_ENV, cache_dir

    package_root = str(Path(autorec_lib.__file__).resolve().parents[1])
    keep = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "TZ", DATA_ENV) if k in os.environ}
    python_path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH", "")]))
    home = str(workdir)
    return {**keep, "PYTHONPATH": python_path, CACHE_ENV: str(cache_dir()), "HOME": home,
            "TMPDIR": str(workdir / ".tmp"), "XDG_CACHE_HOME": str(workdir / ".cache"),
            "MPLCONFIGDIR": str(workdir / ".config" / "matplotlib"), "IPYTHONDIR": str(workdir / ".ipython"),
            "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "CUDA_VISIBLE_DEVICES": "", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


def _client_class():
    """nbclient's client, keeping no outputs: the grader never reads them, and a flood cannot fill its memory."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionComplete

    class QuietClient(NotebookClient):
        def process_message(self, msg, cell, cell_index):
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                raise CellExecutionComplete()
            return None

    return QuietClient


def _kernel_manager(isolation: Isolation, spec: dict):
    from jupyter_client.manager import AsyncKernelManager

    class SandboxedKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file, *(extra_arguments or [])]
            return isolation.command({**spec, "connection_file": self.connection_file}, kernel)

    km = SandboxedKernelManager(kernel_name="python3")
    own = Path(spec["own"])
    km.connection_file = str(own / "kernel.json")
    # Unix sockets in the kernel's own folder: they work without a network (inside a network namespace),
    # need no encryption (only this user opens them), and no other kernel can reach them
    km.transport, km.ip = "ipc", str(own / "ipc")
    return km


COURSE_FILES = ("scripts", "notebooks/results")  # what notebooks read from the course (09: reproduce.py, its record)


def working_copy(nb, chapter: Chapter, work: Path) -> Path:
    """The course's layout in ``work``: the notebook where a learner's copy lives (``notebooks/student/``),
    beside copies of the course files notebooks read; returns the notebook's folder (the kernel's cwd)."""
    import nbformat

    course = chapter.path.resolve().parents[1]
    for name in COURSE_FILES:
        if (course / name).is_dir():
            shutil.copytree(course / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    folder = work / "notebooks" / "student"
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / chapter.path.name)
    return folder


class _Kernel:
    """The running kernel: executes cells against the notebook's time limit (the checks' own time is not
    counted), and calls the learner's functions for the checks (:class:`.plain.RemoteFunction`)."""

    def __init__(self, client, run: Execution, timeout: float, folder: Path, snapshots: Path, user):
        self.client, self.run, self.timeout = client, run, timeout
        self.folder, self.snapshots, self.user = folder, snapshots, user
        self.spent, self.reply = 0.0, {}
        client.on_cell_executed = lambda cell, cell_index, execute_reply: self.reply.update(execute_reply or {})

    def execute(self, source: str, event: CellEvent) -> None:
        """Run one cell; an exception in it is noted on ``event``, a timeout or a dead kernel on ``run``."""
        import nbformat
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        remaining = self.timeout - self.spent
        if remaining <= 0:
            self.run.stopped, self.run.stopped_kind = (f"the time limit of {self.timeout:g} s ran out before "
                                                       f"{event.where()}"), TIMEOUT
            return
        self.client.timeout = max(1, int(remaining + 0.999))
        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells = [cell]
        self.reply.clear()
        start = time.monotonic()
        try:
            self.client.execute_cell(cell, 0)
        except CellTimeoutError:
            self.run.stopped, self.run.stopped_kind = (f"the time limit of {self.timeout:g} s ran out in "
                                                       f"{event.where()}"), TIMEOUT
        except DeadKernelError:
            self.run.stopped, self.run.stopped_kind = (f"the kernel died in {event.where()} (out of memory, or the "
                                                       "code ended its own process?)"), ERROR
        finally:
            self.spent += time.monotonic() - start
        content = self.reply.get("content", {})
        if content.get("status") == "error":
            event.ename, event.evalue = str(content.get("ename", "")), str(content.get("evalue", ""))

    def call(self, handle: int, args: list, kwargs: dict):
        """A check's call of the learner's function ``handle``: ``(output, gradients)`` from the kernel."""
        if self.run.stopped:
            raise plain.LearnerRaised(f"the notebook stopped before the check could call it: {self.run.stopped}")
        token = secrets.token_hex(16)
        request, reply, copy = self.folder / f"in-{token}", self.folder / f"out-{token}", self.snapshots / token
        plain.collect(str(request), {"args": lambda: args, "kwargs": lambda: kwargs})
        if self.user:
            for path in [request, *request.iterdir()]:
                os.chown(path, *self.user)
        event = CellEvent(-1, f"{self.run.checking}'s call of your function")
        self.execute(f"{APPLY}({str(request)!r}, {str(reply)!r}, {handle!r})", event)
        if self.run.stopped:
            raise plain.LearnerRaised(self.run.stopped)
        if not plain.snapshot(reply, copy):
            raise plain.LearnerRaised("the function's output was not collected")
        encoded, problems = plain.read_index(copy)
        if "output" in problems:
            raise plain.LearnerRaised.named(problems["output"]["error"])
        output = plain.Decoder(copy, load_data=None)(encoded["output"])  # no data, no functions: plain values
        return output["result"], output["grads"]


APPLY = "__import__('autorec_lib.grading.plain', fromlist=['apply']).apply"


def execute(nb, chapter: Chapter, own: Path, hide: list[str], isolation: Isolation, timeout: float,
            load_data) -> Execution:
    """Run ``nb`` (a learner's copy of ``chapter``) in a kernel whose folder is ``own``, grading each check
    as soon as its cell has collected its arguments (so that a check can call the learner's functions)."""
    import nbformat

    work, collect, snapshots = own / "work", own / "collect", own.parent / f"{own.name}-snapshots"
    for folder in (work, collect, work / ".tmp"):
        folder.mkdir(parents=True, exist_ok=True)
    snapshots.mkdir(mode=0o700)
    cwd = working_copy(nb, chapter, work)
    if isolation.user:
        for root, dirs, files in os.walk(own):
            for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                os.chown(name, *isolation.user)

    plan = []  # (position, cell id, source, check cell or None)
    ids = set()
    for position, cell in enumerate(nb.cells, 1):
        if cell.cell_type != "code":
            continue
        ids.add(cell.get("id"))
        plan.append((position, cell.get("id", ""), cell.source, chapter.check_cells.get(cell.get("id"))))
    plan += [(0, cell_id, "", check_cell) for cell_id, check_cell in chapter.check_cells.items() if cell_id not in ids]

    run = Execution()
    check_cell_ids = set(chapter.check_cells)
    client = _client_class()(nbformat.v4.new_notebook(), km=_kernel_manager(
        isolation, {"own": str(own), "cwd": str(cwd), "hide": hide}), allow_errors=True,
        shutdown_kernel="immediate", startup_timeout=STARTUP_TIMEOUT, record_timing=False)
    with client.setup_kernel(env=kernel_environment(work), cwd=str(cwd), cleanup_kc=True):
        kernel = _Kernel(client, run, timeout, collect, snapshots, isolation.user)
        for position, cell_id, source, check_cell in plan:
            event = CellEvent(position, cell_id)
            run.events.append(event)
            folders = {}
            if check_cell is not None:
                folders = {c.column: str(collect / secrets.token_hex(16)) for _, _, c in check_cell.calls}
                source = check_cell.collecting_source(folders)
            kernel.execute(source, event)
            if not run.stopped:  # the check cell ran to its end (or to an exception)
                run.reached.update(folders)
            for check in (c for _, _, c in (check_cell.calls if check_cell else ())):
                target = snapshots / check.column.replace("/", "_")
                if plain.snapshot(Path(folders[check.column]), target):
                    run.checking = check.column
                    run.grades[check.column] = _grade_one(check, target, run, check_cell_ids, load_data, kernel.call)
            if run.stopped:
                break
        run.seconds = kernel.spent
    return run


def _raised(run: Execution, check: Check, cell_ids: set[str]) -> tuple[str, list[CellEvent]]:
    """Why a check's arguments were not there: MISSING and the stub's cell when its exercise's stub still
    raises; else ERROR and the cells that raised (the first since the previous check cell, then the first
    of the notebook, when that is another; none when nothing raised)."""
    events = run.events
    end = next((k for k, e in enumerate(events) if e.cell_id == check.cell_id), len(events))
    for event in events[:end]:
        if event.cell_id in check.exercise_cells and event.ename == "NotImplementedError":
            return MISSING, [event]
    start = max((k for k, e in enumerate(events[:end]) if e.cell_id in cell_ids), default=-1)
    since = [e for e in events[start + 1:end] if e.ename]
    earlier = [e for e in events[:end] if e.ename]
    causes = since[:1] + [e for e in earlier[:1] if e not in since[:1]]
    return ERROR, causes


def grade_checks(chapter: Chapter, run: Execution) -> dict[str, Grade]:
    """Every check's grade: those graded during the execution, and why each other one was not."""
    grades = {}
    for check in chapter.checks:
        if check.column in run.grades:
            grades[check.column] = run.grades[check.column]
        elif check.column not in run.reached and run.stopped:
            kind = TIMEOUT if run.stopped_kind == TIMEOUT else ERROR
            grades[check.column] = Grade(kind, f"not reached: {run.stopped}")
        else:
            grades[check.column] = Grade(ERROR, "the check cell ran but collected nothing (a cell that needs "
                                         "something missing here, e.g. `# needs MXNet`, is skipped)")
    return grades


def _grade_one(check: Check, folder: Path, run: Execution, check_cell_ids: set[str], load_data, call) -> Grade:
    """Grade one check from its snapshot; ``call`` lets the check call the learner's functions in the kernel."""
    try:
        encoded, problems = plain.read_index(folder)
    except plain.NotPlainData as err:
        return Grade(FAIL, f"your answer could not be read: {err}")
    expressions = check.expressions()
    raised = {key: p for key, p in problems.items() if p.get("kind") == "raised" and key in expressions}
    if raised:
        key, problem = next(iter(raised.items()))
        status, causes = _raised(run, check, check_cell_ids)
        detail = f"`{expressions[key]}` could not be evaluated ({problem['error']})"
        if status == MISSING:
            return Grade(MISSING, f"not attempted: {causes[0].where()} still raises NotImplementedError; {detail}")
        if not causes:
            return Grade(ERROR, detail)
        said = [f"{e.where()} raised {e.ename}: {e.evalue}" for e in causes]
        first = f" (the notebook's first error: {said[1]})" if len(said) > 1 else ""
        return Grade(ERROR, f"your code raised before the check: {said[0]}{first}; {detail}")
    unplain = {key: p for key, p in problems.items() if key in expressions}
    if unplain:
        key, problem = next(iter(unplain.items()))
        return Grade(FAIL, f"`{expressions[key]}` cannot be graded: {problem['error']}")
    missing = [k for k in expressions if k not in encoded]
    if missing:
        return Grade(FAIL, f"the collected values lack `{expressions[missing[0]]}`")
    decode = plain.Decoder(folder, load_data, call)
    values = {}
    for key in expressions:
        try:
            values[key] = decode(encoded[key])
        except plain.NotPlainData as err:
            return Grade(FAIL, f"`{expressions[key]}` cannot be graded: {err}")
        except Exception as err:  # noqa: BLE001 (the grader's own environment, e.g. a framework it lacks)
            return Grade(ERROR, f"the grader could not rebuild `{expressions[key]}`: {type(err).__name__}: {err}")
    return run_check(check, values)


def run_check(check: Check, values: dict) -> Grade:
    """The check on rebuilt values, in this process: pass with what it printed, or fail with its message."""
    from ..exercises import CheckFailed

    printed = io.StringIO()
    with STDOUT, contextlib.redirect_stdout(printed):
        try:
            check.call(values)
        except CheckFailed as err:
            return Grade(FAIL, str(err))
        except Exception as err:  # noqa: BLE001 (a check meeting an answer it did not foresee)
            return Grade(FAIL, f"the check could not use your answer: {type(err).__name__}: {err}")
    return Grade(PASS, printed.getvalue().strip())


def remove(own: Path) -> None:
    """Remove a kernel's folder and its snapshots (never following links the kernel left)."""
    for folder in (own, own.parent / f"{own.name}-snapshots"):
        shutil.rmtree(folder, ignore_errors=True)
