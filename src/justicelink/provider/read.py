"""Stream a provider's table file (CSV or Parquet) as batches of all-text columns.

The fast path streams with pyarrow (multi-threaded CSV parsing, constant memory). When the file
is malformed, a slower diagnostic pass finds the first offending row, so every refusal names file,
row (1-based data row, header excluded) and column, and never echoes a value.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import stat
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from justicelink.formats import InputError
from justicelink.provider.csvscan import count_records

MAX_FIELD_CHARS = 65_536
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16")
BATCH_ROWS = 1_000_000
CSV_BLOCK_BYTES = 64 << 20


GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
SCAN_CHUNK_BYTES = 4 << 20


def check_input_file(path: Path) -> None:
    """A provider's table file must be a readable regular file, given as itself.

    A symbolic link is refused (it may point anywhere on the machine), as are devices, pipes
    and folders; an unreadable file is refused with the reason, never a traceback."""
    file = str(path)
    if path.is_symlink():
        raise InputError("the input is a symbolic link; give the file itself", file=file)
    try:
        st = path.stat()
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", file=file) from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError("not a regular file (a folder, device or pipe)", file=file)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", file=file) from None
    if magic == ZIP_MAGIC:
        raise InputError(
            "a zip archive or a spreadsheet (xlsx), not a CSV: unzip it, or export the sheet as "
            "CSV (gzip-compressed CSV is read as it is)",
            file=file,
        )


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def _raw_stream(path: Path) -> BinaryIO:
    """The file's bytes, decompressed when it is gzip (recognised by its content, not its name)."""
    if _is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _utf8_chunks(path: Path, enc: str) -> Iterator[bytes]:
    """The file as UTF-8-compatible bytes (ASCII-transparent encodings pass through), BOM cut."""
    file = str(path)
    try:
        with _raw_stream(path) as fh:
            if enc == "utf-16":
                decoder = codecs.getincrementaldecoder("utf-16")()
                while chunk := fh.read(SCAN_CHUNK_BYTES):
                    yield decoder.decode(chunk).encode("utf-8")
                yield decoder.decode(b"", final=True).encode("utf-8")
                return
            first = True
            while chunk := fh.read(SCAN_CHUNK_BYTES):
                if first and chunk.startswith(codecs.BOM_UTF8):
                    chunk = chunk[len(codecs.BOM_UTF8) :]
                first = False
                yield chunk
    except (EOFError, gzip.BadGzipFile, zlib.error):
        raise InputError("the gzip file is truncated or damaged", file=file) from None
    except UnicodeDecodeError:
        raise InputError(
            "bytes are not valid UTF-16: declare the file's encoding", file=file
        ) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", file=file) from None


def _header(path: Path, encoding: str, delimiter: str) -> list[str]:
    enc = encoding.lower()
    head = b""
    for chunk in _utf8_chunks(path, enc):
        head += chunk
        if b"\n" in head or len(head) > (1 << 20):
            break
    if not head.strip():
        raise InputError("the file is empty", file=str(path))
    text = head.decode(
        "utf-8" if enc in ("utf-8", "utf-8-sig", "utf-16") else enc, errors="replace"
    )
    first = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    try:
        fields = next(csv.reader([first], delimiter=delimiter, strict=True))
    except (csv.Error, StopIteration):
        count_records(str(path), [head], delimiter)  # the strict scan says what is wrong
        raise InputError("the header is not a valid CSV line", file=str(path), row=0) from None
    return [h.strip() for h in fields]


def looks_like_data(header: list[str], expected: list[str]) -> bool:
    """A first line none of whose fields is a column of the spec is data, not a header."""
    return not set(header) & set(expected)


