"""The control plane's data-access layer: users, tokens, applications, decisions, output
requests and the audit log, over one database (SQLite file by default, or PostgreSQL).

It decides nothing about who may do what: that is ``permissions``. Every method that changes a
table granting access takes a ``Permit`` (made only by ``permissions.ensure``) for its action,
writes the change and its audit entry in one transaction, and checks the state machine
(``machines``) inside that transaction before writing. After commit, the witness is given the
new entries (``audit``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, delete, event, insert, select, update

from justicelink.control import audit, auth, replay
from justicelink.control.machines import (
    OUTPUT_REQUEST,
    PROJECT,
    VOTES,
    Effect,
    Group,
    ProjectAction,
    ProjectState,
    RequestAction,
    RequestState,
    decision_for,
)
from justicelink.control.permissions import (
    Actor,
    Kind,
    Permit,
    Resource,
    authenticated,
    role_scopes,
)
from justicelink.control.roles import Role, Scope, parse_role, parse_scopes
from justicelink.control.schema import (
    api_tokens,
    decisions,
    metadata,
    output_files,
    output_requests,
    output_reviews,
    project_datasets,
    project_members,
    projects,
    users,
)
from justicelink.formats import AuditEntry, OutputFile, ProjectGrant, RefusedError

DECISIONS = {
    "approve": ProjectAction.APPROVE,
    "reject": ProjectAction.REJECT,
    "request_changes": ProjectAction.REQUEST_CHANGES,
}
USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
_PID = re.compile(r"^\d{4}$")
_RID = re.compile(r"^\d{4}-\d{4}$")


def _now() -> datetime:
    return datetime.now(UTC)


def check_username(name: str) -> str:
    """The one rule for user names (so a typed identifier never becomes an audited object)."""
    if not USERNAME.match(name):
        raise RefusedError(
            "a user name is 2-32 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter"
        )
    return name


def _terms(app: Application) -> dict[str, Any]:
    """What an application grants, as the audit log records it (and `verify` replays)."""
    return {"title": app.title, "start_date": str(app.start_date), "end_date": str(app.end_date),
            "requested": {ds: {t: list(c) for t, c in tables.items()}
                          for ds, tables in app.datasets.items()}}  # fmt: skip


def _effective(status: str, end_date: date) -> str:
    active = status in (ProjectState.APPROVED, ProjectState.PROVISIONED)
    return ProjectState.EXPIRED.value if active and date.today() > end_date else status


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored in UTC); PostgreSQL aware ones."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Application:
    title: str
    purpose: str
    lay_summary: str
    datasets: dict[str, dict[str, list[str]]]  # dataset -> bank table -> columns
    researchers: list[str]
    start_date: date
    end_date: date


@dataclass(frozen=True)
class UserRecord:
    username: str
    role: Role
    display_name: str


@dataclass(frozen=True)
class ProjectRecord:
    project_id: str
    title: str
    purpose: str
    lay_summary: str
    applicant: str
    state: str
    start_date: date
    end_date: date
    members: tuple[str, ...]
    datasets: dict[str, dict[str, list[str]]]
    decisions: tuple[dict[str, Any], ...] = ()

    def resource(self) -> Resource:
        return Resource(
            Kind.PROJECT, self.project_id, project_id=self.project_id,
            project_state=self.state, applicant=self.applicant, members=frozenset(self.members),
            start_date=self.start_date, end_date=self.end_date,
        )  # fmt: skip


@dataclass(frozen=True)
class Review:
    checker: str
    vote: str
    comment: str
    at: str
    round: int


@dataclass(frozen=True)
class RequestRecord:
    request_id: str
    project_id: str
    author: str
    state: str
    round: int
    title: str
    description: str
    sql: str
    files: tuple[OutputFile, ...]
    reviews: tuple[Review, ...] = field(default=())  # every round

    def current_reviews(self) -> list[Review]:
        return [r for r in self.reviews if r.round == self.round]

    def resource(self, project: ProjectRecord) -> Resource:
        p = project.resource()
        return Resource(
            Kind.REQUEST, self.request_id, project_id=p.project_id, project_state=p.project_state,
            applicant=p.applicant, members=p.members, start_date=p.start_date,
            end_date=p.end_date, author=self.author,
        )  # fmt: skip


@dataclass(frozen=True)
class TokenRecord:
    token_id: str
    username: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    revoked: bool
    label: str


class ControlPlane:
    """The control plane over one database. ``witness`` receives every new audit head."""

    def __init__(self, url: str, witness: audit.HeadWitness) -> None:
        self.url = url
        self.witness = witness
        self.witness_problem = ""  # the last time the witness refused a head, and why
        self.engine: Engine = create_engine(url, future=True)
        if url.startswith("sqlite"):

            @event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn: Any, _: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()

        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            if conn.execute(select(audit.audit_head.c.id)).first() is None:
                conn.execute(insert(audit.audit_head).values(id=1, n=0))

    @classmethod
    def open(
        cls, control_dir: Path, witness: audit.HeadWitness, url: str | None = None
    ) -> ControlPlane:
        control_dir = Path(control_dir)
        control_dir.mkdir(parents=True, exist_ok=True)
        return cls(url or f"sqlite:///{control_dir / 'control.db'}", witness)

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Connection]:
        """A transaction; once it commits, the witness replays and signs the new head."""
        with self.engine.begin() as conn:
            yield conn
            appended = conn.info.pop(audit.PENDING_KEY, False)
        if appended:
            try:
                self.witness.observe(self._entries_after)
            except RefusedError as exc:
                # detection, not prevention: the change stands, and `audit verify` says why
                # the witness would not sign it (the log was rewritten, or the witness wiped)
                self.witness_problem = str(exc)

    def _entries_after(self, seq: int) -> list[AuditEntry]:
        with self.engine.connect() as conn:
            return audit.entries_after(conn, seq)

    # -- audit ---------------------------------------------------------------------------------
    def record(
        self, actor: Actor | str, action: str, obj: str, *, caused_by: Actor | None = None,
        **details: Any,
    ) -> int:  # fmt: skip
        """Append an entry that changes no grant (a query, a view, a load, a refusal). An
        automatic step is recorded as the platform's (``system``) with ``caused_by``."""
        name = actor.name if isinstance(actor, Actor) else actor
        with self._tx() as conn:
            return audit.append(
                conn, name, action, obj, details,
                on_behalf_of=caused_by.name if caused_by else None,
            )  # fmt: skip

    def audit_entries(self, obj: str | None = None) -> list[AuditEntry]:
        with self.engine.connect() as conn:
            return audit.entries(conn, obj)

    def verify_audit(self) -> audit.Verification:
        """The chain, held to the witness's signed heads, then replayed against the tables
        that grant access."""
        with self.engine.connect() as conn:
            n, problems = audit.verify_chain(conn, self.witness)
            problems += replay.replay(conn, audit.entries(conn))
        heads, _ = self.witness.heads()
        return audit.Verification(not problems, n, tuple(problems), heads[-1].seq if heads else 0)

    # -- accounts ------------------------------------------------------------------------------
    def user(self, username: str) -> UserRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).first()
        return UserRecord(row.username, Role(row.role), row.display_name) if row else None

    def users(self) -> list[UserRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.username)).all()
        return [UserRecord(r.username, Role(r.role), r.display_name) for r in rows]

    def users_by_role(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for u in self.users():
            out.setdefault(u.role.value, []).append(u.username)
        return out

    def has_users(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(users.c.username).limit(1)).first() is not None

    def _insert_user(
        self, conn: Connection, actor: str, username: str, role: str, display_name: str,
        password: str | None, **details: Any,
    ) -> None:  # fmt: skip
        check_username(username)
        try:
            r = parse_role(role)
            pw_hash = auth.hash_password(password) if password is not None else None
        except ValueError as exc:
            raise RefusedError(str(exc)) from None
        if conn.execute(select(users.c.username).where(users.c.username == username)).first():
            raise RefusedError(f"user {username} already exists")
        conn.execute(
            insert(users).values(
                username=username, display_name=display_name, role=r.value,
                password_hash=pw_hash, created_at=_now(),
            )
        )  # fmt: skip
        audit.append(conn, actor, "user.create", f"user:{username}",
                     {"role": r.value, "password": replay.digest(pw_hash) if pw_hash else None, **details})  # fmt: skip

    def bootstrap_admin(self, username: str, display_name: str, password: str) -> None:
        """The first account of a new home (``justicelink init``): an admin, audited as
        creating itself. Refused once any account exists."""
        with self._tx() as conn:
            if conn.execute(select(users.c.username).limit(1)).first():
                raise RefusedError("this home already has accounts; an admin creates new ones")
            self._insert_user(
                conn, f"user:{username}", username, Role.ADMIN, display_name, password,
                bootstrap=True,
            )  # fmt: skip

    def create_user(
        self, permit: Permit, role: str, display_name: str, password: str | None
    ) -> None:
        permit.require("user.create")
        with self._tx() as conn:
            self._insert_user(
                conn, permit.actor.name, permit.resource.id, role, display_name, password
            )

    def set_role(self, permit: Permit, role: str) -> None:
        permit.require("user.role")
        try:
            r = parse_role(role)
        except ValueError as exc:
            raise RefusedError(str(exc)) from None
        username = permit.resource.id
        with self._tx() as conn:
            old = conn.execute(select(users.c.role).where(users.c.username == username)).first()
            if old is None:
                raise RefusedError(f"no user named {username}")
            if username == permit.actor.username:
                raise RefusedError("nobody changes their own role; another admin does")
            conn.execute(update(users).where(users.c.username == username).values(role=r.value))
            # tokens carry the scopes of the role they were made for: the old ones stop
            live = api_tokens.c.username == username, api_tokens.c.revoked_at.is_(None)
            revoked = conn.execute(select(api_tokens.c.token_id).where(*live)).scalars().all()
            conn.execute(update(api_tokens).where(*live).values(revoked_at=_now()))
            audit.append(conn, permit.actor.name, "user.role", f"user:{username}",
                         {"role": r.value, "from": old.role})  # fmt: skip
            for t in sorted(revoked):
                audit.append(conn, audit.SYSTEM, "token.revoke", f"token:{t}",
                             {"reason": "role changed"}, on_behalf_of=permit.actor.name)  # fmt: skip

    def set_password(self, permit: Permit, password: str) -> None:
        permit.require("user.password")
        try:
            pw_hash = auth.hash_password(password)
        except ValueError as exc:
            raise RefusedError(str(exc)) from None
        username = permit.resource.id
        with self._tx() as conn:
            done = conn.execute(
                update(users).where(users.c.username == username).values(password_hash=pw_hash)
            ).rowcount
            if not done:
                raise RefusedError(f"no user named {username}")
            audit.append(conn, permit.actor.name, "user.password", f"user:{username}",
                         {"password": replay.digest(pw_hash)})  # fmt: skip
            # a new password ends every other sign-in of the person (not the one changing it)
            live = (api_tokens.c.username == username, api_tokens.c.revoked_at.is_(None),
                    api_tokens.c.token_id != (permit.actor.token_id or ""))  # fmt: skip
            ended = conn.execute(select(api_tokens.c.token_id).where(*live)).scalars().all()
            conn.execute(update(api_tokens).where(*live).values(revoked_at=_now()))
            for t in sorted(ended):
                audit.append(conn, audit.SYSTEM, "token.revoke", f"token:{t}",
                             {"reason": "password changed"}, on_behalf_of=permit.actor.name)  # fmt: skip

    # -- authentication ------------------------------------------------------------------------
    def check_password(self, username: str, password: str) -> Actor:
        """Sign-in by password: every attempt is audited. The actor carries every scope of
        the user's role; it is used to create the sign-in token and nothing else."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users.c.password_hash, users.c.role).where(users.c.username == username)
            ).first()
        ok = auth.verify_password(row.password_hash if row else None, password)
        obj = f"user:{username}" if USERNAME.match(username) else "user:?"
        if not ok or row is None:
            self.record("anonymous", "login.failed", obj)
            raise RefusedError("unknown user or wrong password")
        self.record(f"user:{username}", "login", obj)
        role = Role(row.role)
        return authenticated(username, role, role_scopes(role), None)

    def create_token(
        self, permit: Permit, scopes: list[str] | None, *, days: float, label: str = ""
    ) -> str:
        """A new token for the permit's user: returned once, stored only as its SHA-256. Its
        scopes are those asked for (default: every scope of the user's role), never more."""
        permit.require("token.create")
        username = permit.resource.id
        target = self.user(username)
        if target is None:
            raise RefusedError(f"no user named {username}")
        allowed = role_scopes(target.role)
        try:
            wanted = parse_scopes(scopes) if scopes else allowed
            expires = auth.expiry(days)
        except ValueError as exc:
            raise RefusedError(str(exc)) from None
        extra = sorted(wanted - allowed)
        if extra:
            raise RefusedError(
                f"{username} is {target.role.value}: a token of theirs cannot carry "
                f"{', '.join(extra)} (their role uses {', '.join(sorted(allowed))})"
            )
        token_id, token, digest = auth.new_token()
        with self._tx() as conn:
            conn.execute(
                insert(api_tokens).values(
                    token_id=token_id, username=username, token_sha256=digest,
                    scopes=sorted(wanted), created_at=_now(), expires_at=expires,
                    revoked_at=None, label=label[:64],
                )
            )  # fmt: skip
            audit.append(
                conn, permit.actor.name, "token.create", f"token:{token_id}",
                {"user": username, "scopes": sorted(wanted), "expires": expires.isoformat(),
                 "label": label[:64], "digest": replay.digest(digest)},
            )  # fmt: skip
        return token

    def token(self, token_id: str) -> TokenRecord | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(api_tokens).where(api_tokens.c.token_id == token_id)).first()
        return self._token_record(r) if r else None

    @staticmethod
    def _token_record(r: Any) -> TokenRecord:
        return TokenRecord(r.token_id, r.username, tuple(r.scopes), _aware(r.created_at),
                           _aware(r.expires_at), r.revoked_at is not None, r.label or "")  # fmt: skip

    def tokens(self, username: str) -> list[TokenRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(api_tokens).where(api_tokens.c.username == username)
                .order_by(api_tokens.c.created_at)
            ).all()  # fmt: skip
        return [self._token_record(r) for r in rows]

    def revoke_token(self, permit: Permit) -> None:
        permit.require("token.revoke")
        token_id = permit.resource.id
        with self._tx() as conn:
            done = conn.execute(
                update(api_tokens).where(api_tokens.c.token_id == token_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=_now())
            ).rowcount  # fmt: skip
            if not done:
                raise RefusedError(f"no active token {token_id}")
            audit.append(conn, permit.actor.name, "token.revoke", f"token:{token_id}", {})

    def token_problem(self, token_id: str) -> str | None:
        """Why a token no longer works (revoked, expired, unknown), or None."""
        t = self.token(token_id)
        if t is None:
            return "unknown token"
        if t.revoked:
            return "token revoked"
        if t.expires_at <= _now():
            return "token expired"
        return None

    def authenticate(self, token: str) -> Actor:
        """The actor a token stands for, if it is current; refused (and audited) otherwise."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(api_tokens, users.c.role)
                .join(users, users.c.username == api_tokens.c.username)
                .where(api_tokens.c.token_sha256 == auth.token_sha256(token))
            ).first()  # fmt: skip
        reason = None
        if row is None:
            reason = "unknown token"
        elif row.revoked_at is not None:
            reason = "token revoked"
        elif _aware(row.expires_at) <= _now():
            reason = "token expired"
        if reason or row is None:
            who = f"user:{row.username}" if row else "anonymous"
            obj = f"token:{row.token_id}" if row else "token:?"
            self.record(who, "token.refused", obj, reason=reason)
            raise RefusedError(f"{reason}: sign in again with `justicelink login --home HOME USER`")
        role = Role(row.role)
        # a token never carries more than its owner's current role uses
        scopes = frozenset(Scope(s) for s in row.scopes if s in {x.value for x in Scope})
        return authenticated(str(row.username), role, scopes & role_scopes(role), str(row.token_id))

    # -- applications and projects -------------------------------------------------------------
    def _validate(self, conn: Connection, applicant: str, app: Application) -> list[str]:
        members = sorted(set(app.researchers) | {applicant})
        for r in members:
            row = conn.execute(select(users.c.role).where(users.c.username == r)).first()
            if row is None:
                raise RefusedError(f"no user named {r} (named as a researcher)")
            if row.role != Role.RESEARCHER:
                raise RefusedError(f"{r} is not a researcher and cannot be a project member")
        if app.end_date <= app.start_date:
            raise RefusedError("a project's end date must come after its start date")
        if not app.datasets:
            raise RefusedError("an application must request at least one dataset")
        return members

    def _write_datasets(self, conn: Connection, pid: str, app: Application) -> None:
        conn.execute(delete(project_datasets).where(project_datasets.c.project_id == pid))
        for ds, tables in app.datasets.items():
            for table, cols in tables.items():
                conn.execute(
                    insert(project_datasets).values(
                        project_id=pid, dataset=ds, bank_table=table, columns=list(cols)
                    )
                )

    def submit_application(self, permit: Permit, app: Application) -> str:
        permit.require("application.submit")
        applicant = permit.actor.username
        with self._tx() as conn:
            members = self._validate(conn, applicant, app)
            ids = [int(r.project_id) for r in conn.execute(select(projects.c.project_id))]
            pid = f"{(max(ids) + 1) if ids else 1:04d}"
            conn.execute(
                insert(projects).values(
                    project_id=pid, title=app.title, purpose=app.purpose,
                    lay_summary=app.lay_summary, applicant=applicant,
                    status=PROJECT.initial, start_date=app.start_date, end_date=app.end_date,
                    created_at=_now(),
                )
            )  # fmt: skip
            self._write_datasets(conn, pid, app)
            for m in members:
                conn.execute(insert(project_members).values(project_id=pid, username=m))
            audit.append(
                conn, permit.actor.name, "application.submit", f"project:{pid}",
                {"title": app.title, "datasets": sorted(app.datasets), "members": members,
                 "applicant": applicant, "state": PROJECT.initial, **_terms(app)},
            )  # fmt: skip
        return pid

    def _project_state(self, conn: Connection, pid: str) -> tuple[str, str]:
        """(the state as stored, the state today: expired once an active project's end date
        has passed, whether or not that has been written yet)."""
        row = conn.execute(
            select(projects.c.status, projects.c.end_date).where(projects.c.project_id == pid)
        ).first()
        if row is None:
            raise RefusedError(f"no project {pid}")
        return str(row.status), _effective(str(row.status), row.end_date)

    def _move_project(
        self, conn: Connection, pid: str, action: ProjectAction, groups: set[Group], actor: str
    ) -> str:
        """One step of the project machine. Expiry is written here, as the platform's step on
        behalf of whoever changes the project next; reading a project never writes."""
        state, today_state = self._project_state(conn, pid)
        if today_state != state:
            t = PROJECT.step(pid, state, ProjectAction.EXPIRE, {Group.PLATFORM})
            conn.execute(update(projects).where(projects.c.project_id == pid).values(status=t.to))
            audit.append(conn, audit.SYSTEM, "project.expire", f"project:{pid}",
                         {"state": t.to}, on_behalf_of=actor)  # fmt: skip
            state = t.to
        t = PROJECT.step(pid, state, action, groups)
        done = conn.execute(
            update(projects).where(projects.c.project_id == pid, projects.c.status == state)
            .values(status=t.to)
        ).rowcount  # fmt: skip
        if not done:
            raise RefusedError(f"project {pid} changed while this was being done; try again")
        return t.to

    def resubmit(self, permit: Permit, app: Application) -> str:
        permit.require("application.resubmit")
        pid = permit.resource.id
        with self._tx() as conn:
            self._validate(conn, permit.actor.username, app)
            state = self._move_project(
                conn, pid, ProjectAction.RESUBMIT, {Group.APPLICANT}, permit.actor.name
            )
            conn.execute(
                update(projects).where(projects.c.project_id == pid).values(
                    title=app.title, purpose=app.purpose, lay_summary=app.lay_summary,
                    start_date=app.start_date, end_date=app.end_date,
                )
            )  # fmt: skip
            self._write_datasets(conn, pid, app)
            audit.append(conn, permit.actor.name, "application.resubmit", f"project:{pid}",
                         {"datasets": sorted(app.datasets), "state": state, **_terms(app)})  # fmt: skip
        return state

    def decide(self, permit: Permit, decision: str, reason: str) -> str:
        permit.require("application.decide")
        if decision not in DECISIONS:
            raise RefusedError(f"decision must be one of {', '.join(DECISIONS)}")
        if not reason.strip():
            raise RefusedError("a decision must record its reason")
        pid = permit.resource.id
        with self._tx() as conn:
            state = self._move_project(
                conn, pid, DECISIONS[decision], {Group.PANEL}, permit.actor.name
            )
            conn.execute(
                insert(decisions).values(
                    project_id=pid, decided_by=permit.actor.username, decision=decision,
                    reason=reason, decided_at=_now(),
                )
            )  # fmt: skip
            audit.append(conn, permit.actor.name, f"application.{decision}", f"project:{pid}",
                         {"decision": decision, "reason": reason, "state": state})  # fmt: skip
        return state

    def check_project_step(self, pid: str, action: ProjectAction, groups: set[Group]) -> str:
        """Refuse now, before any side effect, if the machine does not allow ``action``."""
        with self.engine.connect() as conn:
            return PROJECT.step(pid, self._project_state(conn, pid)[1], action, groups).to

    def move_project(
        self, permit: Permit, action: ProjectAction, groups: set[Group], **details: Any
    ) -> str:
        """Provision or revoke: the state change and its audit entry, in one transaction."""
        permit.require(f"project.{action.value}")
        pid = permit.resource.id
        with self._tx() as conn:
            state = self._move_project(conn, pid, action, groups, permit.actor.name)
            audit.append(conn, permit.actor.name, f"project.{action.value}", f"project:{pid}",
                         {**details, "state": state})  # fmt: skip
        return state

    def project(self, pid: str) -> ProjectRecord | None:
        if not _PID.match(pid):
            return None
        with self.engine.connect() as conn:
            p = conn.execute(select(projects).where(projects.c.project_id == pid)).first()
            if p is None:
                return None
            members = tuple(sorted(r.username for r in conn.execute(
                select(project_members.c.username).where(project_members.c.project_id == pid)
            )))  # fmt: skip
            ds: dict[str, dict[str, list[str]]] = {}
            for r in conn.execute(
                select(project_datasets).where(project_datasets.c.project_id == pid)
            ):
                ds.setdefault(r.dataset, {})[r.bank_table] = list(r.columns)
            decs = tuple(
                {"decided_by": r.decided_by, "decision": r.decision, "reason": r.reason,
                 "decided_at": str(r.decided_at)}
                for r in conn.execute(select(decisions).where(decisions.c.project_id == pid)
                                      .order_by(decisions.c.id))
            )  # fmt: skip
        return ProjectRecord(
            p.project_id, p.title, p.purpose, p.lay_summary, p.applicant,
            _effective(p.status, p.end_date),
            p.start_date, p.end_date, members, ds, decs,
        )  # fmt: skip

    def projects(self) -> list[ProjectRecord]:
        with self.engine.connect() as conn:
            ids = [r.project_id for r in conn.execute(select(projects.c.project_id))]
        return [p for p in (self.project(i) for i in sorted(ids)) if p is not None]

    def grant(self, pid: str) -> ProjectGrant:
        """What an approved project may receive (the provisioner's instructions)."""
        p = self.project(pid)
        if p is None:
            raise RefusedError(f"no project {pid}")
        approval = next((d for d in reversed(p.decisions) if d["decision"] == "approve"), None)
        return ProjectGrant(
            project_id=pid, title=p.title, datasets=p.datasets, researchers=list(p.members),
            approved_by=approval["decided_by"] if approval else "",
            approved_at=approval["decided_at"] if approval else "", end_date=str(p.end_date),
        )  # fmt: skip

    # -- output requests -----------------------------------------------------------------------
    def next_request_id(self, pid: str) -> str:
        with self.engine.connect() as conn:
            ids = [r.request_id for r in conn.execute(
                select(output_requests.c.request_id).where(output_requests.c.project_id == pid)
            )]  # fmt: skip
        n = max((int(i.rsplit("-", 1)[1]) for i in ids), default=0) + 1
        return f"{pid}-{n:04d}"

    def create_request(
        self, permit: Permit, request_id: str, title: str, description: str, sql: str,
        files: list[OutputFile],
    ) -> None:  # fmt: skip
        permit.require("airlock.create")
        pid = permit.resource.id
        if not request_id.startswith(f"{pid}-"):
            raise RefusedError(f"request {request_id} does not belong to project {pid}")
        with self._tx() as conn:
            conn.execute(
                insert(output_requests).values(
                    request_id=request_id, project_id=pid, author=permit.actor.username,
                    state=OUTPUT_REQUEST.initial, round=1, title=title,
                    description=description, sql=sql, created_at=_now(),
                )
            )  # fmt: skip
            for f in files:
                conn.execute(insert(output_files).values(
                    request_id=request_id, name=f.name, output=f.output, status=f.status,
                    sha256=f.sha256, justification=f.justification,
                ))  # fmt: skip
            audit.append(
                conn, permit.actor.name, "airlock.create", f"request:{request_id}",
                {"project": pid, "title": title, "state": OUTPUT_REQUEST.initial, "round": 1,
                 "files": {f.name: [f.output, f.status, f.sha256] for f in files},
                 "outcomes": {f.output: f.status for f in files}},
            )  # fmt: skip

    def request(self, request_id: str) -> RequestRecord | None:
        if not _RID.match(request_id):
            return None
        with self.engine.connect() as conn:
            r = conn.execute(
                select(output_requests).where(output_requests.c.request_id == request_id)
            ).first()
            if r is None:
                return None
            files = tuple(
                OutputFile(f.name, f.output, f.status, f.sha256, f.justification)
                for f in conn.execute(select(output_files).where(
                    output_files.c.request_id == request_id).order_by(output_files.c.name))
            )  # fmt: skip
            reviews = tuple(
                Review(v.checker, v.vote, v.comment, str(v.at), v.round)
                for v in conn.execute(select(output_reviews).where(
                    output_reviews.c.request_id == request_id).order_by(output_reviews.c.id))
            )  # fmt: skip
        return RequestRecord(r.request_id, r.project_id, r.author, r.state, r.round, r.title,
                             r.description, r.sql, files, reviews)  # fmt: skip

    def requests(self) -> list[RequestRecord]:
        with self.engine.connect() as conn:
            ids = [r.request_id for r in conn.execute(
                select(output_requests.c.request_id).order_by(output_requests.c.request_id))]  # fmt: skip
        return [r for r in (self.request(i) for i in ids) if r is not None]

    def check_request_step(self, rid: str, action: RequestAction, groups: set[Group]) -> str:
        req = self.request(rid)
        if req is None:
            raise RefusedError(f"no output request {rid}")
        return OUTPUT_REQUEST.step(rid, req.state, action, groups).to

    def move_request(
        self, permit: Permit, action: RequestAction, groups: set[Group], *,
        vote: str | None = None, comment: str = "", file: OutputFile | None = None,
        **details: Any,
    ) -> str:  # fmt: skip
        """One step of the output-request machine, with its effect, in one transaction; after a
        second review, the platform's decision follows in the same transaction."""
        name = (
            "airlock.update" if action == RequestAction.UPDATE_FILE else f"airlock.{action.value}"
        )
        permit.require(name)
        rid = permit.resource.id
        actor = permit.actor
        with self._tx() as conn:
            r = conn.execute(
                select(output_requests).where(output_requests.c.request_id == rid)
            ).first()
            if r is None:
                raise RefusedError(f"no output request {rid}")
            t = OUTPUT_REQUEST.step(rid, r.state, action, groups)
            rnd = r.round + 1 if t.effect == Effect.RESET_REVIEWS else r.round
            audited: dict[str, Any] = {**details, "state": t.to, "round": rnd}
            if action == RequestAction.REVIEW:
                if vote not in VOTES:
                    raise RefusedError(f"a review votes one of {', '.join(VOTES)}")
                done = conn.execute(select(output_reviews.c.id).where(
                    output_reviews.c.request_id == rid, output_reviews.c.round == r.round,
                    output_reviews.c.checker == actor.username)).first()  # fmt: skip
                if done:
                    raise RefusedError(
                        f"{actor.username} has already reviewed request {rid}; a second, "
                        "different checker must review"
                    )
                conn.execute(insert(output_reviews).values(
                    request_id=rid, round=r.round, checker=actor.username, vote=vote,
                    comment=comment, at=_now()))  # fmt: skip
                audited |= {"vote": vote, "comment": comment}
            if action == RequestAction.UPDATE_FILE:
                assert file is not None
                done = conn.execute(
                    update(output_files).where(output_files.c.request_id == rid,
                                               output_files.c.name == file.name)
                    .values(sha256=file.sha256, status=file.status)
                ).rowcount  # fmt: skip
                if not done:
                    raise RefusedError(f"request {rid} has no output file {file.name}")
                audited |= {"file": file.name, "sha256": file.sha256, "status": file.status}
            moved = conn.execute(
                update(output_requests).where(output_requests.c.request_id == rid,
                                              output_requests.c.state == r.state)
                .values(state=t.to, round=rnd)
            ).rowcount  # fmt: skip
            if not moved:
                raise RefusedError(f"request {rid} changed while this was being done; try again")
            audit.append(conn, actor.name, name, f"request:{rid}", audited)
            state = t.to
            if state == RequestState.REVIEWED:
                votes = [v.vote for v in conn.execute(select(output_reviews.c.vote).where(
                    output_reviews.c.request_id == rid, output_reviews.c.round == rnd))]  # fmt: skip
                d = OUTPUT_REQUEST.step(rid, state, decision_for(votes), {Group.PLATFORM})
                conn.execute(update(output_requests).where(output_requests.c.request_id == rid)
                             .values(state=d.to))  # fmt: skip
                audit.append(conn, audit.SYSTEM, "airlock.decide", f"request:{rid}",
                             {"votes": votes, "state": d.to, "round": rnd},
                             on_behalf_of=actor.name)  # fmt: skip
                state = d.to
        return state
