"""The parsers: each format read right, and every line that would change the data silently refused
with the file, the line(s) and what to do."""
import re

import numpy as np
import pytest

from autorec_lib.datasets import DATASETS, DataError, parse_items, parse_ratings, row_line

ML100K = DATASETS["ml-100k"].ratings
LATEST = DATASETS["ml-latest-small"].ratings
ML1M = DATASETS["ml-1m"].ratings
HEADER = "userId,movieId,rating,timestamp\n"


def write(tmp_path, name, content, encoding="utf-8"):
    path = tmp_path / name
    path.write_text(content, encoding=encoding)
    return path


def refused(path, fmt, *words):
    with pytest.raises(DataError) as err:
        parse_ratings(path, fmt)
    message = str(err.value)
    for w in words:
        assert w in message, message
    return message


# ---------------------------------------------------------------- the three formats

def test_parses_tab_separated_u_data(tmp_path):
    frame = parse_ratings(write(tmp_path, "u.data", "1\t10\t3\t100\n2\t10\t5\t101\n"), ML100K)
    assert frame["rating"].tolist() == [3.0, 5.0]
    assert frame["user_id"].tolist() == [1, 2]


def test_parses_ratings_csv_with_header_and_half_stars(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER + "1,1,4.5,964982703\n1,3,0.5,964981247\n")
    assert parse_ratings(path, LATEST)["rating"].tolist() == [4.5, 0.5]


def test_parses_double_colon_ratings_dat(tmp_path):
    path = write(tmp_path, "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n")
    assert parse_ratings(path, ML1M)["item_id"].tolist() == [1193, 661]


def test_windows_line_ends_and_a_missing_final_newline_parse_the_same(tmp_path):
    frame = parse_ratings(write(tmp_path, "u.data", "1\t10\t3\t100\r\n2\t10\t5\t101"), ML100K)
    assert frame["rating"].tolist() == [3.0, 5.0]


def test_ratings_csv_with_crlf_and_a_byte_order_mark_parses_exactly(tmp_path):
    """ml-latest-small's own ratings.csv has CRLF line ends; Excel starts a UTF-8 file with a BOM."""
    path = tmp_path / "ratings.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER.replace("\n", "\r\n").encode() + b"1,1,4.5,9\r\n2,1,0.5,9\r\n")
    assert parse_ratings(path, LATEST)["rating"].tolist() == [4.5, 0.5]


@pytest.mark.parametrize("rating", ["4", "4.0", "4.000000", "4.0000000000"])
def test_a_whole_star_may_be_written_with_decimal_zeros(tmp_path, rating):
    frame = parse_ratings(write(tmp_path, "u.data", f"1\t2\t{rating}\t4\n"), ML100K)
    assert frame["rating"].tolist() == [4.0]


@pytest.mark.parametrize("rating, words", [
    ("4.0000001", "at most 6 decimals"), ("4.000001", "rating 4.000001 is outside the scale"),
    ("+4", "no sign"), ("4.", "plain decimals"), ("inf", "nan or inf"), ("4 ", "has white space around it"),
])
def test_a_rating_that_would_not_be_read_exactly_or_is_off_the_step_is_refused(tmp_path, rating, words):
    path = write(tmp_path, "u.data", f"1\t2\t3\t4\n1\t3\t{rating}\t4\n")
    refused(path, ML100K, f"{path}, line 2: ", words)


@pytest.mark.parametrize("content", ["1\t2\t3\t4\r5\t6\t3\t4\n", "1\t2\t3\t4\r\r\n"])
def test_a_carriage_return_that_does_not_end_a_line_is_refused_not_read_as_a_line_end(tmp_path, content):
    path = write(tmp_path, "u.data", content)
    refused(path, ML100K, f"{path}, line 1: ", "holds a carriage return ('\\r') that does not end a line")


def test_a_byte_order_mark_in_a_latin1_file_is_refused(tmp_path):
    path = tmp_path / "u.data"
    path.write_bytes(b"\xef\xbb\xbf1\t2\t3\t4\n")
    refused(path, ML100K, f"{path}, line 1: the file starts with a UTF-8 byte-order mark")


