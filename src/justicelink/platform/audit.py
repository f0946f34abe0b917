"""The audit log through the facade: read it, verify it (chain, witness, grants)."""

from __future__ import annotations

from typing import Any

from justicelink.control import Permit, Verification
from justicelink.formats import AuditEntry
from justicelink.platform.verbs import Namespace, verb
from justicelink.witness import Witness


class Audit(Namespace):
    @verb("audit.show")
    def entries(self, permit: Permit, obj: str | None = None) -> list[AuditEntry]:
        return self.p.cp.audit_entries(obj)

    @verb("audit.verify")
    def verify(self, permit: Permit) -> Verification:
        """The chain replayed, held to every head the witness signed, and replayed against the
        tables that grant access. The verification itself is audited."""
        v = self.p.cp.verify_audit()
        self.p.record("audit.verify", "home", ok=v.ok, entries=v.entries, problems=len(v.problems))
        return v

    def _quote(self) -> dict[str, Any]:
        """The witness's latest signed head, as releases and certificates quote it."""
        w = Witness.open(self.p.home.witness)
        head = w.last()
        return head.quote(w.public_key_hex) if head else {}
