"""The walking skeleton's invariants, on a real demo home (real files, DuckDB, encryption)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from justicelink.crypto import ZoneKeys, at_rest, open_sealed
from justicelink.formats import RefusedError
from justicelink.projects import at_rest_key
from justicelink.specs import available_specs, load_spec

TEXT_SUFFIXES = {".json", ".html", ".csv", ".txt", ".md", ".log"}


def _read_extract(folder: Path, table: str) -> pa.Table:
    csv = folder / f"{table}.csv"
    if csv.is_file():
        names = pacsv.read_csv(csv).column_names
        types = {c: pa.string() for c in names}
        return pacsv.read_csv(csv, convert_options=pacsv.ConvertOptions(column_types=types))
    return pq.read_table(folder / f"{table}.parquet")


def _extract_identifiers(home: Path) -> dict[str, set[str]]:
    """Every identifier value in every provider extract, as written and normalised."""
    vals: dict[str, set[str]] = {"nhs": set(), "name": set(), "postcode": set(), "dob": set()}
    vals["fullname"] = set()
    ex = home / "provider" / "extracts"
    for ds in available_specs():
        spec = load_spec(ds)
        for t in spec.tables:
            idcols = t.by_class("identifier")
            if not idcols:
                continue
            table = _read_extract(ex / ds, t.name)
            for identity in t.identities:
                cols = {c.role: c.name for c in idcols if c.identity == identity}
                data = {
                    r: [None if v is None else str(v) for v in table.column(n).to_pylist()]
                    for r, n in cols.items()
                }
                for v in data.get("nhs_number", []):
                    if v and re.sub(r"\D", "", v):
                        vals["nhs"].add(re.sub(r"\D", "", v))
                for role in ("forename", "surname"):
                    for v in data.get(role, []):
                        if v and len(v) > 1:
                            vals["name"].add(v.upper())
                for v in data.get("postcode", []):
                    if v:
                        p = re.sub(r"\s", "", v.upper())
                        vals["postcode"] |= {p, f"{p[:-3]} {p[-3:]}"}
                for v in data.get("dob", []):
                    if v:
                        vals["dob"].add(v)
                for f, s in zip(data.get("forename", []), data.get("surname", []), strict=False):
                    if f and s:
                        vals["fullname"].add(f"{f} {s}".upper())
    return vals


def _content_vocabulary() -> set[str]:
    """Content values a spec declares (code lists), which may coincide with a name (e.g. White)."""
    vocab: set[str] = set()
    for name in available_specs():
        for t in load_spec(name).tables:
            for c in t.columns:
                vocab |= {v.upper() for v in (c.codes or ())}
    from justicelink.synth import names

    vocab |= {v.upper() for v in names.LOCAL_AUTHORITIES + names.COURTS}
    return vocab


# identifier shapes looked for inside longer text values
INSIDE = {
    "nhs": "[0-9]{10}",
    "postcode": "[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}",
    "dob": "[0-9]{4}-[0-9]{2}-[0-9]{2}",
}


def _bank_parquet(path: Path) -> str:
    """A bank table, read with the bank's key (registered by ``_with_keys``)."""
    return f"read_parquet('{path}', {at_rest.parquet_read_options('bank')})"


