"""The output request as an explicit state machine.

Every state is owned by exactly one group; only that group acts on a request in that state:

    pending  (author)   --submit-->   submitted
    submitted (checkers) --review-->  partially_reviewed --review (a second checker)--> reviewed
    reviewed (system)   --decide-->   approved | returned | rejected
    approved (checkers) --release-->  released
    returned (author)   --submit-->   submitted   (reviews start again)
    pending | returned (author) --withdraw--> withdrawn
    submitted | partially_reviewed (author) --update a file--> submitted, reviews reset

The author never reviews their own request; two different checkers must each review. Terminal
states: released, rejected, withdrawn. Persistence: ``request.json`` in the request folder,
rewritten atomically on every transition, with the full history.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from justicelink.formats import RefusedError, write_json_atomic

OWNERS: dict[str, str] = {
    "pending": "author",
    "submitted": "checker",
    "partially_reviewed": "checker",
    "reviewed": "system",
    "approved": "checker",
    "returned": "author",
    "released": "nobody",
    "rejected": "nobody",
    "withdrawn": "nobody",
}
# (state, action) -> next state; the actor's group must own ``state``
TRANSITIONS: dict[tuple[str, str], str] = {
    ("pending", "submit"): "submitted",
    ("pending", "withdraw"): "withdrawn",
    ("submitted", "review"): "partially_reviewed",
    ("partially_reviewed", "review"): "reviewed",
    ("reviewed", "decide"): "approved",  # or returned / rejected, by the votes
    ("approved", "release"): "released",
    ("returned", "submit"): "submitted",
    ("returned", "withdraw"): "withdrawn",
}
VOTES = ("approve", "return", "reject")


@dataclass
class Review:
    checker: str
    vote: str
    comment: str
    at: str


@dataclass
class RequestState:
    request_id: str
    project_id: str
    author: str
    state: str = "pending"
    reviews: list[Review] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # name -> {status, justification}

    @classmethod
    def load(cls, folder: Path) -> RequestState:
        raw = json.loads((Path(folder) / "request.json").read_text())
        raw["reviews"] = [Review(**r) for r in raw.get("reviews", [])]
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def save(self, folder: Path) -> None:
        write_json_atomic(Path(folder) / "request.json", asdict(self))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _group(req: RequestState, actor: str, actor_role: str) -> str:
    if actor == req.author:
        return "author"
    if actor_role == "output_checker":
        return "checker"
    return "other"


def transition(req: RequestState, action: str, actor: str, actor_role: str, **details: Any) -> str:
    """Apply ``action`` by ``actor``; refuse anything the state machine does not allow."""
    nxt = TRANSITIONS.get((req.state, action))
    if nxt is None:
        raise RefusedError(
            f"request {req.request_id} is {req.state}: '{action}' is not allowed now"
        )
    owner = OWNERS[req.state]
    group = "system" if actor == "system" else _group(req, actor, actor_role)
    if group != owner:
        who = {
            "author": "its author",
            "checker": "an output checker (never the author)",
            "system": "the platform",
        }[owner]
        raise RefusedError(f"request {req.request_id} is {req.state}: only {who} may act on it now")
    if action == "review":
        vote = details.get("vote")
        if vote not in VOTES:
            raise RefusedError(f"a review votes one of {', '.join(VOTES)}")
        if any(r.checker == actor for r in req.reviews):
            raise RefusedError(
                f"{actor} has already reviewed request {req.request_id}; a second checker must review"
            )
        req.reviews.append(Review(actor, vote, str(details.get("comment", "")), _now()))
    if action == "decide":
        votes = [r.vote for r in req.reviews]
        nxt = (
            "rejected"
            if "reject" in votes
            else "approved"
            if votes == ["approve", "approve"]
            else "returned"
        )
    if action == "submit":
        req.reviews = []
    req.history.append(
        {"at": _now(), "actor": actor, "action": action, "from": req.state, "to": nxt, **details}
    )
    req.state = nxt
    return nxt


def reset_reviews(req: RequestState, actor: str, output: str) -> None:
    """The author changed a file: every review so far is void and checking starts again."""
    if actor != req.author:
        raise RefusedError("only the author changes a request's files")
    if req.state not in ("pending", "submitted", "partially_reviewed", "returned"):
        raise RefusedError(
            f"request {req.request_id} is {req.state}: its files can no longer change"
        )
    req.history.append({"at": _now(), "actor": actor, "action": "update_file", "output": output, "from": req.state,
                        "to": "submitted" if req.state != "pending" else "pending", "reviews_reset": len(req.reviews)})  # fmt: skip
    req.reviews = []
    if req.state in ("partially_reviewed", "returned"):
        req.state = "submitted"
