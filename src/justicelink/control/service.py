"""Governance: users and roles, applications, decisions, grants; every step audited.

Rules (each refusal says which rule and why):
- only governance panel members decide applications;
- nobody decides an application they made or are named on;
- only an approved, unexpired, unrevoked project has a grant, and only its members use it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, insert, select, update

from justicelink.control import audit, auth
from justicelink.control.schema import (
    ROLES,
    SCOPES,
    api_tokens,
    decisions,
    metadata,
    project_datasets,
    project_members,
    projects,
    users,
)
from justicelink.formats import ProjectGrant, RefusedError

DECISIONS = {"approve": "approved", "reject": "rejected", "request_changes": "changes_requested"}


def _now() -> datetime:
    return datetime.now(UTC)


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


class ControlPlane:
    """The control plane over one database (SQLite file by default, or a PostgreSQL URL)."""

    def __init__(self, url: str, anchor: Path) -> None:
        self.url = url
        self.anchor = Path(anchor)
        self.engine: Engine = create_engine(url, future=True)
        if url.startswith("sqlite"):

            @event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn: Any, _: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.close()

        metadata.create_all(self.engine)
        with self._tx() as conn:
            if conn.execute(select(audit.audit_head.c.id)).first() is None:
                conn.execute(insert(audit.audit_head).values(id=1, n=0))

    @classmethod
    def open(cls, control_dir: Path, url: str | None = None) -> ControlPlane:
        control_dir = Path(control_dir)
        control_dir.mkdir(parents=True, exist_ok=True)
        return cls(
            url or f"sqlite:///{control_dir / 'control.db'}", control_dir / "audit-anchor.json"
        )

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Connection]:
        """A transaction; after it commits, the audit anchor moves to the new head."""
        with self.engine.begin() as conn:
            yield conn
            info = conn.info
        audit.publish_head(info)

    # -- audit -------------------------------------------------------------------------------
    def audit(self, actor: str, action: str, obj: str, **details: Any) -> int:
        with self._tx() as conn:
            return audit.append(conn, self.anchor, actor, action, obj, details)

    def verify_audit(self) -> audit.Verification:
        with self.engine.connect() as conn:
            return audit.verify(conn, self.anchor)

    def audit_entries(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(audit.audit_log).order_by(audit.audit_log.c.seq)).all()
        return [dict(r._mapping) for r in rows]

    # -- users -------------------------------------------------------------------------------
    def add_user(
        self,
        username: str,
        role: str,
        display_name: str,
        *,
        actor: str,
        password: str | None = None,
    ) -> None:
        if role not in ROLES:
            raise RefusedError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        try:
            pw_hash = auth.hash_password(password) if password is not None else None
        except ValueError as exc:
            raise RefusedError(str(exc)) from None
        with self._tx() as conn:
            if conn.execute(select(users.c.username).where(users.c.username == username)).first():
                raise RefusedError(f"user {username!r} already exists")
            conn.execute(
                insert(users).values(
                    username=username,
                    display_name=display_name,
                    role=role,
                    password_hash=pw_hash,
                    created_at=_now(),
                )
            )
            audit.append(conn, self.anchor, actor, "user.create", username, {"role": role})

    def set_password(self, username: str, password: str, *, actor: str) -> None:
        try:
            pw_hash = auth.hash_password(password)
        except ValueError as exc:
            raise RefusedError(str(exc)) from None
        self.role(username)
        with self._tx() as conn:
            conn.execute(
                update(users).where(users.c.username == username).values(password_hash=pw_hash)
            )
            audit.append(conn, self.anchor, actor, "user.password", username, {})

    def login(self, username: str, password: str) -> str:
        """Check a password; every attempt is audited. Returns the user's role."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users.c.password_hash, users.c.role).where(users.c.username == username)
            ).first()
        ok = auth.verify_password(row.password_hash if row else None, password)
        self.audit(username, "login" if ok else "login.failed", f"user:{username}")
        if not ok:
            raise RefusedError("unknown user or wrong password")
        assert row is not None
        return str(row.role)

    # -- API tokens ---------------------------------------------------------------------------
    def create_token(self, username: str, scopes: list[str], *, days: float, actor: str) -> str:
        """A new token for ``username``: returned once, stored only as its SHA-256."""
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown or not scopes:
            raise RefusedError(f"scopes must be some of {', '.join(SCOPES)}")
        try:
            expires = auth.expiry(days)
        except ValueError as exc:
            raise RefusedError(str(exc)) from None
        self.role(username)
        token_id, token, digest = auth.new_token()
        with self._tx() as conn:
            conn.execute(
                insert(api_tokens).values(
                    token_id=token_id,
                    username=username,
                    token_sha256=digest,
                    scopes=sorted(scopes),
                    created_at=_now(),
                    expires_at=expires,
                    revoked_at=None,
                )
            )
            audit.append(
                conn, self.anchor, actor, "token.create", f"token:{token_id}",
                {"user": username, "scopes": sorted(scopes), "expires": expires.isoformat()},
            )  # fmt: skip
        return token

    def revoke_token(self, token_id: str, *, actor: str) -> None:
        with self._tx() as conn:
            done = conn.execute(
                update(api_tokens).where(api_tokens.c.token_id == token_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=_now())
            ).rowcount  # fmt: skip
            if not done:
                raise RefusedError(f"no active token {token_id}")
            audit.append(conn, self.anchor, actor, "token.revoke", f"token:{token_id}", {})

    def authenticate(self, token: str, scope: str) -> str:
        """The user a token belongs to, if it is current and carries ``scope``; refused otherwise."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(api_tokens).where(api_tokens.c.token_sha256 == auth.token_sha256(token))
            ).first()
        reason = None
        if row is None:
            reason = "unknown token"
        elif row.revoked_at is not None:
            reason = "token revoked"
        elif _aware(row.expires_at) <= _now():
            reason = "token expired"
        elif scope not in row.scopes and "admin" not in row.scopes:
            reason = f"token lacks the {scope} scope"
        if reason:
            self.audit(
                row.username if row else "unknown", "token.refused", f"scope:{scope}", reason=reason
            )
            raise RefusedError(reason)
        assert row is not None
        return str(row.username)

    def role(self, username: str) -> str:
        with self.engine.connect() as conn:
            row = conn.execute(select(users.c.role).where(users.c.username == username)).first()
        if row is None:
            raise RefusedError(f"no user named {username!r}")
        return str(row.role)

    def users_by_role(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(
                select(users.c.username, users.c.role).order_by(users.c.username)
            ):
                out.setdefault(row.role, []).append(row.username)
        return out

    # -- applications ------------------------------------------------------------------------
    def submit(self, applicant: str, app: Application) -> str:
        if self.role(applicant) != "researcher":
            raise RefusedError(
                f"{applicant} is not a researcher; only researchers apply for projects"
            )
        for r in app.researchers:
            if self.role(r) != "researcher":
                raise RefusedError(f"{r} is not a researcher and cannot be a project member")
        if app.end_date <= app.start_date:
            raise RefusedError("a project's end date must come after its start date")
        if not app.datasets:
            raise RefusedError("an application must request at least one dataset")
        with self._tx() as conn:
            ids = [int(r.project_id) for r in conn.execute(select(projects.c.project_id))]
            pid = f"{(max(ids) + 1) if ids else 1:04d}"
            conn.execute(
                insert(projects).values(
                    project_id=pid,
                    title=app.title,
                    purpose=app.purpose,
                    lay_summary=app.lay_summary,
                    applicant=applicant,
                    status="submitted",
                    start_date=app.start_date,
                    end_date=app.end_date,
                    created_at=_now(),
                )
            )
            for ds, tables in app.datasets.items():
                for table, cols in tables.items():
                    conn.execute(
                        insert(project_datasets).values(
                            project_id=pid, dataset=ds, bank_table=table, columns=list(cols)
                        )
                    )
            members = sorted(set(app.researchers) | {applicant})
            for m in members:
                conn.execute(insert(project_members).values(project_id=pid, username=m))
            audit.append(
                conn, self.anchor, applicant, "application.submit", f"project:{pid}",
                {"title": app.title, "datasets": sorted(app.datasets), "members": members},
            )  # fmt: skip
        return pid

    def decide(self, project_id: str, decider: str, decision: str, reason: str) -> str:
        if decision not in DECISIONS:
            raise RefusedError(f"decision must be one of {', '.join(DECISIONS)}")
        if not reason.strip():
            raise RefusedError("a decision must record its reason")
        if self.role(decider) != "governance":
            raise RefusedError(
                f"{decider} is not on the governance panel and cannot decide applications"
            )
        with self._tx() as conn:
            proj = conn.execute(select(projects).where(projects.c.project_id == project_id)).first()
            if proj is None:
                raise RefusedError(f"no project {project_id}")
            members = {r.username for r in conn.execute(
                select(project_members.c.username).where(project_members.c.project_id == project_id)
            )}  # fmt: skip
            if decider == proj.applicant or decider in members:
                raise RefusedError(
                    f"{decider} applied for or is named on project {project_id}; nobody decides "
                    "their own application"
                )
            if proj.status != "submitted":
                raise RefusedError(
                    f"project {project_id} is {proj.status}, not awaiting a decision"
                )
            status = DECISIONS[decision]
            conn.execute(
                insert(decisions).values(
                    project_id=project_id,
                    decided_by=decider,
                    decision=decision,
                    reason=reason,
                    decided_at=_now(),
                )
            )
            conn.execute(
                update(projects).where(projects.c.project_id == project_id).values(status=status)
            )
            audit.append(
                conn, self.anchor, decider, f"application.{decision}", f"project:{project_id}",
                {"reason": reason},
            )  # fmt: skip
        return status

    def resubmit(self, project_id: str, applicant: str, app: Application) -> None:
        """After 'request changes', the applicant submits a revised application."""
        with self._tx() as conn:
            proj = conn.execute(select(projects).where(projects.c.project_id == project_id)).first()
            if proj is None or proj.applicant != applicant:
                raise RefusedError(f"{applicant} has no application {project_id}")
            if proj.status != "changes_requested":
                raise RefusedError(
                    f"project {project_id} is {proj.status}; only returned applications are resubmitted"
                )
            conn.execute(
                update(projects).where(projects.c.project_id == project_id).values(
                    title=app.title, purpose=app.purpose, lay_summary=app.lay_summary, status="submitted",
                    start_date=app.start_date, end_date=app.end_date,
                )
            )  # fmt: skip
            conn.execute(
                project_datasets.delete().where(project_datasets.c.project_id == project_id)
            )
            for ds, tables in app.datasets.items():
                for table, cols in tables.items():
                    conn.execute(
                        insert(project_datasets).values(
                            project_id=project_id, dataset=ds, bank_table=table, columns=list(cols)
                        )
                    )
            audit.append(
                conn,
                self.anchor,
                applicant,
                "application.resubmit",
                f"project:{project_id}",
                {"datasets": sorted(app.datasets)},
            )

    def revoke(self, project_id: str, actor: str, reason: str) -> None:
        """Withdraw an approved project: no grant, no session, from now on."""
        if self.role(actor) not in ("governance", "admin"):
            raise RefusedError(f"{actor} cannot revoke projects (governance panel or admin only)")
        if not reason.strip():
            raise RefusedError("a revocation must record its reason")
        with self._tx() as conn:
            done = conn.execute(
                update(projects).where(projects.c.project_id == project_id, projects.c.status == "approved")
                .values(status="revoked")
            ).rowcount  # fmt: skip
            if not done:
                raise RefusedError(f"project {project_id} is not an approved project")
            audit.append(
                conn,
                self.anchor,
                actor,
                "project.revoke",
                f"project:{project_id}",
                {"reason": reason},
            )

    def grant(self, project_id: str, *, today: date | None = None) -> ProjectGrant:
        """What the project may receive. Refused unless approved, current and not revoked."""
        today = today or date.today()
        with self.engine.connect() as conn:
            proj = conn.execute(select(projects).where(projects.c.project_id == project_id)).first()
            if proj is None:
                raise RefusedError(f"no project {project_id}")
            if proj.status != "approved":
                raise RefusedError(
                    f"project {project_id} is {proj.status}; only approved projects are provisioned"
                )
            if not proj.start_date <= today <= proj.end_date:
                raise RefusedError(
                    f"project {project_id} runs {proj.start_date} to {proj.end_date}; access is closed today"
                )
            ds: dict[str, dict[str, list[str]]] = {}
            for r in conn.execute(
                select(project_datasets).where(project_datasets.c.project_id == project_id)
            ):
                ds.setdefault(r.dataset, {})[r.bank_table] = list(r.columns)
            members = sorted(r.username for r in conn.execute(
                select(project_members.c.username).where(project_members.c.project_id == project_id)
            ))  # fmt: skip
            dec = conn.execute(
                select(decisions).where(
                    decisions.c.project_id == project_id, decisions.c.decision == "approve"
                )
            ).first()
        return ProjectGrant(
            project_id=project_id, title=proj.title, datasets=ds, researchers=members,
            approved_by=dec.decided_by if dec else "", approved_at=str(dec.decided_at) if dec else "",
            end_date=str(proj.end_date),
        )  # fmt: skip

    def require_member(self, project_id: str, username: str) -> ProjectGrant:
        """The grant, if ``username`` is a researcher on a current project; refused otherwise."""
        if self.role(username) != "researcher":
            raise RefusedError(f"{username} is not a researcher")
        grant = self.grant(project_id)
        if username not in grant.researchers:
            raise RefusedError(f"{username} is not a member of project {project_id}")
        return grant
