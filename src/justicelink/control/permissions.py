"""The one permission layer: every action is registered here as data, and every question "may
this actor do this to that resource?" is answered by ``allowed`` and enforced by ``ensure``.

In the spirit of Datasette's actor / action / resource model:

- an **actor** is an authenticated person (``Actor``: user name, role, the token's scopes);
- an **action** (``Action``) names the kind of resource it acts on, the token scope it needs, and
  for each role that may do it, the extra conditions that must hold (member of the project; not
  the request's author; not the applicant; project approved and within its dates; ...);
- a **resource** (``Resource``) is the thing acted on, with the facts the conditions read.

Default deny: an unregistered action, a role not listed, a missing scope or a failed condition
is refused, and the refusal names the rule and what to do instead. ``docs/permissions.md`` is
generated from this registry (``permissions_markdown``); a test fails if it drifts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from justicelink.control.roles import Role, Scope
from justicelink.formats import RefusedError


class Kind(StrEnum):
    """What an action acts on; audited objects are named ``<kind>:<id>``."""

    HOME = "home"
    USER = "user"
    TOKEN = "token"  # noqa: S105 - a resource kind, not a secret
    DATASET = "dataset"
    SUBMISSION = "submission"
    REGISTER = "register"
    PROJECT = "project"
    REQUEST = "request"


@dataclass(frozen=True)
class Actor:
    """An authenticated person. ``ensure`` accepts only an actor made by the control plane's
    authentication (a password or a current token: ``authenticated``), which carries a proof
    of it; one made by hand from a name is refused. (The proof is keyed per process: it stops
    mistakes and casual misuse of the in-process API, not someone who reads this module; the
    trust boundary is the process, see docs/architecture.md.)"""

    username: str
    role: Role
    scopes: frozenset[Scope]
    token_id: str | None = None  # None while signing in with a password
    proof: str = field(default="", repr=False, compare=False)

    @property
    def name(self) -> str:
        return f"user:{self.username}"


_PROCESS_KEY = secrets.token_bytes(32)


def _mac(*parts: object) -> str:
    body = json.dumps([str(p) for p in parts], separators=(",", ":")).encode("utf-8")
    return hmac.new(_PROCESS_KEY, body, hashlib.sha256).hexdigest()


def _actor_mac(a: Actor) -> str:
    return _mac("actor", a.username, a.role.value, sorted(a.scopes), a.token_id)


def authenticated(
    username: str, role: Role, scopes: frozenset[Scope], token_id: str | None
) -> Actor:
    """For the control plane's authentication only: an actor that ``ensure`` will accept."""
    a = Actor(username, role, scopes, token_id)
    return Actor(username, role, scopes, token_id, _actor_mac(a))


@dataclass(frozen=True)
class Resource:
    """The thing acted on, with the facts conditions need. Build with the class methods."""

    kind: Kind
    id: str = ""
    owner: str | None = None  # the user an account or token belongs to
    project_id: str | None = None
    project_state: str | None = None
    applicant: str | None = None
    members: frozenset[str] = frozenset()
    start_date: date | None = None
    end_date: date | None = None
    author: str | None = None  # of an output request

    @property
    def name(self) -> str:
        """The audited object's name: ``user:NAME``, ``project:ID``, ``request:ID``,
        ``dataset:CODE@VERSION``, ``token:ID``, ``submission:ID``, ``register:VERSION``, ``home``."""
        return self.kind.value if not self.id else f"{self.kind.value}:{self.id}"

    @classmethod
    def home(cls) -> Resource:
        return cls(Kind.HOME)

    @classmethod
    def user(cls, username: str) -> Resource:
        return cls(Kind.USER, username, owner=username)

    @classmethod
    def token(cls, token_id: str, owner: str | None) -> Resource:
        return cls(Kind.TOKEN, token_id, owner=owner)

    @classmethod
    def dataset(cls, code: str, version: str = "") -> Resource:
        return cls(Kind.DATASET, f"{code}@{version}" if version else code)

    @classmethod
    def submission(cls, submission_id: str) -> Resource:
        return cls(Kind.SUBMISSION, submission_id)

    @classmethod
    def register(cls, version: str = "") -> Resource:
        return cls(Kind.REGISTER, version)


# project states in which a project's data may be used (see machines.PROJECT)
ACTIVE_PROJECT_STATES = frozenset({"approved", "provisioned"})


@dataclass(frozen=True)
class Condition:
    """An extra rule on top of the role: ``holds(actor, resource, today)``."""

    key: str
    text: str  # how docs/permissions.md states it
    holds: Callable[[Actor, Resource, date], bool]
    refusal: Callable[[Actor, Resource], str]  # why not, naming no data value
    remedy: str  # what to do instead


