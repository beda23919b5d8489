"""The course website (issue 13, 22): `make site` builds it, a real Chromium reads every page of it.

Besides loading every page, the browser checks what a learner meets: solutions folded until their
toggle is clicked, nothing wider than its box at 1280 and 390 px, one search box, no second list
of the chapters, each chapter's time and goals on the landing page, and no maintainer's words
(`make student`, `scripts/...`) on a learner's page.

The site is built once per session into build/site (scripts/build_site.py, no notebook executed),
served by a local http.server, and opened in Debian's Chromium driven by Playwright. Without
Chromium (or without the `site` extra) the tests skip, unless CI=true or AUTOREC_REQUIRE_BROWSER=1
makes that a failure.
"""
from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

import chromium

if importlib.util.find_spec("sphinx") is None or importlib.util.find_spec("myst_nb") is None:
    _missing = "the site extra is not installed here (pip install -e '.[site]')"
    if chromium.required():
        raise RuntimeError(f"CI builds and tests the site, but {_missing}")
    pytest.skip(_missing, allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "build" / "site"
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("0*.ipynb"))
# Text that must not be visible once MathJax has typeset a page (code blocks aside).
RAW_TEX = re.compile(r"\$\$|\\frac|\\begin\{|\\mathbf|\\sum_|\\hat\{")


def _load_build_site():
    spec = importlib.util.spec_from_file_location("build_site", ROOT / "scripts" / "build_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_site = _load_build_site()


def _run_build(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "build_site.py"), *args],
                          capture_output=True, text=True, cwd=ROOT)


@pytest.fixture(scope="session")
def site() -> Path:
    """The whole site, built from the stored notebooks into build/site by the README's `make site`
    (its setup step skipped: the environment under test is the one running these tests)."""
    done = subprocess.run(["make", "--no-print-directory", "-o", "setup", "-o", "setup-legacy", "-o", "setup-current",
                           "site", f"PY={sys.executable}"], capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, f"make site failed:\n{done.stdout}\n{done.stderr}"
    return SITE


# ---------------------------------------------------------------- the build itself (no browser)

def _tiny_sources(tmp_path: Path, markdown: str) -> list[str]:
    """A copy of docs/ (the API page reduced to a title, for speed) and one small chapter whose
    markdown cell is ``markdown``; returns build_site.py's arguments for them."""
    import nbformat

    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs, ignore=shutil.ignore_patterns("node_modules"))
    (docs / "node_modules").symlink_to(ROOT / "docs" / "node_modules")
    (docs / "api.md").write_text("# API reference\n\nLeft out of this test build.\n")
    notebooks = tmp_path / "notebooks"
    (notebooks / "student").mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
                                             "# 1. A chapter\n\n**What you will learn**\n\n* one thing\n\n" + markdown),
                                         nbformat.v4.new_code_cell("1 + 1")],
                                  metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"},
                                            "language_info": {"name": "python"}})
    nbformat.write(nb, notebooks / "01_tiny.ipynb")
    nbformat.write(nb, notebooks / "student" / "01_tiny.ipynb")
    (notebooks / "results").mkdir()
    shutil.copy(ROOT / "notebooks" / build_site.RECORD, notebooks / build_site.RECORD)
    return ["--docs", str(docs), "--notebooks", str(notebooks), "--out", str(tmp_path / "site")]


def test_tiny_copy_of_the_sources_builds(tmp_path):
    done = _run_build(*_tiny_sources(tmp_path, "Maths $a^2$ and a link to [the API](../api.md)."))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "notebooks" / "01_tiny.html").is_file()


DEFECTS = {  # markdown in a chapter -> what the failed build names
    "See {ref}`a-label-nobody-defined`.": "a-label-nobody-defined",
    "See [the missing page](no_such_page.md).": "no_such_page",
    "![a figure](missing_figure.png)": "missing_figure.png",
}


