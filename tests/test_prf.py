"""The keyed PRF in SQL equals HMAC-SHA256 truncated to 63 bits, and collisions are refused."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from justicelink.crypto import PRF_MASK, check_no_collisions, prf_python, prf_sql, random_ids
from justicelink.crypto.prf import CollisionError


@settings(max_examples=60, deadline=None)
@given(
    key=st.binary(min_size=1, max_size=100),
    values=st.lists(st.text(max_size=40), min_size=1, max_size=20),
)
def test_sql_prf_matches_python_hmac(key: bytes, values: list[str]) -> None:
    con = duckdb.connect()
    con.register("t", pa.table({"v": pa.array(values, pa.string())}))
    got = [r[0] for r in con.execute(f"SELECT {prf_sql(key, 'v')} FROM t").fetchall()]
    assert got == [prf_python(key, v) for v in values]
    assert all(0 <= g <= PRF_MASK for g in got)


@settings(max_examples=30, deadline=None)
@given(
    key=st.binary(min_size=32, max_size=32),
    ints=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=20),
)
def test_sql_prf_on_bigints_keys_their_decimal_text(key: bytes, ints: list[int]) -> None:
    con = duckdb.connect()
    con.register("t", pa.table({"v": pa.array(ints, pa.int64())}))
    got = [r[0] for r in con.execute(f"SELECT {prf_sql(key, 'v')} FROM t").fetchall()]
    assert got == [prf_python(key, str(i)) for i in ints]


def test_null_stays_null_and_keys_differ() -> None:
    con = duckdb.connect()
    a = con.execute(
        f"SELECT {prf_sql(b'a' * 32, 'NULL::VARCHAR')}, {prf_sql(b'a' * 32, chr(39) + 'x' + chr(39))}"
    ).fetchone()
    b = con.execute(f"SELECT {prf_sql(b'b' * 32, chr(39) + 'x' + chr(39))}").fetchone()
    assert a[0] is None
    assert a[1] != b[0]


def test_collision_is_refused() -> None:
    con = duckdb.connect()
    con.register("m", pa.table({"s": ["a", "b", "c"], "p": [1, 2, 2]}))
    with pytest.raises(CollisionError, match="3 distinct inputs gave 2"):
        check_no_collisions(con, "m", "s", "p", what="test")
    con.register("ok", pa.table({"s": ["a", "b", "b"], "p": [1, 2, 2]}))
    check_no_collisions(con, "ok", "s", "p", what="test")


def test_random_ids_are_distinct_and_63_bit() -> None:
    ids = random_ids(100_000)
    assert len(set(ids.tolist())) == 100_000
    assert ids.min() >= 0
