"""A hostile researcher in the workspace (issue #13): every attempt is refused with a clear
message that names no host path and no data value, and leaves the workspace as it was.

The project is the shared demo home's; the cases run through the facade (audited), each in a
session of its own, some under tight limits so the limits are reached in a second or two.
"""

from __future__ import annotations

import json
import re
import resource
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from signin import sign_in

from justicelink.platform import Platform
from justicelink.workspace import QueryRefused, SessionLimits
from justicelink.workspace.limits import MiB
from justicelink.workspace.statements import REFUSED

TIGHT = SessionLimits(
    timeout_s=3,
    memory_limit="256MB",
    memory_headroom=256 * MiB,
    row_cap=1_000,
    result_bytes=64 * 1024,
)


@dataclass(frozen=True)
class World:
    home: Path
    pid: str
    other: str
    ver: str
    alf: str  # the store's CAFCASS ALF table, qualified
    values: frozenset[str]  # data values that must never appear in a message
    paths: tuple[str, ...]  # host paths that must never appear in a message
    extension: str = ""
    snapshot: tuple[Any, ...] = field(default=())


SNAPSHOT = (
    "SELECT 'table' AS k, database_name || '.' || schema_name || '.' || table_name AS n "
    "FROM duckdb_tables() WHERE NOT internal "
    "UNION ALL SELECT 'view', database_name || '.' || schema_name || '.' || view_name "
    "FROM duckdb_views() WHERE NOT internal "
    "UNION ALL SELECT 'function', database_name || '.' || schema_name || '.' || function_name "
    "FROM duckdb_functions() WHERE NOT internal "
    "UNION ALL SELECT 'schema', database_name || '.' || schema_name FROM duckdb_schemas() "
    "WHERE NOT internal "
    "UNION ALL SELECT 'type', database_name || '.' || schema_name || '.' || type_name "
    "FROM duckdb_types() WHERE NOT internal AND database_name <> 'system' "
    "UNION ALL SELECT 'sequence', database_name || '.' || sequence_name FROM duckdb_sequences() "
    "ORDER BY 1, 2"
)


def _snapshot(s: Any, pid: str) -> tuple[tuple[tuple[str, str], ...], int]:
    rows = tuple((r["k"], r["n"]) for r in s.query(SNAPSHOT).to_pylist())
    size = s.query(
        "SELECT used_blocks * block_size AS b FROM pragma_database_size() "
        f"WHERE database_name = 'SAILW{pid}V'"
    ).to_pylist()[0]["b"]
    return rows, size


@pytest.fixture(scope="module")
def rhys(demo_home: Path) -> Iterator[Platform]:
    with sign_in(demo_home, "rhys") as p:
        yield p


@pytest.fixture(scope="module")
def world(demo_home: Path, rhys: Platform) -> World:
    demo = json.loads((demo_home / "demo.json").read_text())
    pid, other = sorted(demo["projects"])
    ver = demo["projects"][pid]["pins"]["CAFW"]
    alf = f"SAIL{pid}V.CAFW_CAFCASS_ALF_{ver}"
    with rhys.workspace.session(pid) as s:
        sample = s.query(
            f"SELECT CAST(ALF_PE AS VARCHAR) AS v FROM {alf} WHERE ALF_PE IS NOT NULL "
            f"UNION SELECT LSOA2011_CD FROM {alf} WHERE LSOA2011_CD IS NOT NULL"
        ).column("v")
        values = frozenset(v for v in sample.to_pylist() if v and len(v) >= 6)
        snap = _snapshot(s, pid)
    import duckdb

    paths = (str(demo_home), str(Path(duckdb.__file__).parent.parent), "/tmp/", "/root")
    return World(demo_home, pid, other, ver, alf, values, paths, snapshot=snap)


@contextmanager
def limits(p: Platform, lim: SessionLimits | None) -> Iterator[None]:
    saved = p.workspace.limits
    p.workspace.limits = lim or saved
    try:
        yield
    finally:
        p.workspace.limits = saved


def assert_clean(message: str, w: World) -> None:
    assert message.strip(), "a refusal says why"
    assert "Traceback" not in message and 'File "' not in message
    for path in w.paths:
        assert path not in message, f"host path in: {message}"
    for v in w.values:
        assert v not in message, "a data value in the message"


