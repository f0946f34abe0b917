"""What a session checks around each statement: the catalog after it (nothing shadows a
built-in or the store), the workspace's disk use (during and after it), the process's memory
(during it), the result's size, and every message (no host path).

Every query the platform runs here names system objects in full (``system.main.x``) and calls
no function a researcher could have redefined, so a statement under check cannot hide from
the check.
"""

from __future__ import annotations

import os
import re
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from justicelink.workspace.limits import human
from justicelink.workspace.statements import QueryRefused, fold

# schema names no workspace may use: another catalog's name would make `x.t` ambiguous (or,
# were DuckDB to prefer schemas, silently point a member's query at a stand-in)
RESERVED_SCHEMAS = frozenset({"system", "temp", "memory", "pg_catalog", "information_schema"})


@dataclass
class Catalog:
    """Names a researcher's objects may not take, read once when the session opens."""

    functions: frozenset[str]  # every built-in function, macro and table macro
    types: frozenset[str]
    views: frozenset[str]  # the system views (duckdb_tables, information_schema.tables ...)
    store_tables: frozenset[str]
    catalogs: frozenset[str]  # every attached database's name
    store: str

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection, store: str) -> Catalog:
        def names(sql: str) -> frozenset[str]:
            return frozenset(fold(r[0]) for r in con.execute(sql).fetchall())

        return cls(
            functions=names("SELECT function_name FROM system.main.duckdb_functions() "
                            "WHERE database_name = 'system'"),
            types=names("SELECT type_name FROM system.main.duckdb_types() "
                        "WHERE database_name = 'system'"),
            views=names("SELECT view_name FROM system.main.duckdb_views() WHERE internal"),
            store_tables=names("SELECT table_name FROM system.main.duckdb_tables() "
                               f"WHERE database_name = '{store}'"),
            catalogs=names("SELECT database_name FROM system.main.duckdb_databases()"),
            store=store,
        )  # fmt: skip

    def violations(self, con: duckdb.DuckDBPyConnection) -> Iterator[str]:
        """Why the catalog as it now stands (inside the statement's transaction) is refused."""
        mine = f"database_name NOT IN ('system', '{self.store}')"
        for (name,) in con.execute(
            f"SELECT function_name FROM system.main.duckdb_functions() WHERE {mine}"
        ).fetchall():
            if fold(name) in self.functions:
                yield (f"{fold(name)} is a built-in function; a macro or function of that name "
                       "would silently change every later query that uses it; choose another "
                       "name")  # fmt: skip
        for (name,) in con.execute(
            f"SELECT type_name FROM system.main.duckdb_types() WHERE {mine} AND NOT internal"
        ).fetchall():
            if fold(name) in self.types:
                yield f"{fold(name)} is a built-in type; choose another name"
        for (name,) in con.execute(
            f"SELECT schema_name FROM system.main.duckdb_schemas() WHERE {mine}"
        ).fetchall():
            if fold(name) in self.catalogs | RESERVED_SCHEMAS:
                yield (f"a schema may not be named {fold(name)} (a database or system schema "
                       "of that name exists); choose another name")  # fmt: skip
        for (name,) in con.execute(
            f"SELECT table_name FROM system.main.duckdb_tables() WHERE {mine} UNION ALL "
            f"SELECT view_name FROM system.main.duckdb_views() WHERE {mine} AND NOT internal"
        ).fetchall():
            if fold(name) in self.store_tables:
                yield (f"{fold(name)} is a table of your project's store ({self.store}); a "
                       "workspace table or view of that name would stand in for it; choose "
                       "another name")  # fmt: skip
            elif fold(name) in self.views:
                yield f"{fold(name)} is a system view; choose another name"


@dataclass(frozen=True)
class Disk:
    """One workspace database's disk use: live blocks and write-ahead log (``used``), and the
    files as they stand on disk (``on_disk``: the file keeps freed blocks for reuse)."""

    path: Path
    catalog: str
    quota: int

    def files(self) -> list[Path]:
        return [self.path, Path(f"{self.path}.wal")]

    def on_disk(self) -> int:
        total = 0
        for f in self.files():
            with suppress(FileNotFoundError):
                total += f.stat().st_size
        return total

    def used(self, con: duckdb.DuckDBPyConnection) -> int:
        row = con.execute(
            "SELECT used_blocks, block_size FROM system.main.pragma_database_size() "
            "WHERE database_name = ?",
            [self.catalog],
        ).fetchone()
        blocks = int(row[0]) * int(row[1]) if row else 0
        wal = Path(f"{self.path}.wal")
        return blocks + (wal.stat().st_size if wal.exists() else 0)

    def over(self, used: int) -> str:
        return (f"the workspace would hold {human(used)}, over its quota of {human(self.quota)}; "
                "the query was rolled back. Drop tables you no longer need, or keep fewer "
                "columns or rows")  # fmt: skip


