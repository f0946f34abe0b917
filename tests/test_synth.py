"""The synthetic world: reproducible, consistent families, the error model at its rates, and the
planted truth recoverable from the extracts plus the truth tables."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from justicelink.formats import InputError
from justicelink.specs import load_spec
from justicelink.synth import DATASETS, generate, load_config
from justicelink.synth.config import ErrorRates
from justicelink.synth.errors import person_records
from justicelink.synth.population import YEAR_DAYS, make_places, make_register


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", people=8_000, seed=3, progress=False)
    b = generate(tmp_path / "b", people=8_000, seed=3, progress=False)
    c = generate(tmp_path / "c", people=8_000, seed=4, progress=False)
    da, db, dc = _digests(a.out), _digests(b.out), _digests(c.out)
    assert da == db
    assert set(da) == set(dc)
    differ = [k for k in da if da[k] != dc[k]]
    assert len(differ) > len(da) * 0.8


def test_every_table_matches_its_spec(world) -> None:
    for ds in DATASETS:
        spec = load_spec(ds)
        for t in spec.tables:
            expected = [c.name for c in t.columns if c.cls != "derived"]
            csv = world.extracts[ds] / f"{t.name}.csv"
            if csv.is_file():
                got = pacsv.read_csv(csv).column_names
            else:
                got = pq.read_schema(world.extracts[ds] / f"{t.name}.parquet").names
            assert got == expected, f"{ds}.{t.name}"
            assert world.counts[f"{ds}.{t.name}"] > 0, f"{ds}.{t.name} is empty"


@pytest.fixture(scope="module")
def register():
    rng = np.random.default_rng(5)
    places = make_places(rng, 60_000)
    return make_register(rng, 60_000, 2015, 2024, places), places


def test_families_make_sense(register) -> None:
    reg, _ = register
    kids = np.flatnonzero(reg.mother >= 0)
    mat_age = (reg.dob[kids] - reg.dob[reg.mother[kids]]).astype(np.int64) / YEAR_DAYS
    assert mat_age.min() >= 14 and mat_age.max() <= 50
    assert 26 < np.median(mat_age) < 32
    assert (reg.sex[reg.mother[kids]] == 2).all()
    fa = np.flatnonzero(reg.father >= 0)
    assert ((reg.dob[fa] - reg.dob[reg.father[fa]]).astype(np.int64) / YEAR_DAYS >= 15).all()
    assert (reg.sex[reg.father[fa]] == 1).all()
    # siblings and half-siblings: mothers with children by more than one father exist
    pairs = {
        (m, f)
        for m, f in zip(reg.mother[fa].tolist(), reg.father[fa].tolist(), strict=True)
        if m >= 0
    }
    per_mother = np.bincount(np.array([m for m, _ in pairs]))
    assert (per_mother > 1).sum() > 50
    # twins: same mother and date of birth
    key = reg.mother[kids] * 100_000 + reg.dob[kids].astype(np.int64)
    _, counts = np.unique(key, return_counts=True)
    assert (counts == 2).sum() > 20
    # nobody dies before birth; address periods never start before birth
    dead = ~np.isnat(reg.dod)
    assert (reg.dod[dead] > reg.dob[dead]).all()
    assert (
        reg.hist_from >= np.minimum(reg.dob[reg.hist_person], np.datetime64("1990-01-01"))
    ).all()
    # every person has exactly one current address; children live with their mother
    assert (np.bincount(reg.hist_person[np.isnat(reg.hist_to)], minlength=len(reg)) == 1).all()
    now = reg.postcode_now
    assert (now[kids] == now[reg.mother[kids]]).mean() > 0.99
    # NHS numbers are distinct and pass the check digit
    nhs = reg.nhs_number
    assert len(set(nhs.tolist())) == len(nhs)
    d = np.array([[int(ch) for ch in v] for v in nhs[:2000]])
    check = (11 - (d[:, :9] * np.arange(10, 1, -1)).sum(axis=1) % 11) % 11
    assert (check == d[:, 9]).all()


def test_error_model_hits_its_rates(register) -> None:
    reg, places = register
    rates = ErrorRates(
        nhs_missing_adult=0.3, nhs_missing_child=0.1, nhs_mistyped=0.02, forename_typo=0.05,
        nickname=0.0, surname_previous=0.0, surname_typo=0.03, dob_day_month_swap=0.04,
        dob_digit=0.02, postcode_stale=0.0, postcode_missing=0.05, sex_missing=0.03,
        baby_forename_newborn=0.0, duplicate_record=0.0, not_on_register=0.0,
    )  # fmt: skip
    rng = np.random.default_rng(9)
    idx = rng.choice(len(reg), 40_000, replace=False)
    when = np.full(len(idx), np.datetime64("2020-06-01"))
    child = (when - reg.dob[idx]).astype(np.int64) < 16 * YEAR_DAYS
    cols, flags = person_records(
        rng, rates, reg, places, idx, when, is_child=child, is_newborn=np.zeros(len(idx), bool)
    )

    def near(observed: np.ndarray, p: float, where: np.ndarray | None = None) -> None:
        sample = observed if where is None else observed[where]
        n = len(sample)
        sd = np.sqrt(p * (1 - p) / n)
        assert abs(sample.mean() - p) < 5 * sd + 1e-9, (sample.mean(), p)

    near(flags["nhs_missing"], 0.3, ~child)
    near(flags["nhs_missing"], 0.1, child)
    near(flags["forename_typo"], 0.05)
    near(flags["surname_typo"], 0.03)
    near(flags["postcode_missing"], 0.05)
    near(flags["sex_missing"], 0.03)
    near(flags["nhs_mistyped"], 0.02, ~flags["nhs_missing"])
    # a day/month swap needs a day of 12 or less that differs from the month
    dob = reg.dob[idx]
    day = (dob - dob.astype("datetime64[M]").astype("datetime64[D]")).astype(int) + 1
    month = dob.astype("datetime64[M]").astype(int) % 12 + 1
    swappable = (day <= 12) & (day != month)
    near(flags["dob_day_month_swap"], 0.04, swappable)
    assert not flags["dob_day_month_swap"][~swappable].any()
    # flags say exactly what changed
    assert all(v is None for v in cols["nhs"][flags["nhs_missing"]])
    clean = ~flags["nhs_missing"] & ~flags["nhs_mistyped"]
    assert (cols["nhs"][clean] == reg.nhs_number[idx][clean]).all()
    assert (
        cols["dob"][flags["dob_day_month_swap"]] != reg.dob[idx][flags["dob_day_month_swap"]]
    ).all()
    untouched = ~(flags["dob_day_month_swap"] | flags["dob_digit"])
    assert (cols["dob"][untouched] == reg.dob[idx][untouched]).all()
    assert (cols["sex"][flags["sex_missing"]] == 0).all()


def test_config_file_overrides_defaults(tmp_path: Path) -> None:
    cfg = tmp_path / "synth.toml"
    cfg.write_text(
        "[calibration]\nmother_return_probability = 0.5\n[errors.CAFW]\nnhs_missing_adult = 1.0\nnot_on_register = 0.0\n"
    )
    c = load_config(cfg)
    assert c.calibration.mother_return_probability == 0.5
    assert c.errors["CAFW"].nhs_missing_adult == 1.0
    assert c.errors["PEDW"].nhs_missing_adult < 0.1
    out = generate(
        tmp_path / "w", people=20_000, seed=2, config=c, datasets=("CAFW",), progress=False
    )
    truth = pq.read_table(out.truth_dir / "CAFW_CAFCASS_PERSON.parquet").to_pydict()
    opts = pacsv.ConvertOptions(strings_can_be_null=True, column_types={"NHS_NUMBER": "string"})
    person = pacsv.read_csv(
        out.extracts["CAFW"] / "CAFCASS_PERSON.csv", convert_options=opts
    ).to_pydict()
    assert truth["record_id"] == person["PERSON_ID"]
    flagged = truth["err_nhs_missing"]
    assert sum(flagged) / len(flagged) > 0.5  # every adult, and 8% of children
    assert all(v is None for v, f in zip(person["NHS_NUMBER"], flagged, strict=True) if f)
    bad = tmp_path / "bad.toml"
    bad.write_text("[errors.CAFW]\nnhs_missng = 1.0\n")
    with pytest.raises(InputError, match="unknown setting 'nhs_missng'"):
        load_config(bad)


@pytest.fixture(scope="module")
def big_world(tmp_path_factory: pytest.TempPathFactory):
    return generate(tmp_path_factory.mktemp("big") / "w", people=150_000, seed=21, progress=False)


def _con(world) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        f"CREATE VIEW reg AS SELECT * FROM read_parquet('{world.register_dir / 'WDS_PERSON.parquet'}')"
    )
    for f in world.truth_dir.glob("*.parquet"):
        con.execute(f"CREATE VIEW truth_{f.stem} AS SELECT * FROM read_parquet('{f}')")
    for ds, folder in world.extracts.items():
        for f in folder.iterdir():
            reader = "read_csv" if f.suffix == ".csv" else "read_parquet"
            opts = ", all_varchar = true" if f.suffix == ".csv" else ""
            con.execute(f"CREATE VIEW {ds}_{f.stem} AS SELECT * FROM {reader}('{f}'{opts})")
    return con


PUBLIC_SUBJECTS = """
    SELECT t.register_person_id AS child, strptime(a.CAP_ISSUEDATE, '%Y-%m-%d')::DATE AS issue
    FROM CAFW_CAFCASS_APPLICATION a
    JOIN CAFW_CAFCASS_APPLICATIONSERVICEUSERS u ON u.RECORD1ID = a.CAP_APPLICATIONID AND u.RECORD2ROLEIDNAME = 'Subject'
    JOIN truth_CAFW_CAFCASS_PERSON t ON t.record_id = u.RECORD2ID
    WHERE a.CAP_LAWTYPENAME = 'Public'
