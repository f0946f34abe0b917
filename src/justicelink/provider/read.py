"""Read a provider's table file (CSV or Parquet) as all-text columns, refusing malformed input.

Errors name file, row (1-based data row, header excluded) and column, and never echo a value.
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from justicelink.formats import InputError

MAX_FIELD_CHARS = 65_536
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16")


def _decode(raw: bytes, encoding: str, file: str) -> bytes:
    """Return UTF-8 bytes without BOM; refuse bytes that are not valid in ``encoding``."""
    enc = encoding.lower()
    if enc not in ENCODINGS:
        raise InputError(f"unsupported encoding {encoding!r}; use one of {ENCODINGS}", file=file)
    if enc in ("utf-8", "utf-8-sig"):
        if raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            row = raw.count(b"\n", 0, exc.start)  # header is line 1, so row = newlines before
            raise InputError(
                "bytes are not valid UTF-8: declare the file's encoding (--encoding)",
                file=file,
                row=row if row > 0 else None,
            ) from exc
        return raw
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError as exc:
        raise InputError(f"bytes are not valid {encoding}", file=file) from exc
    return text.lstrip("\ufeff").encode("utf-8")


def read_csv(
    path: Path, expected: list[str], *, encoding: str = "utf-8", delimiter: str = ","
) -> pa.Table:
    file = str(path)
    raw = Path(path).read_bytes()
    if not raw.strip():
        raise InputError("the file is empty", file=file)
    data = _decode(raw, encoding, file)
    first = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    header = [h.strip().strip('"') for h in first.split(delimiter)]
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
    bad_rows: list[int] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad_rows.append(row.number if row.number is not None else -1)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, invalid_row_handler=on_invalid, newlines_in_values=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header},
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        msg = str(exc).split(":")[0]  # never echo the row's text
        raise InputError(f"cannot parse as CSV ({msg})", file=file) from exc
    if bad_rows:
        row = bad_rows[0] - 1 if bad_rows[0] > 0 else None
        raise InputError(
            f"wrong number of fields (expected {len(header)}); {len(bad_rows)} such row(s)",
            file=file,
            row=row,
        )
    if table.num_rows == 0:
        raise InputError("the file has a header but no rows", file=file)
    return table.select(expected)


def read_parquet(path: Path, expected: list[str]) -> pa.Table:
    file = str(path)
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError("not a readable Parquet file (truncated or damaged)", file=file) from exc
    missing = [c for c in expected if c not in table.column_names]
    extra = [c for c in table.column_names if c not in expected]
    if missing or extra:
        raise InputError(
            f"columns do not match the spec: missing {missing}, unexpected {extra}", file=file
        )
    if table.num_rows == 0:
        raise InputError("the file has no rows", file=file)
    cols = []
    for c in expected:
        col = table.column(c)
        if pa.types.is_date(col.type) or pa.types.is_timestamp(col.type):
            col = col.cast(pa.date32()).cast(pa.string())
        elif not pa.types.is_string(col.type):
            col = col.cast(pa.string())
        # as for CSV: an empty or blank field is a missing value
        blank = pc.equal(pc.utf8_trim_whitespace(col), "")
        col = pc.if_else(blank, pa.scalar(None, pa.string()), col)
        cols.append(col)
    return pa.table(dict(zip(expected, cols, strict=True)))


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


def read_table_file(path: Path, expected: list[str], *, encoding: str, delimiter: str) -> pa.Table:
    if path.suffix.lower() == ".parquet":
        return read_parquet(path, expected)
    return read_csv(path, expected, encoding=encoding, delimiter=delimiter)
