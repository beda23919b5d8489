"""The real client (issue 22): JupyterLab, started from the course's environment (the one running
these tests), driven through its own UI in a headless Chromium, as a learner would use it.

In a temporary copy of the notebooks, `make lab` (the README's command) serves the learners' copies;
the test opens chapter 1's, types each solution into its stub cell (the solution notebook's
`solution` cell with the same id), and runs all cells from JupyterLab's Run menu. A second
JupyterLab, at the copy's top, runs chapter 4's solution notebook (it trains for real) the same way.
Every cell must run without an error output, and progress must show as text, not as a widget.

Without Chromium, Playwright, JupyterLab or make the tests skip, unless CI=true or
AUTOREC_REQUIRE_BROWSER=1 (which `.ci/run` sets) makes that a failure (tests/chromium.py).
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import chromium

ROOT = Path(__file__).resolve().parents[1]
LEARNER_CHAPTER = "01_setup_and_data.ipynb"      # the learner's copy, solutions typed in
SOLUTION_CHAPTER = "04_autorec_pytorch.ipynb"    # the solution notebook, run as it is
TOKEN = "autorec-test-token"
# JupyterLab's own settings for the test's user: no news or update pop-ups over the notebook, and
# every cell kept in the page (by default cells far below the fold are drawn only when scrolled to).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
PROGRESS_DONE = r"\d+ epochs .*best validation RMSE"   # training.fit's last progress line


def _missing() -> list[str]:
    missing = chromium.missing()
    if importlib.util.find_spec("jupyterlab") is None or not (Path(sys.prefix) / "bin" / "jupyter").exists():
        missing.append(f"JupyterLab in this environment, {sys.prefix} (pip install -e '.[test]')")
    if shutil.which("make") is None:
        missing.append("make")
    return missing


@pytest.fixture(scope="module")
def needs():
    if _missing():
        chromium.skip_or_fail("JupyterLab's browser test needs " + ", ".join(_missing()))


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A temporary copy of what `make lab` and the notebooks need: the Makefile and notebooks/."""
    copy = tmp_path_factory.mktemp("course")
    shutil.copy2(ROOT / "Makefile", copy / "Makefile")
    shutil.copytree(ROOT / "notebooks", copy / "notebooks",
                    ignore=shutil.ignore_patterns("*.py", ".ipynb_checkpoints", "__pycache__"))
    return copy


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory) -> dict[str, str]:
    """The environment JupyterLab runs in: this checkout's library first on the path, and Jupyter's
    configuration, settings, workspaces and runtime files in folders of the test's own."""
    home = tmp_path_factory.mktemp("jupyter")
    (home / "config").mkdir()
    (home / "config" / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"open_browser": False, "allow_root": True}}))   # CI runs as root
    for name, values in LAB_SETTINGS.items():
        target = home / "settings" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
           "PATH": f"{Path(sys.prefix) / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"), "IPYTHONDIR": str(home / "ipython"),
           "JUPYTER_TOKEN": TOKEN,
           # one thread unless told otherwise, as in CI: on a busy machine two OpenMP threads that
           # spin while waiting for each other made an epoch 60 times slower here
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    env.pop("JUPYTER_PORT", None)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server started by ``command`` in ``cwd`` on a free port; stopped by ``stop``."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str], log: Path):
        self.port = _free_port()
        self.log = log
        self.base = f"http://127.0.0.1:{self.port}/"
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(command, cwd=cwd, env={**env, "JUPYTER_PORT": str(self.port)},
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{' '.join(command)} exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}api/status?token={TOKEN}", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise AssertionError(f"JupyterLab did not answer on port {self.port} within 120 s:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        """End the server this test started (its own process group: make, and the jupyter it ran)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture(scope="module")
def browser(needs, tmp_path_factory):
    with chromium.browser(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


# ---------------------------------------------------------------- what a user does in JupyterLab

KERNEL_IDLE = """() => {
    const indicator = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
    return indicator !== null && indicator.getAttribute('data-status') === 'idle';
}"""
PROMPTS = """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')]
    .map(p => p.textContent.trim())"""


def _open(page, lab: Lab, path: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    """Open ``path`` (relative to the server's root) in JupyterLab and wait for its kernel."""
    page.goto(f"{lab.base}lab/tree/{path}?token={TOKEN}")
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    # JupyterLab may ask which kernel to start (it preselects the notebook's own, Python 3): accept it
    select = page.locator(".jp-Dialog", has_text="Select Kernel").locator("button.jp-mod-accept")
    try:
        select.wait_for(timeout=5_000)
        select.click()
    except PlaywrightTimeout:
        pass
    page.wait_for_function(KERNEL_IDLE, timeout=60_000)


def _cells(page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")


def _type_into(page, k: int, text: str) -> None:
    """Replace cell ``k``'s code with ``text`` through its editor, as a learner pasting it in."""
    editor = _cells(page).nth(k).locator(".cm-content")
    editor.scroll_into_view_if_needed()
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
    page.keyboard.press("Escape")   # back to command mode


def _run_all_and_save(page, timeout_s: float) -> None:
    """Run ▸ Run All Cells from the menu bar, wait until every queued cell has run, then save."""
    try:
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        page.wait_for_function(f"() => ({PROMPTS})().some(p => p.includes('*'))", timeout=30_000)
        page.wait_for_function(f"() => !({PROMPTS})().some(p => p.includes('*')) && ({KERNEL_IDLE})()",
                               timeout=timeout_s * 1000, polling=500)
        page.keyboard.press("Control+s")
        page.wait_for_function("() => !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')",
                               timeout=30_000)
    except Exception:
        (ROOT / "build").mkdir(exist_ok=True)
        page.screenshot(path=str(ROOT / "build" / "jupyterlab-failure.png"))   # what the page showed
        raise


def _outputs_report(page) -> dict:
    """What the page shows: widget views (there must be none) and the progress lines' rendering."""
    return page.evaluate(f"""() => {{
        const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
        const outputs = [...panel.querySelectorAll('.jp-OutputArea-output')];
        const progress = outputs.filter(o => /{PROGRESS_DONE}/.test(o.textContent));
        return {{
            widgets: panel.querySelectorAll('.jupyter-widgets, .widget-subarea, [data-mime-type*="widget-view"]').length,
            widgetText: /Loading widget|Error displaying widget|Failed to display widget/.test(panel.innerText),
            progress: progress.length,
            progressAsText: progress.filter(o => o.classList.contains('jp-RenderedText')
                                             && o.getBoundingClientRect().height > 0).length,
        }};
    }}""")


def _run_in_lab(browser, lab: Lab, path: str, shot: str, timeout_s: float, prepare=None) -> dict:
    """Open ``path`` in ``lab``, let ``prepare(page)`` act first (a learner typing), run all cells
    and save; the page's outputs report (and a screenshot in build/jupyterlab-SHOT.png). Stops ``lab``."""
    page = browser.new_page()
    try:
        _open(page, lab, path)
        if prepare is not None:
            prepare(page)
        _run_all_and_save(page, timeout_s)
        report = _outputs_report(page)
        (ROOT / "build").mkdir(exist_ok=True)
        page.screenshot(path=str(ROOT / "build" / f"jupyterlab-{shot}.png"))
        return report
    finally:
        page.close()
        lab.stop()


def _errors(notebook: Path) -> list[str]:
    """Cells of the saved notebook that did not run, or ran into an error."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    problems = []
    for k, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        first = cell.source.strip().splitlines()[0][:60]
        if cell.get("execution_count") is None:
            problems.append(f"cell {k} ({first!r}) did not run")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"cell {k} ({first!r}): {out.get('ename')}: {out.get('evalue')}")
    return problems


def _solutions_by_id(name: str) -> dict[str, str]:
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    return {c.id: c.source for c in nb.cells if "solution" in c.metadata.get("tags", []) and c.cell_type == "code"}


# ---------------------------------------------------------------- the tests

def _lab_recipe() -> list[str]:
    return (ROOT / "Makefile").read_text().split("\nlab:\n", 1)[1].split("\n\n", 1)[0].splitlines()


def test_a_learner_opens_make_lab_types_the_solutions_into_chapter_1_and_runs_it_all(
        needs, course, lab_env, browser, tmp_path):
    """`make lab` (the README's command; its recipe is the README's `.venv/bin/jupyter lab
    notebooks/student`, with this environment for .venv) serves notebooks/student/ and nothing
    above it; in it the learner fills in chapter 1's stubs and runs the whole notebook."""
    import nbformat

    assert "\t$(VENV)/bin/jupyter lab notebooks/student" in _lab_recipe()

    student = nbformat.read(course / "notebooks" / "student" / LEARNER_CHAPTER, as_version=4)
    solutions = _solutions_by_id(LEARNER_CHAPTER)
    stubs = [(k, c.id) for k, c in enumerate(student.cells) if "exercise" in c.metadata.get("tags", [])]
    assert stubs and all(cell_id in solutions for _, cell_id in stubs), "a stub without its solution cell"
    lab = Lab(["make", "--no-print-directory", "lab", f"VENV={sys.prefix}"], course, lab_env, tmp_path / "lab.log")

    def learner_types(page):
        with urllib.request.urlopen(f"{lab.base}api/contents?token={TOKEN}", timeout=10) as reply:
            listing = {item["name"] for item in json.load(reply)["content"]}
        assert listing == {p.name for p in (ROOT / "notebooks" / "student").glob("0*.ipynb")}
        for k, cell_id in stubs:
            assert "NotImplementedError" in _cells(page).nth(k).locator(".cm-content").inner_text()
            _type_into(page, k, solutions[cell_id])

    report = _run_in_lab(browser, lab, LEARNER_CHAPTER, "chapter1", 300, prepare=learner_types)
    saved = nbformat.read(course / "notebooks" / "student" / LEARNER_CHAPTER, as_version=4)
    typed = {c.id: c.source for c in saved.cells if "exercise" in c.metadata.get("tags", [])}
    assert typed == {cell_id: solutions[cell_id] for _, cell_id in stubs}, "the typed solutions were altered"
    assert _errors(course / "notebooks" / "student" / LEARNER_CHAPTER) == []
    assert report["widgets"] == 0 and not report["widgetText"], report


def test_chapter_4s_solution_notebook_runs_all_in_jupyterlab_with_progress_as_text(
        needs, course, lab_env, browser, tmp_path):
    jupyter = Path(sys.prefix) / "bin" / "jupyter"
    lab = Lab([str(jupyter), "lab", "."], course, lab_env, tmp_path / "lab.log")
    report = _run_in_lab(browser, lab, f"notebooks/{SOLUTION_CHAPTER}", "chapter4", 400)
    assert _errors(course / "notebooks" / SOLUTION_CHAPTER) == []
    assert report["widgets"] == 0 and not report["widgetText"], report
    assert report["progress"] >= 3, f"training's progress lines are not shown: {report}"
    assert report["progressAsText"] == report["progress"], f"progress not rendered as text: {report}"