def test_broken_reference_or_missing_image_fails_the_build(tmp_path):
    """One build holds three defects (--keep-going reports each); every one must be named."""
    done = _run_build(*_tiny_sources(tmp_path, "\n\n".join(DEFECTS)))
    assert done.returncode != 0, "the build passed despite broken references and a missing image"
    output = done.stdout + done.stderr
    assert [name for name in DEFECTS.values() if name not in output] == []


def test_notebook_that_does_not_parse_fails_the_build(tmp_path):
    args = _tiny_sources(tmp_path, "Fine.")
    (tmp_path / "notebooks" / "02_broken.ipynb").write_text('{"cells": [ {"cell_type": ')
    (tmp_path / "notebooks" / "student" / "02_broken.ipynb").write_text("{}")
    done = _run_build(*args)
    assert done.returncode != 0
    assert "02_broken.ipynb: not a valid notebook" in done.stderr


def test_chapter_without_learners_copy_fails_the_build(tmp_path):
    args = _tiny_sources(tmp_path, "Fine.")
    (tmp_path / "notebooks" / "student" / "01_tiny.ipynb").unlink()
    done = _run_build(*args)
    assert done.returncode != 0 and "no learner's copy" in done.stderr


def test_readme_section_prefers_markers_and_falls_back_to_headings():
    text = ("# T\nintro\n## Start here\n<!-- start:start -->\nroutes\n<!-- start:end -->\nmore\n"
            "## Results\n<!-- results:start -->\n| a |\n<!-- results:end -->\n")
    assert build_site.readme_section(text, "results") == "| a |\n"
    assert build_site.readme_section(text, "start") == "routes\n"
    assert build_site.readme_section(text, "intro") == "intro\n"
    assert build_site.readme_section(text.replace("<!-- start:start -->\n", ""), "start") == "routes\nmore\n"


def test_a_record_without_results_or_a_notebook_without_goals_fails_the_build(tmp_path):
    args = _tiny_sources(tmp_path, "Fine.")
    record = tmp_path / "notebooks" / build_site.RECORD
    record.write_text('{"results": ')
    done = _run_build(*args)
    assert done.returncode != 0 and "reproduction.json cannot be read" in done.stderr
    record.unlink()
    shutil.copy(ROOT / "notebooks" / build_site.RECORD, record)
    import nbformat
    nb = nbformat.read(tmp_path / "notebooks" / "01_tiny.ipynb", as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("What you will learn", "Contents")
    nbformat.write(nb, tmp_path / "notebooks" / "01_tiny.ipynb")
    done = _run_build(*args)
    assert done.returncode != 0 and "01_tiny.ipynb has no 'What you will learn' list" in done.stderr


def test_learning_goals_are_read_whole_from_the_notebook(tmp_path):
    import nbformat
    cell = nbformat.v4.new_markdown_cell("Intro.\n\n**What you will learn**\n\n* one thing,\n  over two lines;\n"
                                         "- another.\n\nMore text.\n\n* not a goal")
    path = tmp_path / "01_x.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    assert build_site.learning_goals(path) == ["one thing, over two lines;", "another."]


def test_folded_markdown_keeps_its_text_and_turns_headings_into_bold_lines():
    folded = build_site.folded_markdown("### The study\n\ntext\n\n```\n# a comment\n```\n:::{note}\nx\n:::")
    assert folded.startswith("::::{toggle}\n**The study**\n") and folded.endswith("\n::::\n")
    assert "# a comment" in folded and ":::{note}" in folded


def test_chapter_time_counts_reading_exercises_and_stored_run_time(tmp_path):
    import nbformat
    v4 = nbformat.v4
    timing = {"iopub.execute_input": "2026-12-01T10:00:00.000Z", "shell.execute_reply": "2026-12-01T10:01:30.000Z"}
    cells = [v4.new_markdown_cell("word " * 995), v4.new_markdown_cell("## Exercise 1\n\nDo it."),
             v4.new_code_cell("x = 1\n" * 40, metadata={"execution": timing}),
             v4.new_code_cell("hidden = 1\n" * 400, metadata={"tags": ["solution"], "execution": timing})]
    path = tmp_path / "01_x.ipynb"
    nbformat.write(v4.new_notebook(cells=cells), path)
    time_ = build_site.chapter_time(path)
    # 1000 words / 100 + 40 lines / 20 = 12 min of reading (the solution's lines are not read),
    # one exercise, 2 x 90 s of stored run time: 12 + 10 + 3 = 25 min
    assert time_ == {"reading": 12, "exercises": 1, "run_seconds": 180.0, "total": 25}
    assert build_site.minutes(25) == "25 min" and build_site.minutes(60) == "1 h"
    assert build_site.minutes(75) == "1 h 15 min"


# ---------------------------------------------------------------- the browser

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server(site):
    """build/site served on a free local port."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Debian's Chromium, headless, with a fresh profile, driven by Playwright."""
    if chromium.missing():
        chromium.skip_or_fail("the site's browser test needs " + ", ".join(chromium.missing()))
    with chromium.browser(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


class Visit:
    """What one page load showed: console errors, page errors, off-site and failed requests."""

    def __init__(self, context, url: str, server: str):
        self.errors: list[str] = []
        self.offsite: list[str] = []
        self.failed: list[str] = []
        self.page = context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: None if r.url.startswith((server, "data:", "blob:"))
                     else self.offsite.append(r.url))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        self.page.on("requestfailed", lambda r: self.failed.append(f"failed {r.url}"))
        self.page.goto(url, wait_until="load")
        self.page.evaluate("""async () => {
            if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
                await MathJax.startup.promise;
            }
            await document.fonts.ready;
        }""")

    def close(self) -> None:
        self.page.close()


def _pages(site: Path) -> list[str]:
    """Every page of the site (the theme's template fragments under _static are not pages)."""
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if not p.relative_to(site).as_posix().startswith("_static/"))


