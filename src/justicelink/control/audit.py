"""Append-only, hash-chained audit log, with a head anchor kept outside the database.

Each entry's hash covers its content and the previous entry's hash, so editing or deleting an
entry breaks the chain; the anchor file (last sequence number and hash) exposes deletion of
entries from the end.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, Integer, Table, func, insert, select, text, update

from justicelink.control.schema import audit_log, metadata
from justicelink.formats import write_json_atomic

GENESIS = "0" * 64
# a one-row table whose update takes the database write lock before the head is read (SQLite)
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("n", Integer, nullable=False),
)


def entry_hash(
    prev_hash: str, seq: int, at: str, actor: str, action: str, obj: str, details: str
) -> str:
    body = json.dumps([seq, at, actor, action, obj, details], separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def append(
    conn: Connection, anchor: Path, actor: str, action: str, obj: str, details: dict[str, Any]
) -> int:
    """Append one entry inside the caller's transaction. Appends are serialised: an advisory
    transaction lock on PostgreSQL; on SQLite the write lock is taken before reading the head."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7431)"))
    else:
        conn.execute(update(audit_head).where(audit_head.c.id == 1).values(n=audit_head.c.n + 1))
    last = conn.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    seq = (last.seq + 1) if last else 1
    prev = last.hash if last else GENESIS
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    det = json.dumps(details, sort_keys=True, default=str)
    h = entry_hash(prev, seq, at, actor, action, obj, det)
    conn.execute(
        insert(audit_log).values(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            object=obj,
            details=det,
            prev_hash=prev,
            hash=h,
        )
    )
    # the anchor moves only once the transaction has committed (see ControlPlane._tx)
    conn.info["audit_head"] = (anchor, {"seq": seq, "hash": h})
    return seq


def publish_head(conn_info: dict) -> None:
    pending = conn_info.pop("audit_head", None)
    if pending:
        write_json_atomic(pending[0], pending[1])


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    problem: str = ""


def verify(conn: Connection, anchor: Path) -> Verification:
    prev = GENESIS
    expected_seq = 1
    count = 0
    for row in conn.execute(select(audit_log).order_by(audit_log.c.seq)):
        if row.seq != expected_seq:
            return Verification(
                False, count, f"entry {expected_seq} is missing (next is {row.seq})"
            )
        if row.prev_hash != prev:
            return Verification(
                False, count, f"entry {row.seq} does not follow entry {row.seq - 1}"
            )
        h = entry_hash(prev, row.seq, row.at, row.actor, row.action, row.object, row.details)
        if h != row.hash:
            return Verification(False, count, f"entry {row.seq} was altered after it was written")
        prev = row.hash
        expected_seq += 1
        count += 1
    if anchor.is_file():
        head = json.loads(anchor.read_text())
        if head["seq"] != count or head["hash"] != prev:
            return Verification(
                False,
                count,
                f"the log ends at entry {count} but the anchor records entry {head['seq']}",
            )
    elif count:
        return Verification(False, count, "the audit anchor file is missing")
    return Verification(True, count)


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())
