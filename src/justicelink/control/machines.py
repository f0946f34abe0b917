"""State machines as tables: project applications and output requests.

Each machine is a list of transitions ``(state, action) -> next state``, each with the group
that may take it and its effect. ``Machine.step`` is called before anything changes: it refuses
an action the table does not allow in the current state, or one taken by the wrong group,
naming what is allowed now. Diagrams in ``docs/state-machines.md`` are generated from these
tables (``state_machines_markdown``), and a test walks every state x action x kind of actor.

Automatic steps (an application expiring, a request decided after its second review) are taken
by the ``PLATFORM`` group, never by a person; they are audited as the platform's, with the
person whose action caused them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from justicelink.formats import RefusedError


class Group(StrEnum):
    """Who may take a transition, relative to the thing in the machine."""

    APPLICANT = "applicant"  # the researcher who applied
    PANEL = "governance panel"
    DATA_MANAGER = "data manager"
    AUTHOR = "author"  # of an output request
    CHECKER = "output checker"  # never the author
    PLATFORM = "platform"  # automatic steps


class Effect(StrEnum):
    NONE = ""
    RECORD_DECISION = "records the decision and its reason"
    RECORD_VOTE = "records the checker's vote"
    RESET_REVIEWS = "starts a new round: earlier reviews no longer count"
    RECORD_FILE = "records the new file's checksum"
    WITHDRAW_STORE = "withdraws the project's store and key"
    COPY_OUT = "copies the reviewed files out, with checksums"


@dataclass(frozen=True)
class Transition:
    state: str
    action: str
    to: str
    by: Group
    effect: Effect = Effect.NONE


@dataclass(frozen=True)
class Machine:
    name: str
    thing: str  # what it is about, for messages ("project", "request")
    states: type[StrEnum]
    actions: type[StrEnum]
    initial: str
    transitions: tuple[Transition, ...]

    def __post_init__(self) -> None:
        seen = set()
        for t in self.transitions:
            assert t.state in self.states.__members__.values(), t
            assert t.to in self.states.__members__.values(), t
            assert t.action in self.actions.__members__.values(), t
            assert (t.state, t.action) not in seen, f"two rows for {t.state} x {t.action}"
            seen.add((t.state, t.action))

    def find(self, state: str, action: str) -> Transition | None:
        return next((t for t in self.transitions if t.state == state and t.action == action), None)

    def owners(self, state: str) -> set[Group]:
        return {t.by for t in self.transitions if t.state == state}

    def terminal(self) -> set[str]:
        return {s.value for s in self.states if not self.owners(s.value)}

    def allowed_now(self, state: str) -> list[str]:
        return [f"{t.action} ({t.by})" for t in self.transitions if t.state == state]

    def step(self, thing_id: str, state: str, action: str, by: Iterable[Group]) -> Transition:
        """The transition ``action`` takes from ``state`` when done by someone in ``by``
        (a person can be in several groups); refused if the table does not allow it."""
        groups = set(by)
        t = self.find(state, action)
        if t is None:
            now = self.allowed_now(state)
            tail = f"allowed now: {', '.join(now)}" if now else "nothing more can happen to it"
            raise RefusedError(
                f"{self.thing} {thing_id} is {state}: {action} is not allowed; {tail}"
            )
        if t.by not in groups:
            raise RefusedError(
                f"{self.thing} {thing_id} is {state}: only the {t.by} may {action} it now"
            )
        return t

    def mermaid(self) -> str:
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for t in self.transitions:
            lines.append(f"    {t.state} --> {t.to}: {t.action} ({t.by})")
        for s in sorted(self.terminal()):
            lines.append(f"    {s} --> [*]")
        return "\n".join(lines)


class ProjectState(StrEnum):
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    PROVISIONED = "provisioned"
    EXPIRED = "expired"
    REVOKED = "revoked"


class ProjectAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"
    RESUBMIT = "resubmit"
    PROVISION = "provision"
    EXPIRE = "expire"
    REVOKE = "revoke"


PS, PA, G = ProjectState, ProjectAction, Group
PROJECT = Machine(
    "project application",
    "project",
    ProjectState,
    ProjectAction,
    PS.SUBMITTED,
    (
        Transition(PS.SUBMITTED, PA.APPROVE, PS.APPROVED, G.PANEL, Effect.RECORD_DECISION),
        Transition(PS.SUBMITTED, PA.REJECT, PS.REJECTED, G.PANEL, Effect.RECORD_DECISION),
        Transition(PS.SUBMITTED, PA.REQUEST_CHANGES, PS.CHANGES_REQUESTED, G.PANEL,
                   Effect.RECORD_DECISION),
        Transition(PS.CHANGES_REQUESTED, PA.RESUBMIT, PS.SUBMITTED, G.APPLICANT),
        Transition(PS.APPROVED, PA.PROVISION, PS.PROVISIONED, G.DATA_MANAGER),
        Transition(PS.PROVISIONED, PA.PROVISION, PS.PROVISIONED, G.DATA_MANAGER),
        Transition(PS.APPROVED, PA.EXPIRE, PS.EXPIRED, G.PLATFORM),
        Transition(PS.PROVISIONED, PA.EXPIRE, PS.EXPIRED, G.PLATFORM),
        Transition(PS.APPROVED, PA.REVOKE, PS.REVOKED, G.PANEL, Effect.WITHDRAW_STORE),
        Transition(PS.PROVISIONED, PA.REVOKE, PS.REVOKED, G.PANEL, Effect.WITHDRAW_STORE),
        Transition(PS.EXPIRED, PA.REVOKE, PS.REVOKED, G.PANEL, Effect.WITHDRAW_STORE),
    ),
)  # fmt: skip


class RequestState(StrEnum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    PARTIALLY_REVIEWED = "partially_reviewed"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    RETURNED = "returned"
    REJECTED = "rejected"
    RELEASED = "released"
    WITHDRAWN = "withdrawn"


class RequestAction(StrEnum):
    SUBMIT = "submit"
    UPDATE_FILE = "update_file"
    WITHDRAW = "withdraw"
    REVIEW = "review"
    DECIDE_APPROVE = "decide_approve"
    DECIDE_RETURN = "decide_return"
    DECIDE_REJECT = "decide_reject"
    RELEASE = "release"


RS, RA = RequestState, RequestAction
OUTPUT_REQUEST = Machine(
    "output request",
    "request",
    RequestState,
    RequestAction,
    RS.PENDING,
    (
        Transition(RS.PENDING, RA.SUBMIT, RS.SUBMITTED, G.AUTHOR),
        Transition(RS.PENDING, RA.UPDATE_FILE, RS.PENDING, G.AUTHOR, Effect.RECORD_FILE),
        Transition(RS.PENDING, RA.WITHDRAW, RS.WITHDRAWN, G.AUTHOR),
        Transition(RS.SUBMITTED, RA.REVIEW, RS.PARTIALLY_REVIEWED, G.CHECKER, Effect.RECORD_VOTE),
        Transition(RS.PARTIALLY_REVIEWED, RA.REVIEW, RS.REVIEWED, G.CHECKER, Effect.RECORD_VOTE),
        Transition(RS.REVIEWED, RA.DECIDE_APPROVE, RS.APPROVED, G.PLATFORM),
        Transition(RS.REVIEWED, RA.DECIDE_RETURN, RS.RETURNED, G.PLATFORM),
        Transition(RS.REVIEWED, RA.DECIDE_REJECT, RS.REJECTED, G.PLATFORM),
        Transition(RS.APPROVED, RA.RELEASE, RS.RELEASED, G.CHECKER, Effect.COPY_OUT),
        Transition(RS.RETURNED, RA.UPDATE_FILE, RS.RETURNED, G.AUTHOR, Effect.RECORD_FILE),
        Transition(RS.RETURNED, RA.SUBMIT, RS.SUBMITTED, G.AUTHOR, Effect.RESET_REVIEWS),
        Transition(RS.RETURNED, RA.WITHDRAW, RS.WITHDRAWN, G.AUTHOR),
    ),
)  # fmt: skip

VOTES = ("approve", "return", "reject")
REVIEWS_NEEDED = 2


def decision_for(votes: list[str]) -> RequestAction:
    """What the platform decides once two checkers have voted: any reject rejects, two
    approvals approve, anything else returns the request to its author."""
    if "reject" in votes:
        return RA.DECIDE_REJECT
    if votes.count("approve") == REVIEWS_NEEDED and len(votes) == REVIEWS_NEEDED:
        return RA.DECIDE_APPROVE
    return RA.DECIDE_RETURN


MACHINES = (PROJECT, OUTPUT_REQUEST)


def state_machines_markdown() -> str:
    out = [
        "# State machines",
        "",
        "Generated from `src/justicelink/control/machines.py` by "
        "`justicelink control machines --markdown`; a test fails if this page drifts. Every "
        "change of state is checked against these tables before anything is written, and "
        "audited.",
    ]
    for m in MACHINES:
        out += ["", f"## {m.name.capitalize()}", "", "```mermaid", m.mermaid(), "```", ""]
        out += ["| state | action | next state | by | effect |", "|---|---|---|---|---|"]
        for t in m.transitions:
            out.append(f"| {t.state} | {t.action} | {t.to} | {t.by} | {t.effect or '—'} |")
        out += ["", f"Terminal states: {', '.join(sorted(m.terminal()))}."]
    return "\n".join(out) + "\n"