PAGE_REPORT = """() => {
    const visible = document.body.cloneNode(true);
    visible.querySelectorAll('pre, code, script, style, mjx-container, mjx-assistive-mml, .MathJax')
        .forEach(e => e.remove());
    const widgets = [...document.querySelectorAll(
        '.jupyter-widgets, .widget-subarea, script[type="application/vnd.jupyter.widget-view+json"]')];
    return {
        text: visible.textContent,
        images: [...document.images].map(i => ({src: i.currentSrc || i.src, w: i.naturalWidth,
                                                h: i.naturalHeight, complete: i.complete})),
        maths: document.querySelectorAll('.math').length,
        typeset: [...document.querySelectorAll('.math')].filter(e => e.querySelector('mjx-container')).length,
        emptyWidgets: widgets.filter(w => w.getBoundingClientRect().height === 0 || !w.textContent.trim()
                                          && !w.querySelector('canvas, img, svg, input')).length,
        widgetText: /Loading widget|Error displaying widget|Failed to display widget/.test(document.body.innerText),
    };
}"""


def test_every_page_loads_with_images_typeset_maths_and_no_widget_stub(site, server, browser):
    problems: list[str] = []
    pages = _pages(site)
    assert len(pages) >= len(CHAPTERS) + 5
    for name in pages:
        visit = Visit(browser, urljoin(server, name), server)
        report = visit.page.evaluate(PAGE_REPORT)
        visit.close()
        problems += [f"{name}: console error: {e}" for e in visit.errors]
        problems += [f"{name}: off-site request: {u}" for u in visit.offsite]
        problems += [f"{name}: {f}" for f in visit.failed]
        problems += [f"{name}: image not loaded: {i['src']}" for i in report["images"]
                     if not (i["complete"] and i["w"] > 0 and i["h"] > 0)]
        raw = RAW_TEX.findall(report["text"])
        if raw:
            problems.append(f"{name}: raw TeX left in the visible text: {sorted(set(raw))}")
        if report["typeset"] != report["maths"]:
            problems.append(f"{name}: {report['maths'] - report['typeset']} of {report['maths']} "
                            "maths elements not typeset by MathJax")
        if report["emptyWidgets"] or report["widgetText"]:
            problems.append(f"{name}: an empty widget placeholder is shown")
    assert not problems, "\n".join(problems)


