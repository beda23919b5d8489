"""Execute the course headless: every notebook in order, executed copies and HTML into a build
folder, then a summary of each notebook's key results (the output of its cell tagged ``results``).

    python scripts/run_course.py --out build/course notebooks/0*.ipynb
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter


def results_of(nb: nbformat.NotebookNode) -> dict:
    """The JSON printed by the cell tagged ``results``."""
    for cell in nb.cells:
        if "results" in cell.metadata.get("tags", []):
            text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
            return json.loads(text.strip().splitlines()[-1])
    return {}


def run(path: Path, out: Path, timeout: int) -> tuple[float, dict]:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    nbformat.write(nb, out / path.name)
    body, _ = HTMLExporter().from_notebook_node(nb)
    (out / path.with_suffix(".html").name).write_text(body, encoding="utf-8")
    return seconds, results_of(nb)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/course"))
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    summary, total = {}, 0.0
    for path in args.notebooks:
        print(f"running {path} ...", flush=True)
        try:
            seconds, results = run(path, args.out, args.timeout)
        except CellExecutionError as err:
            print(f"FAILED: {path}\n{err}", file=sys.stderr)
            return 1
        total += seconds
        summary[path.stem] = {"seconds": round(seconds, 1), **results}
        print(f"  done in {seconds:.0f} s", flush=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nCourse results ({total / 60:.1f} min in all; executed notebooks and HTML in {args.out}/)")
    for name, results in summary.items():
        print(f"\n{name}  ({results.pop('seconds')} s)")
        for key, value in results.items():
            print(f"  {key:<32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
