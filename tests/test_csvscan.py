"""The strict CSV scan against Python's csv module: well-formed files of any content are counted
exactly (however they are cut into chunks); a broken quote is always refused at its row."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from justicelink.formats import InputError
from justicelink.provider.csvscan import count_records

# any text but NUL and lone CR (refused on purpose, tested elsewhere)
cell = st.text(
    alphabet=st.characters(blacklist_characters="\x00\r", blacklist_categories=("Cs",)), max_size=12
)


def _write(rows: list[list[str]], eol: str) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=eol, quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return buf.getvalue().encode("utf-8")


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


@settings(max_examples=300, deadline=None)
@given(
    width=st.integers(1, 5),
    data=st.data(),
    eol=st.sampled_from(["\n", "\r\n"]),
    chunk=st.integers(1, 64),
)
def test_counts_well_formed_files_exactly(width, data, eol, chunk) -> None:
    rows = data.draw(
        st.lists(st.lists(cell, min_size=width, max_size=width), min_size=1, max_size=20)
    )
    # a one-column row holding an empty value is written as an empty line: csv skips nothing,
    # we skip empty lines; keep such rows quoted so both agree
    rows = [r if any(r) or width > 1 else ['""'] for r in rows]
    raw = _write(rows, eol)
    expected = sum(1 for _ in csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert count_records("f.csv", _chunks(raw, chunk)) == expected


@settings(max_examples=200, deadline=None)
@given(
    before=st.integers(0, 15),
    after=st.integers(0, 15),
    chunk=st.integers(1, 64),
    value=st.text(alphabet="QZ ,", max_size=6).map(lambda v: "QZQ" + v),
)
def test_an_unclosed_quote_is_refused_at_its_row(before, after, chunk, value) -> None:
    lines = ["A,B"] + [f"{i},x" for i in range(before)]
    lines.append(f'"{value},y')  # opens a quote that nothing closes (no other quote follows)
    lines += [f"{i},z" for i in range(after)]
    raw = ("\n".join(lines) + "\n").encode()
    with pytest.raises(InputError) as info:
        count_records("f.csv", _chunks(raw, chunk))
    assert info.value.row == before + 1
    assert value not in str(info.value).replace("f.csv", "")


@settings(max_examples=200, deadline=None)
@given(before=st.integers(0, 15), later=st.integers(1, 10), chunk=st.integers(1, 64))
def test_an_unbalanced_quote_before_quoted_values_is_refused_where_it_opened(
    before, later, chunk
) -> None:
    """The red team's shape: a stray quote, then ordinary quoted values further down."""
    lines = ["A,B"] + [f"{i},x" for i in range(before)]
    lines.append('"X,y')
    lines += [f'{i},"quoted value"' for i in range(later)]
    raw = ("\n".join(lines) + "\n").encode()
    with pytest.raises(InputError) as info:
        count_records("f.csv", _chunks(raw, chunk))
    assert info.value.row == before + 1


def test_python_csv_agrees_on_refusals() -> None:
    """What Python's strict reader refuses, we refuse; we are stricter on a quote inside an
    unquoted value (Python keeps it as a character; RFC 4180 does not allow it)."""
    for bad in (b'A,B\n"a"b,2\n', b'A,B\n"abc,2\n'):
        with pytest.raises(InputError):
            count_records("f.csv", [bad])
        with pytest.raises(csv.Error):
            list(csv.reader(io.StringIO(bad.decode(), newline=""), strict=True))
    with pytest.raises(InputError, match="quote inside an unquoted value"):
        count_records("f.csv", [b'A,B\n1,a"b\n'])
