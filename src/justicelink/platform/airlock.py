"""Output requests through the facade: create, submit, review, release.

The request's state and reviews are the control plane's; the airlock holds its files. A
release is decided from the reviews recorded in the control plane (two approvals by two
checkers, neither the author, in the current round) and copies only files whose checksums
are those recorded when they were checked. Every view, vote and change is audited.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from justicelink import airlock
from justicelink.control import (
    VOTES,
    Actor,
    Group,
    OutputFile,
    Permit,
    RequestAction,
    RequestRecord,
    RequestState,
    Role,
)
from justicelink.formats import RefusedError, project_schema
from justicelink.platform.verbs import Namespace, verb


def groups(actor: Actor, req: RequestRecord) -> set[Group]:
    if actor.username == req.author:
        return {Group.AUTHOR}
    return {Group.CHECKER} if actor.role == Role.OUTPUT_CHECKER else set()


@dataclass(frozen=True)
class Submitted:
    request_id: str
    project_id: str
    author: str
    folder: Path
    state: str
    report: Path
    outcomes: dict[str, str]


class Airlock(Namespace):
    def _record(self, rid: str) -> RequestRecord:
        req = self.p.cp.request(rid)
        if req is None:
            raise RefusedError(f"no output request {rid}")
        return req

    def _report(self, rid: str) -> Path:
        req = self._record(rid)
        history = []
        for e in self.p.cp.audit_entries(f"request:{rid}"):
            d = json.loads(e.details)
            actor = e.actor if not e.on_behalf_of else f"{e.actor} (after {e.on_behalf_of})"
            history.append({"at": e.at[:19], "actor": actor, "action": e.action,
                            "state": d.get("state", "")})  # fmt: skip
        view = airlock.RequestView(
            rid, req.project_id, project_schema(req.project_id), req.author, req.state, req.title,
            req.description, req.sql, list(req.files),
            [{"round": r.round, "checker": r.checker, "vote": r.vote, "comment": r.comment,
              "at": r.at[:19]} for r in req.reviews],
            history,
        )  # fmt: skip
        return airlock.write_report(airlock.request_folder(self.p.home.airlock, rid), view)

    @verb("airlock.create", lambda p, project_id, **_: p.project_resource(project_id))
    def create(
        self, permit: Permit, project_id: str, builder: airlock.OutputBuilder, *, title: str,
        description: str, sql: str = "", submit: bool = True,
    ) -> Submitted:  # fmt: skip
        """Turn the researcher's ACRO session into a request (and submit it, by default)."""
        cp = self.p.cp
        rid = cp.next_request_id(project_id)
        prepared = airlock.prepare_request(self.p.home.airlock, rid, project_id, builder)
        try:
            cp.create_request(
                permit, rid, title, description, sql,
                prepared.files,
            )  # fmt: skip
        except BaseException:
            shutil.rmtree(prepared.folder, ignore_errors=True)
            raise
        state = self.submit(rid) if submit else self._record(rid).state
        report = self._report(rid)
        return Submitted(rid, project_id, permit.actor.username, prepared.folder, state, report,
                         prepared.outcomes)  # fmt: skip

    @verb("airlock.submit", lambda p, request_id: p.request_resource(request_id))
    def submit(self, permit: Permit, request_id: str) -> str:
        req = self._record(request_id)
        state = self.p.cp.move_request(permit, RequestAction.SUBMIT, groups(permit.actor, req))
        self._report(request_id)
        return state

    @verb("airlock.update", lambda p, request_id, **_: p.request_resource(request_id))
    def update(self, permit: Permit, request_id: str, name: str, content: bytes) -> str:
        """Replace an output file of a pending or returned request (reviews start again when it
        is resubmitted)."""
        cp = self.p.cp
        req = self._record(request_id)
        g = groups(permit.actor, req)
        cp.check_request_step(request_id, RequestAction.UPDATE_FILE, g)
        old = next((f for f in req.files if f.name == Path(name).name), None)
        if old is None or old.output == "results":
            raise RefusedError(f"request {request_id} has no output file {Path(name).name}")
        sha = airlock.replace_output(self.p.home.airlock, request_id, old.name, content)
        state = cp.move_request(
            permit, RequestAction.UPDATE_FILE, g,
            file=OutputFile(old.name, old.output, "review", sha, old.justification),
        )  # fmt: skip
        self._report(request_id)
        return state

    @verb("airlock.withdraw", lambda p, request_id: p.request_resource(request_id))
    def withdraw(self, permit: Permit, request_id: str) -> str:
        req = self._record(request_id)
        state = self.p.cp.move_request(permit, RequestAction.WITHDRAW, groups(permit.actor, req))
        self._report(request_id)
        return state

    @verb("airlock.list")
    def list(self, permit: Permit) -> list[RequestRecord]:
        """A checker's queue (requests by others awaiting review or release), or a researcher's
        own requests."""
        a = permit.actor
        waiting = {RequestState.SUBMITTED, RequestState.PARTIALLY_REVIEWED, RequestState.APPROVED}
        if a.role == Role.OUTPUT_CHECKER:
            return [
                r for r in self.p.cp.requests() if r.author != a.username and r.state in waiting
            ]
        return [r for r in self.p.cp.requests() if r.author == a.username]

    @verb("airlock.view", lambda p, request_id: p.request_resource(request_id))
    def view(self, permit: Permit, request_id: str) -> RequestRecord:
        self.p.record("airlock.view", f"request:{request_id}")
        return self._record(request_id)

    @verb("airlock.review", lambda p, request_id, **_: p.request_resource(request_id))
    def review(self, permit: Permit, request_id: str, vote: str, comment: str = "") -> str:
        """approve, return or reject; after the second review the platform decides."""
        if vote not in VOTES:
            raise RefusedError(f"a review votes one of {', '.join(VOTES)}")
        req = self._record(request_id)
        state = self.p.cp.move_request(
            permit, RequestAction.REVIEW, groups(permit.actor, req), vote=vote, comment=comment
        )
        self._report(request_id)
        return state

    @verb("airlock.release", lambda p, request_id: p.request_resource(request_id))
    def release(self, permit: Permit, request_id: str) -> Path:
        """Copy the approved, reviewed files out with checksums: the only way out."""
        cp = self.p.cp
        req = self._record(request_id)
        g = groups(permit.actor, req)
        cp.check_request_step(request_id, RequestAction.RELEASE, g)
        approvals = {r.checker for r in req.current_reviews() if r.vote == "approve"}
        approvals.discard(req.author)
        if len(approvals) < 2:
            raise RefusedError(
                f"request {request_id} does not have two approving reviews by checkers other "
                "than its author recorded in the control plane; nothing was released"
            )
        self._report(request_id)
        head = self.p.audit._quote()
        dest = airlock.release(
            self.p.home.airlock, request_id, list(req.files),
            {"audit-head.json": (json.dumps(head, indent=2) + "\n").encode()},
        )  # fmt: skip
        try:
            cp.move_request(permit, RequestAction.RELEASE, g, destination=str(dest),
                            audit_head=head["seq"])  # fmt: skip
        except BaseException:
            airlock.unrelease(self.p.home.airlock, request_id)
            raise
        self._report(request_id)
        return dest
