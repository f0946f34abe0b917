"""The researcher's hardened DuckDB session: one project's store (read-only) and its workspace.

Locked down before any researcher SQL runs: no file or network access (``read_csv``,
``read_parquet``, ``COPY ... TO``, ``ATTACH`` all refused), no extensions, configuration locked,
memory and thread limits, and a per-query time limit enforced by interrupting the query.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from justicelink.crypto import at_rest
from justicelink.formats import JusticelinkError, project_schema, workspace_schema

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MEMORY = "2GB"
DEFAULT_ROW_CAP = 1_000_000
# Statement kinds a researcher may run. Everything else (ATTACH, DETACH, COPY, EXPORT, INSTALL,
# LOAD, SET, USE, PRAGMA, CALL, PREPARE, ...) is refused before DuckDB sees it.
ALLOWED_STATEMENTS = frozenset(
    {
        duckdb.StatementType.SELECT,
        duckdb.StatementType.EXPLAIN,
        duckdb.StatementType.CREATE,
        duckdb.StatementType.INSERT,
        duckdb.StatementType.UPDATE,
        duckdb.StatementType.DELETE,
        duckdb.StatementType.DROP,
        duckdb.StatementType.ALTER,
    }
)


DB_ERROR = "query refused: "  # how a refusal passing on DuckDB's own error begins


class QueryRefused(JusticelinkError):
    pass


@dataclass(frozen=True)
class SessionLimits:
    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_limit: str = DEFAULT_MEMORY
    threads: int = 2
    row_cap: int = DEFAULT_ROW_CAP


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
        try:
            at_rest.enable(self.con)  # needs external access: before it is turned off
            self.con.execute("SET temp_file_encryption = true")  # spilled data, encrypted too
            work = workspace_schema(project_id)
            at_rest.attach(self.con, Path(workspace), work, key)
            self.con.execute(f'USE "{work}"')
            at_rest.attach(self.con, Path(store), project_schema(project_id), key, read_only=True)
        except duckdb.Error as exc:
            self.con.close()
            text = str(exc).lower()
            if "lock" not in text and "unique file handle conflict" not in text:
                raise
            raise QueryRefused(
                f"project {project_id}'s workspace is in use by another session; close it (or "
                "wait for its query to end) and try again"
            ) from None
        except BaseException:
            self.con.close()
            raise
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")

    def _check(self, sql: str) -> None:
        try:
            statements = duckdb.extract_statements(sql)
        except duckdb.Error as exc:
            raise QueryRefused(f"{DB_ERROR}{_first_line(exc)}") from exc
        if not statements:
            raise QueryRefused("empty query")
        for st in statements:
            if st.type not in ALLOWED_STATEMENTS:
                kind = str(st.type).rsplit(".", 1)[-1]
                raise QueryRefused(
                    f"{kind} statements are not allowed in the workspace; query your project's "
                    f"tables ({project_schema(self.project_id)}) and write to your workspace "
                    f"({workspace_schema(self.project_id)})"
                )
            if st.type == duckdb.StatementType.CREATE and " SECRET " in f" {st.query.upper()} ":
                raise QueryRefused("secrets cannot be created in the workspace")

    def query(self, sql: str) -> pa.Table:
        self._check(sql)
        timer = threading.Timer(self.limits.timeout_s, self.con.interrupt)
        timer.start()
        try:
            result = self.con.execute(sql)
            if result.description is None:
                return pa.table({})
            reader = result.to_arrow_reader(batch_size=65_536)
            batches = []
            rows = 0
            for batch in reader:
                batches.append(batch)
                rows += batch.num_rows
                if rows > self.limits.row_cap:
                    raise QueryRefused(
                        f"the result has more than {self.limits.row_cap:,} rows; aggregate, or "
                        "write it to a workspace table instead"
                    )
            return pa.Table.from_batches(batches, schema=reader.schema)
        except duckdb.InterruptException as exc:
            raise QueryRefused(
                f"the query ran longer than {self.limits.timeout_s:g} s and was stopped"
            ) from exc
        except duckdb.Error as exc:
            raise QueryRefused(f"{DB_ERROR}{_first_line(exc)}") from exc
        finally:
            timer.cancel()

    def pandas(self, sql: str):  # type: ignore[no-untyped-def]
        """The result as a pandas DataFrame (for notebooks inside the platform)."""
        return self.query(sql).to_pandas()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> ProjectSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:300]
