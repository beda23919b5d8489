"""Build the course website (``make site``) from the stored notebook outputs, without executing them.

It assembles a Sphinx source folder (default ``build/site-src``) from

* ``docs/``: ``conf.py``, the landing page, the API and benchmarks pages, templates, CSS;
* ``notebooks/0*.ipynb``, copied as stored into ``notebooks/`` (a new chapter shows up by itself);
* ``notebooks/student/0*.ipynb``, the learners' copies, offered as downloads;
* README sections between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` markers (the landing
  page's results table, the benchmarks page), so no table is written twice;
* MathJax 3 from ``docs/node_modules`` (``npm ci`` in ``docs/``), served from the site itself;

then runs ``sphinx-build -W --keep-going -n``: any warning (a broken cross-reference, a missing image,
a notebook that does not parse) fails the build. Usage::

    python scripts/build_site.py [--out build/site] [--notebooks notebooks] [--readme README.md]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
# MathJax 3's files the site needs: the TeX-to-CHTML bundle, the extensions and fonts it loads on
# demand, the menu and its accessibility components.
MATHJAX_PARTS = ["tex-chtml.js", "input", "output/chtml", "output/chtml.js", "ui", "a11y",
                 "adaptors", "sre"]
# Where each README section falls back to when the lead has not added its markers yet:
# (regex of the first line, included or not; regex of the line that ends it, excluded).
README_SECTIONS = {
    "intro": (r"^# ", False, r"^## "),
    "results": (r"^#### ML-100K, 90/10", True, r"^#### "),
    "benchmarks": (r"^## Results\s*$", False, r"^## "),
}


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


def without_colab_setup(path: Path) -> nbformat.NotebookNode:
    """The notebook with its Colab setup cell hidden on the site (each page links to Colab instead)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "colab-setup" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
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
        nbformat.write(without_colab_setup(nb), src / "notebooks" / nb.name)
        shutil.copy2(student, src / "_extra" / "student" / nb.name)
        names.append(nb.name)
    text = readme.read_text(encoding="utf-8")
    parts = src / "_generated"
    parts.mkdir()
    (parts / "exercises.md").write_text(exercise_table(src, names))
    (parts / "intro.md").write_text(shift_headings(readme_section(text, "intro"), 2))
    (parts / "results.md").write_text(shift_headings(readme_section(text, "results"), 3))
    (parts / "benchmarks.md").write_text(shift_headings(readme_section(text, "benchmarks"), 2))
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
    args = parser.parse_args(argv)
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