def _current(r: Resource, today: date) -> bool:
    return (
        r.project_state in ACTIVE_PROJECT_STATES
        and r.start_date is not None
        and r.end_date is not None
        and r.start_date <= today <= r.end_date
    )


def _dates(r: Resource) -> str:
    return f"{r.start_date} to {r.end_date}" if r.start_date else "no dates"


MEMBER = Condition(
    "member",
    "is a member of the project",
    lambda a, r, _: a.username in r.members,
    lambda a, r: f"{a.username} is not a member of project {r.project_id}",
    "only the researchers named on a project's application work on it; a change of members is "
    "a new application to the governance panel",
)
PROJECT_CURRENT = Condition(
    "project_current",
    "the project is approved (or provisioned), not revoked, and within its start and end dates",
    lambda a, r, today: _current(r, today),
    lambda a, r: (
        f"project {r.project_id} is {r.project_state} and runs {_dates(r)}; its data is used only "
        "while it is approved and current"
    ),
    "ask the governance panel about the project's state (an extension is a governance decision)",
)
PROJECT_NOT_REVOKED = Condition(
    "project_not_revoked",
    "the project has not been revoked",
    lambda a, r, _: r.project_state != "revoked",
    lambda a, r: f"project {r.project_id} was revoked; nothing more leaves it",
    "ask the governance panel",
)
PROJECT_PROVISIONED = Condition(
    "project_provisioned",
    "the project is provisioned and within its start and end dates",
    lambda a, r, today: r.project_state == "provisioned" and _current(r, today),
    lambda a, r: (
        f"project {r.project_id} is {r.project_state} and runs {_dates(r)}; only a provisioned, "
        "current project has a workspace"
    ),
    "once the project is approved, a data manager provisions it "
    "(`justicelink project provision ID`)",
)
AUTHOR = Condition(
    "author",
    "is the request's author",
    lambda a, r, _: a.username == r.author,
    lambda a, r: f"{a.username} is not the author of request {r.id}",
    "only a request's author changes, submits or withdraws it",
)
NOT_AUTHOR = Condition(
    "not_author",
    "is not the request's author",
    lambda a, r, _: a.username != r.author,
    lambda a, r: f"{a.username} wrote request {r.id}; nobody checks their own outputs",
    "two other output checkers review and release it",
)
NOT_APPLICANT = Condition(
    "not_applicant",
    "is not the applicant and not named on the application",
    lambda a, r, _: a.username != r.applicant and a.username not in r.members,
    lambda a, r: (
        f"{a.username} applied for or is named on project {r.project_id}; nobody decides their "
        "own application"
    ),
    "another member of the governance panel decides it",
)
APPLICANT = Condition(
    "applicant",
    "is the applicant",
    lambda a, r, _: a.username == r.applicant,
    lambda a, r: f"{a.username} did not apply for project {r.project_id}",
    "only the applicant revises an application",
)
SELF = Condition(
    "self",
    "acts on their own account or token",
    lambda a, r, _: a.username == r.owner,
    lambda a, r: f"{r.name} is not {a.username}'s own",
    "an admin acts on other people's accounts and tokens",
)


@dataclass(frozen=True)
class Action:
    name: str
    kind: Kind
    scope: Scope
    roles: Mapping[Role, tuple[Condition, ...]]
    description: str
    remedy: str = ""  # who to ask, or the command to use, when the role is wrong
    reads: bool = False  # a read: the facade audits each successful one itself


EVERYONE = tuple(Role)


def _all(*conds: Condition) -> dict[Role, tuple[Condition, ...]]:
    return dict.fromkeys(EVERYONE, conds)


def _only(*roles: Role, conds: tuple[Condition, ...] = ()) -> dict[Role, tuple[Condition, ...]]:
    return dict.fromkeys(roles, conds)


