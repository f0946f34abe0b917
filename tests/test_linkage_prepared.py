"""A register version is prepared once, when it is loaded, and every run against it reuses the
preparation (issue #15, part 4): features with histories and blocking keys, term frequencies and
u probabilities. A run with the prepared version decides as a run that rebuilds everything."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from justicelink.linkage import load_register
from justicelink.linkage.cascade import run_cascade
from justicelink.linkage.contract import _clean_sql
from justicelink.linkage.evaluate import accuracy
from justicelink.linkage.prepared import TF_COLUMNS, prepared_of
from justicelink.linkage.probabilistic import WIDE_KEYS


@pytest.fixture(scope="module")
def loaded(world, tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("prepared")
    v = load_register(world.register_dir, d / "linkage", b"k" * 32)
    return v, world


def _records(con: duckdb.DuckDBPyConnection, world) -> None:
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE raw AS SELECT row_number() OVER () AS system_id, *
            FROM read_csv('{world.extracts["CAFW"]}/CAFCASS_PERSON.csv', all_varchar = true)"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE rec_raw AS SELECT system_id AS __iid, NHS_NUMBER AS nhs_number,
              FORENAME AS forename, SURNAME AS surname,
              strftime(strptime(DOB, '%d/%m/%Y'), '%Y-%m-%d') AS dob, SEX AS sex, POSTCODE AS postcode
            FROM raw"""
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE rec AS {_clean_sql('rec', 'system_id', False)}")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE truth AS SELECT r.system_id, t.register_person_id AS person_id
            FROM raw r JOIN read_parquet('{world.truth_dir}/CAFW_CAFCASS_PERSON.parquet') t
            ON t.record_id = r.PERSON_ID"""
    )


def _run(v, world):
    con = duckdb.connect()
    _records(con, world)
    res = run_cascade(con, "rec", f"read_parquet('{v.person}')", register=v)
    decided = dict(
        (sid, (pid, sts))
        for sid, pid, sts in con.execute(
            "SELECT system_id, person_id, alf_sts_cd FROM matched"
        ).fetchall()
    )
    f1 = accuracy(con, "matched", "truth")["all"].f1
    con.close()
    return res, decided, f1


def test_load_prepares_the_version(loaded) -> None:
    v, _ = loaded
    ready = prepared_of(v.folder)
    assert ready.exists()
    feats = pq.read_table(ready.features)
    assert feats.num_rows == v.people
    for col in ("unique_id", "surname_hist", "postcode_hist", "f1", "s1", "yob", "md"):
        assert col in feats.column_names
    for col in TF_COLUMNS:
        tf = pq.read_table(ready.tf(col))
        assert tf.column_names == [col, f"tf_{col}"]
        assert abs(sum(tf[f"tf_{col}"].to_pylist()) - 1.0) < 1e-9
    # people per value of each wide blocking key: a run counts a rule's pairs from its records
    for keys in WIDE_KEYS:
        counts = pq.read_table(ready.key_counts(keys))
        assert counts.column_names == [*keys, "n"]
        not_null = " AND ".join(f"{k} IS NOT NULL" for k in keys)
        want = duckdb.sql(
            f"SELECT count(*) FROM read_parquet('{ready.features}') WHERE {not_null}"
        ).fetchone()[0]  # type: ignore[index]
        assert sum(counts.column("n").to_pylist()) == want
    model = json.loads(ready.u.read_text())
    us = [
        lv.get("u_probability")
        for c in model["comparisons"]
        for lv in c["comparison_levels"]
        if not lv.get("is_null_level")
    ]
    seen = [u for u in us if u is not None]
    assert len(seen) >= len(us) - 3 and all(0 < u <= 1 for u in seen)


def test_runs_reuse_the_preparation_and_a_rebuilt_one_decides_alike(loaded, tmp_path: Path) -> None:
    v, world = loaded
    res, with_prep, f1 = _run(v, world)
    assert any("u from the prepared register version" in n for n in res.notes)
    # the wide rules were counted from the prepared key counts: the same counts as a scan
    taken = [n for n in res.notes if n.startswith("wide blocking rule")]
    # the same version with its preparation removed (as a version loaded before preparation
    # existed): the run prepares it again, and decides as before
    bare = tmp_path / v.folder.name
    shutil.copytree(v.folder, bare)
    shutil.rmtree(bare / "prepared")
    res2, without, f1_bare = _run(type(v)(v.version, bare, v.people), world)
    assert prepared_of(bare).exists()
    assert any("u from the prepared register version" in n for n in res2.notes)
    assert taken == [n for n in res2.notes if n.startswith("wide blocking rule")]
    same = sum(with_prep[k] == without[k] for k in with_prep)
    assert same / len(with_prep) >= 0.995, f"{len(with_prep) - same} decisions differ"
    assert f1 > 0.98 and abs(f1 - f1_bare) < 0.005


def test_linkage_spills_stay_in_the_zone_encrypted(world, tmp_path: Path, monkeypatch) -> None:
    """Every connection of the linkage zone that holds identifiers spills into a private folder
    of the zone, encrypted; nothing lands in ./.tmp of the folder the process runs in."""
    from justicelink.linkage import spill

    with spill.connect(tmp_path / "zone", "probe", memory_limit="1GB") as con:
        settings = dict(
            con.execute(
                "SELECT name, value FROM duckdb_settings() "
                "WHERE name IN ('temp_directory', 'temp_file_encryption')"
            ).fetchall()
        )
        where = Path(settings["temp_directory"])
        assert where.parent == tmp_path / "zone" and where.is_dir()
        assert (where.stat().st_mode & 0o777) == 0o700
        assert settings["temp_file_encryption"] == "true"
    assert not where.exists()  # removed when the connection ends
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    load_register(world.register_dir, tmp_path / "linkage", b"k" * 32)
    assert not (cwd / ".tmp").exists()
