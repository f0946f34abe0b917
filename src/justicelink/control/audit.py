"""Append-only, hash-chained audit log.

Every entry names its authenticated actor (``user:NAME``) or, for an automatic step, ``system``
together with the person whose action caused it (``on_behalf_of``). Objects are named one way:
``user:NAME``, ``project:ID``, ``request:ID``, ``dataset:CODE@VERSION``, ``token:ID``,
``submission:ID``, ``register:VERSION``, ``home``.

Appends are serialised (an advisory lock on PostgreSQL; the write lock on SQLite, taken before
the head is read) and happen inside the caller's transaction, so a change and its entry commit
together. After commit the new head goes to the witness (``justicelink.witness``), which replays
the new entries and signs the head outside the control plane.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Column, Connection, Integer, Table, func, insert, select, text, update

from justicelink.control.schema import audit_log, metadata
from justicelink.formats import GENESIS, AuditEntry, check_chain, entry_hash

SYSTEM = "system"  # the actor of automatic steps; always with on_behalf_of

# a one-row table whose update takes the database write lock before the head is read (SQLite)
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("n", Integer, nullable=False),
)

PENDING_KEY = "audit_appended"


class HeadWitness(Protocol):
    """What the control plane needs of a witness (``justicelink.witness.Witness``)."""

    def observe(self, entries_after: Callable[[int], list[AuditEntry]]) -> object: ...

    def heads(self) -> tuple[list[Any], list[str]]: ...


def append(
    conn: Connection,
    actor: str,
    action: str,
    obj: str,
    details: dict[str, Any],
    *,
    on_behalf_of: str | None = None,
) -> int:
    """Append one entry inside the caller's transaction."""
    if actor == SYSTEM and not on_behalf_of:
        raise ValueError("an automatic step is audited with the person who caused it")
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
    h = entry_hash(prev, seq, at, actor, action, obj, det, on_behalf_of)
    conn.execute(
        insert(audit_log).values(
            seq=seq, at=at, actor=actor, action=action, object=obj, details=det,
            on_behalf_of=on_behalf_of, prev_hash=prev, hash=h,
        )
    )  # fmt: skip
    conn.info[PENDING_KEY] = True  # the witness is told once the transaction has committed
    return seq


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        row.seq, row.at, row.actor, row.action, row.object, row.details, row.on_behalf_of,
        row.prev_hash, row.hash,
    )  # fmt: skip


def entries_after(conn: Connection, seq: int, limit: int | None = None) -> list[AuditEntry]:
    q = select(audit_log).where(audit_log.c.seq > seq).order_by(audit_log.c.seq)
    if limit:
        q = q.limit(limit)
    return [_entry(r) for r in conn.execute(q)]


def entries(conn: Connection, obj: str | None = None) -> list[AuditEntry]:
    q = select(audit_log).order_by(audit_log.c.seq)
    if obj is not None:
        q = q.where(audit_log.c.object == obj)
    return [_entry(r) for r in conn.execute(q)]


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    problems: tuple[str, ...] = ()
    witnessed: int = 0  # the last witnessed entry

    @property
    def problem(self) -> str:
        return "; ".join(self.problems)


def verify_chain(conn: Connection, witness: HeadWitness) -> tuple[int, list[str]]:
    """Replay the chain, then hold it to every head the witness signed."""
    problems: list[str] = []
    rows = entries(conn)
    chain_problem = check_chain(rows, GENESIS, 1)
    if chain_problem:
        problems.append(chain_problem)
    by_seq = {e.seq: e.hash for e in rows}
    heads, witness_problems = witness.heads()
    problems += witness_problems
    for h in heads:
        if h.seq == 0:
            if h.hash != GENESIS:
                problems.append(f"witness line {h.n} does not witness the empty log")
            continue
        if h.seq not in by_seq:
            problems.append(
                f"the witness signed entry {h.seq} (witness line {h.n}) but the log ends at "
                f"entry {len(rows)}: entries were deleted"
            )
            break
        if by_seq[h.seq] != h.hash:
            problems.append(
                f"entry {h.seq} differs from the one the witness signed (witness line {h.n}): "
                "the log was rewritten"
            )
            break
    last = heads[-1].seq if heads else 0
    if len(rows) > last and not chain_problem:
        problems.append(
            f"entries {last + 1} to {len(rows)} were never witnessed (written around the "
            "control plane)"
        )
    return len(rows), problems


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())
