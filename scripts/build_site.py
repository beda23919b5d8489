"""Build the course website (``make site``) from the stored notebook outputs, without executing them.

It assembles a Sphinx source folder (default ``build/site-src``) from

* ``docs/``: ``conf.py``, the landing page, the API and benchmarks pages, templates, CSS;
* ``notebooks/0*.ipynb`` (a new chapter shows up by itself), each rendered from its stored outputs
  with its solutions folded: every cell tagged ``solution`` or ``answer`` (the cells the learner's
  copy leaves out, ``scripts/make_student.py``) sits behind a "Show the solution" toggle, closed
  by default (sphinx-togglebutton); the notebook itself, unchanged, is offered as a download;
* ``notebooks/student/0*.ipynb``, the learners' copies, offered as downloads;
* the landing page's chapter overview, made from each notebook: its title, its "What you will
  learn" list, and a time estimate (:func:`chapter_time`);
* the landing page's results table, made from the record chapter 9 reads
  (``notebooks/results/reproduction.json``, :func:`results_table`);
* README sections between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` markers (what the
  course is, and how to start), so that nothing is written twice;
* MathJax 3 from ``docs/node_modules`` (``npm ci`` in ``docs/``), served from the site itself;

The README's chapter times and results table are checked against the same functions
(tests/test_readme.py); ``--print-readme`` prints what those README parts should hold.

then runs ``sphinx-build -W --keep-going -n``: any warning (a broken cross-reference, a missing image,
a notebook that does not parse) fails the build. Usage::

    python scripts/build_site.py [--out build/site] [--notebooks notebooks] [--readme README.md]
    python scripts/build_site.py --print-readme      # the README's chapter table and results table
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_student  # noqa: E402  (which cells are solutions: the learner's copy leaves them out)

# MathJax 3's files the site needs: the TeX-to-CHTML bundle, the extensions and fonts it loads on
# demand, the menu and its accessibility components.
MATHJAX_PARTS = ["tex-chtml.js", "input", "output/chtml", "output/chtml.js", "ui", "a11y",
                 "adaptors", "sre"]
# Where each README section falls back to when the lead has not added its markers yet:
# (regex of the first line, included or not; regex of the line that ends it, excluded).
README_SECTIONS = {
    "intro": (r"^# ", False, r"^## "),
    "start": (r"^## Start here", False, r"^## "),
}
# A folded cell gets this tag; conf.py's togglebutton_selector names its class (myst-nb: tag_<tag>).
FOLD_TAG = "fold"
# The time estimate of a chapter (chapter_time): careful reading of prose with maths at about half a
# usual reading speed, the code read and run cell by cell, a fixed time per exercise, plus the time
# the notebook's code took when it was last executed (the cells' stored timings).
WORDS_PER_MINUTE = 100
CODE_LINES_PER_MINUTE = 20
MINUTES_PER_EXERCISE = 10
TIME_METHOD = (f"Each time counts reading at {WORDS_PER_MINUTE} words a minute (careful reading of prose "
               f"with maths, about half a usual reading speed) and {CODE_LINES_PER_MINUTE} lines of code a "
               f"minute, {MINUTES_PER_EXERCISE} minutes per exercise, and the time the notebook's code took "
               "when it was last executed, rounded up to 5 minutes.")
EXERCISE_HEADING = re.compile(r"^#{2,3} Exercise \d", flags=re.M)   # as tests/test_course.py counts them
# Words that belong to the course's maintainers, not on a learner's page (tests/test_site.py).
MAINTAINER_TALK = re.compile(r"\bmake (student|reference|sync|reproduce|bench|speed|d2l|gpu-check)\b"
                             r"|\bscripts/|record_references|make_student")


class SiteError(RuntimeError):
    """The site's sources are broken (a notebook that does not parse, a missing learner's copy)."""


def readme_section(text: str, name: str) -> str:
    """The README text between ``<!-- name:start -->`` and ``<!-- name:end -->`` (markers excluded).

    Without markers, the section is found by the headings in :data:`README_SECTIONS`. Marker lines
    of other sections inside it are dropped.
    """
    lines = text.splitlines()
    start = f"<!-- {name}:start -->"
    end = f"<!-- {name}:end -->"
    stripped = [line.strip() for line in lines]
    if start in stripped and end in stripped:
        body = lines[stripped.index(start) + 1:stripped.index(end)]
    else:
        first, include_first, stop = README_SECTIONS[name]
        try:
            i = next(k for k, line in enumerate(lines) if re.match(first, line))
        except StopIteration:
            raise SiteError(f"README has neither the {start} markers nor a line matching {first!r}")
        j = next((k for k in range(i + 1, len(lines)) if re.match(stop, lines[k])), len(lines))
        body = lines[i if include_first else i + 1:j]
    body = [line for line in body if not re.fullmatch(r"\s*<!-- [\w-]+:(start|end) -->\s*", line)]
    return "\n".join(body).strip() + "\n"


def shift_headings(markdown: str, top: int) -> str:
    """Move the headings of ``markdown`` so that its highest one has level ``top`` (code blocks kept)."""
    levels = [len(m.group(1)) for m in re.finditer(r"^(#{1,6}) ", markdown, flags=re.M)]
    if not levels:
        return markdown
    shift = top - min(levels)
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        m = re.match(r"^(#{1,6}) ", line)
        if m and not fenced:
            line = "#" * max(1, min(6, len(m.group(1)) + shift)) + line[len(m.group(1)):]
        out.append(line)
    return "\n".join(out) + "\n"


def check_notebook(path: Path) -> None:
    """Fail with a clear message unless ``path`` is a valid notebook (JSON and nbformat schema)."""
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # nbformat raises several unrelated types
        raise SiteError(f"{path}: not a valid notebook: {err}") from err


def chapters(notebooks: Path) -> list[Path]:
    """The chapters, in order: ``0*.ipynb`` in the notebooks folder."""
    found = sorted(notebooks.glob("0*.ipynb"))
    if not found:
        raise SiteError(f"no chapters (0*.ipynb) in {notebooks}")
    return found


def is_folded(cell) -> bool:
    """A cell the site folds away: what the learner's copy leaves out or turns into a stub."""
    return make_student.is_solution(cell) or make_student.gives_answer_away(cell)


