"""The two stacks: the Makefile finds its interpreters on any machine, skips the MXNet stack where
there is no Python 3.11 (and fails in CI), environment.yml follows the stacks, and notebook 05
runs without MXNet by skipping exactly the cells that need it."""
import ast
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_05 = ROOT / "notebooks" / "05_autorec_mxnet.ipynb"
MARK = "# needs MXNet"
MXNET_NAMES = re.compile(r"\b(mx|nd|gluon|autograd|mb|ctx|lib_mx|mine|MyAutoRec|CountingAutoRec|side_by_side)\b")


def _version(python: str) -> str:
    done = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                          capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def _python_other_than_311() -> str:
    """An interpreter of a supported version other than 3.11 (this one, or one in pyenv's folder)."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for python in [sys.executable, *sorted(map(str, versions.glob("3.1[23].*/bin/python3.1[23]")))]:
        if _version(python) in ("3.12", "3.13"):
            return python
    pytest.skip("no Python 3.12 or 3.13 here to play the machine without python3.11")


@pytest.fixture
def no_python311(tmp_path) -> dict[str, str]:
    """An environment whose PATH has make, a shell and Python 3.12/3.13 as `python3`, and no pyenv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("make", "sh", "bash", "env", "grep", "cat", "rm", "mkdir", "touch", "dirname", "uname"):
        found = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        if found:
            (bin_dir / tool).symlink_to(found)
    (bin_dir / "python3").symlink_to(_python_other_than_311())
    return {"PATH": str(bin_dir), "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "no-pyenv"),
            # environments of their own, so that what this checkout has built already plays no part
            "LEGACY_VENV": str(tmp_path / "legacy"), "CURRENT_VENV": str(tmp_path / "current")}


