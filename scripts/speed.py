"""Speed against the floor, in one run: where the time goes and how it grows. Not a test.

    python scripts/speed.py                      # everything (about 10 minutes on a 2-core CPU)
    python scripts/speed.py --skip-scaling       # ML-100K and the ML-10M-shaped epoch only
    python scripts/speed.py --quick              # a smoke run of every part on small sizes
    python scripts/speed.py --part probe         # one part in this process: the ML-10M-shaped epoch's JSON line

Every part runs in its own process (each framework alone, so neither changes the other's thread
settings; each ML-10M-shaped epoch alone, so its peak RSS is its own), with the OpenMP thread
count of this process's environment (``--threads`` sets ``OMP_NUM_THREADS`` for them). Each part
measures the float32 matmul rate itself and compares with the floor computed from it:

* dense AutoRec epoch: ``10·n·m·k`` flops (forward ``2nmk`` per layer, weight gradients ``2nmk``
  per layer, the input gradient of the decoder only; the ratings need none);
* sparse encoder (the encoder reads only the ratings): the decoder's ``6·n·m·k`` remain;
* sparse encoder and a decoder that computes only the rated entries (what the library does by
  default on a CPU, and on a GPU for large sets): ``10·nnz·k``, far below, but these are gathers
  bound by memory, not matmuls, and the optimizer still touches every weight once per batch, so
  that floor is out of reach;
* memory (the ML-10M-shaped epochs): every batch writes the two large weights' gradients once and
  fused Adam reads weight, gradient and both moments and writes three of them back, 32 bytes per
  weight per batch, at the copy rate the part measures (read + write bytes per second). With the
  decoder at the rated entries this is the floor the epoch is compared with.

It writes ``results.json``, ``results.md`` and ``scaling.png`` under ``--out``. The synthetic
ML-10M-shaped probe (:func:`synthetic_ratings`, :func:`part_probe`), the rates and the table
writer live here alone; ``scripts/benchmark.py`` (accuracy over seeds) and ``scripts/gpu_check.py``
import them.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from autorec_lib.config import INPUTS

DENSE = " (dense rows)"  # AutoRec fed dense rows and a mask: MXNet's only way, PyTorch's with --inputs dense
ML100K_MODELS = [("I-AutoRec", "autorec", "item"), ("U-AutoRec", "autorec", "user"), ("MF", "mf", "item"),
                 ("biased MF", "biased-mf", "item")]


def matmul_rate(device: str = "cpu", n: int = 2048, repeats: int = 10, framework: str = "torch") -> float:
    """Float32 flops per second of one n×n matmul in ``framework`` (best of ``repeats``)."""
    if framework == "mxnet":
        from mxnet import nd

        from autorec_lib.mxnet_backend import pick_context

        ctx = pick_context(device)
        a, b = nd.random.normal(shape=(n, n), ctx=ctx), nd.random.normal(shape=(n, n), ctx=ctx)
        product = lambda: nd.dot(a, b).sum().asscalar()  # .asscalar() waits for the device
    else:
        import torch

        from autorec_lib.torch_backend import pick_device

        dev = pick_device(device)
        n = 8192 if dev.type == "cuda" else n  # a GPU needs a bigger product to reach its rate
        a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
        product = lambda: (a @ b).sum().item()  # .item() waits for the device
    best = float("inf")
    for _ in range(repeats + 2):
        start = time.perf_counter()
        product()
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best


def copy_rate(device: str = "cpu", n: int = 1 << 25, repeats: int = 5) -> float:
    """Bytes per second read and written by copying a 128 MiB float32 tensor (best of ``repeats``)."""
    import torch

    from autorec_lib.torch_backend import pick_device

    dev = pick_device(device)
    a = torch.randn(n, device=dev)
    b = torch.empty_like(a)
    best = float("inf")
    for _ in range(repeats + 1):
        start = time.perf_counter()
        b.copy_(a)
        b[-1].item()  # waits for the device
        best = min(best, time.perf_counter() - start)
    return 2 * 4 * n / best


def memory_floor(rows: int, inputs: int, hidden: int, batch: int, bandwidth: float) -> float:
    """Seconds per epoch to move the optimizer's bytes at ``bandwidth``: per batch, the gradients of ``V``
    and ``W`` written once and fused Adam's 7 passes (read weight, gradient and two moments, write
    three), 32 bytes per weight, over the ``2·inputs·hidden`` weights of the two large layers."""
    batches = -(-rows // batch)
    return batches * 32 * 2 * inputs * hidden / bandwidth


def autorec_floors(rows: int, inputs: int, hidden: int, rate: float, nnz: int) -> dict:
    """Seconds one epoch cannot beat at ``rate``: dense (10·n·m·k), with a sparse encoder (6·n·m·k),
    and with the decoder sampled at the ratings too (10·nnz·k)."""
    nmk = rows * inputs * hidden
    return {"floor_dense_s": 10 * nmk / rate, "floor_sparse_encoder_s": 6 * nmk / rate,
            "floor_all_sparse_s": 10 * nnz * hidden / rate}


def part_ml100k(framework: str, epochs: int, models: list[str], device: str = "cpu") -> dict:
    """s/epoch (median of epochs 2..) and evaluation s/epoch of each model on ML-100K, in this process."""
    from autorec_lib import datasets, experiment, splits

    data = datasets.load("ml-100k")
    split = splits.make_split(data, "random", 0.1, 0.1, seed=0)
    out = {"framework": framework, "threads": os.environ.get("OMP_NUM_THREADS", "unset"), "rows": []}
    if framework == "torch":
        import torch

        out["torch_threads"] = torch.get_num_threads()
        out["matmul_gflops"] = matmul_rate(device) / 1e9
    cases = []
    for label, model, variant in ML100K_MODELS:
        if label not in models:
            continue
        if model != "autorec":
            cases.append((label, model, variant, {}))
        elif framework == "torch":  # the default (sparse ratings on a CPU), and dense rows as MXNet computes them
            cases += [(label, model, variant, {}), (label + DENSE, model, variant, {"inputs": "dense"})]
        else:
            cases.append((label + DENSE, model, variant, {}))
    for label, model, variant, options in cases:
        result = experiment.train(data, split, model, variant, framework, progress=False, epochs=epochs,
                                  patience=epochs, device=device, **options)
        out["device"] = result.device
        records = result.history.records[1:] or result.history.records  # the first epoch warms up
        row = {"model": label, "s_per_epoch": float(np.median([r["seconds"] for r in records])),
               "eval_s_per_epoch": float(np.median([r["eval_seconds"] for r in records])),
               "valid_rmse_last": records[-1]["valid_rmse"], "epochs": len(result.history.records)}
        if result.config.is_autorec:  # how the rows reached the network (a default row is dense on a GPU)
            from autorec_lib.sparse import SparseAutoRecLearner

            row["sparse_inputs"] = isinstance(result.learner, SparseAutoRecLearner)
            if "matmul_gflops" in out:
                rows, inputs = result.learner.matrix.shape
                floors = autorec_floors(rows, inputs, result.config.net.hidden[0], out["matmul_gflops"] * 1e9,
                                        result.learner.matrix.nnz)
                row.update(floors, ratio_to_dense_floor=row["s_per_epoch"] / floors["floor_dense_s"])
        out["rows"].append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return out


ML10M_SHAPE = (71_567, 10_681)  # users, items
ML10M_TEXT = "ML-10M shape (71,567 × 10,681)"


def synthetic_ratings(n_users: int, n_items: int, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` distinct synthetic (user, item, rating) triples shaped like MovieLens-10M.

    Popularity-skewed items (at ML-10M's shape the most popular is rated by about a quarter of
    the users, as in ML-10M), uniform users; duplicate pairs are dropped and the first ``n`` kept.
    """
    rng = np.random.default_rng(seed)
    weights = (np.arange(n_items) + 100.0) ** -0.9
    draw = int(n * 1.05) + 1000
    pairs = pd.DataFrame({"user": rng.integers(0, n_users, draw),
                          "item": rng.choice(n_items, draw, p=weights / weights.sum())})
    frame = pairs.drop_duplicates().iloc[:n].reset_index(drop=True)
    if len(frame) < n:
        raise RuntimeError(f"only {len(frame)} distinct synthetic ratings; raise the oversampling")
    frame["rating"] = rng.integers(1, 6, size=len(frame)).astype(np.float32)
    return frame


