"""Bank load: identifiers refused by spec and by value, atomic dated refreshes, checks on the ALF file."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pytest

from justicelink import bank
from justicelink.crypto import ZoneKeys, load_recipient, open_sealed, seal_folder
from justicelink.formats import RefusedError, content_file_name
from justicelink.linkage import load_register, run_submission
from justicelink.provider import split
from justicelink.specs import load_spec


@pytest.fixture()
def submission(world, zones, tmp_path: Path):
    lk, bk = zones["linkage"], zones["bank"]
    load_register(world.register_dir, lk.folder.parent, lk.prf_key())
    split(
        load_spec("CAFW"), world.extracts["CAFW"], tmp_path / "sub",
        linkage_recipient=load_recipient(lk.recipient), bank_recipient=load_recipient(bk.recipient),
        provider_key=zones["provider"].prf_key(),
    )  # fmt: skip
    run = run_submission(
        tmp_path / "sub" / "linkage", lk.folder.parent, load_recipient(bk.recipient)
    )
    return tmp_path / "sub" / "bank", run.outbox


def _bank_dir(zones) -> Path:
    return zones["bank"].folder.parent


def test_load_creates_a_dated_version(submission, zones) -> None:
    content, alf = submission
    r = bank.load(content, alf, _bank_dir(zones), refresh_date="20250101")
    assert r.version == "20250101"
    assert (r.folder / "CAFCASS_ALF.parquet").is_file()
    cols = bank.read_schema(_bank_dir(zones), "CAFW", "20250101", "CAFCASS_ALF").names
    assert "SYSTEM_ID" not in cols and "SYSTEM_ID_E" in cols and "ALF_E" in cols
    assert [v.version for v in bank.versions(_bank_dir(zones))] == ["20250101"]


def test_second_refresh_keeps_the_first_intact(submission, zones) -> None:
    content, alf = submission
    first = bank.load(content, alf, _bank_dir(zones), refresh_date="20250101")
    before = {p.name: p.read_bytes() for p in first.folder.iterdir()}
    with pytest.raises(RefusedError, match="already has a refresh dated 20250101"):
        bank.load(content, alf, _bank_dir(zones), refresh_date="20250101")
    bank.load(content, alf, _bank_dir(zones), refresh_date="20250201")
    assert {p.name: p.read_bytes() for p in first.folder.iterdir()} == before
    assert [v.version for v in bank.versions(_bank_dir(zones), "CAFW")] == ["20250101", "20250201"]


def _reseal(content: Path, zones, tmp_path: Path, mutate) -> Path:
    ident = zones["bank"].identity()
    manifest, tables = open_sealed(content, ident, "bank", kind="content")
    tables = {n: (e.table, tables[n]) for n, e in ((e.name, e) for e in manifest.files)}
    mutate(tables)
    out = tmp_path / "forged"
    seal_folder(out, replace(manifest, files=[]), tables, load_recipient(zones["bank"].recipient))
    return out


def test_identifier_column_is_refused(submission, zones, tmp_path: Path) -> None:
    content, alf = submission

    def add_nhs(tables) -> None:
        name = content_file_name("CAFCASS_ALF")
        t = tables[name][1]
        tables[name] = (
            "CAFCASS_ALF",
            t.append_column("NHS_NUMBER", pa.array(["4010232137"] * t.num_rows)),
        )

    forged = _reseal(content, zones, tmp_path, add_nhs)
    with pytest.raises(RefusedError, match=r"\['NHS_NUMBER'\] are identifiers"):
        bank.load(forged, alf, _bank_dir(zones), refresh_date="20250101")
    assert bank.versions(_bank_dir(zones)) == []


@pytest.mark.parametrize(
    "value,what",
    [
        ("401 023 2137", "NHS numbers"),
        ("CF10 1AB", "full postcodes"),
        ("14/03/2010", "full dates"),
        ("2010-03-14", "full dates"),
        # inside a longer value, not only as the whole value
        ("Cardiff court ref 401 023 2137", "NHS numbers"),
        ("Court (4010232137)", "NHS numbers"),
        ("Court near CF10 1AB Cardiff", "full postcodes"),
        ("Court, seen 2010-03-14", "full dates"),
        # the red team's evasions: other separators, a valid number after an invalid one
        ("943-476-5919", "NHS numbers"),
        ("943.476.5919", "NHS numbers"),
        ("Court 1234567890 9434765919", "NHS numbers"),
        ("SW1A  1AA", "full postcodes"),
        ("SW1A-1AA", "full postcodes"),
        ("14-03-2010", "full dates"),
        ("2010/03/14", "full dates"),
        ("14/3/2010", "full dates"),
        ("Court 20100314", "full dates"),
        ("MAISIE JONES 7 March 1950", "full dates"),
    ],
)
def test_identifier_values_in_content_are_refused(
    fresh, tmp_path: Path, value: str, what: str
) -> None:
    zones, content, alf, bank_dir = fresh

    def smuggle(tables) -> None:
        name = content_file_name("CAFCASS_INCIDENT")
        t = tables[name][1]
        i = t.column_names.index("CAP_COURTIDNAME")
        tables[name] = (
            "CAFCASS_INCIDENT",
            t.set_column(i, "CAP_COURTIDNAME", pa.array([value] * t.num_rows)),
        )

    forged = _reseal(content, zones, tmp_path, smuggle)
    with pytest.raises(RefusedError, match=f"look like {what}"):
        bank.load(forged, alf, bank_dir, refresh_date="20250101")
    assert not (bank_dir / "datasets" / "CAFW" / "20250101").exists()


def test_alf_file_must_cover_every_record(submission, zones, tmp_path: Path) -> None:
    content, alf = submission
    ident = zones["bank"].identity()
    manifest, tables = open_sealed(alf, ident, "bank", kind="alf")
    name = manifest.files[0].name
    short = tables[name].slice(1)
    forged = tmp_path / "alf"
    seal_folder(
        forged,
        replace(manifest, files=[]),
        {name: ("ALF", short)},
        load_recipient(zones["bank"].recipient),
    )
    with pytest.raises(RefusedError, match="has no row for 1 record"):
        bank.load(content, forged, _bank_dir(zones), refresh_date="20250101")


def test_refresh_date_must_be_real(submission, zones) -> None:
    content, alf = submission
    from justicelink.formats import InputError

    with pytest.raises(InputError, match="not a real date"):
        bank.load(content, alf, _bank_dir(zones), refresh_date="20250231")


def test_dictionary_comes_from_the_spec() -> None:
    rows = bank.dictionary("NCCH")
    cols = {r["column"] for r in rows}
    assert {"ALF_E", "MAT_ALF_E", "WOB", "CHILD_ID_E", "MAT_AGE", "BIRTH_WEIGHT"} <= cols
    assert not {"NHS_NUMBER", "DOB", "MAT_DOB", "POSTCODE"} & cols


@pytest.fixture(scope="module")
def built(world, tmp_path_factory):
    """One submission for the module's refusal tests (each gets a fresh bank with its keys)."""
    root = tmp_path_factory.mktemp("bank-hostile")
    zs = {z: ZoneKeys.create(root / z, z) for z in ("provider", "linkage", "bank")}
    lk, bk = zs["linkage"], zs["bank"]
    load_register(world.register_dir, lk.folder.parent, lk.prf_key())
    split(
        load_spec("CAFW"), world.extracts["CAFW"], root / "sub",
        linkage_recipient=load_recipient(lk.recipient), bank_recipient=load_recipient(bk.recipient),
        provider_key=zs["provider"].prf_key(),
    )  # fmt: skip
    run = run_submission(root / "sub" / "linkage", lk.folder.parent, load_recipient(bk.recipient))
    return zs, root / "sub" / "bank", run.outbox


