"""Encryption at rest (SATRE 2.8.01, decision 0008), on real files: a real bank load and a real
provision. Every bank Parquet file and every project database is unreadable without its zone's
key and holds no plaintext value; with the key it reads back what was written; a wrong key is a
clear refusal; keys are 0600 in 0700 folders of their own zone, never beside the data."""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from justicelink import bank
from justicelink.crypto import ZoneKeys, at_rest, int_prf_python, load_recipient, open_sealed
from justicelink.formats import ProjectGrant, RefusedError, content_file_name
from justicelink.linkage import load_register, run_submission
from justicelink.projects import at_rest_key, provision, table_name, withdraw, workspace_path
from justicelink.provider import split
from justicelink.specs import load_spec
from justicelink.workspace import ProjectSession, QueryRefused

VERSION = "20250101"
PID = "0042"
INCIDENT = "CAFCASS_INCIDENT"
CONTENT = ["CAP_LAWTYPENAME", "CAP_LOCALAUTHORITYNAME", "CAP_COURTIDNAME", "CAP_CREATEDON"]


def _session(root: Path) -> ProjectSession:
    projects = root / "projects"
    store = projects / PID / "store" / f"SAIL{PID}V.duckdb"
    return ProjectSession(PID, store, workspace_path(projects, PID), key=at_rest_key(projects, PID))


