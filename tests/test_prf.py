"""The keyed PRFs: HMAC-SHA256 in SQL and AES-256 on 64-bit ids, each held to a reference; collisions are refused."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from justicelink.crypto import (
    PRF_MASK,
    IntPRF,
    check_no_collisions,
    int_prf_python,
    prf_python,
    prf_sql,
    random_ids,
)
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


# --- the AES-based PRF on 64-bit ids (provisioning) ---------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    key=st.binary(min_size=32, max_size=32),
    ints=st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), min_size=1, max_size=50),
    domain=st.sampled_from(["alf", "nk_EDDS", "nk_PEDW"]),
)
def test_int_prf_vectorised_matches_reference(
    key: bytes, ints: list[int | None], domain: str
) -> None:
    got = IntPRF(key).arrow(pa.array(ints, pa.int64()), domain).to_pylist()
    assert got == [None if v is None else int_prf_python(key, domain, v) for v in ints]
    assert all(g is None or 0 <= g <= PRF_MASK for g in got)


def test_int_prf_reference_is_aes_256_of_tag_and_id() -> None:
    """Pin the construction to a hand-computed block, so an accidental change of byte order,
    tag or key derivation cannot pass by changing the reference too."""
    import hashlib
    import hmac

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = bytes(range(32))
    aes_key = hmac.new(key, b"justicelink int-prf aes-256 v1", hashlib.sha256).digest()
    block = hashlib.sha256(b"alf").digest()[:8] + (12345).to_bytes(8, "little")
    enc = Cipher(algorithms.AES(aes_key), modes.ECB()).encryptor()  # noqa: S305
    want = int.from_bytes(enc.update(block)[:8], "little") & PRF_MASK
    assert int_prf_python(key, "alf", 12345) == want
    assert IntPRF(key).arrow(pa.array([12345], pa.int64()), "alf").to_pylist() == [want]


def test_int_prf_separates_keys_and_domains() -> None:
    ids = pa.array(range(10_000), pa.int64())
    a = IntPRF(b"a" * 32).arrow(ids, "alf").to_pylist()
    b = IntPRF(b"b" * 32).arrow(ids, "alf").to_pylist()
    c = IntPRF(b"a" * 32).arrow(ids, "nk_EDDS").to_pylist()
    assert len(set(a)) == len(set(b)) == len(set(c)) == 10_000
    assert not set(a) & set(b)
    assert not set(a) & set(c)
    with pytest.raises(TypeError, match="integer ids"):
        IntPRF(b"a" * 32).arrow(pa.array(["x"]), "alf")
