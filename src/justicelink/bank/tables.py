"""The bank's table files: DuckDB-encrypted Parquet under the bank's at-rest key (decision 0008).

Every ``bank/datasets/<DATASET>/<YYYYMMDD>/<BANK_TABLE>.parquet`` is written here, with the key
of the bank zone (``bank/keys/at-rest.key``), and read back only here: pyarrow cannot open them
and DuckDB refuses them without the key. Other zones get a ``formats.TableSource`` (Arrow
batches), never the key or the file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from justicelink.crypto import ZoneKeys, at_rest
from justicelink.formats import RefusedError

KEY_NAME = "bank"  # the name the bank's key is registered under in a DuckDB connection
_BATCH_ROWS = 1 << 18
# DuckDB decrypts with its built-in mbedtls, about 3 times slower than with OpenSSL, which
# costs 0.12 s to load (its signature is checked): worth it from a file of this size on
FAST_DECRYPT_BYTES = 8 << 20


def table_file(bank_dir: Path, dataset: str, version: str, table: str) -> Path:
    return Path(bank_dir) / "datasets" / dataset / version / f"{table}.parquet"


SPILL = ".spill"


def connect(
    bank_dir: Path, *, create_key: bool = False, write: bool = False
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection holding the bank's Parquet key (made on first write);
    ``write`` also loads OpenSSL, which DuckDB needs to write encrypted files (and which
    decrypts faster)."""
    key = ZoneKeys.open(bank_dir, "bank").at_rest_key(create=create_key)
    # spill files stay in the bank zone (a private folder, never the working directory)
    spill = Path(bank_dir) / SPILL
    spill.mkdir(mode=0o700, exist_ok=True)
    con = duckdb.connect(
        config={"threads": "2", "temp_directory": str(spill), "max_temp_directory_size": "8GB"}
    )
    if write:
        at_rest.enable(con)
        con.execute("SET temp_file_encryption = true")  # what a load spills, encrypted too
    at_rest.add_parquet_key(con, KEY_NAME, key)
    return con


def copy_to(con: duckdb.DuckDBPyConnection, relation: str, out: Path) -> None:
    """Write ``relation`` of ``con`` (from ``connect(..., write=True)``) as encrypted Parquet."""
    target = str(out).replace("'", "''")
    con.execute(
        f"COPY {relation} TO '{target}' "
        f"(FORMAT parquet, COMPRESSION zstd, {at_rest.parquet_write_options(KEY_NAME)})"
    )


def _scan(path: Path, columns: Sequence[str] | None) -> str:
    cols = "*" if columns is None else ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    src = str(path).replace("'", "''")
    return f"SELECT {cols} FROM read_parquet('{src}', {at_rest.parquet_read_options(KEY_NAME)})"


def _what(path: Path) -> str:
    return f"bank file {path.parent.parent.name}/{path.parent.name}/{path.name}"


def _execute(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> duckdb.DuckDBPyConnection:
    try:
        return con.execute(sql)
    except duckdb.Error as exc:
        raise at_rest.read_error(exc, _what(path)) from None


def read_schema(bank_dir: Path, dataset: str, version: str, table: str) -> pa.Schema:
    """The columns of one bank table, with their Arrow types."""
    path = table_file(bank_dir, dataset, version, table)
    con = connect(bank_dir)
    try:
        return _execute(con, _scan(path, None) + " LIMIT 0", path).to_arrow_table().schema
    finally:
        con.close()


def open_table(
    bank_dir: Path,
    dataset: str,
    version: str,
    table: str,
    columns: Sequence[str] | None = None,
    *,
    batch_rows: int = _BATCH_ROWS,
) -> pa.RecordBatchReader:
    """Stream one bank table (the named columns, or all) in Arrow batches, decrypted with the
    bank's key; memory stays at a few batches whatever the table's size."""
    path = table_file(bank_dir, dataset, version, table)
    if not path.is_file():
        raise RefusedError(f"the bank has no {dataset} {version} table {table}")
    con = connect(bank_dir, write=path.stat().st_size >= FAST_DECRYPT_BYTES)
    try:
        reader = _execute(con, _scan(path, columns), path).to_arrow_reader(batch_rows)
    except BaseException:
        con.close()
        raise

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from reader
        finally:  # also when the consumer stops early: the generator is closed
            con.close()

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


def count_rows(bank_dir: Path, dataset: str, version: str, table: str) -> int:
    """How many rows one bank table holds."""
    path = table_file(bank_dir, dataset, version, table)
    con = connect(bank_dir)
    try:
        found = _execute(con, f"SELECT count(*) FROM ({_scan(path, None)})", path).fetchone()
        return int(found[0])  # type: ignore[index]
    finally:
        con.close()


@dataclass(frozen=True)
class BankTableSource:
    """``formats.TableSource`` of one bank table: what the bank hands provisioning."""

    bank_dir: Path
    dataset: str
    version: str
    table: str

    def schema(self) -> pa.Schema:
        return read_schema(self.bank_dir, self.dataset, self.version, self.table)

    def batches(self, columns: Sequence[str], batch_rows: int) -> pa.RecordBatchReader:
        return open_table(
            self.bank_dir, self.dataset, self.version, self.table, columns, batch_rows=batch_rows
        )
