"""Shared by the exercise tests: what they assert about a check's failure message (it never shows the
expected value), and one thread for the tiny models they train."""
from __future__ import annotations

import re

import pytest


def shown(message: str, values) -> list[str]:
    """The ``values`` that ``message`` shows, each looked for at 2, 3 and 4 decimals, as a percentage,
    and as a whole number where it is one (a digit string inside a longer number does not count)."""
    found = []
    for value in values:
        forms = {f"{value:.2f}", f"{value:.3f}", f"{value:.4f}", f"{value:.1%}"}
        if float(value).is_integer():
            forms |= {str(int(value)), f"{int(value):,}"}
        found += [form for form in forms if re.search(rf"(?<![\d.]){re.escape(form)}(?![\d])", message)]
    return found


def assert_hides(message: str, values) -> None:
    found = shown(message, values)
    assert not found, f"the message shows the expected value ({found}): {message}"


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The exercise tests' models are tiny: one thread is as fast, and far faster when other jobs share
    the CPU. (Autouse in every test module that imports it.)"""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
