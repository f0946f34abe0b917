"""Provisioning on a hand-built bank: pseudonyms equal the reference PRF per key domain, native
keys join across a dataset's tables, and a collision in any domain is refused with nothing left
behind, whether the bank's recorded id counts or a union count is used."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from justicelink.bank import describe, open_table
from justicelink.crypto import IntPRF, ZoneKeys, at_rest, int_prf_python
from justicelink.crypto.prf import CollisionError
from justicelink.formats import ProjectGrant, RefusedError
from justicelink.projects import Provisioned, at_rest_key, provision, store_path

VERSION = "20260101"


def _write(bank: Path, ds: str, tables: dict[str, pa.Table], *, record: bool = True) -> None:
    folder = bank / "datasets" / ds / VERSION
    folder.mkdir(parents=True)
    key = ZoneKeys.create(bank, "bank").at_rest_key(create=True)
    con = duckdb.connect()
    at_rest.enable(con)
    at_rest.add_parquet_key(con, "bank", key)
    distinct = {}
    for name, t in tables.items():
        con.register("t", t)  # written as the bank writes: encrypted under its key
        con.execute(
            f"COPY t TO '{folder / f'{name}.parquet'}' "
            f"(FORMAT parquet, {at_rest.parquet_write_options('bank')})"
        )
        con.unregister("t")
        distinct[name] = {
            c: len(set(t.column(c).drop_null().to_pylist()))
            for c in t.column_names
            if c.endswith("_E")
        }
    info = {"rows": {n: t.num_rows for n, t in tables.items()}}
    if record:
        info["distinct"] = distinct
    (folder / "version.json").write_text(json.dumps(info))


def _bank(root: Path, *, record: bool = True) -> Path:
    rng = np.random.default_rng(11)
    bank = root / "bank"
    alfs = rng.integers(0, 2**63 - 1, 300)
    spells = rng.integers(0, 2**63 - 1, 500)
    _write(
        bank,
        "PEDW",
        {
            "SPELL": pa.table({
                "ALF_E": pa.array([*rng.choice(alfs, 499).tolist(), None], pa.int64()),
                "ALF_STS_CD": pa.array(rng.choice([1, 4, 39], 500), pa.int32()),
                "SPELL_NUM_E": pa.array(spells, pa.int64()),
                "ADMIS_DT": pa.array(rng.integers(18_000, 19_000, 500).astype("datetime64[D]")),
            }),
            "DIAG": pa.table({
                "SPELL_NUM_E": pa.array(rng.choice(spells, 900), pa.int64()),
                "DIAG_CD_123": pa.array(rng.choice(["F32", "X60", "S00"], 900)),
            }),
        },
        record=record,
    )  # fmt: skip
    _write(
        bank,
        "EDDS",
        {
            "EDDS": pa.table({
                "ALF_E": pa.array(rng.choice(alfs, 700), pa.int64()),
                "ATTENDANCE_ID_E": pa.array(rng.permutation(700) * 31 + 5, pa.int64()),
                "DIAG_CD_1": pa.array(rng.choice(["14A", "03A"], 700)),
            }),
        },
        record=record,
    )  # fmt: skip
    return bank


def _bank_rows(bank: Path, ds: str, table: str) -> pa.Table:
    return open_table(bank, ds, VERSION, table).read_all()


def _provision(grant: ProjectGrant, bank: Path, projects: Path, **kw: bool) -> Provisioned:
    """As the platform does it: the bank describes what it holds, provisioning reads that."""
    return provision(grant, [describe(bank, ds) for ds in grant.datasets], projects, **kw)


def _grant() -> ProjectGrant:
    return ProjectGrant(
        project_id="0077",
        title="t",
        datasets={
            "PEDW": {
                "SPELL": ["ALF_E", "ALF_STS_CD", "SPELL_NUM_E", "ADMIS_DT"],
                "DIAG": ["SPELL_NUM_E", "DIAG_CD_123"],
            },
            "EDDS": {"EDDS": ["ALF_E", "ATTENDANCE_ID_E", "DIAG_CD_1"]},
        },
    )


def _store_rows(path: Path, table: str) -> pa.Table:
    """The store is encrypted under the project's at-rest key: read it with that key."""
    projects, pid = path.parents[2], path.parents[1].name
    con = duckdb.connect()
    try:
        at_rest.attach(con, path, "store", at_rest_key(projects, pid), read_only=True)
        return con.execute(f'SELECT * FROM store."{table}"').arrow().read_all()
    finally:
        con.close()


