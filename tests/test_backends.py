"""The declared backend interface and the registry that loads a framework on first use."""
import importlib
import sys

import pytest

from autorec_lib import backends
from autorec_lib.config import BACKEND_MODULES, FRAMEWORKS


def test_every_framework_has_a_backend_module():
    assert set(BACKEND_MODULES) == set(FRAMEWORKS)


def test_the_torch_backend_implements_the_protocol():
    assert isinstance(backends.get("torch"), backends.Backend)


def test_the_mxnet_backend_implements_the_protocol(mxnet_backend):
    assert isinstance(backends.get("mxnet"), backends.Backend)


def test_an_unknown_framework_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown framework 'jax'"):
        backends.get("jax")


def test_without_mxnet_the_registry_gives_the_one_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "mxnet", None)  # as if MXNet were not installed
    monkeypatch.delitem(sys.modules, "autorec_lib.mxnet_backend", raising=False)
    with pytest.raises(ImportError) as err:
        backends.get("mxnet")
    assert str(err.value) == backends.MISSING["mxnet"] and "environment.yml" in str(err.value)


def test_no_backend_imports_the_layers_above_it():
    for name in BACKEND_MODULES.values():
        source = importlib.util.find_spec(f"autorec_lib.{name}").origin
        text = open(source, encoding="utf-8").read()
        for above in ("experiment", "backends", "cli", "trained"):
            assert f"from .{above} import" not in text and f"from . import {above}" not in text, (name, above)
