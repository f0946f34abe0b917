"""The audit chain's entry format: shared by the control plane (which writes the log) and the
witness (which replays it independently and signs its head).

Each entry's hash covers its content and the previous entry's hash, so an entry cannot be
edited, removed or inserted without changing every hash after it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str  # user:NAME, or "system" for an automatic step
    action: str
    object: str
    details: str  # JSON text
    on_behalf_of: str | None  # for a system step: the person whose action caused it
    prev_hash: str
    hash: str

    def expected_hash(self, prev_hash: str | None = None) -> str:
        return entry_hash(
            self.prev_hash if prev_hash is None else prev_hash,
            self.seq,
            self.at,
            self.actor,
            self.action,
            self.object,
            self.details,
            self.on_behalf_of,
        )


def entry_hash(
    prev_hash: str,
    seq: int,
    at: str,
    actor: str,
    action: str,
    obj: str,
    details: str,
    on_behalf_of: str | None,
) -> str:
    body = json.dumps([seq, at, actor, action, obj, details, on_behalf_of], separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def check_chain(entries: list[AuditEntry], prev_hash: str, first_seq: int) -> str:
    """'' if ``entries`` extend a chain whose head is (first_seq - 1, prev_hash); else what is
    wrong, naming the entry."""
    expected = first_seq
    for e in entries:
        if e.seq != expected:
            return f"entry {expected} is missing (next is {e.seq})"
        if e.prev_hash != prev_hash:
            return f"entry {e.seq} does not follow entry {e.seq - 1}"
        if e.expected_hash(prev_hash) != e.hash:
            return f"entry {e.seq} was altered after it was written"
        prev_hash = e.hash
        expected += 1
    return ""
