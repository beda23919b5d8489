"""Property tests of the ratings parser (issue 20): for generated ratings files of every registered
format, ``parse_ratings`` either returns exactly the ratings the file holds, or refuses with a
:class:`DataError` that names the file and the line and says what is wrong and what to do — never
another exception, never a changed value, never an unreadable message.

The properties: valid files, written every way the parser's docstring allows, load exactly; each kind
of damage, on a line Hypothesis picks, is refused at that line (or, where the docstring allows it, loads
exactly) — one test for each way of miswriting a field, for each way of leaving the scale or its step,
and for each damage to the file's structure (separators, field counts, white space, line ends,
byte-order marks, encodings, repeated pairs, headers, files without ratings); and files edited byte by
byte at random either load exactly what their lines denote (checked with :class:`~decimal.Decimal`, not
with the parser's own rules) or are refused at a line. The Hypothesis profiles are in ``conftest.py``:
"ci" (the default) is derandomized and bounded.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autorec_lib.datasets import DATASETS, DataError, parse_ratings
from autorec_lib.parsing import MAX_DECIMALS, MAX_DIGITS, RAW_COLUMNS

FORMATS = [pytest.param(name, id=name) for name in DATASETS]
MANY = settings(max_examples=4 * settings.default.max_examples)  # the broad properties get more examples
FEW = settings(max_examples=max(3, settings.default.max_examples // 4))  # one narrow case of many

ids = st.integers(1, 10**MAX_DIGITS - 1)
timestamps = st.integers(0, 10**MAX_DIGITS - 1)


def is_utf8(fmt) -> bool:
    return codecs.lookup(fmt.encoding).name == "utf-8"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("ratings")


# ---------------------------------------------------------------- generated files


@st.composite
def ratings(draw, fmt, min_size=1, max_size=8):
    """Rows ``(user, item, rating, timestamp)`` a file of ``fmt`` may hold: each pair once, on the scale."""
    low, high = fmt.scale
    steps = st.integers(0, round((high - low) / fmt.step))
    pairs = draw(st.lists(st.tuples(ids, ids), min_size=min_size, max_size=max_size, unique=True))
    return [(u, i, low + draw(steps) * fmt.step, draw(timestamps)) for u, i in pairs]


@st.composite
def spelled(draw, rating: float) -> str:
    """A way of writing ``rating`` that denotes it exactly: ``4``, ``4.0``, ``4.50``, ... ."""
    least = next(d for d in range(MAX_DECIMALS + 1) if float(f"{rating:.{d}f}") == rating)
    text = f"{rating:.{draw(st.integers(least, MAX_DECIMALS))}f}"
    return text + "0" * draw(st.integers(0, 20)) if "." in text else text  # trailing zeros change nothing


def line_of(fmt, row, rating_text=None) -> str:
    user, item, rating, timestamp = row
    return fmt.sep.join([str(user), str(item), rating_text or f"{rating:g}", str(timestamp)])


@st.composite
def valid_files(draw, fmt):
    """(bytes, rows): a file the parser's docstring accepts, written any of the ways it allows."""
    rows = draw(ratings(fmt))
    lines = [line_of(fmt, row, draw(spelled(row[2]))) for row in rows]
    for _ in range(draw(st.integers(0, 3))):  # blank lines hold no rating
        lines.insert(draw(st.integers(0, len(lines))), "")
    if fmt.header:
        lines.insert(0, fmt.sep.join(fmt.header))
    ends = [draw(st.sampled_from(["\n", "\r\n"])) for _ in lines]
    if draw(st.booleans()):
        ends[-1] = ""  # a last line without a line end
    text = "".join(line + end for line, end in zip(lines, ends))
    if is_utf8(fmt) and draw(st.booleans()):
        text = "\ufeff" + text  # a byte-order mark, as Excel writes one
    return text.encode(fmt.encoding), rows


# ---------------------------------------------------------------- what a result must be


def assert_exactly(frame: pd.DataFrame, rows) -> None:
    assert list(frame.columns) == RAW_COLUMNS
    assert [str(t) for t in frame.dtypes] == ["int64", "int64", "float64", "int64"]
    assert frame.index.equals(pd.RangeIndex(len(rows)))
    assert list(frame.itertuples(index=False, name=None)) == rows


def assert_readable(message: str, path) -> None:
    """One printable line that names the file first and ends with what to do."""
    assert message.startswith(f"{path}, line"), message
    assert message.isprintable() and len(message) < 600, message
    assert "the data set's zip" in message, message  # what to do