def _with_keys(home: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    at_rest.add_parquet_key(con, "bank", ZoneKeys.open(home / "bank", "bank").at_rest_key())
    return con


def _relations(con: duckdb.DuckDBPyConnection, path: Path, home: Path) -> list[tuple[str, str]]:
    """Every table of a bank Parquet file or a project database, opened with its zone's key."""
    if path.suffix == ".parquet":
        return [(path.name, _bank_parquet(path))]
    alias = f"db{abs(hash(str(path)))}"
    where = path.relative_to(home / "projects").parts
    if where[0] == ".withdrawn":  # a withdrawn workspace: its key is kept apart
        keys = home / "projects" / ".withdrawn-keys" / where[1]
        key = ZoneKeys(keys, "withdrawn").at_rest_key()
    else:
        key = at_rest_key(home / "projects", where[0])
    at_rest.attach(con, path, alias, key, read_only=True)
    rows = con.execute(
        f"SELECT table_name FROM duckdb_tables() WHERE database_name = '{alias}'"
    ).fetchall()
    return [(f"{path.name}:{n}", f'{alias}."{n}"') for (n,) in rows]


def test_no_identifier_reaches_bank_projects_or_airlock(demo_home: Path) -> None:
    ids = _extract_identifiers(demo_home)
    assert len(ids["nhs"]) > 10_000 and len(ids["postcode"]) > 100 and len(ids["name"]) > 100
    vocab = _content_vocabulary()
    event_dates = {
        c.out_name
        for s in available_specs()
        for t in load_spec(s).tables
        for c in t.columns
        if c.type == "date" and c.cls == "content"
    }
    con = _with_keys(demo_home)
    con.register("nhs_ids", pa.table({"v": sorted(ids["nhs"])}))
    con.register("postcode_ids", pa.table({"v": sorted(ids["postcode"])}))
    con.register("name_ids", pa.table({"v": sorted(ids["name"] - vocab)}))
    con.register("dob_ids", pa.table({"v": sorted(ids["dob"])}))
    scanned_tables = scanned_texts = 0
    for zone in ("bank", "projects", "airlock"):
        for path in sorted((demo_home / zone).rglob("*")):
            if not path.is_file() or "keys" in path.parts:
                continue
            if path.suffix in (".parquet", ".duckdb"):
                for name, rel in _relations(con, path, demo_home):
                    scanned_tables += 1
                    for col, typ, *_ in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall():
                        where = f"{zone}/{name}.{col}"
                        c = f'"{col}"'
                        if typ == "DATE":
                            if col == "WOB":
                                bad = con.execute(
                                    f"SELECT count(*) FROM {rel} WHERE isodow({c}) <> 1"
                                ).fetchone()[0]
                                assert bad == 0, f"{where}: WOB finer than a week"
                            else:
                                assert col in event_dates or col == "AVAIL_FROM_DT", (
                                    f"{where}: a date column no spec declares"
                                )
                            continue
                        text = f"upper(CAST({c} AS VARCHAR))"
                        for kind in ("nhs", "postcode", "name"):
                            hits = con.execute(
                                f"SELECT count(*) FROM {rel} WHERE {text} IN "
                                f"(SELECT v FROM {kind}_ids)"
                            ).fetchone()[0]
                            assert hits == 0, f"{where}: {hits} {kind} value(s) found"
                        if typ != "VARCHAR":
                            continue
                        # inside a longer value too (a swallowed row, a smuggled identifier)
                        for kind, shape in INSIDE.items():
                            hits = con.execute(
                                f"SELECT count(*) FROM (SELECT unnest(regexp_extract_all("
                                f"{text}, '{shape}')) AS v FROM {rel}) "
                                f"WHERE v IN (SELECT v FROM {kind}_ids)"
                            ).fetchone()[0]
                            assert hits == 0, f"{where}: {hits} {kind} value(s) inside values"
            elif path.suffix in TEXT_SUFFIXES:
                scanned_texts += 1
                body = path.read_text(encoding="utf-8", errors="replace").upper()
                tokens = set(re.findall(r"[0-9A-Z]+", body))
                assert not tokens & ids["nhs"], f"{path}: NHS number found"
                compact = set(re.findall(r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}", body))
                assert not compact & ids["postcode"], f"{path}: postcode found"
                assert not {d for d in ids["dob"] if d in body}, f"{path}: date of birth found"
                assert not {n for n in ids["fullname"] if n in body}, f"{path}: full name found"
    assert scanned_tables >= 40 and scanned_texts >= 10


def test_alf_pe_differs_between_projects_and_joins_within(demo_home: Path) -> None:
    demo = json.loads((demo_home / "demo.json").read_text())
    p1, p2 = sorted(demo["projects"])
    ver = demo["projects"][p1]["pins"]["CAFW"]
    nver = demo["projects"][p1]["pins"]["NCCH"]
    con = _with_keys(demo_home)
    for p in (p1, p2):
        store = demo_home / "projects" / p / "store" / f"SAIL{p}V.duckdb"
        at_rest.attach(con, store, f"s{p}", at_rest_key(demo_home / "projects", p), read_only=True)
    a = {
        r[0]
        for r in con.execute(
            f"SELECT ALF_PE FROM s{p1}.CAFW_CAFCASS_ALF_{ver} WHERE ALF_PE IS NOT NULL"
        ).fetchall()
    }
    b = {
        r[0]
        for r in con.execute(
            f"SELECT ALF_PE FROM s{p2}.CAFW_CAFCASS_ALF_{ver} WHERE ALF_PE IS NOT NULL"
        ).fetchall()
    }
    assert len(a) == len(b) > 100
    assert not a & b, "the same ALF_PE appears in two projects"
    # same people underneath: the bank ALF maps one to one onto each project's ALF_PE
    bank_alf = con.execute(
        f"SELECT count(DISTINCT ALF_E) FROM {_bank_parquet(demo_home / 'bank/datasets/CAFW' / ver / 'CAFCASS_ALF.parquet')}"
    ).fetchone()[0]
    assert bank_alf == len(a)
    # within project 1, Cafcass children join to their birth records, and mothers too
    joined = con.execute(
        f"SELECT count(*) FROM s{p1}.CAFW_CAFCASS_ALF_{ver} c JOIN s{p1}.NCCH_CHILD_BIRTHS_{nver} b ON c.ALF_PE = b.ALF_PE"
    ).fetchone()[0]
    mothers = con.execute(
        f"SELECT count(*) FROM s{p1}.CAFW_CAFCASS_ALF_{ver} c JOIN s{p1}.NCCH_CHILD_BIRTHS_{nver} b ON c.ALF_PE = b.MAT_ALF_PE"
    ).fetchone()[0]
    assert joined > 10 and mothers > 10
    # the project keys reproduce ALF_PE from the bank ALF (the reference PRF, one value at a
    # time), and no other key does
    from justicelink.crypto import int_prf_python

    k1 = ZoneKeys.open(demo_home / "projects" / p1, "project").prf_key()
    k2 = ZoneKeys.open(demo_home / "projects" / p2, "project").prf_key()
    src = _bank_parquet(demo_home / "bank/datasets/CAFW" / ver / "CAFCASS_ALF.parquet")
    bank_alfs = [
        r[0] for r in con.execute(f"SELECT ALF_E FROM {src} WHERE ALF_E IS NOT NULL").fetchall()
    ]
    r1 = {int_prf_python(k1, "alf", v) for v in bank_alfs}
    r2 = {int_prf_python(k2, "alf", v) for v in bank_alfs}
    assert r1 == a and r2 == b


def test_zone_files_need_the_zone_key(demo_home: Path) -> None:
    demo = json.loads((demo_home / "demo.json").read_text())
    sid = demo["submissions"]["CAFW"]
    linkage = ZoneKeys.open(demo_home / "linkage", "linkage")
    bank = ZoneKeys.open(demo_home / "bank", "bank")
    with pytest.raises(RefusedError, match="cannot be decrypted with the linkage zone's key"):
        open_sealed(
            demo_home / "bank" / "inbox" / sid, linkage.identity(), "linkage", kind="content"
        )
    with pytest.raises(RefusedError, match="cannot be decrypted with the bank zone's key"):
        open_sealed(
            demo_home / "linkage" / "inbox" / sid, bank.identity(), "bank", kind="identifiers"
        )
    for f in (demo_home / "linkage" / "inbox" / sid).iterdir():
        assert f.read_bytes().startswith(b"age-encryption.org/v1"), f"{f} is not age-encrypted"


def test_example_analysis_recovers_planted_truth(demo_home: Path) -> None:
    """The released table equals the generator's truth (give or take unlinked duplicate Cafcass
    records); cells under 10 were suppressed by ACRO; the request went through two checkers."""
    demo = json.loads((demo_home / "demo.json").read_text())
    planted = json.loads((demo_home / "truth" / "planted.json").read_text())["CAFW"]
    truth = planted["children_in_s31_proceedings_by_issue_year"]
    n_dups = sum(
        pq.read_table(demo_home / "truth" / "CAFW_CAFCASS_PERSON.parquet")
        .column("duplicate")
        .to_pylist()
    )
    released = Path(demo["released"])
    got: dict[str, str] = {}
    for line in (released / "output_0_0.csv").read_text().splitlines():
        cells = line.split(",")
        if cells[0].isdigit():
            got[cells[0]] = cells[1]
    checked = 0
    for year, n in truth.items():
        if got.get(year, "") == "":
            assert n < 10 + n_dups, f"{year}: suppressed, but the truth is {n}"
            continue
        value = int(float(got[year]))
        assert value >= 10, "a count below the threshold was released"
        assert n <= value <= n + n_dups, f"{year}: got {value}, truth {n}"
        checked += 1
    assert checked >= 3
    from justicelink.platform import Home, open_control_plane

    cp = open_control_plane(Home.open(demo_home))
    try:
        req = cp.request(demo["airlock_request"])
    finally:
        cp.close()
    assert req is not None and req.state == "released"
    assert {r.checker for r in req.current_reviews()} == {"olwen", "owain"}
    assert Path(demo["report"]).is_file()


def test_demo_json_describes_the_home(demo_home: Path) -> None:
    demo = json.loads((demo_home / "demo.json").read_text())
    from justicelink.control import ROLES

    assert set(demo["users"]) == set(ROLES), "the demo has an account for every role"
    assert demo["datasets"]["CAFW"]["version"] == date.today().strftime("%Y%m%d")
    for p in demo["projects"].values():
        assert re.fullmatch(r"SAIL\d{4}V", p["schema"])
        assert all(re.fullmatch(r"[A-Z]{4}_[A-Z0-9_]+_\d{8}", t) for t in p["tables"])
    assert demo["audit"]["verified"] is True
    passwords = Path(demo["passwords"])
    assert passwords.stat().st_mode & 0o777 == 0o700
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in passwords.iterdir())


def test_second_demo_refuses_without_force(demo_home: Path) -> None:
    before = (demo_home / "demo.json").read_text()
    run = subprocess.run(
        [sys.executable, "-m", "justicelink.cli", "demo", "--home", str(demo_home), "--people", "1000"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 2
    assert "already holds a platform home" in run.stderr
    assert (demo_home / "demo.json").read_text() == before


def test_force_never_deletes_a_foreign_folder(tmp_path: Path) -> None:
    from justicelink.demo import prepare_home

    (tmp_path / "precious.txt").write_text("keep")
    with pytest.raises(RefusedError, match="not a justicelink home"):
        prepare_home(tmp_path, force=True)
    assert (tmp_path / "precious.txt").read_text() == "keep"


def test_the_home_is_owner_only(demo_home: Path) -> None:
    """Every file and folder of a home is its owner's alone (umask 077 at every entry point):
    stores, workspaces, bank Parquet, control.db, reports, keys."""
    loose = [
        str(p.relative_to(demo_home))
        for p in [demo_home, *demo_home.rglob("*")]
        if not p.is_symlink() and p.stat().st_mode & 0o077
    ]
    assert not loose, f"{len(loose)} path(s) readable by others, e.g. {loose[:5]}"