@dataclass
class Watchdog:
    """Stops the running statement (``con.interrupt``) when it runs too long or grows the
    workspace files past their quota; ``reason`` says which."""

    con: duckdb.DuckDBPyConnection
    timeout_s: float  # what is left of the query's time
    limit_s: float  # the query's time limit, as the refusal says it
    disk: Disk
    poll_s: float = 0.1
    reason: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._ceiling = max(self.disk.quota, self.disk.on_disk())
        self._thread = threading.Thread(target=self._run, daemon=True, name="workspace-watchdog")

    def _run(self) -> None:
        end = time.monotonic() + self.timeout_s
        while not self._stop.wait(min(self.poll_s, max(end - time.monotonic(), 0.0))):
            if time.monotonic() >= end:
                self.reason = f"the query ran longer than {self.limit_s:g} s and was stopped"
            elif (size := self.disk.on_disk()) > self._ceiling:
                self.reason = self.disk.over(size)
            if self.reason:
                self.con.interrupt()
                return

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


_AS_LOCK = threading.Lock()
_AS_HOLDERS = 0
_AS_SAVED: tuple[int, int] | None = None


def _address_space() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def memory_ceiling(allowance: int) -> Iterator[None]:
    """While a query runs, the process may grow its address space by at most ``allowance``
    bytes (``RLIMIT_AS``): DuckDB's ``memory_limit`` does not count strings
    (``repeat('x', 3000000000)`` ran to 3.8 GB against a 2 GB limit), and an allocation past
    this ceiling fails as DuckDB's own out-of-memory error. Linux only; elsewhere a no-op.
    Queries running at once in one process share the first one's ceiling."""
    global _AS_HOLDERS, _AS_SAVED
    if not Path("/proc/self/statm").exists():
        yield
        return
    with _AS_LOCK:
        if _AS_HOLDERS == 0:
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            _AS_SAVED = (soft, hard)
            want = _address_space() + allowance
            if hard != resource.RLIM_INFINITY:
                want = min(want, hard)
            if soft == resource.RLIM_INFINITY or want < soft:
                resource.setrlimit(resource.RLIMIT_AS, (want, hard))
        _AS_HOLDERS += 1
    try:
        yield
    finally:
        with _AS_LOCK:
            _AS_HOLDERS -= 1
            if _AS_HOLDERS == 0 and _AS_SAVED is not None:
                resource.setrlimit(resource.RLIMIT_AS, _AS_SAVED)
                _AS_SAVED = None


def nested_values(arr: pa.Array) -> int:
    """How many values the cells of ``arr`` hold inside lists, structs, maps and arrays (a
    flat column holds none beyond its rows)."""
    t = arr.type
    if not pa.types.is_nested(t):
        return 0
    return _leaves(arr)


def _leaves(arr: pa.Array) -> int:
    t = arr.type
    if pa.types.is_map(t):
        offsets = arr.offsets
        start, end = offsets[0].as_py(), offsets[-1].as_py()
        keys, items = arr.keys.slice(start, end - start), arr.items.slice(start, end - start)
        return _leaves(keys) + _leaves(items)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _leaves(arr.flatten())
    if pa.types.is_list_view(t) or pa.types.is_large_list_view(t):
        return _leaves(arr.flatten())
    if pa.types.is_struct(t):
        return sum(_leaves(child) for child in arr.flatten())
    if pa.types.is_union(t):
        return sum(_leaves(arr.field(i)) for i in range(t.num_fields))
    return len(arr)


@dataclass
class ResultCap:
    """Counts a result batch by batch: rows, values inside nested cells, bytes."""

    row_cap: int
    byte_cap: int
    rows: int = 0
    values: int = 0
    size: int = 0

    def add(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        self.values += sum(nested_values(col) for col in batch.columns)
        self.size += batch.nbytes
        keep = "aggregate, or write it to a workspace table instead"
        if self.rows > self.row_cap:
            raise QueryRefused(f"the result has more than {self.row_cap:,} rows; {keep}")
        if self.values > self.row_cap:
            raise QueryRefused(
                f"the result's list, struct, map and array cells hold more than "
                f"{self.row_cap:,} values (the row cap counts them too); {keep}"
            )
        if self.size > self.byte_cap:
            raise QueryRefused(f"the result is larger than {human(self.byte_cap)}; {keep}")


_PATH = re.compile(r"(?<![\w.:/])~?/(?:[^\s'\"/()<>,;]+/?)+")


def scrub(text: str, known: dict[str, str]) -> str:
    """``text`` with every host path replaced: the session's own files by what they are
    (``known``: path -> label), anything else that looks like an absolute path by ``<path>``."""
    for path in sorted(known, key=len, reverse=True):
        text = text.replace(path, known[path])
    return _PATH.sub("<path>", text)