@dataclass
class Case:
    """A generated file and what the parser must do with it: load ``rows``, or refuse at ``line``."""

    data: bytes
    rows: list | None = None  # accepted: exactly these ratings
    line: str = ""  # refused: "line 3" or "lines 2 and 5"
    says: tuple[str, ...] = ()  # refused: the message names the problem with one of these


def check(folder, name: str, case: Case) -> None:
    info = DATASETS[name]
    path = folder / info.ratings_file
    path.write_bytes(case.data)
    if case.rows is not None:
        assert_exactly(parse_ratings(path, info.ratings), case.rows)
        return
    with pytest.raises(DataError) as err:  # any other exception fails the test
        parse_ratings(path, info.ratings)
    message = str(err.value)
    assert message.startswith(f"{path}, {case.line}: "), message
    assert any(word in message for word in case.says), (case.says, message)
    assert_readable(message, path)


# ---------------------------------------------------------------- valid files


@pytest.mark.parametrize("name", FORMATS)
@MANY
@given(data=st.data())
def test_a_valid_file_loads_exactly_the_ratings_it_holds(folder, name, data):
    raw, rows = data.draw(valid_files(DATASETS[name].ratings))
    check(folder, name, Case(raw, rows))


# ---------------------------------------------------------------- damage, one kind at a time


@dataclass
class Base:
    """A clean file (one rating a line, LF line ends, a final one) about to be damaged."""

    fmt: object
    rows: list
    lines: list  # the file's lines, header included

    @property
    def first(self) -> int:  # the line number of the first rating
        return 2 if self.fmt.header else 1

    def text(self, lines=None, end="\n") -> str:
        return "".join(line + end for line in (self.lines if lines is None else lines))

    def data(self, lines=None, end="\n") -> bytes:
        return self.text(lines, end).encode(self.fmt.encoding)

    def pick(self, draw) -> int:
        """The index (into ``lines``) of a rating line to damage."""
        return draw(st.integers(self.first - 1, len(self.lines) - 1))


@st.composite
def bases(draw, fmt):
    rows = draw(ratings(fmt))
    lines = [line_of(fmt, row) for row in rows]
    return Base(fmt, rows, [fmt.sep.join(fmt.header)] * bool(fmt.header) + lines)


def with_field(base: Base, k: int, column: int, text: str) -> bytes:
    """The clean file with field ``column`` of line index ``k`` written as ``text``."""
    fields = base.lines[k].split(base.fmt.sep)
    fields[column] = text
    return base.data(base.lines[:k] + [base.fmt.sep.join(fields)] + base.lines[k + 1:])


def seven_decimals(t: str) -> str:
    whole, _, decimals = t.partition(".")
    return f"{whole}.{decimals.ljust(MAX_DECIMALS, '0')}1"  # a millionth of a millionth off: never rounded


IDS, RATING, TIMESTAMP = (0, 1), (2,), (3,)
EVERY = IDS + RATING + TIMESTAMP
# Ways of writing a field that the docstring refuses: (name, the columns it is tried in, rewrite of the text).
SPELLINGS = [
    ("point-zero", IDS + TIMESTAMP, lambda t: t + ".0"), ("plus", EVERY, lambda t: "+" + t),
    ("leading-zero", EVERY, lambda t: "0" + t), ("exponent", EVERY, lambda t: t + "e0"),
    ("exponent-upper", EVERY, lambda t: t + "E0"), ("space-before", EVERY, lambda t: " " + t),
    ("space-after", EVERY, lambda t: t + " "), ("minus", EVERY, lambda t: "-" + t),
    ("zero", IDS, lambda t: "0"), ("empty", EVERY, lambda t: ""), ("word", EVERY, lambda t: "x"),
    ("nan", EVERY, lambda t: "nan"), ("NaN", RATING, lambda t: "NaN"), ("inf", RATING, lambda t: "inf"),
    ("minus-inf", RATING, lambda t: "-inf"), ("Infinity", RATING, lambda t: "Infinity"),
    ("underscore", EVERY, lambda t: t[0] + "_0" + t[1:]), ("hex", EVERY, lambda t: "0x" + t),
    ("nul", EVERY, lambda t: t + "\x00"), ("superscript-digit", EVERY, lambda t: t + "²"),
    ("arabic-digit", EVERY, lambda t: t + "١"), ("fullwidth-digit", EVERY, lambda t: "１" + t),
    ("too-many-digits", IDS + TIMESTAMP, lambda t: "9" * (MAX_DIGITS + 1)),
    ("point-alone", RATING, lambda t: t.split(".")[0] + "."), ("no-integer-part", RATING, lambda t: ".5"),
    ("seven-decimals", RATING, seven_decimals), ("decimal-comma", RATING, lambda t: t.split(".")[0] + ",5"),
]


