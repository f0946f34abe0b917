"""Governance: users and roles, applications, decisions, grants; every step audited.

Rules (each refusal says which rule and why):
- only governance panel members decide applications;
- nobody decides an application they made or are named on;
- only an approved, unexpired, unrevoked project has a grant, and only its members use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select, update

from justicelink.control import audit
from justicelink.control.schema import (
    ROLES,
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

    @classmethod
    def open(cls, control_dir: Path, url: str | None = None) -> ControlPlane:
        control_dir = Path(control_dir)
        control_dir.mkdir(parents=True, exist_ok=True)
        return cls(
            url or f"sqlite:///{control_dir / 'control.db'}", control_dir / "audit-anchor.json"
        )

    def close(self) -> None:
        self.engine.dispose()

    # -- audit -------------------------------------------------------------------------------
    def audit(self, actor: str, action: str, obj: str, **details: Any) -> int:
        with self.engine.begin() as conn:
            return audit.append(conn, self.anchor, actor, action, obj, details)

    def verify_audit(self) -> audit.Verification:
        with self.engine.connect() as conn:
            return audit.verify(conn, self.anchor)

    def audit_entries(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(audit.audit_log).order_by(audit.audit_log.c.seq)).all()
        return [dict(r._mapping) for r in rows]

    # -- users -------------------------------------------------------------------------------
    def add_user(self, username: str, role: str, display_name: str, *, actor: str) -> None:
        if role not in ROLES:
            raise RefusedError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        with self.engine.begin() as conn:
            if conn.execute(select(users.c.username).where(users.c.username == username)).first():
                raise RefusedError(f"user {username!r} already exists")
            conn.execute(
                insert(users).values(
                    username=username, display_name=display_name, role=role, created_at=_now()
                )
            )
            audit.append(conn, self.anchor, actor, "user.create", username, {"role": role})

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
        with self.engine.begin() as conn:
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
        with self.engine.begin() as conn:
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
