"""Parsers for MovieLens ratings and movie files, strict enough that the data cannot be silently wrong.

Every line a ratings parser accepts is exactly one rating of one (user, movie) pair: a second line
for the same pair, an id that is not a positive integer, a rating off the scale or off its step,
a missing or wrong header, and a line with the wrong number of fields are each refused with a
:class:`DataError` naming the file, the line(s), and what to do. Parsing is vectorised (pandas);
line numbers and messages are worked out only once something has been found wrong.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .registry import DataError, ItemFormat, RatingFormat

RAW_COLUMNS = ["user_id", "item_id", "rating", "timestamp"]
_KINDS = (int, int, float, int)
FIX = "fix or remove that line, or replace the file by the one in the data set's zip"


def _read_text(path: Path, encoding: str) -> str:
    try:
        return path.read_text(encoding=encoding)
    except UnicodeDecodeError as err:
        line = path.read_bytes()[:err.start].count(b"\n") + 1
        raise DataError(f"{path}, line {line}: not valid {encoding} text ({err.reason}); "
                        "replace the file by the one in the data set's zip") from None


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").split("\n")


def _row_lines(text: str, header: bool) -> list[int]:
    """The 1-based line number of each parsed row (pandas skips empty lines). Failure path only."""
    numbers = [n for n, line in enumerate(_lines(text), start=1) if line]
    return numbers[1:] if header else numbers


def row_line(path: str | os.PathLike, fmt: RatingFormat | ItemFormat, row: int) -> int:
    """The line number of row ``row`` of a parsed file, for messages (reads the file again)."""
    return _row_lines(_read_text(Path(path), fmt.encoding), bool(fmt.header))[row]


def _check_header(path: Path, text: str, sep: str, expected: tuple[str, ...]) -> None:
    if not expected:
        return
    first = _lines(text)[0]
    fields = [f.strip().strip('"') for f in first.lstrip("\ufeff").split(sep)]
    if tuple(fields[:len(expected)]) != expected:
        raise DataError(f"{path}, line 1: expected the header {sep.join(expected)!r}, found {first[:80]!r}; "
                        "without it the first line would be lost or misread. Replace the file by the one "
                        "in the data set's zip")


def _as_single_char(text: str, sep: str) -> tuple[str, str]:
    """pandas' C parser takes one-character separators: '::' becomes a tab first."""
    return (text.replace(sep, "\t"), "\t") if len(sep) > 1 else (text, sep)


def _first_malformed(text: str, fmt: RatingFormat) -> tuple[int, str] | None:
    """The first line that is not four numbers (slow path, only run once the fast parser has failed)."""
    for number, line in enumerate(_lines(text), start=1):
        if not line or (number == 1 and fmt.header):
            continue
        fields = line.split(fmt.sep)
        if len(fields) != 4:
            return number, f"expected 4 fields separated by {fmt.sep!r}, found {len(fields)}"
        for label, field, kind in zip(RAW_COLUMNS, fields, _KINDS):
            try:
                kind(field)
            except ValueError:
                what = "an integer" if kind is int else "a number"
                return number, f"{label} {field!r} is not {what}"
    return None


def _read_ratings(path: Path, text: str, fmt: RatingFormat) -> pd.DataFrame:
    body, sep = _as_single_char(text, fmt.sep)
    frame = None
    try:
        frame = pd.read_csv(io.StringIO(body), sep=sep, header=None, skiprows=1 if fmt.header else 0,
                            engine="c", dtype={0: np.int64, 1: np.int64, 2: np.float64, 3: np.int64},
                            skip_blank_lines=True)
        if frame.shape[1] == 4 and not frame[2].isna().any():
            frame.columns = RAW_COLUMNS
            return frame
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} holds no ratings (the file is empty); "
                        "replace it by the one in the data set's zip") from None
    except (ValueError, pd.errors.ParserError):
        frame = None
    problem = _first_malformed(text, fmt)
    if problem is None:
        if frame is not None and frame.shape[1] == 4:  # a rating written 'nan': the scale check names it
            frame.columns = RAW_COLUMNS
            return frame
        raise DataError(f"{path} could not be parsed as a ratings file; "  # pragma: no cover
                        "replace it by the one in the data set's zip")
    line, message = problem
    raise DataError(f"{path}, line {line}: {message}; {FIX}")