def _import_dir(w: World) -> Path:
    d = w.home.parent / "import-me"
    d.mkdir(exist_ok=True)
    (d / "schema.sql").write_text("CREATE TABLE zzmarkerzz AS SELECT 1 AS zzmarkerzz;\n")
    (d / "load.sql").write_text("INSERT INTO zzmarkerzz VALUES (2);\n")
    return d


# (id, SQL template, what the refusal must say (regex), limits)
CASES: list[tuple[str, str, str, SessionLimits | None]] = [
    # files
    ("read_csv", "SELECT * FROM read_csv('{home}/bank/keys/prf.key')", "reads files", None),
    ("read_csv_auto", "SELECT * FROM read_csv_auto('/etc/passwd')", "reads files", None),
    (
        "read_parquet",
        "SELECT * FROM read_parquet('{home}/bank/datasets/*/*/*.parquet')",
        "reads files",
        None,
    ),
    ("parquet_scan", "SELECT * FROM parquet_scan('{home}/x.parquet')", "reads files", None),
    ("read_json", "SELECT * FROM read_json('{home}/demo.json')", "reads files", None),
    ("read_json_auto", "SELECT * FROM read_json_auto('{home}/demo.json')", "reads files", None),
    ("read_ndjson", "SELECT * FROM read_ndjson('/etc/passwd')", "reads files", None),
    (
        "read_text",
        "SELECT * FROM read_text('{home}/projects/{other}/keys/prf.key')",
        "reads files",
        None,
    ),
    ("read_blob", "SELECT * FROM read_blob('/etc/shadow')", "reads files", None),
    (
        "read_duckdb",
        "SELECT * FROM read_duckdb('{home}/projects/{other}/store/SAIL{other}V.duckdb')",
        "reads files",
        None,
    ),
    ("glob", "SELECT * FROM glob('{home}/*')", "reads files", None),
    ("parquet_metadata", "SELECT * FROM parquet_metadata('{home}/x.parquet')", "reads files", None),
    ("parquet_schema", "SELECT * FROM parquet_schema('{home}/x.parquet')", "reads files", None),
    ("sniff_csv", "SELECT * FROM sniff_csv('/etc/passwd')", "reads files", None),
    ("passwd_as_table", "SELECT * FROM '/etc/passwd'", "query refused", None),
    ("quoted_path_table", 'SELECT * FROM "/etc/passwd"', "query refused", None),
    ("replacement_scan", "FROM '{home}/bank/file.csv'", "query refused", None),
    ("copy_to", "COPY (SELECT 1) TO '{home}/out.csv'", "COPY statements", None),
    ("copy_from", "COPY kids FROM '/etc/passwd'", "COPY statements", None),
    ("export", "EXPORT DATABASE '{home}/dump'", "EXPORT statements", None),
    ("import", "IMPORT DATABASE '{import_dir}'", "query refused|not allowed", None),
    (
        "attach_other",
        "ATTACH '{home}/projects/{other}/store/SAIL{other}V.duckdb' AS o",
        "ATTACH statements",
        None,
    ),
    ("attach_memory", "ATTACH ':memory:' AS m", "ATTACH statements", None),
    ("detach_store", "DETACH SAIL{pid}V", "DETACH statements", None),
    ("detach_workspace", "DETACH DATABASE IF EXISTS SAILW{pid}V", "DETACH statements", None),
    ("install", "INSTALL httpfs", "statements are not allowed", None),
    ("load", "LOAD httpfs", "statements are not allowed", None),
    ("load_path", "LOAD '{extension}'", "statements are not allowed", None),
    # configuration
    ("set_external", "SET enable_external_access = true", "SET statements", None),
    ("reset_lock", "RESET lock_configuration", "statements are not allowed", None),
    ("unset_lock", "SET lock_configuration = false", "SET statements", None),
    ("set_variable", "SET VARIABLE x = 1", "SET statements", None),
    ("pragma_profiling", "PRAGMA enable_profiling", "PRAGMA|not available", None),
    ("pragma_database_list", "PRAGMA database_list", "PRAGMA|not available", None),
    ("call", "CALL pragma_database_list()", "CALL statements", None),
    ("checkpoint", "CHECKPOINT", "CALL statements", None),
    ("force_checkpoint", "FORCE CHECKPOINT", "CALL statements", None),
    ("checkpoint_fn", "SELECT * FROM checkpoint()", "reaches past", None),
    ("vacuum", "VACUUM", "VACUUM statements", None),
    ("prepare", "PREPARE p AS SELECT 1", "PREPARE statements", None),
    ("execute", "EXECUTE p", "EXECUTE statements", None),
    ("begin", "BEGIN TRANSACTION", "TRANSACTION statements", None),
    ("commit", "COMMIT", "TRANSACTION statements", None),
    ("enable_profiling_fn", "SELECT * FROM enable_profiling()", "reaches past", None),
    ("enable_logging_fn", "SELECT * FROM enable_logging()", "reaches past", None),
    # secrets and host surfaces
    ("create_secret", "CREATE SECRET s (TYPE s3, KEY_ID 'x', SECRET 'y')", "secrets", None),
    (
        "persistent_secret",
        "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'x', SECRET 'y')",
        "secrets",
        None,
    ),
    ("duckdb_secrets", "SELECT * FROM duckdb_secrets()", "configuration", None),
    ("which_secret", "SELECT * FROM which_secret('s3://b/k', 's3')", "configuration", None),
    ("getenv", "SELECT getenv('HOME')", "configuration", None),
    ("current_setting", "SELECT current_setting('temp_directory')", "configuration", None),
    ("duckdb_databases", "SELECT path FROM duckdb_databases()", "configuration", None),
    ("duckdb_databases_view", "SELECT * FROM duckdb_databases", "configuration", None),
    ("duckdb_settings", "SELECT * FROM duckdb_settings()", "configuration", None),
    ("pg_settings", "SELECT * FROM pg_catalog.pg_settings", "configuration", None),
    ("temporary_files", "SELECT * FROM duckdb_temporary_files()", "configuration", None),
    ("extensions", "SELECT install_path FROM duckdb_extensions()", "configuration", None),
    ("user_agent", "SELECT * FROM pragma_user_agent()", "configuration", None),
    (
        "sql_in_a_string",
        "SELECT * FROM query('SELECT * FROM duckdb_settings()')",
        "reaches past",
        None,
    ),
    ("query_table", "SELECT * FROM query_table('duckdb_settings')", "reaches past", None),
    ("serialized_sql", "SELECT * FROM json_execute_serialized_sql('{{}}')", "reaches past", None),
    ("arrow_pointer", "SELECT * FROM arrow_scan(1, 2, 3)", "reaches past", None),
    # dodging the check
    ("smuggled", "SELECT 1; ATTACH ':memory:' AS m", "ATTACH statements", None),
    (
        "smuggled_after_create",
        "CREATE TABLE zz_smuggle AS SELECT 1 AS x; SELECT * FROM read_csv('/etc/passwd')",
        "reads files",
        None,
    ),
    (
        "comment_case",
        "/* hi */ SeLeCt * FrOm \"READ_CSV\" /* x */ ('/etc/passwd') -- y",
        "reads files",
        None,
    ),
    ("odd_whitespace", "SELECT\t*\nFROM\n   read_text\n\n(\t'/etc/passwd'\n)", "reads files", None),
    ("qualified", "SELECT * FROM system.main.read_csv('/etc/passwd')", "reads files", None),
    (
        "fullwidth",
        "SELECT * FROM ｒｅａｄ＿ｃｓｖ('/etc/passwd')",
        "reads files|query refused",
        None,
    ),
    ("cyrillic", "SELECT * FROM r\u0435ad_csv('/etc/passwd')", "query refused", None),
    ("quoted_setting", "SELECT \"Current_Setting\"('home_directory')", "configuration", None),
    # the read-only store
    ("insert_store", "INSERT INTO {alf} SELECT * FROM {alf} LIMIT 1", "read-only", None),
    ("update_store", "UPDATE {alf} SET ALF_PE = 1", "read-only", None),
    ("delete_store", "DELETE FROM {alf}", "read-only", None),
    ("drop_store", "DROP TABLE {alf}", "read-only", None),
    ("alter_store", "ALTER TABLE {alf} ADD COLUMN zz INTEGER", "read-only", None),
    ("schema_in_store", "CREATE SCHEMA SAIL{pid}V.zz", "read-only", None),
    ("view_in_store", "CREATE VIEW SAIL{pid}V.zz AS SELECT 1", "read-only", None),
    ("use_store", "USE SAIL{pid}V", "statements are not allowed", None),
    ("use_memory", "USE memory", "statements are not allowed", None),
    ("other_project", "SELECT * FROM SAIL{other}V.CAFW_CAFCASS_ALF_{ver}", "query refused", None),
    # shadowing
    ("macro_year", "CREATE OR REPLACE MACRO year(d) AS 1999", "built-in function", None),
    ("macro_year_quoted", 'CREATE OR REPLACE MACRO "YEAR"(d) AS 1999', "built-in function", None),
    ("macro_count", "CREATE MACRO count(x) AS 7", "built-in function", None),
    ("macro_sum", "CREATE MACRO sum(x) AS 0", "built-in function", None),
    (
        "table_macro_range",
        "CREATE MACRO range(n) AS TABLE SELECT 1 AS range",
        "built-in function",
        None,
    ),
    ("temp_macro_year", "CREATE TEMP MACRO year(d) AS 1999", "built-in function", None),
    (
        "macro_in_schema",
        "CREATE SCHEMA zz_s; CREATE MACRO zz_s.lower(x) AS x",
        "built-in function",
        None,
    ),
    (
        "explain_analyze_macro",
        "EXPLAIN ANALYZE CREATE MACRO upper(x) AS x",
        "built-in function",
        None,
    ),
    (
        "view_as_store_table",
        "CREATE VIEW CAFW_CAFCASS_ALF_{ver} AS SELECT 1 AS ALF_PE",
        "table of your project's store",
        None,
    ),
    (
        "table_as_store_table",
        "CREATE TABLE CAFW_CAFCASS_ALF_{ver} AS SELECT 1 AS ALF_PE",
        "table of your project's store",
        None,
    ),
    (
        "rename_to_store_table",
        "CREATE VIEW zz_v AS SELECT 1 AS x; ALTER VIEW zz_v RENAME TO CAFW_CAFCASS_ALF_{ver}",
        "table of your project's store",
        None,
    ),
    ("schema_as_store", "CREATE SCHEMA SAIL{pid}V", "schema may not be named", None),
    (
        "schema_as_store_view",
        'CREATE SCHEMA "sail{pid}v"; CREATE VIEW "sail{pid}v".zz AS SELECT 1',
        "schema may not be named|Ambiguous",
        None,
    ),
    ("schema_system", "CREATE SCHEMA information_schema", "schema may not be named|exists", None),
    ("system_view", "CREATE VIEW duckdb_tables AS SELECT 1 AS fake", "system view", None),
    ("type_date", "CREATE TYPE date AS VARCHAR", "query refused|built-in type", None),
    ("type_varchar", 'CREATE TYPE "VARCHAR" AS INTEGER', "query refused|built-in type", None),
    # limits
    (
        "recursive_cte",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
        "longer than|memory",
        TIGHT,
    ),
    (
        "cross_join_time",
        "SELECT count(*) FROM range(200000) a, range(200000) b WHERE a.range + b.range = -1",
        "longer than",
        TIGHT,
    ),
    (
        "cross_join_memory",
        "SELECT a.range, b.range FROM range(100000) a, range(100000) b "
        "ORDER BY a.range * b.range DESC",
        "longer than|memory|rows|larger",
        TIGHT,
    ),
    ("repeat", "SELECT length(repeat('x', 3000000000)) AS n", "memory", None),
    ("lpad", "SELECT length(lpad('x', 2000000000, 'y')) AS n", "memory|longer than", TIGHT),
    ("list_past_cap", "SELECT list(ALF_PE) FROM {alf}", "hold more than", TIGHT),
    ("nested_list", "SELECT [list(ALF_PE)] AS l FROM {alf}", "hold more than", TIGHT),
    ("struct_packing", "SELECT {{'a': list(ALF_PE)}} AS s FROM {alf}", "hold more than", TIGHT),
    (
        "map_packing",
        "SELECT map(list(range), list(range)) AS m FROM range(5000)",
        "hold more than",
        TIGHT,
    ),
    ("rows_past_cap", "SELECT ALF_PE FROM {alf}, range(100)", "more than 1,000 rows", TIGHT),
    (
        "string_agg",
        "SELECT string_agg(CAST(ALF_PE AS VARCHAR), ',') AS s FROM {alf}, range(10)",
        "larger than",
        TIGHT,
    ),
    (
        "quota",
        "CREATE TABLE zz_big AS SELECT i, md5(CAST(i AS VARCHAR)) AS h FROM range(2000000) t(i)",
        "over its quota",
        None,
    ),  # the quota is set per case below
    # red team F8: a PIVOT without an IN list has no text to check (was a traceback)
    ("dynamic_pivot", "PIVOT {alf} ON ALF_STS_CD USING count(*)", "cannot be checked", None),
    (
        "dynamic_pivot_smuggle",
        "PIVOT (SELECT * FROM read_csv('/etc/passwd')) ON column0 USING count(*)",
        "cannot be checked|reads files",
        None,
    ),
]


