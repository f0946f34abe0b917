"""The researcher's session: only their project's tables, no way out, every query audited."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from signin import sign_in

from justicelink.formats import RefusedError
from justicelink.platform import Platform
from justicelink.workspace import QueryRefused


@pytest.fixture(scope="module")
def rhys(demo_home: Path):
    with sign_in(demo_home, "rhys") as p:
        yield p


def _demo(demo_home: Path) -> dict:
    return json.loads((demo_home / "demo.json").read_text())


ESCAPES = [
    "SELECT * FROM read_csv('{home}/bank/keys/prf.key')",
    "SELECT * FROM read_text('{home}/projects/{other}/keys/prf.key')",
    "SELECT * FROM read_parquet('{home}/bank/datasets/CAFW/*/CAFCASS_ALF.parquet')",
    "SELECT * FROM glob('{home}/*')",
    "ATTACH '{home}/projects/{other}/store/SAIL{other}V.duckdb' AS other",
    "ATTACH '{home}/projects/{pid}/store/SAIL{pid}V.duckdb' AS again",
    "DETACH SAIL{pid}V",
    "COPY (SELECT 1) TO '{home}/out.csv'",
    "EXPORT DATABASE '{home}/dump'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "RESET lock_configuration",
    "PRAGMA enable_profiling",
    "CALL pragma_database_list()",
    "CREATE SECRET s (TYPE s3, KEY_ID 'x', SECRET 'y')",
    "CREATE TABLE SAIL{pid}V.mine AS SELECT 1",
    "DROP TABLE SAIL{pid}V.CAFW_CAFCASS_ALF_{ver}",
    "SELECT * FROM SAIL{other}V.CAFW_CAFCASS_ALF_{ver}",
    "USE SAIL{pid}V",
]


@pytest.mark.parametrize("template", ESCAPES)
def test_escape_attempts_are_refused(demo_home: Path, rhys: Platform, template: str) -> None:
    demo = _demo(demo_home)
    pid, other = sorted(demo["projects"])
    ver = demo["projects"][pid]["pins"]["CAFW"]
    sql = template.format(home=demo_home, pid=pid, other=other, ver=ver)
    with rhys.workspace.session(pid) as s, pytest.raises(QueryRefused):
        s.query(sql)
    assert not (demo_home / "out.csv").exists() and not (demo_home / "dump").exists()


def test_own_tables_and_workspace_work(demo_home: Path, rhys: Platform) -> None:
    demo = _demo(demo_home)
    pid = sorted(demo["projects"])[0]
    ver = demo["projects"][pid]["pins"]["CAFW"]
    with rhys.workspace.session(pid) as s:
        n = s.query(f"SELECT count(*) AS n FROM SAIL{pid}V.CAFW_CAFCASS_ALF_{ver}")
        assert n.column("n")[0].as_py() > 0
        s.query(
            f"CREATE OR REPLACE TABLE SAILW{pid}V.kids AS SELECT ALF_PE FROM SAIL{pid}V.CAFW_CAFCASS_ALF_{ver}",
        )
        again = s.query(f"SELECT count(*) AS n FROM SAILW{pid}V.kids")
        assert again.column("n")[0].as_py() == n.column("n")[0].as_py()


def test_non_members_get_nothing(demo_home: Path, rhys: Platform) -> None:
    p1, p2 = sorted(_demo(demo_home)["projects"])
    with pytest.raises(RefusedError, match="rhys is not a member of project"):
        rhys.workspace.session(p2)
    with (
        sign_in(demo_home, "gita") as gita,
        pytest.raises(RefusedError, match="gita is a governance"),
    ):
        gita.workspace.session(p1)
    entries = rhys.cp.audit_entries(f"project:{p2}")
    assert any(e.action == "workspace.open.refused" and e.actor == "user:rhys" for e in entries)


def test_queries_are_audited_without_rows(demo_home: Path, rhys: Platform) -> None:
    """From the notebook API too: a session's pandas() is a checked, audited query."""
    pid = sorted(_demo(demo_home)["projects"])[0]
    sql = "SELECT 42 AS answer"
    with rhys.workspace.session(pid) as s:
        s.pandas(sql)
    import hashlib

    entries = rhys.cp.audit_entries(f"project:{pid}")
    digest = hashlib.sha256(sql.encode()).hexdigest()
    hit = [e for e in entries if e.action == "workspace.query" and digest in e.details]
    assert hit and hit[-1].actor == "user:rhys" and hit[-1].object == f"project:{pid}"
    assert "42" not in hit[-1].details.replace(digest, "")