def check_header(header: list[str], expected: list[str], file: str) -> None:
    """Refuse a header that does not match the spec, naming spec columns and positions only:
    a header is read from the file, so its names are never echoed (the first line may be data)."""
    if looks_like_data(header, expected):
        raise InputError(
            f"the first line does not look like a header: none of its {len(header)} fields is a "
            "column of the spec (is the header missing?); the file must start with the header "
            f"line {','.join(expected)}",
            file=file,
            row=0,
        )
    missing = [c for c in expected if c not in header]
    extra = [i + 1 for i, c in enumerate(header) if c not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if extra:
            parts.append(f"unexpected fields at positions {extra} (names not shown)")
        raise InputError("header does not match the spec: " + "; ".join(parts), file=file, row=0)
    if len(set(header)) != len(header):
        raise InputError("header repeats a column name", file=file, row=0)


def _locate_bad_utf8(path: Path) -> int | None:
    """Data row (1-based) of the first invalid UTF-8 byte, scanning in chunks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = 0
    for chunk in _utf8_chunks(path, "utf-8"):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            return newlines + chunk.count(b"\n", 0, exc.start)
        newlines += chunk.count(b"\n")
    return None


def iter_csv(
    path: Path,
    expected: list[str],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    block_bytes: int = CSV_BLOCK_BYTES,
) -> Iterator[pa.RecordBatch]:
    """Batches of the CSV's rows, all text. The file is first scanned strictly (RFC 4180,
    ``csvscan``); the rows parsed are then reconciled against the records the scan counted."""
    file = str(path)
    enc = encoding.lower()
    if enc not in ENCODINGS:
        raise InputError(f"unsupported encoding {encoding!r}; use one of {ENCODINGS}", file=file)
    if len(delimiter) != 1 or delimiter in ('"', "\r", "\n") or not delimiter.isascii():
        raise InputError(
            "the delimiter must be one ASCII character other than a quote or a line break",
            column="--delimiter",
        )
    check_input_file(path)
    header = _header(path, enc, delimiter)
    check_header(header, expected, file)
    records = count_records(file, _utf8_chunks(path, enc), delimiter)
    bad_rows: list[int] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad_rows.append(row.number if row.number is not None else -1)
        return "skip"

    arrow_enc = {"utf-8": "utf8", "utf-8-sig": "utf8", "utf-16": "utf16"}.get(enc, enc)
    rows = 0
    try:
        with _raw_stream(path) as raw:
            # the columns are named by the header as checked (by position), never by how
            # pyarrow reads the first line: a name padded with spaces, or a byte-order mark
            # under another encoding, must not shift a column
            reader = pacsv.open_csv(
                raw,
                read_options=pacsv.ReadOptions(
                    block_size=block_bytes,
                    encoding=arrow_enc,
                    column_names=header,
                    skip_rows=1,
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in header},
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=False,
                ),
            )
            for batch in reader:
                if bad_rows:
                    break
                rows += batch.num_rows
                cols = [batch.column(c) for c in expected]
                yield pa.RecordBatch.from_arrays(cols, names=expected)
    except pa.ArrowInvalid as exc:
        message = str(exc)
        if "UTF8" in message or "utf8" in message.lower():
            raise InputError(
                "bytes are not valid UTF-8: declare the file's encoding (--encoding)",
                file=file,
                row=_locate_bad_utf8(path),
            ) from None
        raise InputError("cannot parse as CSV", file=file) from None
    except (EOFError, gzip.BadGzipFile, zlib.error):
        raise InputError("the gzip file is truncated or damaged", file=file) from None
    if bad_rows or rows != records - 1:
        raise InputError(
            f"the parser read {rows:,} rows but the file holds {records - 1:,} records; "
            "refused rather than guess which rows are whole",
            file=file,
        )
    if rows == 0:
        raise InputError("the file has a header but no rows", file=file)


def iter_parquet(
    path: Path, expected: list[str], batch_rows: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    file = str(path)
    check_input_file(path)
    try:
        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError("not a readable Parquet file (truncated or damaged)", file=file) from exc
    missing = [c for c in expected if c not in names]
    extra = [i + 1 for i, c in enumerate(names) if c not in expected]
    if missing or extra:
        raise InputError(
            f"columns do not match the spec: missing {missing}, unexpected columns at positions "
            f"{extra} (names not shown)",
            file=file,
        )
    if len(set(names)) != len(names):
        raise InputError("the file repeats a column name", file=file)
    nested = [
        c for c in expected if pa.types.is_nested(pf.schema_arrow.field(c).type)
        or pa.types.is_dictionary(pf.schema_arrow.field(c).type)
    ]  # fmt: skip
    if nested:
        raise InputError(
            f"columns {nested} hold lists, structs or maps, not single values", file=file
        )
    if pf.metadata.num_rows == 0:
        raise InputError("the file has no rows", file=file)
    try:
        for batch in pf.iter_batches(batch_size=batch_rows, columns=expected):
            cols = []
            for c in expected:
                col = batch.column(c)
                if pa.types.is_date(col.type) or pa.types.is_timestamp(col.type):
                    col = col.cast(pa.date32()).cast(pa.string())
                elif not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
                    col = col.cast(pa.string())
                # as for CSV: an empty or blank field is a missing value
                blank = pc.equal(pc.utf8_trim_whitespace(col), "")
                cols.append(pc.if_else(blank, pa.scalar(None, col.type), col))
            yield pa.RecordBatch.from_arrays(cols, names=expected)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError("not a readable Parquet file (truncated or damaged)", file=file) from exc


TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet")


def _table_of(p: Path) -> str:
    """The table a file is for: its name up to the first dot (``EDDS.csv.gz`` -> ``EDDS``)."""
    return p.name.split(".", 1)[0].upper()


def find_table_file(input_path: Path, table: str, single: bool) -> Path:
    p = Path(input_path)
    if p.is_symlink():
        raise InputError("the input is a symbolic link; give the file itself", file=str(p))
    if not p.exists():
        raise InputError("no such file or folder", file=str(p))
    if not p.is_dir():
        check_input_file(p)
        if not single and _table_of(p) != table:
            raise InputError(
                f"a folder is needed: this dataset has several tables ({table} ...)", file=str(p)
            )
        return p
    for ext in TABLE_SUFFIXES:
        for cand in (p / f"{table}{ext}", p / f"{table}{ext.upper()}"):
            if cand.is_file() or cand.is_symlink():
                return cand
    raise InputError(
        f"no file for table {table} ({', '.join(table + e for e in TABLE_SUFFIXES)})", file=str(p)
    )


def iter_table_file(
    path: Path, expected: list[str], *, encoding: str, delimiter: str, batch_rows: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """Batches of about ``batch_rows`` rows (CSV blocks are sized at ~100 bytes a row)."""
    if path.name.lower().endswith(".parquet"):
        return iter_parquet(path, expected, batch_rows)
    block = max(4096, min(CSV_BLOCK_BYTES, batch_rows * 100))
    return iter_csv(path, expected, encoding=encoding, delimiter=delimiter, block_bytes=block)
