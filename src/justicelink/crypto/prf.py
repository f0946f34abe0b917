"""Keyed pseudorandom function: HMAC-SHA256 truncated to a non-negative 63-bit BIGINT.

``prf_sql`` computes it vectorised inside DuckDB (no Python loop per row); ``prf_python`` is the
reference implementation the tests hold it to. The message is the UTF-8 text of the value
(``CAST(x AS VARCHAR)``), so integers and strings are both keyed without ambiguity per column.
"""

from __future__ import annotations

import hashlib
import hmac
import os

import duckdb
import numpy as np

from justicelink.formats import JusticelinkError

PRF_MASK = (1 << 63) - 1
_BLOCK = 64


def prf_python(key: bytes, value: str) -> int:
    digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") & PRF_MASK


def _pads(key: bytes) -> tuple[str, str]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = bytes(b ^ 0x36 for b in key).hex()
    outer = bytes(b ^ 0x5C for b in key).hex()
    return inner, outer


def prf_sql(key: bytes, expr: str) -> str:
    """A DuckDB SQL expression giving PRF(key, expr) as BIGINT (NULL stays NULL).

    The key appears in the SQL text only as its HMAC pads; the statement is run in-process by
    the zone that owns the key and is never logged.
    """
    inner, outer = _pads(key)
    msg = f"encode(CAST({expr} AS VARCHAR))"
    inner_hash = f"unhex(sha256(unhex('{inner}') || {msg}))"
    outer_hash = f"sha256(unhex('{outer}') || {inner_hash})"
    return (
        f"CASE WHEN {expr} IS NULL THEN NULL ELSE "
        f"((('0x' || substr({outer_hash}, 1, 16))::UBIGINT) & {PRF_MASK}::UBIGINT)::BIGINT END"
    )


class CollisionError(JusticelinkError):
    pass


def check_no_collisions(
    con: duckdb.DuckDBPyConnection, relation: str, source: str, target: str, *, what: str
) -> None:
    """Refuse if two distinct inputs were mapped to the same output."""
    n_in, n_out = con.execute(
        f"SELECT count(DISTINCT {source}), count(DISTINCT {target}) FROM {relation}"
    ).fetchone()  # type: ignore[misc]
    refuse_if_collided(n_in, n_out, what=what)


def refuse_if_collided(n_in: int, n_out: int, *, what: str) -> None:
    """A keyed PRF is a function, so it is collision-free on a set of inputs exactly when the
    number of distinct outputs equals the number of distinct inputs."""
    if n_in != n_out:
        raise CollisionError(
            f"keyed pseudonym collision in {what}: {n_in} distinct inputs gave {n_out} distinct "
            "outputs; nothing was written. Rotate the key and run again."
        )


def random_ids(n: int, *, check: bool = True) -> np.ndarray:
    """``n`` random non-negative 63-bit ids from the operating system's CSPRNG.

    With ``check`` they are also verified distinct; callers that check uniqueness over a larger
    whole (the split checks every SYSTEM_ID of a submission at the end) may skip it.
    """
    ids = np.frombuffer(os.urandom(8 * n), dtype=np.uint64) >> np.uint64(1)
    ids = ids.astype(np.int64)
    if check and len(np.unique(ids)) != n:  # astronomically unlikely; refuse rather than guess
        raise CollisionError("random id collision; run again")
    return ids