@pytest.mark.parametrize(("template", "expect", "lim"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_hostile_attempt_is_refused_cleanly(
    world: World, rhys: Platform, template: str, expect: str, lim: SessionLimits | None
) -> None:
    w = world
    sql = template.format(
        home=w.home, pid=w.pid, other=w.other, ver=w.ver, alf=w.alf,
        import_dir=_import_dir(w), extension=w.home / "x.duckdb_extension",
    )  # fmt: skip
    quota = "over its quota" in expect
    if quota:
        lim = replace(SessionLimits(), disk_quota=w.snapshot[1] + 4 * MiB)
    before_as = resource.getrlimit(resource.RLIMIT_AS)
    with limits(rhys, lim), rhys.workspace.session(w.pid) as s:
        with pytest.raises(QueryRefused) as caught:
            s.query(sql)
        message = str(caught.value)
        tables, size = _snapshot(s, w.pid)
    assert re.search(expect, message), message
    assert_clean(message, w)
    assert "zzmarkerzz" not in message
    assert resource.getrlimit(resource.RLIMIT_AS) == before_as
    assert tables == w.snapshot[0], "the attempt left something behind"
    assert abs(size - w.snapshot[1]) <= 1 * MiB
    assert not (w.home / "out.csv").exists() and not (w.home / "dump").exists()
    last = [e for e in rhys.cp.audit_entries(f"project:{w.pid}")
            if e.action == "workspace.query.refused"][-1]  # fmt: skip
    assert not any(v in last.details for v in w.values)
    assert not any(p in last.details for p in w.paths)


def test_the_suite_has_sixty_distinct_attacks() -> None:
    assert len({c[0] for c in CASES}) == len(CASES) >= 60
    assert len({c[1] for c in CASES}) == len(CASES)


def test_import_database_never_reads_the_folder(world: World, rhys: Platform) -> None:
    """Parsing happens on the session's locked-down connection: the folder's schema.sql is not
    read (its first word used to come back in the error)."""
    d = _import_dir(world)
    (d / "schema.sql").write_text("ZZMARKERZZ TABLE x;\n")
    with rhys.workspace.session(world.pid) as s, pytest.raises(QueryRefused) as caught:
        s.query(f"IMPORT DATABASE '{d}'")
    assert "zzmarkerzz" not in str(caught.value).lower()
    assert str(d) not in str(caught.value)


def test_a_quota_stop_mid_statement_keeps_the_file_near_the_quota(
    world: World, rhys: Platform
) -> None:
    """The watchdog stops a statement as the file passes the quota; the file keeps no more
    than the quota and a poll's worth, and the message says how much is used."""
    ws = world.home / "projects" / world.pid / "workspace" / f"SAILW{world.pid}V.duckdb"
    on_disk = ws.stat().st_size
    quota = world.snapshot[1] + 4 * MiB
    lim = replace(SessionLimits(), disk_quota=quota)
    with limits(rhys, lim), rhys.workspace.session(world.pid) as s:
        with pytest.raises(QueryRefused, match=r"would hold [0-9.]+ MiB, over its quota of"):
            s.query("CREATE TABLE zz_big AS SELECT i, md5(CAST(i AS VARCHAR)) AS h, "
                    "md5(CAST(i + 1 AS VARCHAR)) AS h2 FROM range(8000000) t(i)")  # fmt: skip
        used, allowed = s._session.usage()
    assert allowed == quota and used <= world.snapshot[1] + MiB
    assert ws.stat().st_size <= max(on_disk, quota) + 64 * MiB


def test_macros_that_shadow_nothing_persist_and_temp_ones_do_not(
    world: World, rhys: Platform
) -> None:
    with rhys.workspace.session(world.pid) as s:
        s.query("CREATE TEMP MACRO zz_twice(x) AS x * 2")
        s.query("CREATE MACRO zz_thrice(x) AS x * 3")
        assert s.query("SELECT zz_twice(2) AS a, zz_thrice(2) AS b").to_pylist() == [
            {"a": 4, "b": 6}
        ]
    with rhys.workspace.session(world.pid) as s:
        with pytest.raises(QueryRefused, match="zz_twice"):
            s.query("SELECT zz_twice(2)")
        assert s.query("SELECT zz_thrice(2) AS b").to_pylist() == [{"b": 6}]
        s.query("DROP MACRO zz_thrice")
        assert _snapshot(s, world.pid)[0] == world.snapshot[0]


def test_a_later_session_sees_the_real_store(world: World, rhys: Platform) -> None:
    """Shadowing attempts in one session change nothing another session reads."""
    sql = f"SELECT count(*) AS n, year(DATE '2020-06-01') AS y, sum(1) AS s FROM {world.alf}"
    with rhys.workspace.session(world.pid) as s:
        before = s.query(sql).to_pylist()
        for attack in ("CREATE OR REPLACE MACRO year(d) AS 1999",
                       f"CREATE SCHEMA SAIL{world.pid}V",
                       f"CREATE VIEW CAFW_CAFCASS_ALF_{world.ver} AS SELECT 1 AS ALF_PE"):  # fmt: skip
            with pytest.raises(QueryRefused):
                s.query(attack)
    with rhys.workspace.session(world.pid) as later:
        assert later.query(sql).to_pylist() == before
        assert before[0]["y"] == 2020


def test_a_second_session_in_the_same_process_is_refused_clearly(
    world: World, rhys: Platform
) -> None:
    with rhys.workspace.session(world.pid) as s:
        with pytest.raises(QueryRefused, match="workspace is in use by another session"):
            rhys.workspace.session(world.pid)
        assert s.query("SELECT 1 AS one").to_pylist() == [{"one": 1}]
    with rhys.workspace.session(world.pid) as again:  # released on close
        assert again.query("SELECT 2 AS two").to_pylist() == [{"two": 2}]


def test_allowed_neighbours_of_refused_things_still_work(world: World, rhys: Platform) -> None:
    with rhys.workspace.session(world.pid) as s:
        assert s.query("SELECT * FROM pragma_version()").num_rows == 1
        assert s.query("SELECT 'abc' GLOB 'a*' AS g").to_pylist() == [{"g": True}]
        assert s.query(f"SELECT count(*) AS n FROM {world.alf}").num_rows == 1
        assert s.query("SELECT * FROM range(5000)").num_rows == 5000  # past a screen's rows
        assert s.query("SELECT list(range) AS l FROM range(500)").num_rows == 1
        assert s.query("SELECT database_name FROM pragma_database_size()").num_rows >= 2


def _has_path(values: list[Any], w: World) -> str | None:
    for v in values:
        text = str(v)
        for p in w.paths:
            if p in text:
                return text
    return None


def test_no_surface_shows_a_host_path(world: World, rhys: Platform) -> None:
    """Every system table function without arguments, every system view and every
    zero-argument scalar function: run as DuckDB would run it, either it shows no host path,
    or the workspace refuses it."""
    w = world
    with rhys.workspace.session(w.pid) as s:
        raw = s._session.con
        fns = raw.execute(
            "SELECT DISTINCT function_name, function_type FROM system.main.duckdb_functions() "
            "WHERE database_name = 'system' AND function_type IN ('table', 'scalar') "
            "AND len(parameters) = 0 ORDER BY 1"
        ).fetchall()
        views = raw.execute(
            "SELECT DISTINCT schema_name, view_name FROM system.main.duckdb_views() "
            "WHERE internal ORDER BY 1, 2"
        ).fetchall()
        surfaces: list[tuple[str, str]] = []
        for name, kind in fns:
            call = f"SELECT * FROM system.main.{name}()" if kind == "table" else (
                f"SELECT system.main.{name}() AS v")  # fmt: skip
            surfaces.append((name, call))
        surfaces += [(v, f"SELECT * FROM system.{schema}.{v}") for schema, v in views]
        leaking = []
        for name, sql in surfaces:
            if name in REFUSED:
                continue  # refused below, never run
            try:
                rows = raw.execute(sql).fetchall()
            except Exception as exc:
                rows = [str(exc)]
            if hit := _has_path([c for r in rows for c in (r if isinstance(r, tuple) else [r])], w):
                leaking.append((name, hit[:80]))
        assert not leaking, f"host paths shown by: {leaking}"
        for name in sorted(REFUSED):
            with pytest.raises(QueryRefused, match="not available in the workspace"):
                s.query(f"SELECT * FROM {name}()")
    assert len(surfaces) > 100


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT path FROM duckdb_databases()",
        "SELECT * FROM duckdb_databases",
        "SELECT current_setting('temp_directory')",
        "SELECT value FROM duckdb_settings() WHERE name = 'temp_directory'",
        "SELECT * FROM pg_settings",
        "SELECT * FROM pragma_database_list",
        "SELECT * FROM pragma_database_list()",
        "PRAGMA database_list",
        "SELECT * FROM duckdb_temporary_files()",
        "SELECT install_path FROM duckdb_extensions()",
        "SELECT * FROM duckdb_external_file_cache()",
        "SELECT * FROM duckdb_logs",
        "SELECT * FROM duckdb_secrets()",
        "SELECT getenv('PATH')",
        "SELECT * FROM '/etc/passwd'",
        "SELECT * FROM read_csv('{home}/x.csv')",
        "IMPORT DATABASE '{home}'",
    ],
)
def test_each_host_path_surface_is_closed(world: World, rhys: Platform, sql: str) -> None:
    with rhys.workspace.session(world.pid) as s, pytest.raises(QueryRefused) as caught:
        s.query(sql.format(home=world.home))
    assert_clean(str(caught.value), world)