def refuse_row(path: Path, fmt: RatingFormat | ItemFormat, bad: np.ndarray, message) -> None:
    """Raise for the first row flagged in ``bad``: the file, its line, then ``message(row)``."""
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{path}, line {row_line(path, fmt, row)}: {message(row)}")


def _refuse_duplicates(path: Path, fmt: RatingFormat | ItemFormat, frame: pd.DataFrame, keys: list[str],
                       what) -> None:
    """Refuse the first repeated key, naming both lines."""
    repeated = frame.duplicated(keys, keep="first").to_numpy()
    if repeated.any():
        second = int(np.argmax(repeated))
        same = np.ones(len(frame), dtype=bool)
        for key in keys:
            same &= frame[key].to_numpy() == frame[key].iloc[second]
        first = int(np.argmax(same))
        raise DataError(f"{path}, lines {row_line(path, fmt, first)} and {row_line(path, fmt, second)}: "
                        f"{what(first, second)}")


def parse_ratings(path: str | os.PathLike, fmt: RatingFormat) -> pd.DataFrame:
    """Parse a ratings file (``u.data``, ``u1.base``, ``ratings.csv``, ``ratings.dat``) into raw columns
    ``user_id, item_id, rating, timestamp``, one row per line, refusing anything that is not exactly
    one rating of one (user, movie) pair (see the module docstring)."""
    path = Path(path)
    text = _read_text(path, fmt.encoding)
    _check_header(path, text, fmt.sep, fmt.header)
    frame = _read_ratings(path, text, fmt)
    if frame.empty:
        raise DataError(f"{path} holds no ratings; replace it by the one in the data set's zip")
    users, items, ratings = (frame[c].to_numpy() for c in RAW_COLUMNS[:3])
    refuse_row(path, fmt, (users < 1) | (items < 1), lambda row: (
        f"user {users[row]} / movie {items[row]}: ids must be positive integers; {FIX}"))
    low, high = fmt.scale
    steps = (ratings - low) / fmt.step
    off = ~((ratings >= low) & (ratings <= high) & (np.abs(steps - np.round(steps)) < 1e-6))
    refuse_row(path, fmt, off, lambda row: (
        f"rating {ratings[row]:g} is outside the scale {low:g}..{high:g} in steps of {fmt.step:g}; {FIX}"))
    _refuse_duplicates(path, fmt, frame, ["user_id", "item_id"], lambda a, b: (
        f"user {users[a]} rates movie {items[a]} twice ({ratings[a]:g} and {ratings[b]:g}); each "
        "(user, movie) pair must appear once, or one of the two ratings would be used silently. "
        "Remove one of the lines, or replace the file by the one in the data set's zip"))
    return frame


def parse_items(path: str | os.PathLike, fmt: ItemFormat) -> pd.Series:
    """Movie titles indexed by movie id, from ``u.item``, ``movies.csv`` or ``movies.dat``.

    Ids must be positive integers, each listed once; titles are kept verbatim (an empty title
    stays empty, a title such as ``NA`` stays text).
    """
    path = Path(path)
    text = _read_text(path, fmt.encoding)
    _check_header(path, text, fmt.sep, fmt.header)
    body, sep = _as_single_char(text, fmt.sep)
    try:
        frame = pd.read_csv(io.StringIO(body), sep=sep, header=None, skiprows=1 if fmt.header else 0,
                            usecols=[0, 1], names=["item_id", "title"], dtype=str, engine="c",
                            keep_default_na=False, na_filter=False,
                            quoting=csv.QUOTE_MINIMAL if fmt.quoted else csv.QUOTE_NONE)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{path} could not be read as a movie list ({err}); "
                        "replace it by the one in the data set's zip") from None
    if frame.empty:
        raise DataError(f"{path} lists no movies; replace it by the one in the data set's zip")
    ids = pd.to_numeric(frame["item_id"], errors="coerce").to_numpy()
    refuse_row(path, fmt, ~(np.isfinite(ids) & (ids >= 1) & (ids == np.round(ids))),
               lambda row: f"movie id {frame['item_id'].iloc[row]!r} is not a positive integer; {FIX}")
    frame["item_id"] = ids.astype(np.int64)
    _refuse_duplicates(path, fmt, frame, ["item_id"], lambda a, b: (
        f"movie {frame['item_id'].iloc[a]} is listed twice ({frame['title'].iloc[a]!r} and "
        f"{frame['title'].iloc[b]!r}); remove one of the lines, or replace the file by the one in "
        "the data set's zip"))
    return frame.set_index("item_id")["title"]