def fits(fmt, rewrite) -> bool:
    """Whether the rewrite is a damage of one field in this format: its characters are in the format's
    encoding (else: damage_wrong_encoding) and it holds no separator (else: damage_field_count)."""
    text = rewrite("4.5")
    return fmt.sep not in text and text.encode(fmt.encoding, errors="replace").decode(fmt.encoding) == text


SPELLING_CASES = [pytest.param(name, spelling, rewrite, id=f"{name}-{spelling}")
                  for name, info in DATASETS.items() for spelling, _, rewrite in SPELLINGS
                  if fits(info.ratings, rewrite)]
COLUMNS = {spelling: columns for spelling, columns, _ in SPELLINGS}


@pytest.mark.parametrize("name, spelling, rewrite", SPELLING_CASES)
@FEW
@given(data=st.data())
def test_a_field_written_other_than_plainly_is_refused_at_its_line(folder, name, spelling, rewrite, data):
    """Signs, exponents, leading zeros, spaces, nan, inf, digits other than 0-9, too many digits or
    decimals: each refused at its line and shown as written, never read as a number."""
    fmt = DATASETS[name].ratings
    base = data.draw(bases(fmt))
    k, column = base.pick(data.draw), data.draw(st.sampled_from(COLUMNS[spelling]))
    bad = rewrite(base.lines[k].split(fmt.sep)[column])
    says = (repr(bad),) if bad else ("is empty",)
    check(folder, name, Case(with_field(base, k, column, bad), line=f"line {k + 1}", says=says))


# Ratings off the scale or off its step, worked out in decimals (low, high, step, and the rating there).
OFF_SCALE = [("below", lambda lo, hi, step, v: lo - step), ("above", lambda lo, hi, step, v: hi + step),
             ("zero", lambda lo, hi, step, v: Decimal(0)), ("thousand", lambda lo, hi, step, v: Decimal(1000)),
             ("half-step", lambda lo, hi, step, v: v + step / 2), ("tenth", lambda lo, hi, step, v: v + Decimal("0.1")),
             ("millionth", lambda lo, hi, step, v: v + Decimal(10) ** -MAX_DECIMALS)]


@pytest.mark.parametrize("name, how, off", [pytest.param(name, how, off, id=f"{name}-{how}")
                                            for name in DATASETS for how, off in OFF_SCALE])
@FEW
@given(data=st.data())
def test_a_rating_off_the_scale_or_its_step_is_refused_at_its_line_as_written(folder, name, how, off, data):
    fmt = DATASETS[name].ratings
    base = data.draw(bases(fmt))
    k = base.pick(data.draw)
    value = off(*map(Decimal, (*fmt.scale, fmt.step, base.lines[k].split(fmt.sep)[2])))
    text = f"{value:f}"
    if "." in text:
        text += "0" * data.draw(st.integers(0, 3))  # trailing zeros change nothing
    shown = f"{value.normalize():f}"  # the value as written, without trailing zeros
    check(folder, name, Case(with_field(base, k, 2, text), line=f"line {k + 1}",
                             says=(f"rating {shown} is outside the scale",)))


def damage_other_separator(draw, base):
    k = base.pick(draw)
    other = draw(st.sampled_from([s for s in [",", ";", "\t", " ", "|", ":", "::", "  "] if s != base.fmt.sep]))
    line = base.lines[k].replace(base.fmt.sep, other)
    lines = base.lines[:k] + [line] + base.lines[k + 1:]
    return Case(base.data(lines), line=f"line {k + 1}", says=("4 fields",))


def damage_field_count(draw, base):
    """A field too many, one too few, a separator at the end or the start, or a line cut short."""
    k = base.pick(draw)
    sep, line = base.fmt.sep, base.lines[k]
    bad = draw(st.sampled_from([line + sep + "7", line.rsplit(sep, 1)[0], line + sep, sep + line,
                                line.split(sep, 1)[0], line + sep + line]))
    lines = base.lines[:k] + [bad] + base.lines[k + 1:]
    return Case(base.data(lines), line=f"line {k + 1}", says=("4 fields",))


def damage_white_space(draw, base):
    """White space before or after a line, or a line of white space only."""
    k = base.pick(draw)
    space = draw(st.sampled_from([" ", "  ", "\t", "\v", "\f", "\xa0"]))
    line = base.lines[k]
    bad = draw(st.sampled_from([space + line, line + space, space]))
    lines = base.lines[:k] + [bad] + base.lines[k + 1:]
    return Case(base.data(lines), line=f"line {k + 1}", says=("white space", "4 fields"))