@pytest.mark.parametrize("record", [True, False], ids=["recorded-counts", "union-counts"])
def test_pseudonyms_follow_the_reference_per_domain(tmp_path: Path, record: bool) -> None:
    bank = _bank(tmp_path, record=record)
    p = _provision(_grant(), bank, tmp_path / "projects")
    key = ZoneKeys.open(tmp_path / "projects" / "0077", "project").prf_key()
    spell_src = _bank_rows(bank, "PEDW", "SPELL")
    spell = _store_rows(p.store, f"PEDW_SPELL_{VERSION}")
    assert spell.column_names == ["ALF_PE", "ALF_STS_CD", "SPELL_NUM_PE", "ADMIS_DT"]
    want = {
        (None if r["ALF_E"] is None else int_prf_python(key, "alf", r["ALF_E"]), r["ALF_STS_CD"],
         int_prf_python(key, "nk_PEDW", r["SPELL_NUM_E"]), r["ADMIS_DT"])
        for r in spell_src.to_pylist()
    }  # fmt: skip
    assert {tuple(r.values()) for r in spell.to_pylist()} == want
    # native keys join across a dataset's tables; ALF_PE joins across datasets
    diag = _store_rows(p.store, f"PEDW_DIAG_{VERSION}")
    assert set(diag.column("SPELL_NUM_PE").to_pylist()) <= set(
        spell.column("SPELL_NUM_PE").to_pylist()
    )
    edds = _store_rows(p.store, f"EDDS_EDDS_{VERSION}")
    shared = set(edds.column("ALF_PE").to_pylist()) & set(spell.column("ALF_PE").to_pylist())
    assert len(shared) > 100
    # no bank id survives into the store
    bank_ids = set(spell_src.column("ALF_E").drop_null().to_pylist())
    assert not bank_ids & set(edds.column("ALF_PE").to_pylist())


@pytest.mark.parametrize("record", [True, False], ids=["recorded-counts", "union-counts"])
@pytest.mark.parametrize("domain", ["alf", "nk_PEDW", "nk_EDDS"])
def test_a_collision_in_any_domain_is_refused_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record: bool, domain: str
) -> None:
    bank = _bank(tmp_path, record=record)
    real = IntPRF.numpy

    def colliding(self: IntPRF, values: np.ndarray, d: str) -> np.ndarray:
        out = real(self, values, d)
        return out % 7 if d == domain else out  # a PRF that collides in one domain only

    monkeypatch.setattr(IntPRF, "numpy", colliding)
    with pytest.raises(CollisionError, match=f"project 0077 {domain} pseudonyms"):
        _provision(_grant(), bank, tmp_path / "projects")
    store = store_path(tmp_path / "projects", "0077")
    assert not store.exists()
    assert not [p for p in store.parent.iterdir() if p.name.startswith(".tmp-")]
    monkeypatch.setattr(IntPRF, "numpy", real)
    assert _provision(_grant(), bank, tmp_path / "projects").tables[f"EDDS_EDDS_{VERSION}"] == 700