@pytest.fixture(scope="module")
def home(world, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("at-rest")
    keys = {z: ZoneKeys.create(root / z, z) for z in ("provider", "linkage", "bank")}
    load_register(world.register_dir, root / "linkage", keys["linkage"].prf_key())
    split(
        load_spec("CAFW"), world.extracts["CAFW"], root / "sub",
        linkage_recipient=load_recipient(keys["linkage"].recipient),
        bank_recipient=load_recipient(keys["bank"].recipient), provider_key=keys["provider"].prf_key(),
    )  # fmt: skip
    run = run_submission(
        root / "sub" / "linkage", root / "linkage", load_recipient(keys["bank"].recipient),
        probabilistic=False,
    )  # fmt: skip
    loaded = bank.load(root / "sub" / "bank", run.outbox, root / "bank", refresh_date=VERSION)
    tables = {t: bank.read_schema(root / "bank", "CAFW", VERSION, t).names for t in loaded.rows}
    grant = ProjectGrant(project_id=PID, title="t", datasets={"CAFW": tables})
    provisioned = provision(grant, [bank.describe(root / "bank", "CAFW")], root / "projects")
    with _session(root) as s:  # the researchers' own table, in the workspace
        s.query(
            f"CREATE TABLE mine AS SELECT CAP_LOCALAUTHORITYNAME AS la, count(*) AS n "
            f"FROM SAIL{PID}V.CAFW_{INCIDENT}_{VERSION} GROUP BY 1"
        )
    _, sealed = open_sealed(root / "sub" / "bank", keys["bank"].identity(), "bank", kind="content")
    return SimpleNamespace(
        root=root, grant=grant, provisioned=provisioned,
        content=sealed[content_file_name(INCIDENT)],
    )  # fmt: skip


def _files(root: Path) -> list[Path]:
    found = sorted((root / "bank" / "datasets").rglob("*.parquet"))
    found += sorted(p for p in (root / "projects").rglob("*.duckdb") if ".withdrawn" not in str(p))
    return found


def _plaintexts(home: SimpleNamespace) -> list[bytes]:
    """Values known to be in the data: a code-list value, local authority and court names
    (from the content file itself), bank ALFs and project ALF_PEs as decimal text and as the
    8 bytes DuckDB would store."""
    incident = home.content
    las = Counter(incident.column("CAP_LOCALAUTHORITYNAME").drop_null().to_pylist())
    courts = Counter(incident.column("CAP_COURTIDNAME").drop_null().to_pylist())
    values = [v.encode() for v, _ in las.most_common(3) + courts.most_common(2)]
    values.append(b"Child Arrangements Order - Spend Time With")
    alf = bank.open_table(home.root / "bank", "CAFW", VERSION, "CAFCASS_ALF", ["ALF_E"])
    alfs = alf.read_all().column("ALF_E").drop_null().to_pylist()[:5]
    key = ZoneKeys.open(home.root / "projects" / PID, "project").prf_key()
    pes = [int_prf_python(key, "alf", v) for v in alfs]
    for v in alfs + pes:
        values += [str(v).encode(), int(v).to_bytes(8, "little", signed=True)]
    return values


def test_every_bank_and_project_file_is_encrypted(home: SimpleNamespace) -> None:
    files = _files(home.root)
    assert len([f for f in files if f.suffix == ".parquet"]) == len(home.grant.datasets["CAFW"])
    assert {f.parent.name for f in files if f.suffix == ".duckdb"} == {"store", "workspace"}
    plain = _plaintexts(home)
    for f in files:
        if f.suffix == ".parquet":
            with pytest.raises(OSError, match="encrypted"):
                pq.read_table(f)
            with pytest.raises(duckdb.InvalidInputException, match="encrypted"):
                duckdb.connect().execute(f"SELECT * FROM read_parquet('{f}')").fetchall()
        else:
            with pytest.raises(duckdb.Error, match="encrypted"):
                duckdb.connect(str(f), read_only=True)
        raw = f.read_bytes()
        found = [v for v in plain if v in raw]
        assert not found, f"{f.name}: {len(found)} plaintext value(s) in the raw bytes"


def test_the_plaintext_check_would_see_an_unencrypted_file(
    home: SimpleNamespace, tmp_path: Path
) -> None:
    """The same bank table written the same way without encryption shows its values: the
    check above has teeth."""
    con = duckdb.connect()
    con.register("t", bank.open_table(home.root / "bank", "CAFW", VERSION, INCIDENT))
    out = tmp_path / "plain.parquet"
    con.execute(f"COPY t TO '{out}' (FORMAT parquet, COMPRESSION zstd)")
    raw = out.read_bytes()
    assert any(v in raw for v in _plaintexts(home)[:5])


def test_with_the_key_everything_reads_back(home: SimpleNamespace) -> None:
    root = home.root
    got = bank.open_table(root / "bank", "CAFW", VERSION, INCIDENT, CONTENT).read_all()
    want = home.content.select(CONTENT)

    def rows(t: pa.Table) -> Counter:
        return Counter(tuple(str(v) for v in r.values()) for r in t.to_pylist())

    assert got.num_rows == want.num_rows and rows(got) == rows(want)
    assert bank.count_rows(root / "bank", "CAFW", VERSION, INCIDENT) == want.num_rows
    with _session(root) as s:
        cols = ", ".join(CONTENT)
        store = s.query(f"SELECT {cols} FROM SAIL{PID}V.CAFW_{INCIDENT}_{VERSION}")
        assert rows(store) == rows(want)
        assert s.query("SELECT sum(n) AS n FROM mine").column("n")[0].as_py() == want.num_rows
    for t in home.grant.datasets["CAFW"]:  # every bank row reached the store
        n = bank.count_rows(root / "bank", "CAFW", VERSION, t)
        assert home.provisioned.tables[table_name("CAFW", t, VERSION)] == n


def test_a_wrong_key_is_refused_clearly(home: SimpleNamespace) -> None:
    root, other = home.root, at_rest.new_key()
    store = home.provisioned.store
    con = duckdb.connect()
    with pytest.raises(RefusedError, match="cannot be opened with this zone's at-rest key") as e:
        at_rest.attach(con, store, "s", other, read_only=True)
    assert base64.b64encode(other).decode() not in str(e.value)
    with pytest.raises(RefusedError, match="cannot be opened with this zone's at-rest key"):
        ProjectSession(PID, store, home.provisioned.workspace, key=other)
    parquet = root / "bank" / "datasets" / "CAFW" / VERSION / f"{INCIDENT}.parquet"
    at_rest.add_parquet_key(con, "bank", other)
    scan = f"SELECT * FROM read_parquet('{parquet}', {at_rest.parquet_read_options('bank')})"
    with pytest.raises(duckdb.InvalidInputException, match="AES tag"):
        con.execute(scan).fetchall()
    real = ZoneKeys.open(root / "bank", "bank").folder / "at-rest.key"
    saved = real.read_bytes()
    try:
        real.write_text(other.hex() + "\n")
        with pytest.raises(RefusedError, match=f"bank file CAFW/{VERSION}/{INCIDENT}.parquet"):
            bank.open_table(root / "bank", "CAFW", VERSION, INCIDENT).read_all()
    finally:
        real.write_bytes(saved)


def test_a_wrong_key_through_the_cli_is_a_message_not_a_traceback(demo_home: Path) -> None:
    from signin import token

    pid = sorted(json.loads((demo_home / "demo.json").read_text())["projects"])[0]
    key = demo_home / "projects" / pid / "keys" / "at-rest.key"
    saved = key.read_bytes()
    try:
        key.write_text(at_rest.new_key().hex() + "\n")
        res = subprocess.run(
            [sys.executable, "-m", "justicelink.cli", "workspace", "sql", "SELECT 1", "--project",
             pid, "--home", str(demo_home)],
            capture_output=True, text=True, env={**os.environ, "JUSTICELINK_TOKEN": token(demo_home, "rhys")},
        )  # fmt: skip
    finally:
        key.write_bytes(saved)
    assert res.returncode == 2, res.stderr
    assert "cannot be opened with this zone's at-rest key" in res.stderr
    assert "Traceback" not in res.stderr


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_keys_live_in_their_zone_keys_folder_only(home: SimpleNamespace) -> None:
    root = home.root
    for zone in (root / "bank", root / "projects" / PID):
        folder = zone / "keys"
        assert _mode(folder) == 0o700
        key = folder / "at-rest.key"
        assert _mode(key) == 0o600
        secret = key.read_text().strip()
        forms = [secret.encode(), base64.b64encode(bytes.fromhex(secret)), bytes.fromhex(secret)]
        for f in zone.rglob("*"):
            if f.is_file() and "keys" not in f.relative_to(zone).parts:
                assert not f.name.endswith(".key"), f"{f}: a key beside the data"
                raw = f.read_bytes()
                assert not [k for k in forms if k in raw], f"{f}: holds its zone's key"
    assert not list((root / "bank" / "datasets").rglob("*.key"))


def test_the_key_is_never_visible_to_session_sql(home: SimpleNamespace) -> None:
    key = at_rest_key(home.root / "projects", PID)
    forms = [base64.b64encode(key).decode(), key.hex(), key.hex().upper()]
    with _session(home.root) as s:
        settings = [r[0] for r in s.con.execute("SELECT name FROM duckdb_settings()").fetchall()]
        seen = [
            str(s.con.execute(sql).fetchall())
            for sql in (
                "SELECT * FROM duckdb_settings()",
                "SELECT * FROM duckdb_databases()",
                "SELECT * FROM pragma_database_list",
                "SELECT * FROM duckdb_logs()",
            )
        ]
        for name in settings:
            try:
                seen.append(str(s.con.execute("SELECT current_setting(?)", [name]).fetchall()))
            except duckdb.CatalogException:  # listed, but only an extension could answer
                continue
        assert s.con.execute(
            "SELECT count(*) FROM duckdb_databases() WHERE NOT internal AND path IS NOT NULL "
            "AND NOT encrypted"
        ).fetchone() == (0,)
        assert s.con.execute("SELECT current_setting('temp_file_encryption')").fetchone() == (True,)
    assert not [f for f in forms for text in seen if f in text]


def test_a_second_session_on_a_workspace_is_refused_cleanly(home: SimpleNamespace) -> None:
    with _session(home.root):
        with pytest.raises(QueryRefused, match="in use by another session"):
            _session(home.root)
        code = (
            "import sys; from pathlib import Path; from justicelink.projects import *; "
            "from justicelink.workspace import ProjectSession; r = Path(sys.argv[1]); "
            f"ProjectSession('{PID}', store_path(r, '{PID}'), workspace_path(r, '{PID}'), "
            f"key=at_rest_key(r, '{PID}'))"
        )
        res = subprocess.run(
            [sys.executable, "-c", code, str(home.root / "projects")],
            capture_output=True, text=True,
        )  # fmt: skip
        assert res.returncode == 1 and "in use by another session" in res.stderr
    with _session(home.root) as s:  # released: opens again
        assert s.query("SELECT 1 AS a").num_rows == 1


def test_a_workspace_from_before_encryption_is_encrypted_on_provision(
    home: SimpleNamespace, tmp_path: Path
) -> None:
    root = tmp_path / "r"
    shutil.copytree(home.root / "bank", root / "bank")
    held = [bank.describe(root / "bank", "CAFW")]
    provision(home.grant, held, root / "projects")
    ws = workspace_path(root / "projects", PID)
    ws.unlink()
    con = duckdb.connect(str(ws))  # as written before decision 0008
    con.execute("CREATE TABLE saved AS SELECT 'Swansea saved table' AS note, 7 AS n")
    con.close()
    meta = root / "projects" / PID / "project.json"
    info = json.loads(meta.read_text())
    del info["at_rest"]
    meta.write_text(json.dumps(info))
    with pytest.raises(RefusedError, match="not encrypted at rest"):
        _session(root)
    provision(home.grant, held, root / "projects")
    assert b"Swansea saved table" not in ws.read_bytes()
    # a crash after the copy but before project.json: the next provisioning sees it encrypted
    info = json.loads(meta.read_text())
    del info["at_rest"]
    meta.write_text(json.dumps(info))
    provision(home.grant, held, root / "projects")
    with _session(root) as s:
        assert s.query("SELECT note, n FROM saved").to_pylist() == [
            {"note": "Swansea saved table", "n": 7}
        ]


def test_withdrawal_keeps_the_workspace_key_apart_and_deleting_it_shreds(
    home: SimpleNamespace, tmp_path: Path
) -> None:
    root = tmp_path / "r"
    shutil.copytree(home.root / "bank", root / "bank")
    provision(home.grant, [bank.describe(root / "bank", "CAFW")], root / "projects")
    key = at_rest_key(root / "projects", PID)
    moved = withdraw(root / "projects", PID)
    assert moved is not None and not (root / "projects" / PID).exists()
    kept = root / "projects" / ".withdrawn-keys" / moved.name / "at-rest.key"
    assert _mode(kept) == 0o600 and _mode(kept.parent) == 0o700
    assert _mode(kept.parent.parent) == 0o700 and not list(moved.rglob("*.key"))
    assert bytes.fromhex(kept.read_text().strip()) == key
    (db,) = moved.glob("*.duckdb")
    con = duckdb.connect()
    at_rest.attach(con, db, "w", key, read_only=True)  # governance can still open it
    con.close()
    kept.unlink()  # crypto-shredding: no key, no workspace, whatever copies exist
    with pytest.raises(duckdb.Error, match="encrypted"):
        duckdb.connect(str(db), read_only=True)
