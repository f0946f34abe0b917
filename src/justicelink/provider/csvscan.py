"""A strict RFC 4180 scan of a CSV file: how many records it holds, or where it breaks.

The split parses with pyarrow (fast, multi-threaded), which is lenient: an unclosed quote makes
the rest of the file one value. This scan is the independent count the parse is reconciled
against, and it refuses what a strict reader refuses, each time naming the row:

- a quoted field that is never closed (named by the row where it opened);
- a closing quote followed by anything but a delimiter or the end of the line;
- a quote inside an unquoted field;
- a carriage return outside quotes that is not part of a CRLF line ending;
- a NUL byte (a binary or damaged file);
- a record with more or fewer fields than the header.

Quoted delimiters and quoted line breaks are part of their value, as RFC 4180 says. Empty lines
are not records (pyarrow skips them too). The scan is vectorised with NumPy over 4 MiB windows,
so it costs one pass at memory speed, however long the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from justicelink.formats import InputError

QUOTE, LF, CR, NUL = 34, 10, 13, 0
WINDOW_BYTES = 4 << 20


@dataclass
class _State:
    in_quote: bool = False
    prev: int = -1  # the byte before the window (-1: start of file)
    offset: int = 0  # absolute offset of the window's first byte
    last_boundary: int = -1  # absolute offset of the last record-ending LF outside quotes
    records: int = 0  # non-empty records ended so far (the header is record 0)
    open_record: int = 0  # record in which the open quoted field began
    partial_delims: int = 0  # delimiters outside quotes on the line still being read
    fields: int | None = None  # the header's number of fields


def _record_of(boundaries: np.ndarray, nonempty: np.ndarray, base: int, pos: int) -> int:
    """Index of the record holding absolute offset ``pos`` (records ended before it)."""
    k = int(np.searchsorted(boundaries, pos))
    return base + int(nonempty[:k].sum())


class StrictCsvScan:
    """Feed bytes with ``feed``; ``finish`` returns the number of records (header included)."""

    def __init__(self, file: str, delimiter: str = ",") -> None:
        if len(delimiter.encode()) != 1:
            raise InputError("the delimiter must be a single character", file=file)
        self.file = file
        self.delim = delimiter.encode()[0]
        self.state = _State()
        self.carry = b""

    def _fail(self, reason: str, record: int) -> InputError:
        return InputError(reason, file=self.file, row=record)

    def feed(self, data: bytes) -> None:
        buf = self.carry + data
        if len(buf) < 2:
            self.carry = buf
            return
        self._window(buf[:-1], lookahead=buf[-1])
        self.carry = buf[-1:]

    def finish(self) -> int:
        if self.carry:
            self._window(self.carry, lookahead=-1)
            self.carry = b""
        s = self.state
        if s.in_quote:
            raise self._fail(
                "a quoted value opened on this row is never closed (an unbalanced quote): "
                "everything after it would be read as one value. Close or double the quote",
                s.open_record,
            )
        trailing = s.offset - s.last_boundary - 1  # bytes after the last line ending
        if trailing > 0:
            self._check_fields(np.array([s.partial_delims + 1]), s.records)
            return s.records + 1
        return s.records

    def _check_fields(self, counts: np.ndarray, first_record: int) -> None:
        """``counts``: fields of consecutive non-empty records, the first being ``first_record``."""
        s = self.state
        if not len(counts):
            return
        if s.fields is None:
            s.fields = int(counts[0])
        bad = np.flatnonzero(counts != s.fields)
        if len(bad):
            i = int(bad[0])
            raise self._fail(
                f"wrong number of fields: {int(counts[i])}, the header has {s.fields} "
                "(a delimiter inside an unquoted value, or a value missing?)",
                first_record + i,
            )

    def _window(self, chunk: bytes, lookahead: int) -> None:
        s = self.state
        a = np.frombuffer(chunk, dtype=np.uint8)
        n = len(a)

        def before(pos: np.ndarray) -> np.ndarray:
            """The byte before each position (-1 at the start of the file)."""
            out = np.empty(len(pos), dtype=np.int16)
            if len(pos):
                out[:] = a[np.maximum(pos - 1, 0)]
                out[pos == 0] = s.prev
            return out

        def after(pos: np.ndarray) -> np.ndarray:
            """The byte after each position (-1 at the end of the file)."""
            out = np.empty(len(pos), dtype=np.int16)
            if len(pos):
                out[:] = a[np.minimum(pos + 1, n - 1)]
                out[pos == n - 1] = lookahead
            return out

        quotes = np.flatnonzero(a == QUOTE) if chunk.find(b'"') >= 0 else np.zeros(0, np.int64)
        # the state just after each quote: it toggles at every quote (a doubled quote toggles
        # twice, so escaping needs no special case)
        start = 1 if s.in_quote else 0
        opening = ((np.arange(len(quotes)) + start) % 2) == 0  # this quote enters a quoted value

        # record boundaries: LFs outside quotes
        lfs = np.flatnonzero(a == LF)
        outside = ((np.searchsorted(quotes, lfs) + start) % 2) == 0
        ends = lfs[outside] if len(quotes) or start else lfs
        prev_end = np.empty(len(ends), dtype=np.int64)
        if len(ends):
            prev_end[0] = s.last_boundary - s.offset
            prev_end[1:] = ends[:-1]
        crlf = before(ends) == CR
        lengths = ends - prev_end - 1 - crlf
        nonempty = lengths > 0
        base = s.records

        def record_at(pos: int) -> int:
            return _record_of(ends, nonempty, base, pos)

        nul = chunk.find(b"\x00")
        if nul >= 0:
            raise self._fail("a NUL byte (a binary or damaged file, not a CSV)", record_at(nul))
        if chunk.find(b"\r") >= 0:
            crs = np.flatnonzero(a == CR)
            cr_inside = ((np.searchsorted(quotes, crs) + start) % 2) == 1
            bare = crs[(~cr_inside) & (after(crs) != LF)]
            if len(bare):
                raise self._fail(
                    "a carriage return that does not end a line with a line feed (CR alone "
                    "is not a line ending here; save the file with LF or CRLF endings)",
                    record_at(int(bare[0])),
                )
        if len(quotes):
            prv, nxt = before(quotes), after(quotes)
            field_start = (prv == self.delim) | (prv == LF) | (prv == -1)
            # an opening quote begins a field, or is the second of a doubled quote
            bad_open = opening & ~(field_start | (prv == QUOTE))
            ok_after = (
                (nxt == self.delim) | (nxt == LF) | (nxt == CR) | (nxt == -1) | (nxt == QUOTE)
            )
            bad_close = ~opening & ~ok_after
            first_open = int(np.argmax(bad_open)) if bad_open.any() else len(quotes)
            first_close = int(np.argmax(bad_close)) if bad_close.any() else len(quotes)
            if first_open < first_close:
                raise self._fail(
                    "a quote inside an unquoted value (quote the whole value and double the "
                    'quote: "")',
                    record_at(int(quotes[first_open])),
                )
            if first_close < len(quotes):
                i = first_close
                opened = record_at(int(quotes[i - 1])) if i > 0 else s.open_record
                raise self._fail(
                    "a quoted value opened on this row is closed by a quote that is not followed "
                    "by a delimiter or the end of the line (an unbalanced or undoubled quote)",
                    opened,
                )
            if (len(quotes) + start) % 2 == 1:  # a quoted value is still open at the window end
                last_open = int(quotes[np.flatnonzero(opening)[-1]])
                s.open_record = record_at(last_open)
        delims = np.flatnonzero(a == self.delim)
        if len(delims) and (len(quotes) or start):
            delims = delims[((np.searchsorted(quotes, delims) + start) % 2) == 0]
        if len(ends):
            # delimiters before each line end, differenced: the delimiters of each line
            upto = np.searchsorted(delims, ends)
            per_line = np.diff(upto, prepend=0)
            per_line[0] += s.partial_delims
            self._check_fields((per_line + 1)[nonempty], base)
            s.partial_delims = len(delims) - int(upto[-1])
        else:
            s.partial_delims += len(delims)
        s.in_quote = (len(quotes) + start) % 2 == 1
        s.records = base + int(nonempty.sum())
        if len(ends):
            s.last_boundary = s.offset + int(ends[-1])
        s.prev = int(a[-1])
        s.offset += n


def count_records(file: str, chunks: Iterable[bytes], delimiter: str = ",") -> int:
    """Records in the CSV (header included), or an ``InputError`` naming the row that breaks."""
    scan = StrictCsvScan(file, delimiter)
    for chunk in chunks:
        scan.feed(chunk)
    return scan.finish()