R = Role
S = Scope
_REGISTRY: tuple[Action, ...] = (
    # accounts
    Action("account.show", Kind.USER, S.ACCOUNT, _all(SELF), "See who you are signed in as.", reads=True),
    Action("user.list", Kind.HOME, S.ADMIN, _only(R.ADMIN), "List accounts and roles.",
           "ask an admin", reads=True),
    Action("user.create", Kind.USER, S.ADMIN, _only(R.ADMIN), "Create an account with a role.",
           "ask an admin to create the account"),
    Action("user.role", Kind.USER, S.ADMIN, _only(R.ADMIN), "Change a person's role.",
           "ask an admin"),
    Action("user.password", Kind.USER, S.ACCOUNT, _all(SELF),
           "Change your own password (your other tokens are revoked). Nobody, admins included, "
           "sets another person's password after their account is made."),
    Action("token.create", Kind.USER, S.ACCOUNT, _all(SELF),
           "Create a scoped, expiring API token for yourself. Nobody, admins included, mints a "
           "token that acts as someone else."),
    Action("token.revoke", Kind.TOKEN, S.ACCOUNT, {**_all(SELF), R.ADMIN: ()},
           "Revoke a token (your own, or anyone's as an admin); signing out revokes yours."),
    Action("token.list", Kind.USER, S.ACCOUNT, {**_all(SELF), R.ADMIN: ()},
           "List a person's tokens (never the secrets).", reads=True),
    # data operations on the host
    Action("catalogue.read", Kind.HOME, S.CATALOGUE, _all(),
           "See the bank's datasets, versions, row counts, linkage rates and dictionaries.", reads=True),
    Action("provider.deliver", Kind.DATASET, S.PROVIDER, _only(R.DATA_PROVIDER),
           "Split an extract and deliver its sealed files to the linkage and bank inboxes.",
           "a data provider delivers its own extracts"),
    Action("register.load", Kind.REGISTER, S.LINKAGE, _only(R.LINKAGE_OPERATOR),
           "Load a new version of the population register.",
           "the trusted third party's linkage operator loads the register"),
    Action("linkage.run", Kind.SUBMISSION, S.LINKAGE, _only(R.LINKAGE_OPERATOR),
           "Match a submission's identifiers and send its ALF file to the bank.",
           "the trusted third party's linkage operator runs linkage"),
    Action("bank.load", Kind.SUBMISSION, S.BANK, _only(R.DATA_MANAGER),
           "Load a submission's content and ALF file as a new dated refresh.",
           "a data manager loads the bank"),
    # governance
    Action("application.submit", Kind.HOME, S.APPLY, _only(R.RESEARCHER),
           "Apply for a project (datasets, tables, columns, purpose, members).",
           "researchers apply for projects"),
    Action("application.resubmit", Kind.PROJECT, S.APPLY, _only(R.RESEARCHER, conds=(APPLICANT,)),
           "Revise an application the panel returned for changes."),
    Action("application.list", Kind.HOME, S.CATALOGUE, _all(),
           "List applications: all of them for the panel, data managers and admins; your own "
           "otherwise.", reads=True),
    Action("application.show", Kind.PROJECT, S.CATALOGUE,
           {R.GOVERNANCE: (), R.DATA_MANAGER: (), R.ADMIN: (), R.RESEARCHER: (MEMBER,)},
           "See an application, its decisions and its state.", reads=True),
    Action("application.decide", Kind.PROJECT, S.GOVERNANCE,
           _only(R.GOVERNANCE, conds=(NOT_APPLICANT,)),
           "Approve, reject or return an application for changes, with a reason.",
           "the governance panel decides applications"),
    Action("project.provision", Kind.PROJECT, S.PROVISION,
           _only(R.DATA_MANAGER, conds=(PROJECT_CURRENT,)),
           "Write an approved project's tables under its own key, pinned to dataset versions.",
           "a data manager provisions approved projects"),
    Action("project.revoke", Kind.PROJECT, S.GOVERNANCE, _only(R.GOVERNANCE),
           "Revoke a project: no more sessions; its store and key are withdrawn.",
           "the governance panel revokes projects"),
    # workspace
    Action("workspace.open", Kind.PROJECT, S.WORKSPACE,
           _only(R.RESEARCHER, conds=(MEMBER, PROJECT_PROVISIONED)),
           "Open a session on a project's tables and workspace.",
           "researchers named on the project work in its workspace"),
    Action("workspace.query", Kind.PROJECT, S.WORKSPACE,
           _only(R.RESEARCHER, conds=(MEMBER, PROJECT_PROVISIONED)),
           "Run SQL in a project's workspace (every query audited).",
           "researchers named on the project query it"),
    Action("workspace.tables", Kind.PROJECT, S.WORKSPACE,
           _only(R.RESEARCHER, conds=(MEMBER, PROJECT_PROVISIONED)),
           "List a project's tables and columns.",
           "researchers named on the project see its tables"),
    Action("analyses.run", Kind.PROJECT, S.WORKSPACE,
           _only(R.RESEARCHER, conds=(MEMBER, PROJECT_PROVISIONED)),
           "Run the family-justice analyses in a project and send their outputs to the airlock.",
           "researchers named on the project run its analyses"),
    # airlock
    Action("airlock.create", Kind.PROJECT, S.AIRLOCK_SUBMIT,
           _only(R.RESEARCHER, conds=(MEMBER, PROJECT_PROVISIONED)),
           "Turn outputs built in the workspace into an output request.",
           "researchers named on the project ask for outputs"),
    Action("airlock.submit", Kind.REQUEST, S.AIRLOCK_SUBMIT,
           _only(R.RESEARCHER, conds=(AUTHOR, MEMBER, PROJECT_PROVISIONED)),
           "Submit (or resubmit) an output request for checking.", "the request's author submits it"),
    Action("airlock.update", Kind.REQUEST, S.AIRLOCK_SUBMIT,
           _only(R.RESEARCHER, conds=(AUTHOR, MEMBER, PROJECT_PROVISIONED)),
           "Replace an output file of a pending or returned request.",
           "the request's author changes its files"),
    Action("airlock.withdraw", Kind.REQUEST, S.AIRLOCK_SUBMIT,
           _only(R.RESEARCHER, conds=(AUTHOR,)),
           "Withdraw a pending or returned request.", "the request's author withdraws it"),
    Action("airlock.list", Kind.HOME, S.CATALOGUE, _only(R.OUTPUT_CHECKER, R.RESEARCHER),
           "List output requests: a checker's queue, or a researcher's own requests.",
           "output checkers and researchers have request lists", reads=True),
    Action("airlock.view", Kind.REQUEST, S.CATALOGUE,
           {R.OUTPUT_CHECKER: (NOT_AUTHOR,), R.RESEARCHER: (AUTHOR,)},
           "See a request's outputs, checks, reviews and history.",
           "a request is seen by its author and by output checkers"),
    Action("airlock.review", Kind.REQUEST, S.AIRLOCK_REVIEW,
           _only(R.OUTPUT_CHECKER, conds=(NOT_AUTHOR, PROJECT_NOT_REVOKED)),
           "Vote approve, return or reject on a submitted request.",
           "output checkers review requests"),
    Action("airlock.release", Kind.REQUEST, S.AIRLOCK_REVIEW,
           _only(R.OUTPUT_CHECKER, conds=(NOT_AUTHOR, PROJECT_NOT_REVOKED)),
           "Release an approved request's outputs, with checksums: the only way out.",
           "an output checker releases approved requests"),
    # audit
    Action("audit.show", Kind.HOME, S.AUDIT, _only(R.ADMIN, R.GOVERNANCE),
           "Read the audit log.", "the governance panel and admins read the audit log", reads=True),
    Action("audit.verify", Kind.HOME, S.AUDIT, _only(R.ADMIN, R.GOVERNANCE, R.DATA_MANAGER),
           "Verify the audit chain, its witness and the tables that grant access.",
           "the governance panel, admins and data managers verify the audit log"),
)  # fmt: skip