@pytest.fixture()
def fresh(built, tmp_path: Path):
    zs, content, alf = built
    bank_dir = tmp_path / "bank"
    shutil.copytree(zs["bank"].folder, bank_dir / "keys")
    return zs, content, alf, bank_dir


SWALLOWED = "X\nE1,4010232137,MARI,FOWLER,1950-01-05,F,SY8 7RG,2014-01-24,2,24Z\nE2,..."


@pytest.mark.parametrize(
    "value,reason",
    [
        (SWALLOWED, "control or invisible"),  # the red team's swallowed rows
        ("A" * 101, "longer than the spec allows"),
        ("=HYPERLINK(1)", "formula"),
        ("\u00a0=1", "formula"),
        ("Court\u202e", "control or invisible"),
        ("Court; DROP", "form the spec declares"),
    ],
)
def test_bank_repeats_the_splits_bounds(fresh, tmp_path: Path, value: str, reason: str) -> None:
    """Defence in depth: a content file that did not come through the split (forged, or split
    by a broken version) is held to the spec's bounds again; the refusal quotes no value."""
    zones, content, alf, bank_dir = fresh

    def smuggle(tables) -> None:
        name = content_file_name("CAFCASS_INCIDENT")
        t = tables[name][1]
        i = t.column_names.index("CAP_COURTIDNAME")
        values = t.column(i).to_pylist()
        values[7] = value
        tables[name] = ("CAFCASS_INCIDENT", t.set_column(i, "CAP_COURTIDNAME", pa.array(values)))

    forged = _reseal(content, zones, tmp_path, smuggle)
    with pytest.raises(RefusedError, match=reason) as info:
        bank.load(forged, alf, bank_dir, refresh_date="20250101")
    assert "1 value(s) outside the spec" in str(info.value)
    assert "4010232137" not in str(info.value) and "FOWLER" not in str(info.value)
    assert not (bank_dir / "datasets" / "CAFW" / "20250101").exists()


