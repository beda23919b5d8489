"""Property tests for the library's front doors: a setting, an id or a count of the wrong kind is refused
with a ValueError (or KeyError, for an unknown id) that shows the value it got, never a traceback from
deep inside NumPy or PyTorch, and never a silently changed value."""
from __future__ import annotations

import math
import numbers

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autorec_lib import experiment, splits
from autorec_lib.config import course_config

ANYTHING = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                     st.text(max_size=6), st.lists(st.integers(-5, 600), max_size=3),
                     st.lists(st.text(max_size=3), min_size=1, max_size=2))


def _is_positive_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and not (
        isinstance(value, float) and math.isnan(value))


ACCEPTS = {  # field -> what a valid value is (as TrainConfig and AutoRecConfig document it)
    "epochs": _is_positive_int,
    "batch_size": _is_positive_int,
    "patience": _is_positive_int,
    "lr_patience": _is_positive_int,
    "seed": lambda v: isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0,
    "lr": lambda v: _is_real(v) and v > 0,
    "lam": lambda v: _is_real(v) and v >= 0,
    "lr_factor": lambda v: _is_real(v) and 0 < v < 1,
    "dropout": lambda v: _is_real(v) and 0 <= v < 1,
    "hidden": lambda v: _is_positive_int(v) or (isinstance(v, list) and len(v) > 0
                                                and all(_is_positive_int(h) for h in v)),
}


@pytest.mark.parametrize("field", sorted(ACCEPTS))
@given(value=ANYTHING)
def test_a_setting_is_taken_exactly_or_refused_showing_the_value_it_got(field, value):
    try:
        config = course_config("autorec", "item").replace(**{field: value})
    except ValueError as err:
        assert not ACCEPTS[field](value), f"{field}={value!r} is valid but was refused: {err}"
        shown = [value] if not isinstance(value, list) else [value, *value]
        assert any(repr(v) in str(err) for v in shown), f"the message does not show the value: {err}"
        return
    assert ACCEPTS[field](value), f"{field}={value!r} was accepted"
    stored = getattr(config.net, field) if field in ("hidden", "dropout") else getattr(config.train, field)
    expected = tuple(value) if isinstance(value, list) else (value,) if field == "hidden" else value
    assert stored == expected


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from conftest import write_ml100k

    from autorec_lib import datasets

    data = datasets.load("ml-100k", write_ml100k(tmp_path_factory.mktemp("d") / "ml-100k"))
    split = splits.make_split(data, "random", 0.2, 0.2, seed=0)
    return experiment.train(data, split, "autorec", "item", epochs=1, hidden=4, progress=False).trained()


IDS = st.one_of(st.integers(-5, 400), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3),
                st.booleans(), st.none())


@given(users=st.lists(IDS, max_size=4), items=st.lists(IDS, max_size=4))
def test_predict_answers_exactly_the_pairs_asked_or_refuses_by_name(model, users, items):
    known_users, known_items = set(model.user_ids.tolist()), set(model.item_ids.tolist())
    whole = lambda v: (isinstance(v, numbers.Integral) or isinstance(v, float) and math.isfinite(v)
                       and v.is_integer())
    try:
        got = model.predict(users, items)
    except (ValueError, KeyError) as err:
        message = str(err)
        valid = (len(users) == len(items) and all(whole(v) for v in users + items)
                 and {int(v) for v in users} <= known_users and {int(v) for v in items} <= known_items)
        assert not valid, f"valid pairs refused: {message}"
        assert "ids" in message or "pairs" in message, message
        return
    assert len(users) == len(items) and got.shape == (len(users),)
    assert all(whole(v) for v in users + items)
    assert np.all((got >= model.scale[0]) & (got <= model.scale[1]))


@given(n=st.one_of(st.integers(-3, 50), st.floats(allow_nan=True), st.text(max_size=2), st.none()))
def test_recommend_lists_n_movies_for_a_positive_integer_n_and_refuses_anything_else(model, n):
    user = int(model.user_ids[0])
    try:
        table = model.recommend(user, n)
    except ValueError as err:
        assert not _is_positive_int(n) and repr(n) in str(err)
        return
    assert _is_positive_int(n) and 0 < len(table) <= n
