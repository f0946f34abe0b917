"""Replay the audit log against the tables that grant access.

Every change to a role, a token, a project's members or state, a decision, an output request's
state, files or reviews is written with the audit entry that records it, in one transaction.
Folding the log's entries therefore rebuilds what those tables must hold; anything in a table
that no entry accounts for (a membership row inserted by hand, a role edited, a request set to
approved) is reported, as is anything the log grants that the tables lack.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from justicelink.control.schema import (
    api_tokens,
    decisions,
    output_files,
    output_requests,
    output_reviews,
    project_datasets,
    project_members,
    projects,
    users,
)
from justicelink.formats import AuditEntry

DECISION_ACTIONS = {"application.approve", "application.reject", "application.request_changes"}


def digest(secret_hash: str) -> str:
    """What the audit log keeps of a stored password or token hash: a hash of it, enough to
    tell it was changed around the log, useless to anyone reading the log."""
    return hashlib.sha256(("audit|" + secret_hash).encode("utf-8")).hexdigest()


def _iso(value: Any) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


class _Expected:
    def __init__(self) -> None:
        self.roles: dict[str, str] = {}
        self.passwords: dict[str, str | None] = {}
        self.tokens: dict[str, tuple[str, tuple[str, ...], str, bool, str]] = {}
        self.terms: dict[str, tuple[str, str, str, str]] = {}  # title, applicant, start, end
        self.requested: dict[str, dict[str, dict[str, list[str]]]] = {}
        self.members: set[tuple[str, str]] = set()
        self.project_state: dict[str, str] = {}
        self.decisions: Counter[tuple[str, str, str, str]] = Counter()
        self.requests: dict[str, tuple[str, int, str, str]] = {}  # state, round, author, project
        self.files: dict[tuple[str, str], tuple[str, str, str]] = {}  # output, status, sha256
        self.reviews: Counter[tuple[str, int, str, str]] = Counter()

    def apply(self, e: AuditEntry) -> None:
        d = json.loads(e.details)
        kind, _, oid = e.object.partition(":")
        actor = e.actor.removeprefix("user:")
        if e.action in ("user.create", "user.role") and kind == "user":
            self.roles[oid] = d["role"]
            if e.action == "user.create":
                self.passwords[oid] = d.get("password")
        elif e.action == "user.password" and kind == "user":
            self.passwords[oid] = d["password"]
        elif e.action == "token.create":
            self.tokens[oid] = (d["user"], tuple(sorted(d["scopes"])), _iso(d["expires"]), False,
                                d["digest"])  # fmt: skip
        elif e.action == "token.revoke" and oid in self.tokens:
            self.tokens[oid] = (*self.tokens[oid][:3], True, self.tokens[oid][4])
        elif kind == "project":
            if e.action == "application.submit":
                self.members |= {(oid, m) for m in d["members"]}
            if e.action in ("application.submit", "application.resubmit"):
                applicant = d.get("applicant") or self.terms.get(oid, ("", "", "", ""))[1]
                self.terms[oid] = (d["title"], applicant, d["start_date"], d["end_date"])
                self.requested[oid] = d["requested"]
            if e.action in DECISION_ACTIONS:
                self.decisions[(oid, actor, d["decision"], d["reason"])] += 1
            if "state" in d and not e.action.endswith((".refused", ".failed")):
                self.project_state[oid] = d["state"]
        elif kind == "request" and not e.action.endswith((".refused", ".failed")):
            if e.action == "airlock.create":
                self.requests[oid] = (d["state"], int(d["round"]), actor, d["project"])
                for name, (output, status, sha) in d["files"].items():
                    self.files[(oid, name)] = (output, status, sha)
                return
            if oid not in self.requests:
                return
            state, rnd, author, project = self.requests[oid]
            if e.action == "airlock.update":
                output = self.files.get((oid, d["file"]), ("", "", ""))[0]
                self.files[(oid, d["file"])] = (output, d["status"], d["sha256"])
            if e.action == "airlock.review":
                self.reviews[(oid, int(d["round"]), actor, d["vote"])] += 1
            self.requests[oid] = (d.get("state", state), int(d.get("round", rnd)), author, project)


def _diff(what: str, expected: Any, actual: Any, describe: Any) -> list[str]:
    out = []
    for key in sorted(set(expected) | set(actual), key=str):
        exp, act = expected.get(key), actual.get(key)
        if exp != act:
            out.append(f"{what}: {describe(key, exp, act)}")
    return out


def replay(conn: Connection, entries: list[AuditEntry]) -> list[str]:
    """What the grant tables hold that the audit log does not account for, and the reverse."""
    x = _Expected()
    for e in entries:
        x.apply(e)
    problems: list[str] = []
    user_rows = list(conn.execute(select(users.c.username, users.c.role, users.c.password_hash)))
    roles = {r.username: r.role for r in user_rows}
    pws = {r.username: digest(r.password_hash) if r.password_hash else None for r in user_rows}
    problems += _diff("users", x.passwords, pws, lambda k, e, a: (
        f"{k}'s password is not the one the audit log records being set"))  # fmt: skip
    problems += _diff("users", x.roles, roles, lambda k, e, a: (
        f"{k} has role {a} but the audit log records {e}" if e and a else
        f"{k} exists with no audited creation" if a else f"{k} was created but is missing"))  # fmt: skip
    toks = {
        r.token_id: (r.username, tuple(sorted(r.scopes)), _iso(r.expires_at), r.revoked_at is not None, digest(r.token_sha256))
        for r in conn.execute(select(api_tokens))
    }  # fmt: skip
    problems += _diff("api_tokens", x.tokens, toks, lambda k, e, a: (
        f"token {k} has no audited creation" if e is None else
        f"token {k} was created but is missing" if a is None else
        f"token {k} differs from its audited creation or revocation"))  # fmt: skip
    mem = {(r.project_id, r.username): True for r in conn.execute(select(project_members))}
    problems += _diff("project_members", dict.fromkeys(x.members, True), mem, lambda k, e, a: (
        f"{k[1]} is a member of project {k[0]} with no audited event" if a else
        f"{k[1]} was named on project {k[0]} but is missing"))  # fmt: skip
    prows = list(conn.execute(select(projects)))
    states = {r.project_id: r.status for r in prows}
    terms = {
        r.project_id: (r.title, r.applicant, str(r.start_date), str(r.end_date)) for r in prows
    }
    problems += _diff("projects", x.terms, terms, lambda k, e, a: (
        f"project {k}'s title, applicant or dates differ from its audited application"))  # fmt: skip
    asked: dict[str, dict[str, dict[str, list[str]]]] = {}
    for r in conn.execute(select(project_datasets)):
        asked.setdefault(r.project_id, {}).setdefault(r.dataset, {})[r.bank_table] = list(r.columns)
    problems += _diff("project_datasets", x.requested, asked, lambda k, e, a: (
        f"project {k}'s datasets, tables or columns differ from its audited application"))  # fmt: skip
    problems += _diff("projects", x.project_state, states, lambda k, e, a: (
        f"project {k} is {a} but the audit log records {e}" if e and a else
        f"project {k} has no audited submission" if a else f"project {k} is missing"))  # fmt: skip
    dec: Counter[tuple[str, str, str, str]] = Counter(
        (r.project_id, r.decided_by, r.decision, r.reason) for r in conn.execute(select(decisions))
    )
    problems += _diff("decisions", dict(x.decisions), dict(dec), lambda k, e, a: (
        f"{a or 0} {k[2]} decision(s) by {k[1]} on project {k[0]}; the audit log records {e or 0}"))  # fmt: skip
    reqs = {
        r.request_id: (r.state, r.round, r.author, r.project_id)
        for r in conn.execute(select(output_requests))
    }
    problems += _diff("output_requests", x.requests, reqs, lambda k, e, a: (
        f"request {k} has no audited creation" if e is None else
        f"request {k} is missing" if a is None else
        f"request {k} is {a[0]} (round {a[1]}) but the audit log records {e[0]} (round {e[1]})"))  # fmt: skip
    files = {(r.request_id, r.name): (r.output, r.status, r.sha256)
             for r in conn.execute(select(output_files))}  # fmt: skip
    problems += _diff("output_files", x.files, files, lambda k, e, a: (
        f"request {k[0]} file {k[1]} does not match its audited checksum and status"))  # fmt: skip
    revs: Counter[tuple[str, int, str, str]] = Counter(
        (r.request_id, r.round, r.checker, r.vote) for r in conn.execute(select(output_reviews))
    )
    problems += _diff("output_reviews", dict(x.reviews), dict(revs), lambda k, e, a: (
        f"request {k[0]} has {a or 0} {k[3]} review(s) by {k[2]} in round {k[1]}; the audit log "
        f"records {e or 0}"))  # fmt: skip
    return problems
