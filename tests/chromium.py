"""Debian's Chromium, headless and driven by Playwright, for the browser tests (tests/test_site.py,
tests/test_jupyterlab.py). Without it (or without Playwright) those tests skip, unless CI=true or
AUTOREC_REQUIRE_BROWSER=1 (which `.ci/run` sets) makes that a failure."""
from __future__ import annotations

import importlib.util
import os
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("AUTOREC_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("AUTOREC_REQUIRE_BROWSER") == "1"


def missing() -> list[str]:
    """What the browser tests lack here, each with how to get it."""
    lacks = []
    if not CHROMIUM.exists():
        lacks.append(f"Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    if importlib.util.find_spec("playwright") is None:
        lacks.append("playwright (pip install -e '.[site]')")
    return lacks


def skip_or_fail(message: str) -> None:
    if required():
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def browser(profile: Path):
    """A Chromium context with the fresh profile folder ``profile``, a 1280 x 900 window."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True,
            viewport={"width": 1280, "height": 900})
        try:
            yield context
        finally:
            context.close()
