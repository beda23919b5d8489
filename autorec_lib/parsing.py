"""Parsers for MovieLens ratings and movie files, strict enough that the data cannot be silently wrong.

A ratings file (``u.data``, ``u1.base``, ``ratings.dat``, ``ratings.csv``; its separator, header,
encoding, scale and step are in :class:`~autorec_lib.registry.RatingFormat`) is read only if every
value in it is read exactly as written. What it may hold:

* one rating a line, ``user, movie, rating, timestamp`` between the format's separators, and nothing
  else on the line: no spaces, no quotes, no field more or less;
* ids written as plain positive integers (``7``; not ``07``, ``+7``, ``7.0``, ``7e0``, `` 7`` or ``0``),
  at most 18 digits so that each fits a 64-bit integer; timestamps the same, ``0`` included;
* ratings written as plain decimals (``4``, ``4.0``, ``4.5``, ``4.50``; not ``+4``, ``04``, ``4.``,
  ``.5``, ``4e0``, ``nan`` or ``inf``) with at most 6 decimals before any trailing zeros, which keeps
  every rating exact in a float; each on the format's scale and step (``4.5`` is refused in ML-100K,
  never read as 4);
* each (user, movie) pair once: a second line for it would make one of the two ratings win silently;
* lines ended by LF or CRLF (ml-latest-small's ``ratings.csv`` has CRLF), the last line with or
  without one; a carriage return anywhere else is refused (old Mac files would be read as other lines);
* empty lines, which hold no rating and are skipped; a line of white space is refused;
* the format's header line, where it has one, exactly as registered (``userId,movieId,rating,timestamp``);
* text in the format's encoding. A UTF-8 file may start with a byte-order mark (Excel writes one); it
  is not data. A byte-order mark anywhere else, one in a latin-1 file, and UTF-16 text are refused.

Anything else is refused with a :class:`DataError` naming the file, the line(s), what is wrong and
what to do. Parsing is vectorised: one regular expression checks the whole text at C speed, pandas
converts it, numpy checks scale, step and repeated pairs; the line-by-line diagnosis runs only once
something has been found wrong.
"""
from __future__ import annotations

import codecs
import csv
import functools
import io
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .registry import DataError, ItemFormat, RatingFormat

RAW_COLUMNS = ["user_id", "item_id", "rating", "timestamp"]
MAX_DIGITS = 18  # ids and timestamps: at most 18 digits, so that every one fits a 64-bit integer
MAX_DECIMALS = 6  # ratings: at most 6 decimals before trailing zeros, so that a float holds each exactly
ZIP = "replace the file by the one in the data set's zip"  # the remedy every message ends with
FIX = f"fix or remove that line, or {ZIP}"

# How each field of a ratings line is written (plain regular expressions, which pandas may also hand
# to pyarrow's engine).
_ID = f"[1-9][0-9]{{0,{MAX_DIGITS - 1}}}"
_AN_ID = (f"a positive integer in plain digits (at most {MAX_DIGITS}; no sign, decimal point, exponent "
          "or leading zero)")
_FIELDS = (  # (column, how it is written, what it must be, in words)
    ("user_id", _ID, _AN_ID),
    ("item_id", _ID, _AN_ID),
    ("rating", f"(?:0|{_ID})(?:\\.[0-9]{{1,{MAX_DECIMALS}}}0*)?",
     f"a number in plain decimals (at most {MAX_DECIMALS} decimals; no sign, exponent, leading zero, "
     "nan or inf)"),
    ("timestamp", f"(?:0|{_ID})", f"a whole number of seconds in plain digits (at most {MAX_DIGITS}; "
     "no sign, decimal point, exponent or leading zero)"),
)


@functools.lru_cache(maxsize=None)
def _grammar(sep: str) -> re.Pattern:
    """A whole ratings file body: rating lines and empty lines, LF or CRLF, the last end optional.
    The possessive ``*+`` never backtracks into lines already matched: one pass at C speed."""
    line = re.escape(sep).join(pattern for _, pattern, _ in _FIELDS)
    return re.compile(f"(?:{line}\r?\n|\r?\n)*+(?:{line})?+")


