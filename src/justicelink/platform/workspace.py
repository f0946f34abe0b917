"""The researcher's workspace through the facade: every session is opened, and every query
run, under the permission check, and audited (the query's hash and row count, never its rows).
This is what the CLI, the notebook API and the analyses use; the raw ``ProjectSession`` is
never handed out.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pyarrow as pa

from justicelink import projects
from justicelink.control import Permit
from justicelink.formats import JusticelinkError, project_schema, workspace_schema
from justicelink.platform.verbs import Namespace, safe_reason, verb
from justicelink.workspace import DB_ERROR, ProjectSession, QueryRefused, SessionLimits


def query_reason(exc: BaseException) -> str:
    """Why a query was refused, for the audit log. DuckDB's messages can quote data (a cast
    error names the value, ``error()`` returns any text), so only the kind of database error is
    kept; the platform's own refusals quote no data and are kept whole."""
    text = safe_reason(exc)
    if text.startswith(DB_ERROR):
        return DB_ERROR + text[len(DB_ERROR) :].split(":")[0].strip()
    return text


class WorkspaceSession:
    """A researcher's session on one project. ``query`` returns Arrow, ``pandas`` a DataFrame;
    both are checked and audited per query, so a revocation or an expired token stops the next
    query, not just the next session."""

    def __init__(self, workspace: Workspace, project_id: str, session: ProjectSession) -> None:
        self._ws = workspace
        self._session = session
        self.project_id = project_id

    def query(self, sql: str) -> pa.Table:
        return self._ws._query_in(self.project_id, self._session, sql)

    def pandas(self, sql: str) -> Any:
        return self.query(sql).to_pandas()

    def tables(self) -> dict[str, list[tuple[str, str]]]:
        return self._ws._tables_in(self.project_id, self._session)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> WorkspaceSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Workspace(Namespace):
    # the operator's limits for every session opened here (disk quota, row cap, time ...)
    limits: SessionLimits = SessionLimits()

    @verb("workspace.open", lambda p, project_id: p.project_resource(project_id))
    def session(self, permit: Permit, project_id: str) -> WorkspaceSession:
        home = self.p.home
        store = projects.store_path(home.projects, project_id)
        if not store.is_file():
            raise QueryRefused(f"project {project_id} has not been provisioned")
        s = ProjectSession(
            project_id,
            store,
            projects.workspace_path(home.projects, project_id),
            self.limits,
            key=projects.at_rest_key(home.projects, project_id),
        )
        self.p.record("workspace.open", f"project:{project_id}")
        return WorkspaceSession(self, project_id, s)

    @verb("workspace.query", lambda p, project_id, **_: p.project_resource(project_id))
    def query(self, permit: Permit, project_id: str, sql: str) -> pa.Table:
        """Run one query in a session of its own."""
        with self.session(project_id) as s:
            return s.query(sql)

    @verb("workspace.tables", lambda p, project_id: p.project_resource(project_id))
    def tables(self, permit: Permit, project_id: str) -> dict[str, list[tuple[str, str]]]:
        """Each table of the project's store and workspace, with its columns and types."""
        with self.session(project_id) as s:
            return s.tables()

    @verb("workspace.query", lambda p, project_id, **_: p.project_resource(project_id))
    def _query_in(
        self, permit: Permit, project_id: str, session: ProjectSession, sql: str
    ) -> pa.Table:
        """Run researcher SQL; the query's hash (never its rows) and the outcome are audited."""
        digest = hashlib.sha256(sql.encode("utf-8")).hexdigest()
        obj = f"project:{project_id}"
        try:
            table = session.query(sql)
        except JusticelinkError as exc:
            self.p.record("workspace.query.refused", obj, sql_sha256=digest,
                          reason=query_reason(exc))  # fmt: skip
            exc.audited = True  # type: ignore[attr-defined]
            raise
        self.p.record("workspace.query", obj, sql_sha256=digest, rows=table.num_rows)
        return table

    @verb("workspace.tables", lambda p, project_id, **_: p.project_resource(project_id))
    def _tables_in(
        self, permit: Permit, project_id: str, session: ProjectSession
    ) -> dict[str, list[tuple[str, str]]]:
        store, work = project_schema(project_id), workspace_schema(project_id)
        rows = session.query(
            "SELECT table_catalog || '.' || table_name AS t, column_name, data_type "
            f"FROM information_schema.columns WHERE table_catalog IN ('{store}', '{work}') "
            "ORDER BY table_catalog, table_name, ordinal_position"
        ).to_pylist()
        self.p.record(
            "workspace.tables", f"project:{project_id}", tables=len({r["t"] for r in rows})
        )
        out: dict[str, list[tuple[str, str]]] = {}
        for r in rows:
            out.setdefault(r["t"], []).append((r["column_name"], r["data_type"]))
        return out
