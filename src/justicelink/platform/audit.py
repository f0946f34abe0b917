"""The audit log through the facade: read it, verify it (chain, witness, grants, quotes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from justicelink.control import Permit, Verification
from justicelink.formats import AuditEntry
from justicelink.platform.verbs import Namespace, verb
from justicelink.witness import Witness, verify_quote


class Audit(Namespace):
    @verb("audit.show")
    def entries(self, permit: Permit, obj: str | None = None) -> list[AuditEntry]:
        return self.p.cp.audit_entries(obj)

    @verb("audit.verify")
    def verify(self, permit: Permit, quotes: list[Path] | None = None) -> Verification:
        """The chain replayed, held to every head the witness signed, replayed against the
        tables that grant access, and held to every signed head quoted outside the log: those
        in the home's released bundles and any ``quotes`` given (kept by someone else, they
        are what shows a log cut back or re-signed with the home's own files). Audited."""
        v = self.p.cp.verify_audit()
        problems = list(v.problems) + self._quoted(list(quotes or []))
        v = Verification(not problems, v.entries, tuple(problems), v.witnessed)
        self.p.record("audit.verify", "home", ok=v.ok, entries=v.entries, problems=len(v.problems))
        return v

    def _quoted(self, given: list[Path]) -> list[str]:
        home = self.p.home
        key = Witness.open(home.witness).public_key_hex
        problems = []
        init = next((e for e in self.p.cp.audit_entries("home") if e.action == "home.init"), None)
        if init is None:
            problems.append("the log has no home.init entry naming the witness key")
        elif json.loads(init.details).get("witness_key") != key:
            problems.append("the witness key is not the one the home was made with")
        released = sorted((home.airlock / "released").glob("*/audit-head.json"))
        by_seq = {e.seq: e.hash for e in self.p.cp.audit_entries()}
        for path in [*released, *given]:
            where = f"the head quoted in {path.parent.name if path in released else path}"
            try:
                q = json.loads(Path(path).read_text())
                seq, digest = int(q["seq"]), str(q["hash"])
            except (OSError, ValueError, KeyError, TypeError):
                problems.append(f"{where} cannot be read as a quoted head")
                continue
            if not verify_quote(q):
                problems.append(f"{where} is not validly signed")
            elif q["witness_public_key"] != key:
                problems.append(f"{where} was signed by another witness key than the home's")
            if seq not in by_seq:
                problems.append(
                    f"{where} is entry {seq}, beyond the end of the log: entries were deleted"
                )
            elif by_seq[seq] != digest:
                problems.append(f"entry {seq} differs from {where}: the log was rewritten")
        return problems

    def _quote(self) -> dict[str, Any]:
        """The witness's latest signed head, as releases and certificates quote it."""
        w = Witness.open(self.p.home.witness)
        head = w.last()
        return head.quote(w.public_key_hex) if head else {}
