"""Execute the course headless: every notebook in order, executed copies and HTML into a build
folder, then a summary of each notebook's key results (the output of its cell tagged ``results``).

    python scripts/run_course.py --out build/course notebooks/0*.ipynb

The kernels talk to this process over local IPC sockets, not TCP: ipykernel warns that a TCP
kernel "is running over TCP without encryption", and IPC needs no encryption (its sockets are files
only this user can open). A notebook that fails is reported in one line, with its cell and the error;
the others still run, and the command exits 1.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter
from traitlets.config import Config


def results_of(nb: nbformat.NotebookNode) -> dict:
    """The JSON printed by the cell tagged ``results``."""
    for cell in nb.cells:
        if "results" in cell.metadata.get("tags", []):
            text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
            return json.loads(text.strip().splitlines()[-1])
    return {}


def kernel_config(sockets: Path) -> Config:
    """IPC transport, its socket files under ``sockets`` (an absolute path: the kernel runs in the
    notebook's folder, and a relative one would put its sockets elsewhere than the client's)."""
    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str(sockets.resolve() / "kernel")
    return config


def failure_line(path: Path, nb: nbformat.NotebookNode, err: Exception) -> str:
    """One line: the notebook, the cell that failed (its number and first line) and the error."""
    for k, cell in enumerate(nb.cells):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            value = " ".join(errors[0].get("evalue", "").split())
            return (f"FAILED {path} cell {k} [{cell.get('execution_count')}] ({first.strip()[:60]!r}): "
                    f"{errors[0].get('ename', 'Error')}: {value}")
    message = " ".join(str(err).split())
    return f"FAILED {path}: {type(err).__name__}: {message[:300]}"


def write(nb: nbformat.NotebookNode, path: Path, out: Path) -> None:
    nbformat.write(nb, out / path.name)
    body, _ = HTMLExporter().from_notebook_node(nb)
    (out / path.with_suffix(".html").name).write_text(body, encoding="utf-8")


def run(path: Path, out: Path, timeout: int) -> tuple[float, dict]:
    """Execute ``path``, write its executed copy and HTML into ``out``: (seconds, results)."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="autorec-kernel-") as sockets:
            NotebookClient(nb, timeout=timeout, kernel_name="python3", config=kernel_config(Path(sockets)),
                           resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        write(nb, path, out)  # a failed run is written too, to look at
    return time.perf_counter() - start, results_of(nb)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/course"))
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    summary, failed, total = {}, [], 0.0
    for path in args.notebooks:
        print(f"running {path} ...", flush=True)
        try:
            seconds, results = run(path, args.out, args.timeout)
        except (CellExecutionError, CellTimeoutError, DeadKernelError, RuntimeError) as err:  # RuntimeError: no kernel
            failed.append(failure_line(path, nbformat.read(args.out / path.name, as_version=4), err))
            print(f"  {failed[-1]}", flush=True)
            continue
        total += seconds
        summary[path.stem] = {"seconds": round(seconds, 1), **results}
        print(f"  done in {seconds:.0f} s", flush=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nCourse results ({total / 60:.1f} min in all; executed notebooks and HTML in {args.out}/)")
    for name, results in summary.items():
        print(f"\n{name}  ({results.pop('seconds')} s)")
        for key, value in results.items():
            print(f"  {key:<32} {value}")
    if failed:
        print(f"\n{len(failed)} notebook(s) failed:", *failed, sep="\n", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