def part_probe(ratings: int, users: int, items: int, hidden: int, inputs: str = "auto", device: str = "cpu") -> dict:
    """One I-AutoRec epoch on ``ratings`` synthetic ratings of this shape, in this process (run it in
    one of its own: the peak RSS is the process's), with its floors.

    ``inputs`` is ``TrainConfig.inputs``: ``auto`` lets :func:`autorec_lib.sparse.use_sparse_inputs`
    choose (sparse on a CPU, on a GPU above ``SPARSE_ABOVE`` entries).
    """
    import resource

    import torch

    from autorec_lib.config import TrainConfig
    from autorec_lib.matrix import RatingMatrix
    from autorec_lib.sparse import SparseAutoRecLearner
    from autorec_lib.torch_backend import AutoRec, build_learner, pick_device, seed_everything

    rate, bandwidth = matmul_rate(device), copy_rate(device)
    peak_gib = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    frame = synthetic_ratings(users, items, ratings)
    after_data = peak_gib()
    matrix = RatingMatrix(frame, users, items, "item")
    del frame
    cfg = TrainConfig(epochs=1, batch_size=256, lam=100.0, device=device, inputs=inputs)
    seed_everything(cfg.seed)  # the same initial weights in every process: the same loss, code unchanged
    learner = build_learner(AutoRec(users, hidden), matrix, None, cfg)
    start = time.perf_counter()
    loss = learner.train_epoch(np.random.default_rng(0))
    seconds = time.perf_counter() - start
    out = {"ratings": int(matrix.nnz), "shape": list(matrix.shape), "hidden": hidden, "batch_size": cfg.batch_size,
           "epoch_s": seconds, "sparse_inputs": isinstance(learner, SparseAutoRecLearner), "loss": loss,
           "peak_rss_gib": peak_gib(), "rss_after_data_gib": after_data,
           "dense_matrix_would_be_gib": users * items * 4 / 2**30}
    if pick_device(device).type == "cuda":
        out["peak_cuda_gib"] = torch.cuda.max_memory_allocated() / 2**30
    out.update(autorec_floors(items, users, hidden, rate, out["ratings"]), matmul_gflops=rate / 1e9,
               torch_threads=torch.get_num_threads(), n_times_m=users * items, copy_gb_s=bandwidth / 1e9,
               floor_memory_s=memory_floor(items, users, hidden, out["batch_size"], bandwidth))
    # the floor it is compared with: sparse inputs decode the rated entries only, so the larger of
    # the matmuls at the ratings and the optimizer's bytes; dense rows, the dense products
    out["floor_s"] = (max(out["floor_all_sparse_s"], out["floor_memory_s"]) if out["sparse_inputs"]
                      else out["floor_dense_s"])
    out["ratio_to_floor"] = out["epoch_s"] / out["floor_s"]
    return out