def test_maths_is_typeset_by_the_sites_own_mathjax(site, server, browser):
    visit = Visit(browser, urljoin(server, "notebooks/03_autorec_derivation.html"), server)
    count = visit.page.locator("mjx-container").count()
    source = visit.page.evaluate("[...document.scripts].map(s => s.src).find(s => /mathjax/i.test(s))")
    visit.close()
    assert count > 20, "chapter 3's equations were not rendered"
    assert source.startswith(server) and "_static/mathjax/tex-chtml.js" in source


def test_navigation_on_the_landing_page_reaches_every_chapter_in_order(site, server, browser):
    visit = Visit(browser, server, server)
    hrefs = visit.page.eval_on_selector_all(".bd-sidebar-primary nav a[href]", "as => as.map(a => a.href)")
    visit.page.screenshot(path=str(ROOT / "build" / "site-landing.png"), full_page=False)
    visit.close()
    linked = [urlparse(h).path.removeprefix("/") for h in hrefs]
    chapters = [p for p in linked if p.startswith("notebooks/")]
    assert chapters == [f"notebooks/{c}.html" for c in CHAPTERS]
    for page in ("exercises.html", "library.html", "benchmarks.html", "api.html"):
        assert page in linked


def test_each_chapter_links_to_colab_and_its_exercise_notebook(site, server, browser):
    autorec = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["autorec"]
    owner_repo = autorec["repository"].removeprefix("https://github.com/")
    for chapter in CHAPTERS:
        visit = Visit(browser, urljoin(server, f"notebooks/{chapter}.html"), server)
        colab = visit.page.get_attribute("a.colab-link", "href")
        student = visit.page.eval_on_selector("a.student-download", "a => a.href")
        shown = visit.page.inner_text("article")
        assert "Setup for Google Colab" not in shown, f"{chapter}: the Colab setup cell is shown on the site"
        if chapter == CHAPTERS[min(2, len(CHAPTERS) - 1)]:   # chapter 3: show its typeset maths
            visit.page.evaluate("""() => { const m = document.querySelector('mjx-container[display="true"]');
                if (m) { m.scrollIntoView({block: 'center'}); } }""")
            visit.page.screenshot(path=str(ROOT / "build" / "site-chapter.png"), full_page=False)
        body = visit.page.request.get(student)
        solutions = visit.page.request.get(visit.page.eval_on_selector("a.solutions-download", "a => a.href"))
        visit.close()
        assert solutions.ok and json.loads(solutions.body()) == json.loads(
            (ROOT / "notebooks" / f"{chapter}.ipynb").read_text()), f"{chapter}: the download is not the notebook as stored"
        assert colab == (f"https://colab.research.google.com/github/{owner_repo}/blob/"
                         f"{autorec['ref']}/notebooks/{chapter}.ipynb")
        assert body.ok, student
        stored = json.loads((ROOT / "notebooks" / "student" / f"{chapter}.ipynb").read_text())
        assert json.loads(body.text()) == stored


def _rendered_rows(page) -> set[tuple[str, ...]]:
    rows = page.eval_on_selector_all(
        "article table tr", "trs => trs.map(tr => [...tr.cells].map(c => c.innerText.trim()"
                            ".replace(/[\u2018\u2019]/g, \"'\")))")
    return {tuple(r) for r in rows}


def _table_rows(text: str) -> set[tuple[str, ...]]:
    rows = set()
    for line in text.splitlines():
        if line.startswith("|") and not re.fullmatch(r"[|\-: ]+", line):
            rows.add(tuple(re.sub(r"\*\*|`", "", c).strip() for c in line.strip().strip("|").split("|")))
    return rows


SOURCES = {  # page -> the markdown whose tables it must show
    "benchmarks.html": lambda: (ROOT / "docs" / "benchmarks.md").read_text(),
    "index.html": lambda: build_site.readme_section((ROOT / "README.md").read_text(), "results"),
}


@pytest.mark.parametrize("page", SOURCES)
def test_pages_show_the_tables_of_their_source(site, server, browser, page):
    expected = _table_rows(SOURCES[page]())
    assert expected, f"no table in the source of {page}"
    visit = Visit(browser, urljoin(server, page), server)
    shown = _rendered_rows(visit.page)
    visit.close()
    assert expected <= shown, sorted(expected - shown)