def _make(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_without_python311_the_current_stack_uses_the_python_there(no_python311):
    done = _make(["-s", "stacks"], no_python311)
    assert done.returncode == 0, done.stderr
    legacy, current = done.stdout.splitlines()
    assert legacy.startswith("legacy:  none")
    assert re.match(rf"current: python3 \(Python 3\.1[23]\) -> {no_python311['CURRENT_VENV']}$", current), current


def test_without_python311_make_test_skips_the_mxnet_stack_naming_what_to_install(no_python311):
    done = _make(["test-legacy"], no_python311)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("SKIPPED: The legacy stack (MXNet")
    assert "Install Python 3.11" in done.stdout and "conda env create -f environment.yml" in done.stdout
    dry = _make(["-n", "test", "course"], no_python311)
    assert dry.returncode == 0, dry.stderr
    current, legacy = no_python311["CURRENT_VENV"], no_python311["LEGACY_VENV"]
    assert f'"python3" -m venv "{current}"' in dry.stdout and "--clear" not in dry.stdout
    assert f"{current}/bin/python -m pytest -q tests notebooks --nbval-lax" in dry.stdout
    assert f"{current}/bin/python scripts/run_course.py" in dry.stdout
    assert legacy not in dry.stdout


def _fake_venv(folder: Path, version: str) -> Path:
    """A folder that looks like an environment of Python ``version`` (its python prints that version)."""
    (folder / "bin").mkdir(parents=True)
    python = folder / "bin" / "python"
    python.write_text(f"#!/bin/sh\necho {version}\n")
    python.chmod(0o755)
    (folder / "keep.txt").write_text("a file setup must not remove")
    return folder


def test_setup_reuses_an_existing_environment_and_never_empties_it(no_python311, tmp_path):
    version = _version(_python_other_than_311())
    elsewhere = _fake_venv(tmp_path / "made-by-another-clone", version)
    current = Path(no_python311["CURRENT_VENV"])
    current.symlink_to(elsewhere)  # a clone beside an environment it did not create
    dry = _make(["-n", "setup-current"], no_python311)
    assert dry.returncode == 0, dry.stderr
    assert "--clear" not in dry.stdout and "rm -" not in dry.stdout
    done = _make(["setup-current"], {**no_python311, "PIP_NO_INDEX": "1"})  # pip itself fails offline: fine
    assert "updating the existing environment" in done.stdout
    assert (elsewhere / "keep.txt").read_text() == "a file setup must not remove"


def test_setup_refuses_an_environment_of_another_python_version_and_leaves_it(no_python311, tmp_path):
    current = _fake_venv(Path(no_python311["CURRENT_VENV"]), "2.7")
    done = _make(["setup-current"], no_python311)
    assert done.returncode != 0
    assert "holds Python 2.7" in done.stderr and "it is left as it is" in done.stderr
    assert (current / "keep.txt").exists()


def test_make_stacks_prefers_colabs_python_over_a_selected_311(tmp_path):
    """pyenv's 3.12 and 3.13 beside a selected 3.11: the current stack takes 3.12, as the README says."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if not list(versions.glob("3.12.*/bin/python3.12")):
        pytest.skip("no pyenv Python 3.12 here")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON_CURRENT", "CURRENT_VERSIONS")}
    done = _make(["-s", "stacks"], env)
    current = done.stdout.splitlines()[1]
    assert "(Python 3.12)" in current, current


def test_in_ci_a_missing_stack_fails(no_python311):
    done = _make(["test-legacy"], {**no_python311, "CI": "true"})
    assert done.returncode != 0
    assert "CI must run both stacks" in done.stderr


def test_a_pyenv_shim_that_refuses_to_run_is_passed_over(no_python311, tmp_path):
    shim = Path(no_python311["PATH"]) / "python3.11"
    shim.write_text("#!/bin/sh\necho \"pyenv: python3.11: command not found\" >&2\nexit 127\n")
    shim.chmod(0o755)
    assert _make(["-s", "stacks"], no_python311).stdout.startswith("legacy:  none")


def test_ci_requires_both_stacks_and_runs_the_current_one_on_colabs_python():
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'CURRENT_VERSIONS="${CURRENT_VERSIONS:-3.12}"' in ci
    assert "export CI=true" in ci and re.search(r"^make test$", ci, flags=re.M)


def test_environment_yml_is_the_legacy_stack_and_the_current_extra_has_no_mxnet():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    makefile = (ROOT / "Makefile").read_text()
    legacy_version = re.search(r"^LEGACY_VERSION := (\S+)$", makefile, flags=re.M).group(1)
    text = (ROOT / "environment.yml").read_text()
    assert f"- python={legacy_version}" in text
    assert "mxnet==1.9.1" in extras["full"] + extras["mxnet"] and "- mxnet==1.9.1" in text
    current = extras["current"]
    assert not any("mxnet" in req for req in current)
    assert "numpy>=2" in current and any(req.startswith("pandas>=") for req in current)
    assert '-e ".[current,site]"' in makefile and '-e ".[full,site]"' in makefile


def _code_cells(path: Path):
    nbformat = pytest.importorskip("nbformat")
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def _names_defined(source: str) -> set[str]:
    found = re.findall(r"^(?:def |class )?([A-Za-z_]\w*)(?:, \w+)* *=[^=]|^(?:def|class) (\w+)", source, flags=re.M)
    return {name for pair in found for name in pair if len(name) > 1}


def _names_used(source: str) -> set[str]:
    """The names a cell reads from the notebook's namespace: every name it loads, except inside a
    function or lambda the names that function binds itself (its parameters and its locals)."""
    used: set[str] = set()

    def visit(node, local: frozenset):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            for default in a.defaults + [d for d in a.kw_defaults if d is not None]:
                visit(default, local)
            for decorator in getattr(node, "decorator_list", []):
                visit(decorator, local)
            params = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg] if x is not None}
            stores = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            for child in (node.body if isinstance(node.body, list) else [node.body]):
                visit(child, local | params | stores)
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local:
            used.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child, local)

    visit(ast.parse(source), frozenset())
    return used


def test_notebook_05_marks_every_cell_that_needs_mxnet_and_only_those():
    cells = _code_cells(NOTEBOOK_05)
    first = next(k for k, c in enumerate(cells) if "HAVE_MXNET" in c.source)
    marked = [c for c in cells[first + 1:] if c.source.startswith(MARK + "\n")]
    unmarked = [c for c in cells[first + 1:] if c not in marked]
    # names only MXNet cells define (the learners, results, ...): using them needs MXNet too
    from_mxnet = set().union(*map(_names_defined, [c.source for c in marked])) \
        - set().union(*map(_names_defined, [c.source for c in cells[:first + 1] + unmarked]))
    names = re.compile(MXNET_NAMES.pattern[:-3] + "|" + "|".join(sorted(from_mxnet)) + r")\b")
    for cell in cells[first + 1:]:
        used = " ".join(sorted(_names_used(cell.source)))  # a function's own parameters and locals are not uses
        uses_mxnet = bool(names.search(used)) or '"mxnet"' in cell.source  # or MXNet's results
        assert (cell in marked) == uses_mxnet, \
            f"{'unmarked' if uses_mxnet else 'needlessly marked'}: {cell.source[:80]!r}"
    assert len(marked) >= 15


def test_no_skipped_cell_has_its_output_compared_by_nbval():
    for cell in _code_cells(NOTEBOOK_05):
        if cell.source.startswith(MARK):
            assert "NBVAL_CHECK_OUTPUT" not in cell.source
            assert cell.outputs or "NBVAL_IGNORE_OUTPUT" in cell.source or "def " in cell.source \
                or "class " in cell.source, f"no stored MXNet output: {cell.source[:60]!r}"


def test_notebook_05_without_mxnet_skips_its_mxnet_cells_with_one_line_each(tmp_path):
    """The notebook's own first cells, run with MXNet made unimportable, then two MXNet cells."""
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    from nbclient import NotebookClient

    from conftest import write_ml100k

    cells = _code_cells(NOTEBOOK_05)
    first = next(k for k, c in enumerate(cells) if "HAVE_MXNET" in c.source)
    marked = [c for c in cells if c.source.startswith(MARK)][:2]
    block = "import sys\nsys.modules['mxnet'] = None  # `import mxnet` raises ImportError, as without MXNet"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(block)]
                                  + [nbformat.v4.new_code_cell(c.source) for c in cells[:first + 1] + marked])
    write_ml100k(tmp_path / "ml-100k")
    env = {"AUTOREC_DATA": str(tmp_path), "AUTOREC_CACHE": str(tmp_path / "cache")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        for key, value in old.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)

    def text(cell) -> str:
        assert all(o.output_type == "stream" and o.name == "stdout" for o in cell.outputs), cell.outputs
        return "".join(o.text for o in cell.outputs)

    assert "MXNet is missing" in text(nb.cells[first + 1])
    for cell in nb.cells[-2:]:
        lines = text(cell).splitlines()
        assert len(lines) == 1 and lines[0].startswith("skipped, this cell needs MXNet: MXNet is not installed")
        assert "pip install -e '.[torch,mxnet]'" in lines[0]