def test_show_and_describe_name_no_path(world: World, rhys: Platform) -> None:
    with rhys.workspace.session(world.pid) as s:
        for sql in ("SHOW DATABASES", "SHOW ALL TABLES", f"DESCRIBE {world.alf}",
                    "SELECT * FROM duckdb_tables()", "SELECT * FROM pragma_database_size()"):  # fmt: skip
            rows = s.query(sql).to_pylist()
            assert rows and _has_path([v for r in rows for v in r.values()], world) is None


def test_spill_files_are_capped_and_private(world: World, rhys: Platform) -> None:
    """DuckDB's default spill ceiling is 90% of the disk: the session sets its own, in the
    project's own folder, readable by the platform's account only."""
    lim = replace(SessionLimits(), temp_limit=3 * 1024**3)
    with limits(rhys, lim), rhys.workspace.session(world.pid) as s:
        raw = s._session.con
        spill = Path(raw.execute("SELECT current_setting('temp_directory')").fetchone()[0])
        ceiling = raw.execute("SELECT current_setting('max_temp_directory_size')").fetchone()[0]
        with pytest.raises(QueryRefused, match="SET statements"):
            s.query("SET max_temp_directory_size = '1TB'")
    assert ceiling.replace(" ", "") == "3.0GiB", ceiling
    assert spill.is_relative_to(world.home / "projects" / world.pid)
    assert spill.is_dir() and spill.stat().st_mode & 0o077 == 0