def run_part(args: list[str], env: dict, timeout: float = 1800) -> dict:
    """Run one part of this script in a fresh interpreter and read its JSON line."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"part {args} failed:\n{done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - start
    return out


def markdown(rows: list[dict], columns: list[str]) -> str:
    """``rows`` as a Markdown table of ``columns`` (floats to 4 significant digits, a missing cell empty)."""
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def plot(ratings_sweep: list[dict], shape_sweep: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, sweep, key, xlabel in ((axes[0], ratings_sweep, "ratings", "ratings (millions)"),
                                   (axes[1], shape_sweep, "n_times_m", "users × items (billions)")):
        if not sweep:
            continue
        scale = 1e6 if key == "ratings" else 1e9
        x = [r[key] / scale for r in sweep]
        ax.plot(x, [r["epoch_s"] for r in sweep], "-", color="C0")
        for sparse, marker, text in ((True, "o", "measured epoch, sparse inputs"),
                                     (False, "s", "measured epoch, dense rows")):
            points = [(xi, r["epoch_s"]) for xi, r in zip(x, sweep) if r["sparse_inputs"] == sparse]
            if points:
                ax.plot(*zip(*points), marker, color="C0" if sparse else "C3", label=text)
        ax.plot(x, [r["floor_sparse_encoder_s"] for r in sweep], "--", color="C1", label="floor, sparse encoder (6·n·m·k)")
        ax.plot(x, [r["floor_dense_s"] for r in sweep], ":", color="C2", label="floor, dense (10·n·m·k)")
        ax.plot(x, [r["floor_all_sparse_s"] for r in sweep], "-.", color="C4", label="floor, matmuls at the ratings (10·nnz·k)")
        if all("floor_memory_s" in r for r in sweep):
            ax.plot(x, [r["floor_memory_s"] for r in sweep], linestyle=(0, (1, 3)), color="C5",
                    label="floor, optimizer's bytes (32 B/weight/batch)")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("seconds per epoch")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    axes[0].set_title(f"{ML10M_TEXT}, more ratings")
    axes[1].set_title("the same density (1.3%), bigger matrices" if shape_sweep else "")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("build/speed"))
    p.add_argument("--threads", help="OMP_NUM_THREADS for every part (default: this environment's)")
    p.add_argument("--epochs", type=int, default=6, help="ML-100K epochs per model (the first is not counted)")
    p.add_argument("--frameworks", default="torch,mxnet")
    p.add_argument("--repeats", type=int, default=3, help="ML-100K processes per framework (median taken)")
    p.add_argument("--hidden", type=int, default=500)
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (every part trains there)")
    p.add_argument("--skip-10m", action="store_true")
    p.add_argument("--skip-scaling", action="store_true")
    p.add_argument("--quick", action="store_true", help="small sizes: checks that every part runs")
    p.add_argument("--part", choices=["ml100k", "probe"],
                   help="run one part in this process and print its JSON line (what the full run starts per part)")
    p.add_argument("--framework", default="torch", help=argparse.SUPPRESS)
    p.add_argument("--models", default=",".join(label for label, *_ in ML100K_MODELS), help=argparse.SUPPRESS)
    p.add_argument("--ratings", type=int, default=10_000_000, help="--part probe: synthetic ratings")
    p.add_argument("--users", type=int, default=ML10M_SHAPE[0], help="--part probe: users (the rows' length)")
    p.add_argument("--items", type=int, default=ML10M_SHAPE[1], help="--part probe: items (the rows)")
    p.add_argument("--inputs", default="auto", choices=INPUTS,
                   help="--part probe: TrainConfig.inputs (auto: the library's choice)")
    args = p.parse_args()
    if args.part == "ml100k":
        print(json.dumps(part_ml100k(args.framework, args.epochs, args.models.split(","), args.device)))
        return 0
    if args.part == "probe":
        print(json.dumps(part_probe(args.ratings, args.users, args.items, args.hidden, args.inputs, args.device)))
        return 0

    env = dict(os.environ)
    if args.threads:
        env["OMP_NUM_THREADS"] = args.threads
    args.out.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    results = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(),
               "omp_num_threads": env.get("OMP_NUM_THREADS", "unset"), "load_before": load, "ml100k": {}}
    epochs = 2 if args.quick else args.epochs
    hidden = 50 if args.quick else args.hidden
    from autorec_lib import backends

    frameworks = [f for f in args.frameworks.split(",") if f and backends.available(f)]
    runs = {fw: [] for fw in frameworks}
    for _ in range(1 if args.quick else args.repeats):  # alternated, so drifting load hits both alike
        for fw in frameworks:
            runs[fw].append(run_part(["--part", "ml100k", "--framework", fw, "--epochs", str(epochs),
                                      "--device", args.device], env))
            print(json.dumps(runs[fw][-1]), flush=True)
    for fw, parts in runs.items():  # each model's median s/epoch over the repeated processes
        merged = dict(parts[0], repeats=len(parts))
        merged["rows"] = [dict(row, **{key: float(np.median([p["rows"][k][key] for p in parts]))
                                       for key in ("s_per_epoch", "eval_s_per_epoch")})
                          for k, row in enumerate(parts[0]["rows"])]
        for row in merged["rows"]:
            if "floor_dense_s" in row:
                row["ratio_to_dense_floor"] = row["s_per_epoch"] / row["floor_dense_s"]
        results["ml100k"][fw] = merged
    probe = ["--part", "probe", "--hidden", str(hidden), "--device", args.device]
    if not args.skip_10m:
        n = 200_000 if args.quick else 10_000_000
        results["ml10m"] = run_part(probe + ["--ratings", str(n)], env)
        print(json.dumps(results["ml10m"]), flush=True)
    results["ratings_sweep"], results["shape_sweep"] = [], []
    if not args.skip_scaling:
        users, items = ML10M_SHAPE
        counts = [100_000, 200_000] if args.quick else [1_000_000, 2_500_000, 5_000_000]
        for n in counts:  # the 10M point is the ML-10M probe above
            results["ratings_sweep"].append(run_part(probe + ["--ratings", str(n)], env))
            print(json.dumps(results["ratings_sweep"][-1]), flush=True)
        if "ml10m" in results and not args.quick:
            results["ratings_sweep"].append(results["ml10m"])
        # the same density (1.3%) on growing matrices: ratings grow with n·m
        for f in ([0.1, 0.2] if args.quick else [0.25, 0.5, 0.75]):
            u, i = int(users * f), int(items * f)
            results["shape_sweep"].append(run_part(probe + ["--ratings", str(int(10_000_000 * f * f)),
                                                            "--users", str(u), "--items", str(i)], env))
            print(json.dumps(results["shape_sweep"][-1]), flush=True)
        if "ml10m" in results and not args.quick:
            results["shape_sweep"].append(results["ml10m"])
    results["load_after"] = os.getloadavg()
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    report = [f"# Speed ({results['date']}, {results['cpus']} CPUs, OMP_NUM_THREADS={results['omp_num_threads']}, "
              f"load {load[0]:.1f} before, {results['load_after'][0]:.1f} after)"]
    for fw, part in results["ml100k"].items():
        rate = f", matmul {part['matmul_gflops']:.0f} GFLOP/s" if "matmul_gflops" in part else ""
        report += ["", f"## ML-100K, {fw} ({part.get('torch_threads', part['threads'])} threads{rate}; "
                   f"median of {part['repeats']} processes)", "",
                   markdown(part["rows"], ["model", "sparse_inputs", "s_per_epoch", "eval_s_per_epoch", "floor_dense_s",
                                           "floor_sparse_encoder_s", "ratio_to_dense_floor", "valid_rmse_last"])]
    if "torch" in results["ml100k"] and "mxnet" in results["ml100k"]:
        t = {r["model"]: r["s_per_epoch"] for r in results["ml100k"]["torch"]["rows"]}
        ratios = [{"model": r["model"], "mxnet_over_torch": r["s_per_epoch"] / t[r["model"]],
                   "mxnet_over_torch_default": r["s_per_epoch"] / t[r["model"].removesuffix(DENSE)]}
                  for r in results["ml100k"]["mxnet"]["rows"] if r["model"] in t]
        results["mxnet_over_torch"] = ratios
        report += ["", "## MXNet s/epoch ÷ PyTorch s/epoch (each in its own process): the same computation, "
                   "and PyTorch's default (sparse ratings on a CPU)", "",
                   markdown(ratios, ["model", "mxnet_over_torch", "mxnet_over_torch_default"])]
    cols = ["ratings", "shape", "sparse_inputs", "epoch_s", "floor_sparse_encoder_s", "floor_dense_s", "floor_all_sparse_s",
            "floor_memory_s", "ratio_to_floor", "peak_rss_gib", "matmul_gflops", "copy_gb_s", "process_s"]
    if "ml10m" in results:
        report += ["", f"## One I-AutoRec epoch, {ML10M_TEXT}, hidden {hidden}", "", markdown([results["ml10m"]], cols)]
    if results["ratings_sweep"] or results["shape_sweep"]:
        report += ["", "## Time per epoch against ratings and against n·m", "",
                   markdown(results["ratings_sweep"] + results["shape_sweep"], cols), "", "![scaling](scaling.png)"]
        plot(results["ratings_sweep"], results["shape_sweep"], args.out / "scaling.png")
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    text = "\n".join(report) + "\n"
    (args.out / "results.md").write_text(text)
    print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