def test_a_failing_notebook_is_reported_in_one_line_and_the_kernel_warns_of_nothing(tmp_path):
    """scripts/run_course.py on two notebooks in a folder of their own: one passes, one fails."""
    nbformat = pytest.importorskip("nbformat")
    v4 = nbformat.v4
    folder = tmp_path / "notebooks"
    folder.mkdir()
    good = v4.new_notebook(cells=[v4.new_code_cell("import json\nprint(json.dumps({'answer': 42}))",
                                                   metadata={"tags": ["results"]})])
    bad = v4.new_notebook(cells=[v4.new_markdown_cell("# Bad"), v4.new_code_cell("x = 1"),
                                 v4.new_code_cell("# the claim\nassert x == 2, f'x is {x}'")])
    for nb, name in ((good, "01_good.ipynb"), (bad, "02_bad.ipynb")):
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, folder / name)
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "run_course.py"), "--out", str(tmp_path / "out"),
                           "notebooks/01_good.ipynb", "notebooks/02_bad.ipynb"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"})
    assert done.returncode == 1
    line = "FAILED notebooks/02_bad.ipynb cell 2 [2] ('# the claim'): AssertionError: x is 1"
    assert done.stderr.strip().splitlines() == ["1 notebook(s) failed:", line]
    assert f"  {line}" in done.stdout.splitlines() and "answer" in done.stdout
    assert "TCP" not in done.stdout + done.stderr and "Traceback" not in done.stdout + done.stderr
    assert not list(folder.glob("kernel*")), "the kernel's sockets were left beside the notebooks"
    assert (tmp_path / "out" / "02_bad.ipynb").exists()  # the failed run is kept, to look at