"""


def test_planted_court_rates_are_recovered(big_world) -> None:
    planted = json.loads((big_world.truth_dir / "planted.json").read_text())
    con = _con(big_world)
    # children in s31 proceedings by year, from the extract and the truth
    rows = con.execute(
        f"SELECT year(issue)::VARCHAR, count(DISTINCT child) FROM ({PUBLIC_SUBJECTS}) GROUP BY 1"
    ).fetchall()
    assert dict(rows) == {
        k: v for k, v in planted["CAFW"]["children_in_s31_proceedings_by_issue_year"].items() if v
    }
    # newborns (issued within 14 days of birth), by year of birth
    rows = con.execute(
        f"""SELECT year(r.dob)::VARCHAR, count(*) FROM ({PUBLIC_SUBJECTS}) s JOIN reg r ON r.person_id = s.child
            WHERE s.issue - r.dob BETWEEN 0 AND 13 GROUP BY 1"""
    ).fetchall()
    assert dict(rows) == {
        k: v for k, v in planted["CAFW"]["newborn_cases_by_birth_year"].items() if v
    }
    # the newborn rate rises as planted: 2018 well above 2015 (both countries together)
    births = planted["births_by_year"]
    nb = {
        y: planted["CAFW"]["newborn_cases_by_birth_year"][y]
        + planted["CAFE"]["newborn_cases_by_birth_year"][y]
        for y in births
    }
    early = sum(nb[y] for y in ("2015", "2016")) / sum(births[y] for y in ("2015", "2016"))
    late = sum(nb[y] for y in ("2019", "2020")) / sum(births[y] for y in ("2019", "2020"))
    assert late > early
    # mothers returning: a quarter or so, recomputed from the case truth
    r = con.execute(
        """SELECT count(*), count(*) FILTER (WHERE n > 1) FROM (
               SELECT mother_register_person_id, count(*) AS n FROM truth_CAFW_CASES
               WHERE mother_register_person_id IS NOT NULL GROUP BY 1)"""
    ).fetchone()
    assert r[0] == planted["CAFW"]["mothers_with_a_first_public_law_case"]
    assert r[1] == planted["CAFW"]["mothers_returning_within_period"]
    assert 0.12 < r[1] / r[0] < 0.35
    # private law: more applications per family in the most deprived areas
    q = planted["private_law_applications_per_10k_families_by_quintile"]
    # about 80% of Cafcass Cymru person records are linkable with high confidence (published rate)
    assert 0.75 < planted["CAFW"]["linkable_high_confidence_share"] < 0.88
    q1 = np.mean([v["1"] for v in q.values()])
    q5 = np.mean([v["5"] for v in q.values()])
    assert q1 > q5


def test_planted_parental_health_is_recovered(big_world) -> None:
    """Mental health and substance use GP codes in the 2 years before a parent's first s31 case
    vs the same window for the general adult population: the targets within sampling error."""
    planted = json.loads((big_world.truth_dir / "planted.json").read_text())
    targets = planted["health"]["targets_2y_before_first_case"]
    con = _con(big_world)
    con.execute(
        """CREATE TEMP TABLE ev AS SELECT t.register_person_id AS pid, strptime(e.EVENT_DT, '%Y-%m-%d')::DATE AS dt,
               e.EVENT_CD AS cd FROM WLGP_GP_EVENT e JOIN truth_WLGP_PATIENT t ON t.record_id = e.LOCAL_NUM"""
    )
    con.execute(
        """CREATE TEMP TABLE parents AS
           WITH p AS (
             SELECT t.register_person_id AS pid, strptime(a.CAP_ISSUEDATE, '%Y-%m-%d')::DATE AS issue
             FROM CAFW_CAFCASS_APPLICATION a
             JOIN CAFW_CAFCASS_APPLICATIONSERVICEUSERS u ON u.RECORD1ID = a.CAP_APPLICATIONID AND u.RECORD2ROLEIDNAME = 'Respondent'
             JOIN truth_CAFW_CAFCASS_PERSON t ON t.record_id = u.RECORD2ID
             WHERE a.CAP_LAWTYPENAME = 'Public' AND t.register_person_id IS NOT NULL)
           SELECT pid, min(issue) AS first_issue FROM p GROUP BY 1
           HAVING min(issue) >= DATE '2015-01-01'"""
    )
    codes = {
        "mental_health": "('E2B..','Eu32.','E200.','E2003','Eu41.')",
        "substance_use": "('E23..','E24..','Eu10.','Eu11.','1366.')",
    }
    for kind, lst in codes.items():
        n, hit = con.execute(
            f"""SELECT count(*), count(*) FILTER (WHERE EXISTS (
                    SELECT 1 FROM ev WHERE ev.pid = parents.pid AND ev.cd IN {lst}
                    AND ev.dt >= parents.first_issue - INTERVAL 730 DAY AND ev.dt < parents.first_issue))
                FROM parents JOIN reg r ON r.person_id = parents.pid
                WHERE r.dod IS NULL OR r.dod > parents.first_issue"""
        ).fetchone()
        target = targets[kind]["parents"]
        sd = np.sqrt(target * (1 - target) / n)
        assert abs(hit / n - target) < 4 * sd + 0.02, (kind, hit / n, target, n)
        # the general adult population, in the 2 years before 2020
        pop = con.execute(
            f"""SELECT avg(CASE WHEN EXISTS (SELECT 1 FROM ev WHERE ev.pid = r.person_id AND ev.cd IN {lst}
                    AND ev.dt >= DATE '2018-01-01' AND ev.dt < DATE '2020-01-01') THEN 1 ELSE 0 END)
                FROM reg r WHERE r.dob < DATE '2000-01-01' AND (r.dod IS NULL OR r.dod > DATE '2020-01-01')"""
        ).fetchone()[0]
        base = targets[kind]["population"]
        assert abs(pop - base) < 0.015, (kind, pop, base)


def test_events_happen_between_birth_and_death(world) -> None:
    con = _con(world)
    bad = con.execute(
        """SELECT count(*) FROM WLGP_GP_EVENT e JOIN truth_WLGP_PATIENT t ON t.record_id = e.LOCAL_NUM
           JOIN reg r ON r.person_id = t.register_person_id
           WHERE strptime(e.EVENT_DT, '%Y-%m-%d')::DATE < r.dob OR strptime(e.EVENT_DT, '%Y-%m-%d')::DATE > r.dod"""
    ).fetchone()[0]
    assert bad == 0
    for ds, table, col in (("EDDS", "EDDS", "ADMIN_ARR_DT"), ("PEDW", "SPELL", "ADMIS_DT")):
        id_col = "ATTENDANCE_ID" if ds == "EDDS" else "SPELL_NUM"
        bad = con.execute(
            f"""SELECT count(*) FROM {ds}_{table} e JOIN truth_{ds}_{table} t ON t.record_id = e.{id_col}
                JOIN reg r ON r.person_id = t.register_person_id
                WHERE strptime(e.{col}, '%Y-%m-%d')::DATE < r.dob OR strptime(e.{col}, '%Y-%m-%d')::DATE > r.dod"""
        ).fetchone()[0]
        assert bad == 0, ds
    # Cafcass subjects are children at issue
    ages = con.execute(
        f"SELECT min(date_sub('day', r.dob, s.issue)), max(date_sub('year', r.dob, s.issue)) "
        f"FROM ({PUBLIC_SUBJECTS}) s JOIN reg r ON r.person_id = s.child"
    ).fetchone()
    assert ages[0] >= 0 and ages[1] < 18


def test_truth_covers_every_person_record(world) -> None:
    for ds in DATASETS:
        for t in load_spec(ds).tables:
            if not t.is_person_table:
                continue
            truth = pq.read_table(world.truth_dir / f"{ds}_{t.name}.parquet")
            key = next(c.name for c in t.columns if c.cls == "native_key" and c.unique)
            csv = world.extracts[ds] / f"{t.name}.csv"
            data = (
                pacsv.read_csv(csv)
                if csv.is_file()
                else pq.read_table(world.extracts[ds] / f"{t.name}.parquet")
            )
            assert truth.column("record_id").to_pylist() == data.column(key).to_pylist(), (
                f"{ds}.{t.name}"
            )


def test_cli_synth(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from justicelink.cli import app

    res = CliRunner().invoke(
        app, ["synth", "--people", "3000", "--seed", "1", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "truth" / "planted.json").is_file()
    again = CliRunner().invoke(app, ["synth", "--people", "3000", "--out", str(tmp_path / "o")])
    assert again.exit_code == 2 and "already exists" in again.output
