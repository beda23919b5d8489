"""The course website (issue 13): `make site` builds it, a real Chromium reads every page of it.

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

if importlib.util.find_spec("sphinx") is None or importlib.util.find_spec("myst_nb") is None:
    _missing = "the site extra is not installed here (pip install -e '.[site]')"
    if os.environ.get("CI") == "true" or os.environ.get("AUTOREC_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"CI builds and tests the site, but {_missing}")
    pytest.skip(_missing, allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "build" / "site"
CHROMIUM = Path(os.environ.get("AUTOREC_CHROMIUM", "/usr/bin/chromium"))
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("0*.ipynb"))
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
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
    """The whole site, built from the stored notebooks into build/site."""
    done = _run_build("--out", str(SITE))
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
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 1. A chapter\n\n" + markdown),
                                         nbformat.v4.new_code_cell("1 + 1")],
                                  metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"},
                                            "language_info": {"name": "python"}})
    nbformat.write(nb, notebooks / "01_tiny.ipynb")
    nbformat.write(nb, notebooks / "student" / "01_tiny.ipynb")
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
    text = "# T\nintro\n## Results\n<!-- results:start -->\n| a |\n<!-- results:end -->\nmore\n## Next\n"
    assert build_site.readme_section(text, "results") == "| a |\n"
    assert build_site.readme_section(text, "benchmarks") == "| a |\nmore\n"
    assert build_site.readme_section(text, "intro") == "intro\n"


# ---------------------------------------------------------------- the browser

def _require_browser() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("AUTOREC_REQUIRE_BROWSER") == "1"


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
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run does)"
        if _require_browser():
            pytest.fail(message)
        pytest.skip(message)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if _require_browser():
            pytest.fail("playwright is not installed (pip install -e '.[site]')")
        pytest.skip("playwright is not installed (pip install -e '.[site]')")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True,
            viewport={"width": 1280, "height": 900})
        yield context
        context.close()


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
    for page in ("exercises.html", "benchmarks.html", "api.html"):
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
        visit.close()
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


def _readme_rows(section: str) -> set[tuple[str, ...]]:
    text = build_site.readme_section((ROOT / "README.md").read_text(), section)
    rows = set()
    for line in text.splitlines():
        if line.startswith("|") and not re.fullmatch(r"[|\-: ]+", line):
            rows.add(tuple(re.sub(r"\*\*|`", "", c).strip() for c in line.strip().strip("|").split("|")))
    return rows


@pytest.mark.parametrize("page, section", [("benchmarks.html", "benchmarks"), ("index.html", "results")])
def test_pages_reproduce_the_readme_tables(site, server, browser, page, section):
    expected = _readme_rows(section)
    assert expected, f"no table in the README's {section} section"
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


def test_pages_fit_a_phone_width_window(site, server, browser):
    narrow = []
    for name in ["index.html", "benchmarks.html", "exercises.html", "api.html",
                 *(f"notebooks/{c}.html" for c in CHAPTERS)]:
        visit = Visit(browser, urljoin(server, name), server)
        visit.page.set_viewport_size({"width": 390, "height": 844})
        visit.page.reload()  # laid out from the start at phone width, as a phone would
        visit.page.wait_for_timeout(300)
        width = visit.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if name == f"notebooks/{CHAPTERS[0]}.html":
            visit.page.screenshot(path=str(ROOT / "build" / "site-phone.png"))
        visit.close()
        if width[0] > width[1]:
            narrow.append(f"{name}: {width[0]} px wide in a {width[1]} px window")
    assert not narrow, "\n".join(narrow)
