"""The researcher's hardened DuckDB session: one project's store (read-only) and its workspace.

Locked down before any researcher SQL runs: no file or network access (``read_csv``,
``read_parquet``, ``COPY ... TO``, ``ATTACH`` all refused), no extensions, configuration locked,
memory, thread, spill and disk limits. Each statement is checked first (``statements``), then
run in a transaction of its own under a watchdog (time, disk) and a memory ceiling, its catalog
changes and disk use checked before it commits (``guards``), and its result counted as it
streams. Every refusal is a ``QueryRefused`` whose message names no host path.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

import duckdb
import pyarrow as pa

from justicelink.crypto import at_rest
from justicelink.formats import project_schema, workspace_schema
from justicelink.workspace.guards import Catalog, Disk, ResultCap, Watchdog, memory_ceiling, scrub
from justicelink.workspace.limits import (
    DEFAULT_MEMORY,
    DEFAULT_ROW_CAP,
    DEFAULT_TIMEOUT_S,
    SessionLimits,
    human,
)
from justicelink.workspace.statements import (
    ALLOWED_STATEMENTS,
    WRITING_STATEMENTS,
    QueryRefused,
    check,
    split,
)

__all__ = [
    "ALLOWED_STATEMENTS",
    "DB_ERROR",
    "DEFAULT_MEMORY",
    "DEFAULT_ROW_CAP",
    "DEFAULT_TIMEOUT_S",
    "ProjectSession",
    "QueryRefused",
    "SessionLimits",
]

DB_ERROR = "query refused: "  # how a refusal passing on DuckDB's own error begins

# the workspaces this process has a session on: DuckDB shares one database instance per file
# in a process, so a second session would meet the first's attachments (a traceback before)
_OPEN: set[str] = set()
_OPEN_LOCK = threading.Lock()


def _in_use(project_id: str) -> QueryRefused:
    return QueryRefused(
        f"project {project_id}'s workspace is in use by another session; close it (or wait for "
        "its query to end) and try again"
    )


class ProjectSession:
    """Open with the paths of one project's store and workspace (both encrypted under the
    project's at-rest key); nothing else is reachable."""

    def __init__(
        self,
        project_id: str,
        store: Path,
        workspace: Path,
        limits: SessionLimits | None = None,
        *,
        key: bytes,
    ) -> None:
        """``key``: the project's at-rest key, which the store and workspace are encrypted
        under (decision 0008); it is given to DuckDB before any researcher SQL and never
        reachable from it."""
        slot = os.path.realpath(workspace)
        with _OPEN_LOCK:
            if slot in _OPEN:
                raise _in_use(project_id)
            _OPEN.add(slot)
        self._key: str | None = slot
        try:
            self._open(project_id, store, workspace, limits, key)
        except QueryRefused:
            self.close()  # a half-open database would block the next session
            raise
        except duckdb.Error as exc:
            self.close()  # a half-open database would block the next session
            text = str(exc).lower()
            if "lock" in text or "unique file handle conflict" in text:
                raise _in_use(project_id) from None
            kind = str(exc).split(":")[0][:80]
            raise QueryRefused(
                f"project {project_id}'s workspace could not be opened ({kind}); try again, and "
                "report it if it happens again"
            ) from None
        except BaseException:
            self.close()  # a half-open database would block the next session
            raise

    def _open(
        self,
        project_id: str,
        store: Path,
        workspace: Path,
        limits: SessionLimits | None,
        key: bytes,
    ) -> None:
        self.project_id = project_id
        self.limits = limits or SessionLimits()
        if not Path(store).is_file():
            raise QueryRefused(f"project {project_id} has not been provisioned")
        self.con = duckdb.connect(
            ":memory:",
            config={
                "autoinstall_known_extensions": "false",
                "autoload_known_extensions": "false",
                "allow_community_extensions": "false",
                "memory_limit": self.limits.memory_limit,
                "threads": str(self.limits.threads),
                "temp_directory": str(Path(workspace).parent / ".spill"),
            },
        )
        at_rest.enable(self.con)  # needs external access: before it is turned off
        self.con.execute("SET temp_file_encryption = true")  # spilled data, encrypted too
        work = workspace_schema(project_id)
        at_rest.attach(self.con, Path(workspace), work, key)
        self.con.execute(f'USE "{work}"')
        at_rest.attach(self.con, Path(store), project_schema(project_id), key, read_only=True)
        self._before_lockdown(Path(store), Path(workspace))
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")
        self._after_lockdown()

    def _before_lockdown(self, store: Path, workspace: Path) -> None:
        """Spill files: a private folder of the project's, and a ceiling (DuckDB's default is
        90% of the disk)."""
        row = self.con.execute("SELECT current_setting('temp_directory')").fetchone()
        spill = Path(row[0]) if row and row[0] else None
        if spill is not None and spill.is_absolute():
            spill.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(spill, 0o700)
        self.con.execute(f"SET max_temp_directory_size = '{self.limits.temp_limit}B'")
        self._paths = {str(workspace): "<workspace>", str(store): "<store>"}
        if spill is not None:
            self._paths[str(spill)] = "<spill>"
        self._paths[str(workspace.parent)] = "<workspace folder>"
        self._paths[str(store.parent)] = "<store folder>"
        self._workspace = workspace

    def _after_lockdown(self) -> None:
        store, work = project_schema(self.project_id), workspace_schema(self.project_id)
        self.catalog = Catalog.read(self.con, store)
        self.disk = Disk(self._workspace, work, self.limits.disk_quota)

    def _refused(self, text: str) -> QueryRefused:
        return QueryRefused(scrub(text.strip().splitlines()[0][:300] if text.strip() else
                                  "query refused", self._paths))  # fmt: skip

    def usage(self) -> tuple[int, int]:
        """(bytes the workspace holds, its quota)."""
        try:
            return self.disk.used(self.con), self.limits.disk_quota
        except duckdb.Error as exc:
            kind = str(exc).split(":")[0][:80]
        raise QueryRefused(f"the workspace's size could not be read ({kind})")

    def query(self, sql: str) -> pa.Table:
        """Run researcher SQL (one or more statements) as one transaction: the last statement's
        result, or a refusal and nothing changed."""
        refusal: QueryRefused | None = None
        try:
            statements = split(self.con, sql)
            check(statements, project_schema(self.project_id), workspace_schema(self.project_id))
        except QueryRefused as exc:
            refusal = self._refused(str(exc))
        if refusal is not None:
            raise refusal
        lim = self.limits
        deadline = time.monotonic() + lim.timeout_s
        writing = any(st.type in WRITING_STATEMENTS for st in statements)
        table = pa.table({})
        # each refusal is raised outside its handler: DuckDB's error (and the frames holding
        # the result) must not stay chained to it, or the database stays open after close()
        try:
            before = self.disk.used(self.con)
            self.con.execute("BEGIN TRANSACTION")
            try:
                for st in statements:
                    table = self._run(st, deadline, before)
                self.con.execute("COMMIT")
            except BaseException:
                self._rollback(writing)
                raise
        except QueryRefused as exc:
            refusal = self._refused(str(exc))
        except duckdb.OutOfMemoryException:
            refusal = self._refused(
                f"{DB_ERROR}Out of Memory Error: the query needs more memory than the session "
                f"allows ({lim.memory_limit} for data, {human(lim.memory_headroom)} beyond it); "
                "aggregate, filter, or write to a workspace table in steps"
            )
        except duckdb.Error as exc:
            refusal = self._refused(f"{DB_ERROR}{exc}")
        except MemoryError:
            refusal = self._refused(
                "the result needs more memory than the session allows; aggregate or filter"
            )
        except pa.ArrowException as exc:
            refusal = self._refused(f"the result could not be read ({type(exc).__name__})")
        if refusal is not None:
            raise refusal
        return table

    def _run(self, st: duckdb.Statement, deadline: float, before: int) -> pa.Table:
        """One statement inside the query's transaction: under the watchdog and the memory
        ceiling, then (if it can write) the catalog and the disk quota checked."""
        lim = self.limits
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise QueryRefused(f"the query ran longer than {lim.timeout_s:g} s and was stopped")
        with (
            Watchdog(self.con, remaining, lim.timeout_s, self.disk) as dog,
            memory_ceiling(lim.memory_bytes + lim.memory_headroom),
        ):
            try:
                table = self._fetch(self.con.execute(st.query))
            except duckdb.InterruptException:
                raise QueryRefused(dog.reason or "the query was stopped") from None
        if st.type in WRITING_STATEMENTS:
            for why in self.catalog.violations(self.con):
                raise QueryRefused(why)
            used = self.disk.used(self.con)
            if used > lim.disk_quota and used > before:
                raise QueryRefused(self.disk.over(used))
        return table

    def _fetch(self, result: duckdb.DuckDBPyConnection) -> pa.Table:
        if result is None or result.description is None:
            return pa.table({})
        reader = result.to_arrow_reader(batch_size=65_536)
        cap = ResultCap(self.limits.row_cap, self.limits.result_bytes)
        batches = []
        try:
            for batch in reader:
                cap.add(batch)
                batches.append(batch)
            return pa.Table.from_batches(batches, schema=reader.schema)
        finally:
            reader.close()

    def _rollback(self, writing: bool) -> None:
        """Undo the query; after a write, checkpoint so freed blocks are marked free in the
        file (DuckDB reuses them; the file itself does not shrink)."""
        for sql in ("ROLLBACK", "CHECKPOINT") if writing else ("ROLLBACK",):
            with contextlib.suppress(duckdb.Error):
                self.con.execute(sql)

    def pandas(self, sql: str):  # type: ignore[no-untyped-def]
        """The result as a pandas DataFrame (for notebooks inside the platform)."""
        return self.query(sql).to_pandas()

    def _release(self) -> None:
        with _OPEN_LOCK:
            if self._key is not None:
                _OPEN.discard(self._key)
                self._key = None

    def close(self) -> None:
        try:
            if hasattr(self, "con"):
                self.con.close()
        finally:
            self._release()

    def __enter__(self) -> ProjectSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
