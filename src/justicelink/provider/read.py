"""Stream a provider's table file (CSV or Parquet) as batches of all-text columns.

The fast path streams with pyarrow (multi-threaded CSV parsing, constant memory). When the file
is malformed, a slower diagnostic pass finds the first offending row, so every refusal names file,
row (1-based data row, header excluded) and column, and never echoes a value.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from justicelink.formats import InputError

MAX_FIELD_CHARS = 65_536
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16")
BATCH_ROWS = 1_000_000
CSV_BLOCK_BYTES = 64 << 20


def _header(path: Path, encoding: str, delimiter: str) -> list[str]:
    enc = encoding.lower()
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    if not head.strip():
        raise InputError("the file is empty", file=str(path))
    if enc in ("utf-8", "utf-8-sig") and head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    text = head.decode("utf-8" if enc == "utf-8-sig" else enc, errors="replace")
    first = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    return [h.strip().strip('"') for h in first.split(delimiter)]


def _check_header(header: list[str], expected: list[str], file: str) -> None:
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if extra:
            parts.append(f"unexpected columns {extra}")
        raise InputError("header does not match the spec: " + "; ".join(parts), file=file, row=0)
    if len(set(header)) != len(header):
        raise InputError("header repeats a column name", file=file, row=0)


def _locate_bad_utf8(path: Path) -> int | None:
    """Data row (1-based) of the first invalid UTF-8 byte, scanning in chunks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return newlines + chunk.count(b"\n", 0, exc.start)
            newlines += chunk.count(b"\n")
    return None


def _locate_bad_row(
    path: Path, header: list[str], encoding: str, delimiter: str
) -> tuple[int | None, int]:
    """(data row of the first row with the wrong number of fields, how many such rows)."""
    bad: list[int] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append(row.number if row.number is not None else -1)
        return "skip"

    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(use_threads=False, encoding=encoding),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header}),
    )
    for _ in reader:
        pass
    first = bad[0] - 1 if bad and bad[0] > 0 else None
    return first, len(bad)


def iter_csv(
    path: Path,
    expected: list[str],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    block_bytes: int = CSV_BLOCK_BYTES,
) -> Iterator[pa.RecordBatch]:
    file = str(path)
    enc = encoding.lower()
    if enc not in ENCODINGS:
        raise InputError(f"unsupported encoding {encoding!r}; use one of {ENCODINGS}", file=file)
    header = _header(path, enc, delimiter)
    _check_header(header, expected, file)
    bad_rows: list[int] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad_rows.append(row.number if row.number is not None else -1)
        return "skip"

    arrow_enc = "utf8" if enc in ("utf-8", "utf-8-sig") else enc
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=block_bytes, encoding=arrow_enc),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header},
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
        rows = 0
        for batch in reader:
            if bad_rows:
                break
            rows += batch.num_rows
            cols = [batch.column(batch.schema.get_field_index(c)) for c in expected]
            yield pa.RecordBatch.from_arrays(cols, names=expected)
    except pa.ArrowInvalid as exc:
        message = str(exc)
        if "UTF8" in message or "utf8" in message.lower():
            raise InputError(
                "bytes are not valid UTF-8: declare the file's encoding (--encoding)",
                file=file,
                row=_locate_bad_utf8(path),
            ) from None
        raise InputError(f"cannot parse as CSV ({message.split(':')[0]})", file=file) from None
    if bad_rows:
        row, count = _locate_bad_row(path, header, arrow_enc, delimiter)
        raise InputError(
            f"wrong number of fields (expected {len(header)}); {count} such row(s)",
            file=file,
            row=row,
        )
    if rows == 0:
        raise InputError("the file has a header but no rows", file=file)


def iter_parquet(
    path: Path, expected: list[str], batch_rows: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    file = str(path)
    try:
        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError("not a readable Parquet file (truncated or damaged)", file=file) from exc
    missing = [c for c in expected if c not in names]
    extra = [c for c in names if c not in expected]
    if missing or extra:
        raise InputError(
            f"columns do not match the spec: missing {missing}, unexpected {extra}", file=file
        )
    if pf.metadata.num_rows == 0:
        raise InputError("the file has no rows", file=file)
    try:
        for batch in pf.iter_batches(batch_size=batch_rows, columns=expected):
            cols = []
            for c in expected:
                col = batch.column(batch.schema.get_field_index(c))
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


def find_table_file(input_path: Path, table: str, single: bool) -> Path:
    p = Path(input_path)
    if p.is_file():
        if not single and p.stem.upper() != table:
            raise InputError(
                f"a folder is needed: this dataset has several tables ({table} ...)", file=str(p)
            )
        return p
    if not p.is_dir():
        raise InputError("no such file or folder", file=str(p))
    for ext in (".csv", ".parquet", ".CSV", ".PARQUET"):
        cand = p / f"{table}{ext}"
        if cand.is_file():
            return cand
    raise InputError(f"no file for table {table} ({table}.csv or {table}.parquet)", file=str(p))


def iter_table_file(
    path: Path, expected: list[str], *, encoding: str, delimiter: str, batch_rows: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """Batches of about ``batch_rows`` rows (CSV blocks are sized at ~100 bytes a row)."""
    if path.suffix.lower() == ".parquet":
        return iter_parquet(path, expected, batch_rows)
    block = max(4096, min(CSV_BLOCK_BYTES, batch_rows * 100))
    return iter_csv(path, expected, encoding=encoding, delimiter=delimiter, block_bytes=block)