def _shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for a message: escapes visible, long text cut."""
    return repr(text[:limit]) + ("..." if len(text) > limit else "")


def _number(x: float) -> str:
    """A rating as a message shows it: ``4``, ``4.5``, never ``1e+17``."""
    return np.format_float_positional(x, trim="-")


def _read_text(path: Path, encoding: str) -> str:
    """The file's text, with no line ends translated; a UTF-8 file's leading byte-order mark dropped."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path} cannot be read ({err.strerror}); {ZIP}") from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DataError(f"{path}, line 1: the file is UTF-16 text (it starts with a UTF-16 byte-order "
                        f"mark); save it as {encoding} text, or {ZIP}")
    if raw.startswith(codecs.BOM_UTF8):
        if codecs.lookup(encoding).name != "utf-8":
            raise DataError(f"{path}, line 1: the file starts with a UTF-8 byte-order mark (bytes EF BB BF), "
                            f"which {encoding} text does not have; save it as {encoding} without one, or {ZIP}")
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise DataError(f"{path}, line {line}: not valid {encoding} text (byte 0x{raw[err.start]:02x}: "
                        f"{err.reason}); the file was saved in another encoding: save it as {encoding}, "
                        f"or {ZIP}") from None


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").split("\n")


def _row_lines(text: str, header: bool) -> list[int]:
    """The 1-based line number of each parsed row (empty lines hold none). Failure path only."""
    numbers = [n for n, line in enumerate(_lines(text), start=1) if line]
    return numbers[1:] if header else numbers


def row_line(path: str | os.PathLike, fmt: RatingFormat | ItemFormat, row: int) -> int:
    """The line number of row ``row`` of a parsed file, for messages (reads the file again)."""
    return _row_lines(_read_text(Path(path), fmt.encoding), bool(fmt.header))[row]


def _body(path: Path, text: str, fmt: RatingFormat | ItemFormat) -> tuple[str, int]:
    """The text after the header line (all of it where the format has none) and its first line's number;
    a header other than the registered one is refused."""
    if not fmt.header:
        return text, 1
    first, _, body = text.partition("\n")
    expected = fmt.sep.join(fmt.header)
    if first.removesuffix("\r") != expected:
        raise DataError(f"{path}, line 1: expected the header {expected!r}, found {_shown(first, 80)}; "
                        f"without it the first line would be lost or misread; {ZIP}")
    return body, 2


def _as_single_char(text: str, sep: str) -> tuple[str, str]:
    """pandas' C parser takes one-character separators: '::' becomes a tab first."""
    return (text.replace(sep, "\t"), "\t") if len(sep) > 1 else (text, sep)


def _field_problem(label: str, field: str, pattern: str, what: str) -> str | None:
    if re.fullmatch(pattern, field):
        return None
    if not field:
        return f"{label} is empty"
    if field != field.strip():
        return f"{label} {_shown(field)} has white space around it"
    return f"{label} {_shown(field)} is not {what}"


def _line_problem(line: str, sep: str) -> str:
    """What is wrong with a line the grammar refused, in words. Failure path only."""
    if "\ufeff" in line or "ï»¿" in line:  # a byte-order mark, read as UTF-8 or as latin-1
        return f"{_shown(line)} holds a byte-order mark (bytes EF BB BF), which may only start a UTF-8 file"
    if "\r" in line:
        return (f"{_shown(line)} holds a carriage return ('\\r') that does not end a line (as in old Mac "
                "files); lines must end with LF or CRLF")
    if not line.strip():
        return f"the line holds only white space ({_shown(line)})"
    fields = line.split(sep)
    if len(fields) != len(_FIELDS):
        names = {"\t": "tabs", ",": "commas"}.get(sep, repr(sep))
        return f"expected 4 fields separated by {names}, found {len(fields)} in {_shown(line)}"
    for (label, pattern, what), field in zip(_FIELDS, fields):
        problem = _field_problem(label, field, pattern, what)
        if problem:
            return problem
    return f"{_shown(line)} is not a ratings line"  # pragma: no cover (the fields are the grammar)


