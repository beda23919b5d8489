"""One command for a CUDA machine: every notebook and the speed benchmark on the GPU, timed, with RMSEs.

    pip install -e . && python scripts/gpu_check.py --data DIR   # on a GPU machine (about 10 minutes on one H100)
    python scripts/gpu_check.py --device cpu --quick           # the same logic on a CPU, small sizes

Needs only the repository and ``pip install -e .`` (PyTorch, with CUDA on a GPU machine); MXNet
is optional and its parts are reported as skipped when it is missing. It writes
``gpu_check.json`` and ``gpu_check.md`` (a table of timings and RMSEs, with the device named)
under ``--out``. Notebooks run in order within a time budget; one that would start after the
budget is spent is listed as not run, so the whole check stays under ``--budget`` seconds plus
one notebook's cell timeout.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from speed import markdown  # noqa: E402  (scripts/speed.py: one table writer for the speed scripts)


def device_info(device: str) -> dict:
    import numpy
    import torch

    info = {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__,
            "cuda_available": torch.cuda.is_available(), "device": device}
    if device != "cpu" and torch.cuda.is_available():
        info["device_name"] = torch.cuda.get_device_name(0)
        info["cuda"] = torch.version.cuda
    else:
        info["device_name"] = f"CPU ({os.cpu_count()} cores)"
    try:
        import mxnet

        info["mxnet"] = mxnet.__version__
    except ImportError:
        info["mxnet"] = None
    return info


def rmses(results: dict) -> dict:
    """The RMSE-like entries of a notebook's ``results`` cell."""
    return {k: v for k, v in results.items() if "rmse" in k.lower() and isinstance(v, (int, float))}


def run_notebook(path: Path, out: Path, timeout: int, env: dict) -> dict:
    """Execute one notebook in a fresh kernel (with ``env``); its status, seconds and RMSEs."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from run_course import results_of

    nb = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    os.environ.update(env)  # the kernel inherits this process's environment
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        status, error = "ok", ""
    except CellExecutionError as err:
        text = str(err)
        status = "skipped (no MXNet)" if "MXNet is not installed" in text or "No module named 'mxnet'" in text else "failed"
        error = text.strip().splitlines()[-1][:300] if text.strip() else ""
    except Exception as err:  # a timeout or a dead kernel: report it, go on with the next notebook
        status, error = "failed", f"{type(err).__name__}: {err}"[:300]
    finally:
        os.environ.clear()
        os.environ.update(saved)
    seconds = time.perf_counter() - start
    nbformat.write(nb, out / path.name)
    row = {"notebook": path.stem, "status": status, "seconds": round(seconds, 1)}
    if status == "ok":
        row.update(rmses(results_of(nb)))
    if error:
        row["error"] = error
    return row


def run_speed(device: str, quick: bool, out: Path) -> dict:
    """scripts/speed.py on ``device`` (each part in its own process); its results, or the failure."""
    cmd = [sys.executable, str(ROOT / "scripts" / "speed.py"), "--device", device, "--out", str(out / "speed")]
    if quick:
        cmd.append("--quick")
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        return {"status": "failed", "seconds": seconds, "error": done.stderr[-1500:]}
    results = json.loads((out / "speed" / "results.json").read_text())
    return {"status": "ok", "seconds": seconds, **results}


def report(info: dict, notebooks: list[dict], speed: dict | None) -> str:
    lines = [f"# GPU check: {info['device_name']} (device {info['device']}; Python {info['python']}, "
             f"PyTorch {info['torch']}, NumPy {info['numpy']}, MXNet {info['mxnet'] or 'not installed'})", ""]
    if notebooks:
        rmse_cols = sorted({k for r in notebooks for k in r if "rmse" in k.lower()})
        lines += ["## Notebooks", "", markdown(notebooks, ["notebook", "status", "seconds", *rmse_cols]), ""]
    if speed is not None:
        lines += [f"## scripts/speed.py ({speed['status']}, {speed['seconds']:.0f} s)", ""]
        rows = []
        for fw, part in speed.get("ml100k", {}).items():
            for r in part["rows"]:
                rows.append({"what": f"ML-100K {r['model']} ({fw})", "s_per_epoch": r["s_per_epoch"],
                             "eval_s_per_epoch": r["eval_s_per_epoch"], "floor_s": r.get("floor_dense_s", ""),
                             "valid_rmse": r["valid_rmse_last"]})
        if "ml10m" in speed:
            m = speed["ml10m"]
            rows.append({"what": f"ML-10M-shaped I-AutoRec epoch ({m['ratings']:,} ratings)", "s_per_epoch": m["epoch_s"],
                         "floor_s": m["floor_s"]})
        lines += [markdown(rows, ["what", "s_per_epoch", "eval_s_per_epoch", "floor_s", "valid_rmse"]), ""]
        if speed.get("error"):
            lines += ["```", speed["error"], "```"]
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda", help="cuda (default) or cpu, to test this script's logic")
    p.add_argument("--quick", action="store_true", help="notebook 01 only and a small benchmark")
    p.add_argument("--notebooks", nargs="*", type=Path, help="default: every notebooks/0*.ipynb (01 with --quick)")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--budget", type=float, default=420.0, help="seconds for the notebooks in all")
    p.add_argument("--timeout", type=int, default=600, help="seconds per notebook cell")
    p.add_argument("--out", type=Path, default=Path("build/gpu_check"))
    p.add_argument("--data", type=Path, help="folder holding ml-100k/ etc. (sets AUTOREC_DATA; GPU machines "
                                             "often cannot download)")
    args = p.parse_args()
    if args.data:
        os.environ["AUTOREC_DATA"] = str(args.data.resolve())  # inherited by speed.py's parts and the kernels
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("error: PyTorch sees no CUDA GPU here; run with --device cpu to test the script's logic", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    info = device_info(args.device)
    print(json.dumps(info), flush=True)
    # the notebooks train on device "auto": hide the GPU from their kernels when checking on the CPU
    env = {"CUDA_VISIBLE_DEVICES": ""} if args.device == "cpu" else {}
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("0*.ipynb"))[: 1 if args.quick else None]
    speed = None if args.skip_speed else run_speed(args.device, args.quick, args.out)
    if speed is not None:
        print(f"speed.py: {speed['status']} in {speed['seconds']:.0f} s", flush=True)
    notebooks, start = [], time.perf_counter()
    for path in paths:
        if time.perf_counter() - start > args.budget:
            notebooks.append({"notebook": path.stem, "status": "not run (time budget spent)"})
            continue
        notebooks.append(run_notebook(path, args.out, args.timeout, env))
        print(json.dumps(notebooks[-1]), flush=True)
    payload = {"info": info, "notebooks": notebooks, "speed": speed}
    (args.out / "gpu_check.json").write_text(json.dumps(payload, indent=1))
    text = report(info, notebooks, speed)
    (args.out / "gpu_check.md").write_text(text)
    print("\n" + text)
    failed = [r for r in notebooks if r["status"] == "failed"] + ([speed] if speed and speed["status"] != "ok" else [])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