def test_a_utf16_file_is_refused(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_bytes((HEADER + "1,1,4.5,9\n").encode("utf-16"))
    refused(path, LATEST, f"{path}, line 1: the file is UTF-16 text")


# ---------------------------------------------------------------- malformed lines

@pytest.mark.parametrize("content, line, words", [
    ("1\t2\t3\t4\n1\t2\t3\n", 2, "expected 4 fields"),
    ("1\t2\t3\t4\n1\t3\t3\t4\t5\n", 2, "expected 4 fields"),
    ("1\t2\t3\t4\n1\tx\t3\t4\n", 2, "item_id 'x' is not a positive integer in plain digits"),
    ("1\t2\t3\t4\n1.5\t3\t3\t4\n", 2, "user_id '1.5' is not a positive integer"),
    ("1\t2\t3\t4\n1\t3\tfive\t4\n", 2, "rating 'five' is not a number in plain decimals"),
    ("1\t2\t3\t4\n1\t3\t\t4\n", 2, "rating is empty"),
    ("1\t2\t3\t4\n1\t3\t3\t4\n1\t4\t7\t4\n", 3, "rating 7 is outside the scale 1..5"),
    ("1\t2\t3\t4\n1\t3\tnan\t4\n", 2, "rating 'nan' is not a number"),
    ("1\t2\t3\t4\n1\t3\t3\t4.0\n", 2, "timestamp '4.0' is not a whole number of seconds"),
    ("1\t2\t3\t4\n1,3,3,4\n", 2, "expected 4 fields separated by tabs, found 1"),
    ("1\t2\t3\t4\n \n", 2, "the line holds only white space"),
])
def test_malformed_ratings_name_file_line_and_what_to_do(tmp_path, content, line, words):
    path = write(tmp_path, "u.data", content)
    refused(path, ML100K, f"{path}, line {line}", words, "replace the file by the one in the data set's zip")


def test_line_numbers_count_empty_lines(tmp_path):
    path = write(tmp_path, "u.data", "1\t2\t3\t4\n\n\n1\t3\t9\t4\n")
    refused(path, ML100K, f"{path}, line 4: rating 9")


def test_malformed_csv_counts_the_header_line(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER + "1,1,4.5,9\n1,2,9.5,9\n")
    refused(path, LATEST, "line 3: rating 9.5 is outside")


def test_empty_ratings_file_is_refused(tmp_path):
    path = write(tmp_path, "u.data", "")
    refused(path, ML100K, f"{path}, line 1: the file is empty, so it holds no ratings")


def test_header_only_ratings_file_is_refused_at_the_line_after_it(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER)
    refused(path, LATEST, f"{path}, line 2: no ratings from this line to the end of the file (only the header)")


def test_ratings_csv_without_its_header_is_refused_not_shortened_by_a_line(tmp_path):
    path = write(tmp_path, "ratings.csv", "1,1,4.5,9\n1,2,3.0,9\n")
    refused(path, LATEST, f"{path}, line 1: expected the header 'userId,movieId,rating,timestamp'")


def test_text_in_the_wrong_encoding_names_its_line(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_bytes(HEADER.encode() + b"1,1,4.5,9\n1,2,3.0,9 \xe9\n")
    refused(path, LATEST, f"{path}, line 3: not valid utf-8 text")


# ---------------------------------------------------------------- what would change the data silently

def test_two_lines_for_one_pair_are_refused_naming_both_lines(tmp_path):
    path = write(tmp_path, "u.data", "1\t2\t3\t4\n5\t6\t4\t4\n1\t7\t2\t4\n5\t6\t1\t9\n")
    message = refused(path, ML100K, f"{path}, lines 2 and 4", "user 5 rates movie 6 twice (4 and 1)",
                      "Remove one of the lines")
    assert "line 1" not in message


def test_the_same_movie_by_two_users_is_not_a_duplicate(tmp_path):
    frame = parse_ratings(write(tmp_path, "u.data", "1\t2\t3\t4\n5\t2\t4\t4\n"), ML100K)
    assert len(frame) == 2


@pytest.mark.parametrize("user", ["0", "-3", "01", "+1", "1.0", "1e3", " 1", "1_0", "²", "1" * 19])
def test_ids_must_be_written_as_plain_positive_integers(tmp_path, user):
    """Each of these is refused, not read as a number: '01' beside '1' would be one user silently."""
    path = write(tmp_path, "u.data", f"1\t2\t3\t4\n{user}\t2\t3\t4\n", encoding="latin-1")
    refused(path, ML100K, f"{path}, line 2: user_id {user!r} ")


@pytest.mark.parametrize("rating", ["3.5", "0.5", "5.5"])
def test_ml100k_ratings_must_be_whole_stars(tmp_path, rating):
    path = write(tmp_path, "u.data", f"1\t2\t3\t4\n1\t3\t{rating}\t4\n")
    refused(path, ML100K, f"{path}, line 2: rating {rating} is outside the scale 1..5 in steps of 1")


@pytest.mark.parametrize("rating, ok", [("0.5", True), ("3.5", True), ("5", True), ("4.25", False),
                                        ("0", False), ("5.5", False)])
def test_latest_small_ratings_are_half_stars_from_half_to_five(tmp_path, rating, ok):
    path = write(tmp_path, "ratings.csv", HEADER + f"1,1,{rating},9\n")
    if ok:
        assert parse_ratings(path, LATEST)["rating"].tolist() == [float(rating)]
    else:
        refused(path, LATEST, f"{path}, line 2: rating {float(rating):g} is outside the scale 0.5..5 in steps of 0.5")


def test_row_line_maps_a_row_back_to_its_line(tmp_path):
    path = write(tmp_path, "ratings.csv", HEADER + "1,1,4,9\n\n1,2,3,9\n")
    assert [row_line(path, LATEST, k) for k in (0, 1)] == [2, 4]


def test_a_large_file_parses_quickly_enough_to_be_vectorised(tmp_path):
    """200K lines; a Python loop per line with checks took seconds, pandas takes a fraction of one."""
    import time

    n = 200_000
    users, items = np.divmod(np.arange(n), 1000)
    body = "".join(f"{u + 1}\t{i + 1}\t{1 + (u + i) % 5}\t{u}\n" for u, i in zip(users, items))
    path = write(tmp_path, "u.data", body)
    start = time.perf_counter()
    frame = parse_ratings(path, ML100K)
    assert len(frame) == n
    assert time.perf_counter() - start < 5.0  # generous: a shared 2-core machine


# ---------------------------------------------------------------- movie files

def test_u_item_titles_are_kept_verbatim_even_with_quotes(tmp_path):
    path = write(tmp_path, "u.item", '1|Toy Story (1995)|x\n2|"Quoted" (1996)|x\n3|NA|x\n4||x\n',
                 encoding="latin-1")
    titles = parse_items(path, DATASETS["ml-100k"].items)
    assert titles.to_dict() == {1: "Toy Story (1995)", 2: '"Quoted" (1996)', 3: "NA", 4: ""}


def test_movies_csv_titles_may_hold_quoted_commas(tmp_path):
    path = write(tmp_path, "movies.csv", 'movieId,title,genres\n1,"American President, The (1995)",Drama\n')
    assert parse_items(path, DATASETS["ml-latest-small"].items)[1] == "American President, The (1995)"


def test_movies_dat_is_read_with_its_double_colons(tmp_path):
    path = write(tmp_path, "movies.dat", "1::Toy Story (1995)::Animation\n2::Jumanji: Part 1 (1995)::Kids\n",
                 encoding="latin-1")
    assert parse_items(path, DATASETS["ml-1m"].items).to_dict() == {1: "Toy Story (1995)",
                                                                    2: "Jumanji: Part 1 (1995)"}


def test_a_movie_listed_twice_is_refused_naming_both_lines(tmp_path):
    path = write(tmp_path, "u.item", "1|A|x\n2|B|x\n1|C|x\n", encoding="latin-1")
    with pytest.raises(DataError, match=rf"{path}, lines 1 and 3: movie 1 is listed twice \('A' and 'C'\)"):
        parse_items(path, DATASETS["ml-100k"].items)


@pytest.mark.parametrize("bad", ["0", "x", "2.5", "01", "+1", "1.0"])
def test_a_movie_id_that_is_not_a_positive_integer_is_refused(tmp_path, bad):
    path = write(tmp_path, "u.item", f"1|A|x\n{bad}|B|x\n", encoding="latin-1")
    with pytest.raises(DataError, match=rf"{path}, line 2: movie id '{re.escape(bad)}' is not a positive integer"):
        parse_items(path, DATASETS["ml-100k"].items)


def test_movies_csv_with_crlf_and_a_byte_order_mark_keeps_its_titles_exact(tmp_path):
    path = tmp_path / "movies.csv"
    path.write_bytes(b"\xef\xbb\xbfmovieId,title,genres\r\n1,Am\xc3\xa9lie (2001),Comedy\r\n")
    assert parse_items(path, DATASETS["ml-latest-small"].items).to_dict() == {1: "Amélie (2001)"}


def test_movies_csv_without_its_header_is_refused(tmp_path):
    path = write(tmp_path, "movies.csv", "1,A,Drama\n")
    with pytest.raises(DataError, match="line 1: expected the header 'movieId,title,genres'"):
        parse_items(path, DATASETS["ml-latest-small"].items)