def folded_markdown(source: str) -> str:
    """``source`` inside a closed ``{toggle}`` (sphinx-togglebutton). A section cannot start inside
    it, so its headings become bold lines; the fence is longer than any colon fence inside."""
    lines, fenced = [], False
    for line in source.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        heading = re.match(r"^#{1,6} +(.*)$", line)
        lines.append(f"**{heading.group(1).strip()}**" if heading and not fenced else line)
    longest = max((len(m) for m in re.findall(r"^\s*(:{3,})", source, flags=re.M)), default=2)
    fence = ":" * max(3, longest + 1)
    return f"{fence}{{toggle}}\n" + "\n".join(lines) + f"\n{fence}\n"


def for_the_site(path: Path) -> nbformat.NotebookNode:
    """The notebook as its page shows it: the Colab setup cell hidden (each page links to Colab
    instead) and every solution folded (:func:`is_folded`): a code cell by a tag, whose class
    the toggle script looks for, a markdown cell by wrapping it in a ``{toggle}``."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "colab-setup" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
        elif is_folded(cell):
            if cell.cell_type == "markdown":
                cell.source = folded_markdown(cell.source)
            else:
                cell.metadata["tags"] = [*tags, FOLD_TAG]
    return nb


def chapter_title(path: Path) -> str:
    """The notebook's first level-1 heading (its chapter title)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise SiteError(f"{path} has no level-1 heading to serve as its chapter title")


