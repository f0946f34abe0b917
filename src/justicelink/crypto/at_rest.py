"""Encryption at rest with DuckDB's own AES-GCM: encrypted database files and encrypted Parquet.

DuckDB encrypts a database file attached with ``ENCRYPTION_KEY`` and a Parquet file written
with ``ENCRYPTION_CONFIG``. It writes them with OpenSSL only, which its ``httpfs`` extension
brings; the extension ships as a pinned pip package (``duckdb-extension-httpfs``, signed by
DuckDB) and is loaded from there, never downloaded (decision 0008). Keys are 256-bit, random,
held in their zone's ``keys/`` folder (``ZoneKeys.at_rest_key``) and given to DuckDB as base64.

A copied file alone reveals nothing: without the key DuckDB refuses to open it, and its bytes
hold no plaintext value (tested).
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path

import duckdb

from justicelink.formats import RefusedError

KEY_BYTES = 32


@cache
def _httpfs_path() -> Path:
    try:
        import duckdb_extension_httpfs  # type: ignore[import-untyped]
    except ImportError as exc:  # a broken install, not a choice: fail loudly
        raise RefusedError(
            "the duckdb-extension-httpfs package is missing; reinstall justicelink "
            "(DuckDB needs it to write encrypted files)"
        ) from exc
    folder = Path(duckdb_extension_httpfs.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    found = folder / "httpfs.duckdb_extension"
    if not found.is_file():
        raise RefusedError(
            f"duckdb-extension-httpfs does not match DuckDB {duckdb.__version__}; reinstall "
            "justicelink"
        )
    return found


def enable(con: duckdb.DuckDBPyConnection) -> None:
    """Give ``con`` DuckDB's secure (OpenSSL) cipher, for writing encrypted files.

    Call before ``enable_external_access`` is turned off. The extension is signed; unsigned
    extensions stay refused.
    """
    path = str(_httpfs_path()).replace("'", "''")
    con.execute(f"LOAD '{path}'")


def new_key() -> bytes:
    import secrets

    return secrets.token_bytes(KEY_BYTES)


def _b64(key: bytes) -> str:
    if len(key) != KEY_BYTES:
        raise ValueError("an at-rest key is 32 bytes")
    return base64.b64encode(key).decode("ascii")


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class NotEncrypted(RefusedError):
    """A file written before encryption at rest (decision 0008)."""


def _run(con: duckdb.DuckDBPyConnection, sql: str, key_text: str, what: str) -> None:
    """Execute ``sql``, which quotes ``key_text``: no error that leaves here carries the key
    (DuckDB may echo the statement), and a wrong or missing key is a clear refusal."""
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        text = str(exc).replace(key_text, "<key>")
        lowered = text.lower()
        if "is not encrypted" in lowered:
            raise NotEncrypted(
                f"{what} is not encrypted at rest (written before decision 0008)"
            ) from None
        if "wrong encryption key" in lowered or "aes tag" in lowered:
            raise RefusedError(
                f"{what} cannot be opened with this zone's at-rest key (a wrong key, or a file "
                "of another zone)"
            ) from None
        raise type(exc)(text) from None


def attach(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    alias: str,
    key: bytes,
    *,
    read_only: bool = False,
) -> None:
    """Attach the encrypted database ``path`` as ``alias`` (created if absent and writable).

    A wrong key is a ``RefusedError``, a file written unencrypted ``NotEncrypted``; any other
    DuckDB error (a lock held by another session, say) is DuckDB's, with the key scrubbed."""
    key_text = _b64(key)
    options = [f"ENCRYPTION_KEY {_lit(key_text)}"]
    if read_only:
        options.append("READ_ONLY")
    name = '"' + alias.replace('"', '""') + '"'
    sql = f"ATTACH {_lit(str(path))} AS {name} ({', '.join(options)})"
    _run(con, sql, key_text, f"database {Path(path).name}")


def read_error(exc: duckdb.Error, what: str) -> Exception:
    """The refusal for a failed read of encrypted Parquet: a wrong key or an unencrypted file
    named as such, DuckDB's other errors passed on."""
    lowered = str(exc).lower()
    if "aes tag" in lowered:
        return RefusedError(
            f"{what} cannot be opened with this zone's at-rest key (a wrong key, or a file of "
            "another zone)"
        )
    if "is not encrypted" in lowered:
        return NotEncrypted(f"{what} is not encrypted at rest (written before decision 0008)")
    return exc


def add_parquet_key(con: duckdb.DuckDBPyConnection, name: str, key: bytes) -> None:
    """Register ``key`` under ``name`` for ``parquet_write_options``/``parquet_read_options``."""
    key_text = _b64(key)
    _run(con, f"PRAGMA add_parquet_key({_lit(name)}, {_lit(key_text)})", key_text, "the key")


def parquet_write_options(name: str) -> str:
    """The ``COPY ... TO`` option that encrypts with the key registered as ``name``."""
    return f"ENCRYPTION_CONFIG {{footer_key: {_lit(name)}}}"


def parquet_read_options(name: str) -> str:
    """The ``read_parquet(...)`` argument that decrypts with the key registered as ``name``."""
    return f"encryption_config = {{footer_key: {_lit(name)}}}"
