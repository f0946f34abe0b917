"""Trusted third party: register versions, the deterministic cascade against the truth, refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from justicelink.crypto import load_recipient, open_sealed
from justicelink.formats import ALF_FILE_COLUMNS, ALF_FILE_NAME, InputError, RefusedError
from justicelink.linkage import current_version, load_register, run_submission
from justicelink.provider import split
from justicelink.specs import load_spec


@pytest.fixture()
def linked(world, zones, tmp_path: Path):
    lk = zones["linkage"]
    load_register(world.register_dir, lk.folder.parent, lk.prf_key())
    out = {}
    for ds in ("CAFW", "NCCH"):
        split(
            load_spec(ds), world.extracts[ds], tmp_path / f"sub-{ds}",
            linkage_recipient=load_recipient(lk.recipient), bank_recipient=load_recipient(zones["bank"].recipient),
            provider_key=zones["provider"].prf_key(),
        )  # fmt: skip
        out[ds] = run_submission(
            tmp_path / f"sub-{ds}" / "linkage",
            lk.folder.parent,
            load_recipient(zones["bank"].recipient),
        )
    return out


def test_register_versions_keep_alfs_stable(world, zones) -> None:
    lk = zones["linkage"]
    v1 = load_register(world.register_dir, lk.folder.parent, lk.prf_key())
    v2 = load_register(world.register_dir, lk.folder.parent, lk.prf_key())
    assert (v1.version, v2.version) == (1, 2)
    assert current_version(lk.folder.parent).version == 2
    a = pq.read_table(v1.person, columns=["person_id", "alf"]).to_pydict()
    b = pq.read_table(v2.person, columns=["person_id", "alf"]).to_pydict()
    assert a == b
    assert len(set(a["alf"])) == len(a["alf"])


def test_duplicate_person_ids_are_refused(world, zones, tmp_path: Path) -> None:
    src = tmp_path / "reg"
    shutil.copytree(world.register_dir, src)
    t = pq.read_table(src / "WDS_PERSON.parquet")
    pq.write_table(pa.concat_tables([t, t.slice(0, 3)]), src / "WDS_PERSON.parquet")
    lk = zones["linkage"]
    with pytest.raises(InputError, match="3 duplicate person_id"):
        load_register(src, lk.folder.parent, lk.prf_key())
    assert current_version(lk.folder.parent, required=False) is None


def test_text_register_ids_are_kept_as_given(world, zones, tmp_path: Path) -> None:
    """Issue #15: a register whose person_id is text such as '0_2' was silently read as numbers
    (DuckDB reads '_' as a digit separator). Text ids get internal numbers, are kept beside
    them, and make their ALFs; addresses follow their person."""
    from justicelink.crypto import prf_python

    src = tmp_path / "reg"
    shutil.copytree(world.register_dir, src)
    person = pq.read_table(src / "WDS_PERSON.parquet").slice(0, 200)
    ids = person.column("person_id").to_pylist()
    text = {i: f"{n % 3}_{n}" for n, i in enumerate(ids)}  # '0_0', '1_1', '2_2', '0_3' ...
    as_text = pa.array([text[i] for i in ids])
    pq.write_table(person.set_column(0, "person_id", as_text), src / "WDS_PERSON.parquet")
    address = pq.read_table(src / "WDS_ADDRESS.parquet")
    address = address.filter(pa.compute.is_in(address.column("person_id"), pa.array(ids)))
    i = address.column_names.index("person_id")
    mapped = pa.array([text[v] for v in address.column("person_id").to_pylist()])
    pq.write_table(address.set_column(i, "person_id", mapped), src / "WDS_ADDRESS.parquet")
    lk = zones["linkage"]
    v = load_register(src, lk.folder.parent, lk.prf_key())
    out = pq.read_table(v.person).to_pylist()
    assert sorted(r["given_person_id"] for r in out) == sorted(text.values())
    assert len({r["person_id"] for r in out}) == len(out)
    for r in out[:20]:
        assert r["alf"] == prf_python(lk.prf_key(), f"ALF|{r['given_person_id']}")
    internal = {r["given_person_id"]: r["person_id"] for r in out}
    got = pq.read_table(v.address).column("person_id").to_pylist()
    assert sorted(got) == sorted(internal[t] for t in mapped.to_pylist())
    # and the register links: an EDDS submission against it runs end to end, ALFs from given ids
    split(
        load_spec("EDDS"), world.extracts["EDDS"], tmp_path / "sub",
        linkage_recipient=load_recipient(lk.recipient),
        bank_recipient=load_recipient(zones["bank"].recipient),
        provider_key=zones["provider"].prf_key(),
    )  # fmt: skip
    run = run_submission(tmp_path / "sub" / "linkage", lk.folder.parent,
                         load_recipient(zones["bank"].recipient), probabilistic=False)  # fmt: skip
    assert run.rows > 0 and run.by_status.get(1, 0) > 0  # records link to text-id people


def test_alf_file_layout_and_statuses(linked, zones) -> None:
    for run in linked.values():
        _, tables = open_sealed(run.outbox, zones["bank"].identity(), "bank", kind="alf")
        t = tables[ALF_FILE_NAME]
        assert t.column_names == list(ALF_FILE_COLUMNS)
        assert set(t.column("ALF_STS_CD").to_pylist()) <= {1, 4, 39, 35, 99}
        wob = [d for d in t.column("WOB").to_pylist() if d is not None]
        assert wob and all(d.weekday() == 0 for d in wob), "WOB must be the Monday of the week"
        assert run.by_status.get(1, 0) > 0


def test_links_are_correct_against_truth(world, linked, zones, tmp_path: Path) -> None:
    """Links (1, 4, 39) point at the true register person; most Cafcass people are linked."""
    # Recover, as an all-seeing test, which register ALF each CAFW person record got.
    lk = zones["linkage"]
    reg = current_version(lk.folder.parent)
    _, bank_side = open_sealed(
        tmp_path / "sub-CAFW" / "bank", zones["bank"].identity(), "bank", kind="content"
    )
    _, alf = open_sealed(linked["CAFW"].outbox, zones["bank"].identity(), "bank", kind="alf")
    con = duckdb.connect()
    con.register("alf", alf[ALF_FILE_NAME])
    con.register("person", bank_side["content-CAFCASS_ALF.parquet.age"])
    from justicelink.crypto import prf_sql

    key = lk.prf_key()
    raw = world.extracts["CAFW"] / "CAFCASS_PERSON.csv"
    truth = world.truth_dir / "CAFW_CAFCASS_PERSON.parquet"
    prov = zones["provider"].prf_key()
    rows = con.execute(
        f"""
        WITH regalf AS (SELECT person_id, {prf_sql(key, "'E|' || alf")} AS alf_e FROM read_parquet('{reg.person}')),
        t AS (SELECT {prf_sql(prov, "record_id")} AS pid_e, register_person_id AS person_id FROM read_parquet('{truth}'))
        SELECT a.ALF_STS_CD, count(*) AS n, count(*) FILTER (WHERE a.ALF_E = r.alf_e) AS right
        FROM person p JOIN alf a ON a.SYSTEM_ID = p.SYSTEM_ID
        JOIN t ON t.pid_e = p.SYSTEM_ID_E JOIN regalf r ON r.person_id = t.person_id
        GROUP BY 1 ORDER BY 1
        """
    ).fetchall()
    assert raw.is_file()
    by = {s: (n, right) for s, n, right in rows}
    assert raw.is_file()
    for status in (1, 4):
        if status in by:
            assert by[status][0] == by[status][1], (
                f"a status-{status} link points at the wrong person"
            )
    linked = sum(by.get(s, (0, 0))[0] for s in (1, 4, 39))
    right = sum(by.get(s, (0, 0))[1] for s in (1, 4, 39))
    assert right / linked > 0.995
    total = sum(n for n, _ in by.values())
    assert linked / total > 0.7  # a quarter of Cafcass adults are not on the register at all


def test_bank_file_is_refused_by_linkage(world, zones, tmp_path: Path) -> None:
    lk = zones["linkage"]
    load_register(world.register_dir, lk.folder.parent, lk.prf_key())
    split(
        load_spec("CAFW"), world.extracts["CAFW"], tmp_path / "s",
        linkage_recipient=load_recipient(lk.recipient), bank_recipient=load_recipient(zones["bank"].recipient),
        provider_key=zones["provider"].prf_key(),
    )  # fmt: skip
    with pytest.raises(RefusedError, match="cannot be decrypted with the linkage zone's key"):
        run_submission(
            tmp_path / "s" / "bank", lk.folder.parent, load_recipient(zones["bank"].recipient)
        )
    assert not (lk.folder.parent / "outbox").exists()


def test_run_keeps_model_and_quality_report(linked, zones) -> None:
    runs = zones["linkage"].folder.parent / "runs"
    for run in linked.values():
        folder = runs / run.submission_id
        assert (folder / "model.json").is_file()
        model = json.loads((folder / "model.json").read_text())
        assert model["link_type"] == "link_only" and model["comparisons"]
        html = (folder / "quality.html").read_text()
        assert "Records by linkage status" in html and "Match rates by age band" in html
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["rows"] == run.rows