def learning_goals(path: Path) -> list[str]:
    """The bullets under the notebook's "What you will learn" (a bold line or a heading), each
    item's lines joined into one."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        start = next((k for k, line in enumerate(lines)
                      if re.fullmatch(r"(\*\*|#+ +)What you will learn(\*\*)?:?\s*", line.strip())), None)
        if start is None:
            continue
        items: list[str] = []
        for line in lines[start + 1:]:
            bullet = re.match(r"^[*-] +(.*)$", line)
            if bullet:
                items.append(bullet.group(1).strip())
            elif items and line.startswith((" ", "\t")) and line.strip():
                items[-1] += " " + line.strip()
            elif items or line.strip():
                break
        if items:
            return items
    raise SiteError(f"{path.name} has no 'What you will learn' list (a line **What you will learn** "
                    "followed by bullets), which the landing page shows")


def run_seconds(nb: nbformat.NotebookNode) -> float | None:
    """How long the notebook's code cells ran when it was last executed, from the timings each
    executed cell stores (``metadata.execution``); None when a code cell has none."""
    total = 0.0
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        timing = cell.metadata.get("execution", {})
        try:
            began = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
            ended = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
        except (KeyError, ValueError):
            return None
        total += (ended - began).total_seconds()
    return total


def chapter_time(path: Path) -> dict:
    """A learner's time for the chapter, in minutes: reading (the prose at WORDS_PER_MINUTE and the
    code at CODE_LINES_PER_MINUTE, the setup cell and the folded solutions left out), the exercises
    (MINUTES_PER_EXERCISE each), and the run time its cells stored; ``total`` is the sum rounded
    up to 5 minutes."""
    nb = nbformat.read(path, as_version=4)
    shown = [c for c in nb.cells if not is_folded(c) and "colab-setup" not in c.metadata.get("tags", [])]
    words = sum(len(c.source.split()) for c in shown if c.cell_type == "markdown")
    code = sum(len([x for x in c.source.splitlines() if x.strip()]) for c in shown if c.cell_type == "code")
    exercises = len(EXERCISE_HEADING.findall("\n".join(c.source for c in nb.cells if c.cell_type == "markdown")))
    seconds = run_seconds(nb)
    reading = words / WORDS_PER_MINUTE + code / CODE_LINES_PER_MINUTE
    total = reading + exercises * MINUTES_PER_EXERCISE + (seconds or 0) / 60
    return {"reading": round(reading), "exercises": exercises, "run_seconds": seconds,
            "total": 5 * math.ceil(total / 5)}


def minutes(n: int) -> str:
    """``45 min``, ``1 h``, ``1 h 10 min``."""
    hours, rest = divmod(n, 60)
    return " ".join(part for part in (f"{hours} h" if hours else "", f"{rest} min" if rest else "") if part)


def chapter_overview(notebooks: Path, names: list[str]) -> str:
    """The landing page's chapters: each title linked to its page, its time, what it teaches."""
    out = [TIME_METHOD, ""]
    for name in names:
        path = notebooks / name
        time_ = chapter_time(path)
        ran = time_["run_seconds"]
        ran = "" if ran is None else f"; its code ran in {max(1, round(ran))} s when it was last executed"
        exercises = f"{time_['exercises']} exercise{'s' if time_['exercises'] != 1 else ''}"
        # a rubric, not a heading: the page's table of contents would repeat the sidebar's chapters
        out += [f":::{{rubric}} {{doc}}`{chapter_title(path)} <notebooks/{Path(name).stem}>`",
                ":class: chapter-overview", ":::", "",
                f"**About {minutes(time_['total'])}**: about {minutes(max(5, time_['reading']))} of reading, "
                f"{exercises} of about {MINUTES_PER_EXERCISE} min each{ran}. What you will learn:", ""]
        out += [f"* {goal}" for goal in learning_goals(path)] + [""]
    return "\n".join(out)


def readme_chapter_times(notebooks: Path) -> dict[str, str]:
    """Each chapter's file name and the time the README's chapter table must give it."""
    return {path.name: minutes(chapter_time(path)["total"]) for path in chapters(notebooks)}


RECORD = Path("results") / "reproduction.json"   # beside the notebooks; chapter 9 reads it
RESULTS_CAPTION = """\
What the chapters reach on MovieLens 100K, as test RMSE (lower is better) with the course's
default settings, over five random 90/10 splits (mean ± standard deviation) and over the data
set's five canonical folds. Chapter 9 explains the protocol and reads these numbers from the
same record."""


def results_table(record: dict) -> str:
    """The record's models with the course's default settings, best first: test RMSE over the five
    random splits (mean ± sd) and over the canonical folds u1..u5 (mean)."""
    rows = sorted((r for r in record["results"] if r["config"] == "default"),
                  key=lambda r: r["random"]["test_mean"])
    if not rows:
        raise SiteError("the reproduction record holds no run with the course's default settings")
    lines = [RESULTS_CAPTION, "", "| model | test RMSE, 5 random 90/10 splits | test RMSE, folds u1–u5 |",
             "|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['random']['test_mean']:.4f} ± {r['random']['test_sd']:.4f} "
                     f"| {r['folds']['test_mean']:.4f} |")
    return "\n".join(lines) + "\n"


def read_record(notebooks: Path) -> dict:
    path = notebooks / RECORD
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise SiteError(f"the results record {path} cannot be read ({err}); chapter 9 and the landing "
                        "page need it") from err