def test_search_finds_the_chapters(site, server, browser):
    visit = Visit(browser, urljoin(server, "search.html?q=autoencoder"), server)
    results = visit.page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=15000)
    links = visit.page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.href)")
    visit.close()
    assert any("/notebooks/" in link for link in links), links




# ---------------------------------------------------------------- what a learner meets (issue 22)

LEARNER_PAGES = ["index.html", "exercises.html", *(f"notebooks/{c}.html" for c in CHAPTERS)]
EVERY_KIND = [*LEARNER_PAGES, "library.html", "benchmarks.html", "api.html"]
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def _at(browser, server: str, name: str, size: tuple[int, int]) -> Visit:
    """The page laid out from the start at ``size``, as a device of that size would."""
    visit = Visit(browser, urljoin(server, name), server)
    visit.page.set_viewport_size({"width": size[0], "height": size[1]})
    visit.page.reload()
    visit.page.evaluate("document.fonts.ready")
    return visit


def test_solutions_are_hidden_until_their_toggle_is_clicked(site, server, browser):
    """Every cell the learner's copy leaves out or stubs sits in a closed toggle on its page."""
    import nbformat

    problems = []
    for chapter in CHAPTERS:
        nb = nbformat.read(ROOT / "notebooks" / f"{chapter}.ipynb", as_version=4)
        expected = sum(build_site.is_folded(c) for c in nb.cells)
        visit = Visit(browser, urljoin(server, f"notebooks/{chapter}.html"), server)
        page = visit.page
        folded = page.locator("article .tag_fold, article .toggle")
        count = folded.count()
        if count != expected:
            problems.append(f"{chapter}: {count} folded blocks, {expected} solution/answer cells")
        for k in range(count):
            block = folded.nth(k)
            if block.is_visible():
                problems.append(f"{chapter}: solution {k + 1} is visible before its toggle is clicked")
                continue
            summary = block.locator("xpath=ancestor::details[1]/summary")
            if summary.inner_text().strip() != "Show the solution":
                problems.append(f"{chapter}: solution {k + 1}'s toggle reads {summary.inner_text()!r}")
            summary.click()
            if not block.is_visible():
                problems.append(f"{chapter}: solution {k + 1} stays hidden after its toggle is clicked")
        if chapter == CHAPTERS[min(5, len(CHAPTERS) - 1)]:   # chapter 6: one solution open, for a look
            folded.first.scroll_into_view_if_needed()
            page.screenshot(path=str(ROOT / "build" / "site-solution-open.png"))
        visit.close()
        if expected == 0:
            problems.append(f"{chapter}: no solution cell to fold (the notebook has no tagged solution)")
    assert not problems, "\n".join(problems)


OVERFLOW = """() => {
    const article = document.querySelector('article.bd-article');
    const box = article.getBoundingClientRect();
    const clips = e => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(e).overflowX);
    const name = e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string'
        ? '.' + e.className.trim().split(/\\s+/).slice(0, 2).join('.') : '');
    const wide = [];
    for (const e of article.querySelectorAll('*')) {
        const r = e.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        let up = e.parentElement, inside = false;       // inside a box that scrolls: it fits by design
        while (up && up !== article) { if (clips(up)) { inside = true; break; } up = up.parentElement; }
        if (inside) continue;
        if (r.right > box.right + 1 || r.left < box.left - 1) {
            wide.push(`${name(e)} spans ${Math.round(r.left)}..${Math.round(r.right)} px, its box ` +
                      `${Math.round(box.left)}..${Math.round(box.right)}: ${(e.textContent || '').trim().slice(0, 60)}`);
        }
    }
    return {wide: wide.slice(0, 5), count: wide.length,
            page: [document.documentElement.scrollWidth, window.innerWidth]};
}"""