def test_notebook_api_returns_frames(demo_home: Path, rhys: Platform) -> None:
    demo = _demo(demo_home)
    pid = sorted(demo["projects"])[0]
    ver = demo["projects"][pid]["pins"]["CAFW"]
    with rhys.workspace.session(pid) as s:
        frame = s.pandas(
            f"SELECT GNDR_CD, count(*) AS n FROM SAIL{pid}V.CAFW_CAFCASS_ALF_{ver} GROUP BY 1 ORDER BY 1"
        )
    assert list(frame.columns) == ["GNDR_CD", "n"] and frame["n"].sum() > 0


def test_airlock_is_the_only_way_out(demo_home: Path, rhys: Platform) -> None:
    """The researcher cannot write a file from the workspace; the released folder is filled only
    by an approved request, and only checkers (or the author) see requests."""
    demo = _demo(demo_home)
    pid = sorted(demo["projects"])[0]
    with rhys.workspace.session(pid) as s:
        for sql in (f"COPY (SELECT 1) TO '{demo_home}/x.csv'", f"EXPORT DATABASE '{demo_home}/x'"):
            with pytest.raises(QueryRefused):
                s.query(sql)
    released = {p.name for p in (demo_home / "airlock" / "released").iterdir()}
    recorded = {r.request_id for r in rhys.cp.requests() if r.state == "released"}
    assert demo["airlock_request"] in released and released == recorded
    with sign_in(demo_home, "rowan") as rowan, pytest.raises(RefusedError, match="not the author"):
        rowan.airlock.view(demo["airlock_request"])
    with sign_in(demo_home, "olwen") as olwen:
        assert olwen.airlock.view(demo["airlock_request"]).state == "released"


def test_refusal_reasons_in_the_audit_log_quote_no_values(demo_home: Path, rhys: Platform) -> None:
    """A database error can quote a cell; the audit log keeps the reason without it."""
    pid = sorted(_demo(demo_home)["projects"])[0]
    with rhys.workspace.session(pid) as s, pytest.raises(QueryRefused):
        s.query("SELECT CAST('ZZCELLVALUEZZ' AS INTEGER)")
    entries = rhys.cp.audit_entries()
    refused = [e for e in entries if e.action == "workspace.query.refused"]
    assert refused and "Conversion" in refused[-1].details
    assert not any("ZZCELLVALUEZZ" in e.details for e in entries)


def test_data_values_in_database_errors_stay_out_of_the_audit_log(
    demo_home: Path, rhys: Platform
) -> None:
    """``error()`` can put any cell into DuckDB's message; the audit log keeps only its kind."""
    demo = _demo(demo_home)
    pid = sorted(demo["projects"])[0]
    ver = demo["projects"][pid]["pins"]["CAFW"]
    with rhys.workspace.session(pid) as s:
        lsoa = s.query(f"SELECT LSOA2011_CD FROM SAIL{pid}V.CAFW_CAFCASS_ALF_{ver} "
                       "WHERE LSOA2011_CD IS NOT NULL LIMIT 1").column(0)[0].as_py()  # fmt: skip
        with pytest.raises(QueryRefused):
            s.query(f"SELECT error(LSOA2011_CD) FROM SAIL{pid}V.CAFW_CAFCASS_ALF_{ver} "
                    f"WHERE LSOA2011_CD = '{lsoa}'")  # fmt: skip
    last = [
        e for e in rhys.cp.audit_entries(f"project:{pid}") if e.action == "workspace.query.refused"
    ][-1]
    assert lsoa not in last.details and "Invalid Input Error" in last.details


def test_a_workspace_in_use_is_refused_clearly(demo_home: Path, rhys: Platform) -> None:
    """Another process holds the workspace: a second session is refused, not a traceback."""
    import subprocess
    import sys

    from signin import token

    pid = sorted(_demo(demo_home)["projects"])[0]
    with rhys.workspace.session(pid):
        res = subprocess.run(
            [sys.executable, "-m", "justicelink.cli", "workspace", "sql", "SELECT 1", "--project",
             pid, "--home", str(demo_home)],
            capture_output=True, text=True, env={**os.environ, "JUSTICELINK_TOKEN": token(demo_home, "rhys")},
        )  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "workspace is in use by another session" in res.stderr and "Traceback" not in res.stderr