def exercise_table(src: Path, names: list[str]) -> str:
    """A MyST table: each chapter, a link to its page, and its learner's copy as a download."""
    rows = ["| chapter | exercise notebook |", "|---|---|"]
    for name in names:
        title = chapter_title(src / "notebooks" / name)
        stem = Path(name).stem
        rows.append(f"| {{doc}}`{title} </notebooks/{stem}>` "
                    f"| {{download}}`{name} </_extra/student/{name}>` |")
    return "\n".join(rows) + "\n"


def assemble(src: Path, docs: Path, notebooks: Path, students: Path, readme: Path) -> list[str]:
    """Fill ``src`` with everything Sphinx reads; return the chapters' file names."""
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(docs, src, ignore=shutil.ignore_patterns("node_modules", "package*.json",
                                                             "__pycache__"))
    names = []
    for nb in chapters(notebooks):
        check_notebook(nb)
        student = students / nb.name
        if not student.is_file():
            raise SiteError(f"{nb.name} has no learner's copy at {student} (run `make student`)")
        check_notebook(student)
        (src / "notebooks").mkdir(exist_ok=True)
        (src / "_extra" / "student").mkdir(parents=True, exist_ok=True)
        nbformat.write(for_the_site(nb), src / "notebooks" / nb.name)
        shutil.copy2(student, src / "_extra" / "student" / nb.name)
        # the download "with solutions": the notebook as stored, beside its page
        (src / "_extra" / "notebooks").mkdir(parents=True, exist_ok=True)
        shutil.copy2(nb, src / "_extra" / "notebooks" / nb.name)
        names.append(nb.name)
    text = readme.read_text(encoding="utf-8")
    parts = src / "_generated"
    parts.mkdir()
    (parts / "exercises.md").write_text(exercise_table(src, names))
    (parts / "intro.md").write_text(shift_headings(readme_section(text, "intro"), 2))
    (parts / "start.md").write_text(shift_headings(readme_section(text, "start"), 3))
    (parts / "chapters.md").write_text(chapter_overview(notebooks, names))
    (parts / "results.md").write_text(results_table(read_record(notebooks)))
    return names


def copy_mathjax(docs: Path, static: Path) -> None:
    """Copy MathJax 3 from ``docs/node_modules`` into the site's ``_static/mathjax``."""
    es5 = docs / "node_modules" / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").is_file():
        raise SiteError(f"MathJax is missing at {es5}: run `npm ci` in {docs} (`make setup` does)")
    for part in MATHJAX_PARTS:
        source, target = es5 / part, static / "mathjax" / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)


def build(out: Path, src: Path, docs: Path, notebooks: Path, students: Path, readme: Path) -> None:
    """Assemble the sources and run Sphinx (warnings are errors); the site lands in ``out``."""
    names = assemble(src, docs, notebooks, students, readme)
    if out.exists():
        shutil.rmtree(out)
    # MathJax goes into the source's _static, which Sphinx copies into the site as it is.
    copy_mathjax(docs, src / "_static")
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-n", "-q",
           "-d", str(src / "_doctrees"), str(src), str(out)]
    env = {**os.environ, "AUTOREC_PYPROJECT": str(ROOT / "pyproject.toml")}
    if subprocess.run(cmd, env=env).returncode != 0:
        raise SiteError("sphinx-build failed (every warning counts as an error; see above)")
    print(f"site: {len(names)} chapters ({names[0]} .. {names[-1]}) -> {out}/index.html")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site")
    parser.add_argument("--src", type=Path, default=None,
                        help="where the Sphinx sources are assembled (default: OUT-src)")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--students", type=Path, default=None,
                        help="the learners' copies (default: NOTEBOOKS/student)")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--print-readme", action="store_true",
                        help="print the chapter times and the results table the README must hold; build nothing")
    args = parser.parse_args(argv)
    if args.print_readme:
        try:
            times, table = readme_chapter_times(args.notebooks), results_table(read_record(args.notebooks))
        except SiteError as err:
            print(f"site: error: {err}", file=sys.stderr)
            return 1
        print("\n".join(f"{name}: {value}" for name, value in times.items()) + "\n\n" + table, end="")
        return 0
    src = args.src or args.out.with_name(args.out.name + "-src")
    students = args.students or args.notebooks / "student"
    started = time.perf_counter()
    try:
        build(args.out.resolve(), src.resolve(), args.docs.resolve(), args.notebooks.resolve(),
              students.resolve(), args.readme.resolve())
    except SiteError as err:
        print(f"site: error: {err}", file=sys.stderr)
        return 1
    print(f"site: built in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