ACTIONS: dict[str, Action] = {a.name: a for a in _REGISTRY}
assert len(ACTIONS) == len(_REGISTRY), "an action is registered twice"


def role_scopes(role: Role) -> frozenset[Scope]:
    """Every scope a role's actions use: what a sign-in token carries."""
    return frozenset(a.scope for a in ACTIONS.values() if role in a.roles)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    action: str
    resource: str
    rule: str = ""  # which rule refused: unregistered, kind, role, scope, or a condition key
    reason: str = ""
    remedy: str = ""

    def message(self) -> str:
        text = f"{self.action} on {self.resource}: {self.reason}"
        return f"{text}. {self.remedy[0].upper()}{self.remedy[1:]}." if self.remedy else text


def allowed(
    actor: Actor, action: str, resource: Resource, *, today: date | None = None
) -> Decision:
    """Whether ``actor`` may do ``action`` to ``resource``, and why not."""
    today = today or date.today()
    act = ACTIONS.get(action)
    target = resource.name
    if act is None:
        return Decision(False, action, target, "unregistered", "no such action is registered",
                        "only registered actions are ever allowed (default deny)")  # fmt: skip
    if resource.kind != act.kind:
        return Decision(False, action, target, "kind", f"{action} acts on a {act.kind.value}, "
                        f"not a {resource.kind.value}")  # fmt: skip
    conds = act.roles.get(actor.role)
    if conds is None:
        who = ", ".join(r.value for r in act.roles)
        return Decision(False, action, target, "role",
                        f"{actor.username} is {_a(actor.role.value)}; {action} is for: {who}",
                        act.remedy or "ask someone with one of those roles")  # fmt: skip
    if act.scope not in actor.scopes:
        return Decision(False, action, target, "scope", f"the token lacks the {act.scope} scope",
                        "sign in again with `justicelink login` (a sign-in token carries your "
                        f"role's scopes) or use a token created with --scope {act.scope}")  # fmt: skip
    for c in conds:
        if not c.holds(actor, resource, today):
            return Decision(False, action, target, c.key, c.refusal(actor, resource), c.remedy)
    return Decision(True, action, target)


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