@pytest.mark.parametrize("device", WIDTHS)
def test_nothing_overflows_its_box(site, server, browser, device):
    """Code blocks, tables and maths wrap or scroll inside the article; nothing widens the page."""
    problems = []
    for name in EVERY_KIND:
        visit = _at(browser, server, name, WIDTHS[device])
        report = visit.page.evaluate(OVERFLOW)
        if name == "index.html":
            visit.page.screenshot(path=str(ROOT / "build" / f"site-landing-{device}.png"), full_page=True)
        if name == f"notebooks/{CHAPTERS[0]}.html":
            visit.page.screenshot(path=str(ROOT / "build" / f"site-chapter-{device}.png"))
        visit.close()
        width, window = report["page"]
        if width > window:
            problems.append(f"{name}: the page is {width} px wide in a {window} px window")
        problems += [f"{name}: {line}" for line in report["wide"]]
        if report["count"] > len(report["wide"]):
            problems.append(f"{name}: ... {report['count']} elements in all")
    assert not problems, "\n".join(problems)


SEARCH_BOXES = """() => [...document.querySelectorAll(
    'input[type=search], .search-button-field, button.search-button, #searchbox input')]
    .filter(e => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
                   return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'; })
    .map(e => e.outerHTML.slice(0, 80))"""


@pytest.mark.parametrize("device", WIDTHS)
def test_one_search_box(site, server, browser, device):
    for name in ("index.html", f"notebooks/{CHAPTERS[0]}.html"):
        visit = _at(browser, server, name, WIDTHS[device])
        boxes = visit.page.evaluate(SEARCH_BOXES)
        visit.close()
        assert len(boxes) == 1, f"{name} at {WIDTHS[device][0]} px shows {len(boxes)} search boxes: {boxes}"


def test_the_landing_page_lists_the_chapters_once_with_time_and_goals(site, server, browser):
    visit = Visit(browser, server, server)
    page = visit.page
    toctrees = page.locator("article .toctree-wrapper a").count()   # the hidden ones feed the sidebar
    in_article = page.eval_on_selector_all(
        "article a[href^='notebooks/']", "as => as.map(a => a.getAttribute('href').replace(/#.*/, ''))")
    in_contents = page.eval_on_selector_all(".bd-toc a[href]", "as => as.map(a => a.innerText.trim())")
    blocks = page.eval_on_selector_all("article p.chapter-overview", """ps => ps.map(p => {
        const time = p.nextElementSibling, goals = time.nextElementSibling;
        return {title: p.innerText.trim(), time: time.innerText,
                goals: goals && goals.tagName === 'UL' ? goals.children.length : 0}; })""")
    visit.close()
    assert toctrees == 0, "the landing page shows a toctree list beside the sidebar's"
    titles = [build_site.chapter_title(ROOT / "notebooks" / f"{c}.ipynb") for c in CHAPTERS]
    assert not [t for t in titles if t in in_contents], "the page's contents repeat the chapter list"
    assert sorted(in_article) == sorted(f"notebooks/{c}.html" for c in CHAPTERS), in_article
    assert [b["title"] for b in blocks] == titles
    for chapter, block in zip(CHAPTERS, blocks):
        path = ROOT / "notebooks" / f"{chapter}.ipynb"
        assert block["time"].startswith(f"About {build_site.minutes(build_site.chapter_time(path)['total'])}:")
        assert block["goals"] == len(build_site.learning_goals(path)), chapter


def test_learner_pages_hold_no_maintainer_talk(site, server, browser):
    """The words of build_site.MAINTAINER_TALK (make student, scripts/..., record_references) belong
    to the course's maintainers; a learner's page (folded solutions and code included) has none."""
    found = []
    for name in LEARNER_PAGES:
        visit = Visit(browser, urljoin(server, name), server)
        text = visit.page.evaluate("document.querySelector('article').textContent")
        visit.close()
        for sentence in re.split(r"(?<=[.!?:])\s+|\n\s*\n", text):
            if build_site.MAINTAINER_TALK.search(sentence):
                found.append(f"{name}: {' '.join(sentence.split())[:160]}")
    assert not found, "maintainer talk on learner pages:\n" + "\n".join(found)
