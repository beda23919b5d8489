"""Importing MXNet (through the library) leaves PyTorch's and OpenMP's thread counts as they would be alone.

Each case runs in a fresh interpreter, since thread counts are process-wide and fixed at import.
Without ``OMP_NUM_THREADS`` MXNet's engine used to set OpenMP to half the CPUs, which took
PyTorch from 2 threads to 1 on a 2-core machine, whichever framework was imported first.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

READ = ("import ctypes, json, sys; omp = ctypes.CDLL('libgomp.so.1'); "
        "print(json.dumps({'torch': sys.modules['torch'].get_num_threads() if 'torch' in sys.modules else None, "
        "'openmp': omp.omp_get_max_threads()}))")

ORDERS = {
    "torch alone": "import torch",
    "torch, then the MXNet backend": "import torch; from autorec_lib import backends; backends.get('mxnet')",
    "the MXNet backend, then torch": "from autorec_lib import backends; backends.get('mxnet'); import torch",
    "mxnet itself, torch, then the backend (notebook 05's order)":
        "import mxnet, torch; from autorec_lib import mxnet_backend",
    "torch, mxnet itself, then the backend": "import torch, mxnet; from autorec_lib import mxnet_backend",
}


def threads_after(code: str, omp_env: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if omp_env is not None:
        env["OMP_NUM_THREADS"] = omp_env
    out = subprocess.run([sys.executable, "-c", f"{code}; {READ}"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("omp_env", [None, "2"])
def test_importing_mxnet_keeps_torch_threads_in_every_order(mxnet_backend, omp_env):
    alone = threads_after(ORDERS["torch alone"], omp_env)
    for name, code in ORDERS.items():
        got = threads_after(code, omp_env)
        assert got == alone, f"{name}: {got} != torch alone {alone} (OMP_NUM_THREADS={omp_env})"


def test_mxnet_backend_alone_sees_the_same_openmp_count_as_with_torch(mxnet_backend):
    alone = threads_after("from autorec_lib import backends; backends.get('mxnet')", None)["openmp"]
    with_torch = threads_after(ORDERS["torch, then the MXNet backend"], None)["openmp"]
    assert alone == with_torch == len(os.sched_getaffinity(0))  # OpenMP's default without OMP_NUM_THREADS
