"""The interface every framework implements, and the registry that loads one on first use.

A backend is a module (``torch_backend``, ``mxnet_backend``) with the functions of
:class:`Backend`. To add a framework, write one such module, name it in
``config.BACKEND_MODULES``, and add its tests; nothing else dispatches on the framework's name.
"""
from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from .config import BACKEND_MODULES, FRAMEWORKS, AutoRecConfig, MFConfig, TrainConfig
from .matrix import RatingMatrix
from .training import Learner

MISSING = {
    "torch": "PyTorch is not installed. Install the course with `pip install -e '.[torch]'`.",
    "mxnet": ("MXNet is not installed. Install the course's MXNet extra with `pip install -e '.[torch,mxnet]'` "
              "(it pins mxnet==1.9.1 and numpy==1.23.5, since MXNet breaks with NumPy >= 1.24; conda users: "
              "environment.yml), or use framework='torch'."),
}


@runtime_checkable
class Backend(Protocol):
    """What :mod:`autorec_lib.experiment` calls on a framework (module-level functions)."""

    def seed_everything(self, seed: int) -> None:
        """Seed the framework's random number generators."""

    def build_model(self, config: AutoRecConfig | MFConfig):
        """A model built from its (bound) config; the model keeps it as ``model.config``."""

    def build_learner(self, model, matrix: RatingMatrix | None, train: pd.DataFrame, cfg: TrainConfig,
                      scale: tuple[float, float]) -> Learner:
        """A learner for :func:`training.fit`: AutoRec trains on ``matrix``'s rows, MF on ``train``'s ratings."""

    def get_weights(self, model) -> dict[str, np.ndarray]:
        """NumPy copies of the parameters under the framework-neutral names."""

    def set_weights(self, model, weights: dict[str, np.ndarray]) -> None:
        """Load framework-neutral weights, checking every name and shape."""

    def device_name(self, cfg: TrainConfig) -> str:
        """The device ``cfg.device`` resolves to, in words."""


def get(framework: str) -> Backend:
    """The backend module for ``framework``, imported on first use (MXNet only when asked for)."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}; choose one of {', '.join(FRAMEWORKS)}")
    try:
        module: ModuleType = importlib.import_module(f".{BACKEND_MODULES[framework]}", __package__)
    except ImportError as err:
        if err.name != framework:  # the framework itself is missing, not something it needs
            raise
        raise ImportError(MISSING.get(framework, f"{framework} is not installed.")) from err
    return module  # type: ignore[return-value]


def available(framework: str) -> bool:
    """Whether ``framework`` can be imported here (without importing it)."""
    return importlib.util.find_spec(framework) is not None