class PermissionRefused(RefusedError):
    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        super().__init__(decision.message())


@dataclass(frozen=True)
class Permit:
    """Proof that ``ensure`` allowed ``action`` on ``resource`` for ``actor``. The control
    plane's mutating methods take one and check it (``require``), so no change is written
    without the check. Its seal covers the actor, action and resource: a permit altered (say
    with ``dataclasses.replace``) or made by hand is refused."""

    actor: Actor
    action: str
    resource: Resource
    seal: str = field(default="", repr=False, compare=False)

    def _expected(self) -> str:
        return _mac("permit", _actor_mac(self.actor), self.action, self.resource)

    def require(self, *actions: str) -> None:
        if not hmac.compare_digest(self.seal, self._expected()):
            raise RefusedError("internal: this permit was not made by permissions.ensure")
        if self.action not in actions:
            raise RefusedError(
                f"internal: a permit for {self.action} cannot be used for {' or '.join(actions)}"
            )


def ensure(
    actor: Actor,
    action: str,
    resource: Resource,
    *,
    today: date | None = None,
    on_refusal: Callable[[Decision], None] | None = None,
) -> Permit:
    """Allow, or refuse with a message naming the rule and what to do instead (after
    ``on_refusal`` has recorded the refusal). Only an authenticated actor is accepted."""
    if not hmac.compare_digest(actor.proof, _actor_mac(actor)):
        raise RefusedError(
            f"{action}: {actor.username} was not authenticated (sign in with a password or a "
            "token; an actor is never made from a name)"
        )
    decision = allowed(actor, action, resource, today=today)
    if not decision.allowed:
        if on_refusal is not None:
            on_refusal(decision)
        raise PermissionRefused(decision)
    p = Permit(actor, action, resource)
    return Permit(actor, action, resource, p._expected())


def _who(a: Action) -> str:
    """The roles of an action, grouped by their conditions ("admin; everyone else (...)")."""
    groups: dict[tuple[Condition, ...], list[Role]] = {}
    for role, conds in a.roles.items():
        groups.setdefault(conds, []).append(role)
    parts = []
    for conds, roles in groups.items():
        rest = len(roles) > 1 and len(roles) + sum(
            len(r) for c, r in groups.items() if c != conds) == len(Role)  # fmt: skip
        names = (
            ("everyone" if len(groups) == 1 else "everyone else")
            if rest and len(roles) > 2
            else ", ".join(r.value for r in roles)
        )
        parts.append(names + (f" ({', '.join(c.text for c in conds)})" if conds else ""))
    return "; ".join(parts)


def permissions_markdown() -> str:
    """docs/permissions.md, generated from the registry."""
    out = [
        "# Permissions",
        "",
        "Generated from `src/justicelink/control/permissions.py` by "
        "`justicelink control permissions --markdown`; a test fails if this page drifts.",
        "",
        "Every action is checked by one function, `allowed(actor, action, resource)`, before "
        "anything changes. Default deny: an unregistered action, a role not listed, a token "
        "without the scope, or a condition that does not hold is refused, and the refusal "
        "is audited.",
        "",
        "| action | acts on | scope | who may | description |",
        "|---|---|---|---|---|",
    ]
    for a in _REGISTRY:
        who = _who(a)
        out.append(f"| `{a.name}` | {a.kind.value} | `{a.scope}` | {who} | {a.description} |")
    out += ["", "## Scopes a sign-in token carries, by role", "", "| role | scopes |", "|---|---|"]
    for role in Role:
        out.append(f"| {role.value} | {', '.join(sorted(f'`{s}`' for s in role_scopes(role)))} |")
    out += [
        "",
        "## Conditions",
        "",
        "| condition | meaning | when it does not hold |",
        "|---|---|---|",
    ]
    for c in (MEMBER, PROJECT_CURRENT, PROJECT_PROVISIONED, PROJECT_NOT_REVOKED, AUTHOR, NOT_AUTHOR, NOT_APPLICANT,
              APPLICANT, SELF):  # fmt: skip
        out.append(f"| `{c.key}` | {c.text} | {c.remedy} |")
    return "\n".join(out) + "\n"
