"""Incremental linkage (issue #15, part 5): a refresh of a dataset links only new or changed
records, reuses the earlier decisions for the rest, reports what changed, keeps every person's
ALF, and decides exactly as a full relink with the same parameters would."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from justicelink.crypto import load_recipient, open_sealed
from justicelink.formats import ALF_FILE_NAME, IDENTIFIERS_FILE_NAME, InputError
from justicelink.linkage import current_version, incremental, load_register, run_submission
from justicelink.linkage.cascade import run_cascade
from justicelink.linkage.probabilistic import Trained
from justicelink.provider import split
from justicelink.specs import load_spec

DECISION = (
    "system_id, person_id, alf_sts_cd, alf_mtch_pct, match_weight, reason, dob_for_wob, gndr_cd"
)


def _refreshed(source: Path, out: Path, seed: int = 3) -> None:
    """The NCCH extract a month later: 3% of rows gone, 5% with a forename now given (or
    corrected), 3% new rows."""
    t = pq.read_table(source / "CHILD_BIRTHS.parquet")
    rng = np.random.default_rng(seed)
    n = t.num_rows
    keep = rng.random(n) >= 0.03
    t = t.filter(pa.array(keep))
    fore = t.column("FORENAME").to_pylist()
    changed = rng.random(t.num_rows) < 0.05
    names = ["ELIN", "OSIAN", "CERYS", "DYLAN", "MALI"]
    fore = [names[i % 5] if c else f for i, (f, c) in enumerate(zip(fore, changed, strict=True))]
    t = t.set_column(t.schema.get_field_index("FORENAME"), "FORENAME", pa.array(fore, pa.string()))
    extra = t.take(pa.array(rng.choice(t.num_rows, int(0.03 * n), replace=False)))
    ids = pc.binary_join_element_wise(extra.column("CHILD_ID"), pa.scalar("R"), "")
    extra = extra.set_column(extra.schema.get_field_index("CHILD_ID"), "CHILD_ID", ids)
    out.mkdir(parents=True)
    pq.write_table(pa.concat_tables([t, extra]), out / "CHILD_BIRTHS.parquet")


def _split(world_dir: Path, zones, out: Path) -> Path:
    split(
        load_spec("NCCH"), world_dir, out,
        linkage_recipient=load_recipient(zones["linkage"].recipient),
        bank_recipient=load_recipient(zones["bank"].recipient),
        provider_key=zones["provider"].prf_key(),
    )  # fmt: skip
    return out / "linkage"


def _alf(run, zones) -> pa.Table:
    _, tables = open_sealed(run.outbox, zones["bank"].identity(), "bank", kind="alf")
    return tables[ALF_FILE_NAME]


@pytest.fixture()
def refreshed(world, zones, tmp_path: Path):
    lk = zones["linkage"]
    load_register(world.register_dir, lk.folder.parent, lk.prf_key())
    bank = load_recipient(zones["bank"].recipient)
    first = run_submission(
        _split(world.extracts["NCCH"], zones, tmp_path / "s1"), lk.folder.parent, bank
    )
    # the first run's refresh state, as the second run found it
    shutil.copytree(lk.folder.parent / "links", tmp_path / "run1" / "links")
    _refreshed(world.extracts["NCCH"], tmp_path / "ncch2")
    sub2 = _split(tmp_path / "ncch2", zones, tmp_path / "s2")
    second = run_submission(sub2, lk.folder.parent, bank)
    return first, second, sub2, tmp_path / "run1"


def test_refresh_reuses_unchanged_records_and_reports_changes(refreshed, zones) -> None:
    first, second, _, _ = refreshed
    assert first.refresh["mode"].startswith("first run")
    r = second.refresh
    assert r["mode"].startswith("incremental")
    assert r["reused_decisions"] + r["linked_anew"] == second.rows
    assert r["reused_decisions"] > 0.85 * second.rows
    # the changed forenames and the new rows are linked anew; the dropped rows' and the old
    # forenames' identifier sets are gone
    assert r["linked_anew"] > 0 and r["earlier_identifier_sets_gone"] > 0
    summary = json.loads(
        (
            zones["linkage"].folder.parent / "runs" / second.submission_id / "summary.json"
        ).read_text()
    )
    assert summary["refresh"] == r


def test_a_person_keeps_their_alf_across_refreshes(refreshed, zones) -> None:
    first, second, _, _ = refreshed
    a, b = _alf(first, zones), _alf(second, zones)
    # ALF_E is the bank's pseudonym of the person: people linked in both runs are the same people
    linked_a = set(pc.drop_null(a.column("ALF_E")).to_pylist())
    linked_b = set(pc.drop_null(b.column("ALF_E")).to_pylist())
    assert len(linked_a & linked_b) > 0.9 * len(linked_b)


def test_incremental_equals_full_relink_with_the_same_parameters(refreshed, zones) -> None:
    _, second, sub2, run1 = refreshed
    lk = zones["linkage"]
    root = lk.folder.parent
    reg = current_version(root)
    assert reg is not None
    trained = Trained.from_json(json.loads((root / "links" / "NCCH" / "trained.json").read_text()))
    _, tables = open_sealed(sub2, lk.identity(), "linkage", kind="identifiers")

    def decide(incremental_run: bool, links_from: Path) -> list[tuple]:
        con = duckdb.connect()
        con.register("rin", tables[IDENTIFIERS_FILE_NAME])
        con.execute("CREATE TEMP TABLE records AS SELECT * FROM rin")
        incremental.stage_records(con, "records", lk.prf_key(), "NCCH")
        reuse = incremental.reusable(con, links_from, "NCCH") if incremental_run else None
        run_cascade(
            con,
            "records",
            f"read_parquet('{reg.person}')",
            register=reg,
            reuse=reuse,
            fixed=trained,
        )
        rows = con.execute(f"SELECT {DECISION} FROM matched ORDER BY system_id").fetchall()
        con.close()
        return rows

    # incremental: the first run's decisions reused, the new and changed records scored
    full = decide(False, run1)
    inc = decide(True, run1)
    assert len(full) == len(inc) > 0
    assert 0 < second.refresh["linked_anew"] < len(inc)
    diff = [(f, i) for f, i in zip(full, inc, strict=True) if f != i]
    assert not diff, f"{len(diff)} decisions differ, e.g. {diff[:2]}"


def test_a_new_register_version_or_full_relinks(world, zones, tmp_path: Path) -> None:
    lk = zones["linkage"]
    root = lk.folder.parent
    bank = load_recipient(zones["bank"].recipient)
    load_register(world.register_dir, root, lk.prf_key())
    sub = _split(world.extracts["NCCH"], zones, tmp_path / "s1")
    run_submission(sub, root, bank)
    again = run_submission(_split(world.extracts["NCCH"], zones, tmp_path / "s2"), root, bank)
    assert again.refresh["mode"].startswith("incremental")
    assert again.refresh["linked_anew"] == 0  # the same extract: every decision reused
    forced = run_submission(
        _split(world.extracts["NCCH"], zones, tmp_path / "s3"), root, bank, full=True
    )
    assert forced.refresh["mode"] == "full relink asked for"
    assert forced.refresh["reused_decisions"] == 0
    load_register(world.register_dir, root, lk.prf_key())  # version 2
    fresh = run_submission(_split(world.extracts["NCCH"], zones, tmp_path / "s4"), root, bank)
    assert fresh.refresh["mode"].startswith("register version 2")
    assert fresh.refresh["reused_decisions"] == 0
    shutil.rmtree(tmp_path / "s1")


def test_an_unprepared_register_version_is_prepared_on_first_use(
    world, zones, tmp_path: Path
) -> None:
    """A version loaded before preparation existed: the first run prepares it (so every
    decision depends on the register alone, never on which other records share the run)."""
    lk = zones["linkage"]
    root = lk.folder.parent
    v = load_register(world.register_dir, root, lk.prf_key())
    shutil.rmtree(v.folder / "prepared")
    run = run_submission(_split(world.extracts["NCCH"], zones, tmp_path / "s1"), root,
                         load_recipient(zones["bank"].recipient))  # fmt: skip
    assert run.rows > 0
    assert (v.folder / "prepared" / "features.parquet").is_file()


def test_state_is_kept_only_for_reusable_runs(tmp_path: Path) -> None:
    """pi estimated on a handful of records is not frozen for later refreshes; the whole state
    folder is replaced at once; wide rules frozen from a small run are not reused for a big one."""
    con = duckdb.connect()
    con.execute("CREATE TABLE new_links AS SELECT 1 AS system_id, 7 AS id_hash, 3 AS person_id, "
                "39 AS status, 0.99 AS p, 12.0 AS weight, 'x' AS reason")  # fmt: skip
    few = Trained({"m": 1}, (("dob", "s1"),), 0.0, (), scored=12, wide_pairs=0)
    incremental.record(con, tmp_path, "NCCH", "NCCH-1", 1, few)
    assert not (tmp_path / "links" / "NCCH" / "trained.json").exists()
    prev = incremental.previous(tmp_path, "NCCH", 1)
    assert prev.trained is None and "too few records scored" in prev.reason
    many = Trained({"m": 1}, (("dob", "s1"),), 0.9, (), scored=5000, wide_pairs=90_000)
    incremental.record(con, tmp_path, "NCCH", "NCCH-2", 1, many)
    assert incremental.previous(tmp_path, "NCCH", 1).trained == many
    assert incremental.previous(tmp_path, "NCCH", 2).trained is None  # another register version
    assert incremental.within_budget(many, 5000)
    small = Trained({"m": 1}, (("surname",),), 0.9, (), scored=200, wide_pairs=100_000)
    assert not incremental.within_budget(small, 1_000_000)
    with pytest.raises(InputError, match="dataset code"):
        incremental.previous(tmp_path, "../NCCH", 1)