def damage_stray_carriage_return(draw, base):
    """A carriage return that does not end a line: old Mac line ends, or one doubled before LF."""
    k = base.pick(draw)
    line = base.lines[k]
    at = draw(st.integers(0, len(line) - 1))
    bad = draw(st.sampled_from([line[:at] + "\r" + line[at:], line + "\r\r"]))  # line + "\r" would be CRLF
    text = base.text(base.lines[:k]) + bad + "\n" + base.text(base.lines[k + 1:])
    return Case(text.encode(base.fmt.encoding), line=f"line {k + 1}", says=("carriage return",))


def damage_mac_line_ends(draw, base):
    """Lines ended by a bare CR (classic Mac OS): never read as several ratings."""
    k = base.pick(draw)
    text = base.text(base.lines[:k]) + "\r".join(base.lines[k:]) + "\r"
    return Case(text.encode(base.fmt.encoding), line=f"line {k + 1}", says=("carriage return",))


def damage_line_ends_allowed(draw, base):
    """CRLF on some lines, blank lines (also CRLF ones) after any line, and no final line end: all load."""
    ends = [draw(st.sampled_from(["\n", "\r\n"])) for _ in base.lines]
    blanks = [draw(st.sampled_from(["", "\n", "\r\n", "\n\n"])) for _ in base.lines]
    text = "".join(line + end + blank for line, end, blank in zip(base.lines, ends, blanks))
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    return Case(text.encode(base.fmt.encoding), rows=base.rows)


def damage_byte_order_mark(draw, base):
    """A byte-order mark (EF BB BF): at the start of a UTF-8 file it is allowed; anywhere else it is not."""
    raw = base.data()
    if draw(st.booleans()):
        if is_utf8(base.fmt):
            return Case(codecs.BOM_UTF8 + raw, rows=base.rows)
        return Case(codecs.BOM_UTF8 + raw, line="line 1", says=("byte-order mark",))
    k = base.pick(draw)
    line = base.lines[k].encode(base.fmt.encoding)
    at = draw(st.integers(0, len(line)))
    lines = [s.encode(base.fmt.encoding) for s in base.lines]
    lines[k] = line[:at] + codecs.BOM_UTF8 + line[at:]
    return Case(b"".join(s + b"\n" for s in lines), line=f"line {k + 1}", says=("byte-order mark",))


def damage_utf16(draw, base):
    """The whole file saved as UTF-16 (Windows' "Unicode"), with its byte-order mark."""
    encoding = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-16-be"]))
    bom = {"utf-16": b"", "utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}[encoding]
    return Case(bom + base.text().encode(encoding), line="line 1", says=("UTF-16",))


def damage_wrong_encoding(draw, base):
    """A non-ASCII character in a field, the file saved in another encoding than the format's."""
    k = base.pick(draw)
    saved_as = draw(st.sampled_from(["latin-1", "cp1252"] if is_utf8(base.fmt) else ["utf-8"]))
    char = draw(st.sampled_from([c for c in "éüß€\xa0" if c.encode(saved_as, errors="ignore")]))
    fields = base.lines[k].split(base.fmt.sep)
    column = draw(st.integers(0, 3))
    fields[column] = fields[column] + char
    lines = base.lines[:k] + [base.fmt.sep.join(fields)] + base.lines[k + 1:]
    return Case(base.text(lines).encode(saved_as), line=f"line {k + 1}", says=("is not", "valid", "white space"))


def damage_duplicate_pair(draw, base):
    """A second line for a (user, movie) pair already rated: the same line again, or another rating."""
    j = base.pick(draw)
    user, item, rating, timestamp = base.rows[j - (base.first - 1)]
    later = (timestamp + 1) % 10**MAX_DIGITS
    again = draw(st.sampled_from([base.lines[j], line_of(base.fmt, (user, item, rating, later)),
                                  line_of(base.fmt, (user, item, base.fmt.scale[0], timestamp))]))
    at = draw(st.integers(base.first - 1, len(base.lines)))
    lines = base.lines[:at] + [again] + base.lines[at:]
    first, second = (j + 1, at + 1) if at > j else (at + 1, j + 2)
    return Case(base.data(lines), line=f"lines {first} and {second}", says=("twice",))


def damage_no_ratings(draw, base):
    """An empty file, blank lines only, or (with a header) the header alone."""
    header = base.lines[:base.first - 1]
    text = draw(st.sampled_from([base.text(header), base.text(header).rstrip("\n"), base.text(header) + "\n\n",
                                 base.text(header, "\r\n")]))
    line = 1 if not text else base.first
    return Case(text.encode(base.fmt.encoding), line=f"line {line}", says=("no ratings",))


def damage_header(draw, base):
    """A header missing, misspelled, spaced, quoted, reordered, or (in a format without one) present."""
    fmt = base.fmt
    if not fmt.header:
        names = fmt.sep.join(["user_id", "item_id", "rating", "timestamp"])
        return Case(base.data([names] + base.lines), line="line 1", says=("'user_id'",))
    h = list(fmt.header)
    bad = draw(st.sampled_from([None, fmt.sep.join(x.lower() for x in h), (fmt.sep + " ").join(h),
                                fmt.sep.join(f'"{x}"' for x in h), fmt.sep.join(h[1::-1] + h[2:]),
                                fmt.sep.join(h + ["tag"]), fmt.sep.join(h[:3]), " " + fmt.sep.join(h), ""]))
    lines = base.lines[1:] if bad is None else [bad] + base.lines[1:]
    return Case(base.data(lines), line="line 1", says=("header",))


DAMAGES = [damage_other_separator, damage_field_count,
           damage_white_space, damage_stray_carriage_return, damage_mac_line_ends, damage_line_ends_allowed,
           damage_byte_order_mark, damage_utf16, damage_wrong_encoding, damage_duplicate_pair,
           damage_no_ratings, damage_header]


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda f: f.__name__.removeprefix("damage_"))
@pytest.mark.parametrize("name", FORMATS)
@given(data=st.data())
def test_a_damaged_file_is_refused_at_its_line_or_loads_exactly(folder, name, damage, data):
    fmt = DATASETS[name].ratings
    base = data.draw(bases(fmt))
    check(folder, name, damage(data.draw, base))