def test_a_keyed_column_that_is_not_a_bank_id_is_refused(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    _write(bank, "EDDS", {"EDDS": pa.table({"ALF_E": ["1", "2"], "ATTENDANCE_ID_E": [1, 2]})})
    grant = ProjectGrant(project_id="0078", title="t", datasets={"EDDS": {"EDDS": ["ALF_E"]}})
    with pytest.raises(RefusedError, match="keyed column ALF_E is string, not a bank id"):
        _provision(grant, bank, tmp_path / "projects")
    assert not store_path(tmp_path / "projects", "0078").exists()


def test_many_batches_and_any_column_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches smaller than the table, and a grant listing columns in another order than the
    file: every row keeps its own pseudonyms (compared as sets of rows, order-free)."""
    import sys

    # the package re-exports the function under the module's name; patch the module itself
    monkeypatch.setattr(sys.modules["justicelink.projects.provision"], "_BATCH_ROWS", 37)
    bank = _bank(tmp_path)
    grant = ProjectGrant(
        project_id="0079",
        title="t",
        datasets={"EDDS": {"EDDS": ["DIAG_CD_1", "ATTENDANCE_ID_E", "ALF_E"]}},
    )
    p = _provision(grant, bank, tmp_path / "projects")
    key = ZoneKeys.open(tmp_path / "projects" / "0079", "project").prf_key()
    src = _bank_rows(bank, "EDDS", "EDDS").to_pylist()
    got = _store_rows(p.store, f"EDDS_EDDS_{VERSION}")
    assert got.column_names == ["DIAG_CD_1", "ATTENDANCE_ID_PE", "ALF_PE"]
    want = {
        (
            r["DIAG_CD_1"],
            int_prf_python(key, "nk_EDDS", r["ATTENDANCE_ID_E"]),
            int_prf_python(key, "alf", r["ALF_E"]),
        )
        for r in src
    }
    assert {tuple(r.values()) for r in got.to_pylist()} == want


def test_address_keys_are_not_alfs(tmp_path: Path) -> None:
    """RALF_E ends in ALF_E but is an address key: it is keyed in WDSD's native-key domain."""
    bank = tmp_path / "bank"
    _write(bank, "WDSD", {"AR_PERS_ADD": pa.table({"PERS_ID_E": [1, 2], "RALF_E": [10, 11]})})
    grant = ProjectGrant(
        project_id="0080", title="t", datasets={"WDSD": {"AR_PERS_ADD": ["PERS_ID_E", "RALF_E"]}}
    )
    p = _provision(grant, bank, tmp_path / "projects")
    key = ZoneKeys.open(tmp_path / "projects" / "0080", "project").prf_key()
    got = _store_rows(p.store, f"WDSD_AR_PERS_ADD_{VERSION}").column("RALF_PE").to_pylist()
    assert sorted(got) == sorted(int_prf_python(key, "nk_WDSD", v) for v in (10, 11))


def test_a_bank_id_that_cannot_be_keyed_is_refused_without_its_value(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    big = 2**63 + 12345  # not a BIGINT: the bank never writes one
    _write(bank, "EDDS", {"EDDS": pa.table({"ALF_E": pa.array([1, big], pa.uint64())})})
    grant = ProjectGrant(project_id="0081", title="t", datasets={"EDDS": {"EDDS": ["ALF_E"]}})
    with pytest.raises(RefusedError, match="column ALF_E could not be re-keyed") as info:
        _provision(grant, bank, tmp_path / "projects")
    assert str(big) not in str(info.value)
    assert not store_path(tmp_path / "projects", "0081").exists()


def test_a_store_made_with_another_pseudonym_algorithm_needs_refresh(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    _provision(_grant(), bank, tmp_path / "projects")
    meta = tmp_path / "projects" / "0077" / "project.json"
    info = json.loads(meta.read_text())
    info["pseudonyms"] = "hmac-sha256 maps (decision 0002)"
    meta.write_text(json.dumps(info))
    with pytest.raises(RefusedError, match="another pseudonym algorithm"):
        _provision(_grant(), bank, tmp_path / "projects")
    _provision(_grant(), bank, tmp_path / "projects", refresh=True)
    assert json.loads(meta.read_text())["pseudonyms"].startswith("aes-256")


def test_the_bank_describes_its_versions_tables_and_recorded_counts(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    pedw = describe(bank, "PEDW")
    assert [v.version for v in pedw.versions] == [VERSION]
    assert sorted(pedw.versions[0].tables) == ["DIAG", "SPELL"]
    spell = pedw.versions[0].tables["SPELL"]
    assert spell.source.schema().names == ["ALF_E", "ALF_STS_CD", "SPELL_NUM_E", "ADMIS_DT"]
    assert spell.source.batches(["ALF_E"], 64).read_all().num_rows == 500
    folder = bank / "datasets" / "PEDW" / VERSION
    recorded = json.loads((folder / "version.json").read_text())["distinct"]["SPELL"]
    assert spell.distinct == recorded
    assert describe(bank, "WLGP").versions == ()


def test_a_dataset_the_bank_does_not_hold_is_refused(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    grant = ProjectGrant(project_id="0082", title="t", datasets={"WLGP": {"GP_EVENT": ["X"]}})
    with pytest.raises(RefusedError, match="the bank holds no version of WLGP"):
        _provision(grant, bank, tmp_path / "projects")
    with pytest.raises(RefusedError, match="the bank holds no version of EDDS"):
        provision(_grant(), [describe(bank, "PEDW")], tmp_path / "projects")