def _check_lines(path: Path, body: str, first_line: int, sep: str) -> None:
    """Refuse the first line of ``body`` that the grammar does not allow."""
    grammar = _grammar(sep)
    if grammar.fullmatch(body):
        return
    index = body.count("\n", 0, grammar.match(body).end())  # the line where the well-formed text stops
    line = _lines(body)[index]
    raise DataError(f"{path}, line {first_line + index}: {_line_problem(line, sep)}; {FIX}")


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
    ``user_id, item_id, rating, timestamp`` (int64, int64, float64, int64), one row per rating line in
    file order, refusing anything that is not exactly one rating of one (user, movie) pair; what a
    file may hold is listed in the module docstring."""
    path = Path(path)
    text = _read_text(path, fmt.encoding)
    if not text:
        raise DataError(f"{path}, line 1: the file is empty, so it holds no ratings; {ZIP}")
    body, first_line = _body(path, text, fmt)
    _check_lines(path, body, first_line, fmt.sep)
    if not body.strip("\r\n"):
        raise DataError(f"{path}, line {first_line}: no ratings from this line to the end of the file "
                        f"(only {'empty lines' if body else 'the header'}); {ZIP}")
    single, sep = _as_single_char(body, fmt.sep)
    frame = pd.read_csv(io.StringIO(single), sep=sep, header=None, names=RAW_COLUMNS, engine="c",
                        dtype=dict(zip(RAW_COLUMNS, (np.int64, np.int64, np.float64, np.int64))),
                        na_filter=False, skip_blank_lines=True)
    users, items, ratings = (frame[c].to_numpy() for c in RAW_COLUMNS[:3])
    low, high = fmt.scale
    steps = (ratings - low) / fmt.step
    # A rating of at most 6 decimals that is off the step is off by 1e-6 or more, far above float
    # rounding (about 1e-15): the tolerance absorbs only rounding.
    off = (ratings < low) | (ratings > high) | (np.abs(steps - np.round(steps)) > 1e-9)
    refuse_row(path, fmt, off, lambda row: (
        f"rating {_number(ratings[row])} is outside the scale {low:g}..{high:g} in steps of {fmt.step:g}; {FIX}"))
    _refuse_duplicates(path, fmt, frame, ["user_id", "item_id"], lambda a, b: (
        f"user {users[a]} rates movie {items[a]} twice ({_number(ratings[a])} and {_number(ratings[b])}); "
        "each (user, movie) pair must appear once, or one of the two ratings would be used silently. "
        f"Remove one of the lines, or {ZIP}"))
    return frame


def parse_items(path: str | os.PathLike, fmt: ItemFormat) -> pd.Series:
    """Movie titles indexed by movie id, from ``u.item``, ``movies.csv`` or ``movies.dat``.

    Ids are written as in ratings files (plain positive integers), each listed once; titles are kept
    verbatim (an empty title stays empty, a title such as ``NA`` stays text). Encoding, byte-order
    mark and header are checked as for ratings files.
    """
    path = Path(path)
    text = _read_text(path, fmt.encoding)
    body, _ = _body(path, text, fmt)
    single, sep = _as_single_char(body, fmt.sep)
    try:
        frame = pd.read_csv(io.StringIO(single), sep=sep, header=None, usecols=[0, 1],
                            names=["item_id", "title"], dtype=str, engine="c",
                            keep_default_na=False, na_filter=False,
                            quoting=csv.QUOTE_MINIMAL if fmt.quoted else csv.QUOTE_NONE)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{path} could not be read as a movie list ({err}); {ZIP}") from None
    if frame.empty:
        raise DataError(f"{path} lists no movies; {ZIP}")
    refuse_row(path, fmt, ~frame["item_id"].str.fullmatch(_ID).to_numpy(bool),
               lambda row: f"movie id {_shown(frame['item_id'].iloc[row])} is not {_AN_ID}; {FIX}")
    frame["item_id"] = frame["item_id"].astype(np.int64)
    _refuse_duplicates(path, fmt, frame, ["item_id"], lambda a, b: (
        f"movie {frame['item_id'].iloc[a]} is listed twice ({frame['title'].iloc[a]!r} and "
        f"{frame['title'].iloc[b]!r}); remove one of the lines, or {ZIP}"))
    return frame.set_index("item_id")["title"]