def test_bank_refuses_a_content_column_of_the_wrong_type(fresh, tmp_path) -> None:
    zones, content, alf, bank_dir = fresh

    def as_text(tables) -> None:
        name = content_file_name("CAFCASS_APPLICATION")
        t = tables[name][1]
        i = t.column_names.index("CAP_ISSUEDATE")
        tables[name] = (
            "CAFCASS_APPLICATION",
            t.set_column(i, "CAP_ISSUEDATE", t.column(i).cast(pa.string())),
        )

    forged = _reseal(content, zones, tmp_path, as_text)
    with pytest.raises(RefusedError, match="CAP_ISSUEDATE is VARCHAR, the spec says DATE"):
        bank.load(forged, alf, bank_dir, refresh_date="20250101")


def test_killed_load_leftovers_are_swept(fresh) -> None:
    """A load killed mid-way leaves a .tmp- folder (its lock free, or no lock at all if old);
    the next load of the dataset removes it."""
    import os
    import time

    _, content, alf, bank_dir = fresh
    ds = bank_dir / "datasets" / "CAFW"
    ds.mkdir(parents=True)
    dead = ds / ".tmp-20250101-deadbeef"
    dead.mkdir()
    (dead / "CAFCASS_ALF.parquet").write_bytes(b"partial")
    (ds / ".tmp-20250101-deadbeef.lock").write_text("")
    old = ds / ".tmp-20240101-0ldf0lde"
    old.mkdir()
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    bank.load(content, alf, bank_dir, refresh_date="20250101")
    assert sorted(p.name for p in ds.iterdir()) == ["20250101"]


def test_a_whole_number_shaped_like_an_nhs_number_is_refused() -> None:
    """Even under a spec whose bounds are too wide, an integer that is a valid NHS number is
    refused (defence in depth behind the spec's min and max)."""
    import duckdb

    from justicelink.bank.guards import check_values
    from justicelink.specs.model import parse_spec

    spec = parse_spec(
        b'dataset = "W"\ntitle = "t"\nprovider = "p"\nversion = "1"\n[[tables]]\nname = "W"\n'
        b'columns = [{ name = "N", class = "content", type = "integer", min = 0, '
        b"max = 99999999999 }]\n",
        "w.toml",
    )
    con = duckdb.connect()
    con.register("ok", pa.table({"N": pa.array([1, 2, 1234567890], pa.int64())}))
    check_values(con, "ok", spec.tables[0], "ok.parquet")  # 1234567890 fails the check digit
    con.register("bad", pa.table({"N": pa.array([1, 9434765919], pa.int64())}))
    with pytest.raises(RefusedError, match="1 number\\(s\\) shaped like NHS numbers") as info:
        check_values(con, "bad", spec.tables[0], "bad.parquet")
    assert "9434765919" not in str(info.value)


def test_the_banks_spill_stays_in_the_zone_encrypted(tmp_path: Path) -> None:
    """Red team F6: the bank's DuckDB spilled plaintext into the working directory."""
    from justicelink.bank.tables import connect

    ZoneKeys.create(tmp_path / "bank", "bank")
    con = connect(tmp_path / "bank", create_key=True, write=True)
    spill = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert Path(spill).resolve().is_relative_to((tmp_path / "bank").resolve())
    assert (Path(spill).stat().st_mode & 0o077) == 0
    assert con.execute("SELECT current_setting('temp_file_encryption')").fetchone()[0] is True