# ---------------------------------------------------------------- files edited at random

NOISE = [b"0", b"1", b"5", b".", b",", b":", b"\t", b" ", b"\r", b"\n", b"\r\n", b"+", b"-", b"e", b"E",
         b"nan", b"inf", b"_", b'"', b"#", b"\x00", b"\xe9", "é".encode(), codecs.BOM_UTF8, "١".encode(),
         b"\xff\xfe"]


def denotes_exactly(text: str, value) -> bool:
    """Whether the decimal ``text`` means exactly ``value`` (a float compares by its binary value)."""
    try:
        return Decimal(text) == Decimal(value)
    except InvalidOperation:
        return False


def assert_holds_exactly(frame: pd.DataFrame, raw: bytes, fmt) -> None:
    """What an accepted file must give: one row per non-blank line, each value exactly as written."""
    text = raw.decode(fmt.encoding)  # an accepted file is valid text in its encoding
    if is_utf8(fmt):
        text = text.removeprefix("\ufeff")
    pieces = text.split("\n")
    lines = [p.removesuffix("\r") for p in pieces[:-1]] + pieces[-1:]  # CR counts only before LF
    if fmt.header:
        assert lines[0] == fmt.sep.join(fmt.header), lines[0]
        lines = lines[1:]
    lines = [line for line in lines if line]
    assert len(frame) == len(lines)
    low, high = fmt.scale
    for line, row in zip(lines, frame.itertuples(index=False, name=None)):
        fields = line.split(fmt.sep)
        assert len(fields) == 4, line
        assert all(denotes_exactly(f, v) for f, v in zip(fields, row)), (line, row)
        user, item, rating, timestamp = row
        assert user >= 1 and item >= 1 and timestamp >= 0, line
        assert low <= rating <= high and ((Decimal(rating) - Decimal(low)) / Decimal(fmt.step)) % 1 == 0, line
    assert not frame.duplicated(["user_id", "item_id"]).any()


@pytest.mark.parametrize("name", FORMATS)
@MANY
@given(data=st.data())
def test_a_file_edited_at_random_loads_exactly_or_is_refused_at_a_line(folder, name, data):
    info = DATASETS[name]
    raw, _ = data.draw(valid_files(info.ratings))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw)))
        cut = data.draw(st.integers(0, 2))
        raw = raw[:at] + data.draw(st.sampled_from(NOISE + [b""])) + raw[at + cut:]
    path = folder / info.ratings_file
    path.write_bytes(raw)
    try:
        frame = parse_ratings(path, info.ratings)
    except DataError as err:
        message = str(err)
        assert_readable(message, path)
        numbers = re.match(rf"{re.escape(str(path))}, lines? (\d+)(?: and (\d+))?: ", message)
        assert numbers, message
        assert all(1 <= int(n) <= raw.count(b"\n") + 1 for n in numbers.groups() if n), message
    else:
        assert_holds_exactly(frame, raw, info.ratings)
