"""The matcher adapts to the data in front of it: fields that carry no information are left out
(and the choice reported), blocking and EM follow the fields at hand, and decisions come from a
per-record posterior whose share-matched is estimated from the data (issue #15, part 2)."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from justicelink.linkage import match_files
from justicelink.linkage.assign import BLOCKING_MISS, _estimate_pi
from justicelink.linkage.evaluate import accuracy
from justicelink.linkage.fields import FieldChoice, FieldProfile
from justicelink.linkage.probabilistic import em_rules


@pytest.fixture(scope="module")
def files(world, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """REG (the world's register, one postcode each) and Cafcass Cymru RECS, with truth."""
    d = tmp_path_factory.mktemp("adaptive")
    w = world.out
    con = duckdb.connect()
    con.execute(
        f"""CREATE TABLE reg AS SELECT p.person_id, p.nhs_number, p.forename, p.surname,
              p.previous_surname, p.dob, p.sex, a.postcode
            FROM read_parquet('{w}/register/WDS_PERSON.parquet') p LEFT JOIN (
              SELECT person_id, arg_max(postcode, from_date) AS postcode
              FROM read_parquet('{w}/register/WDS_ADDRESS.parquet') GROUP BY 1) a USING (person_id)"""
    )
    con.execute(
        f"""CREATE TABLE r AS SELECT row_number() OVER () AS system_id, *
            FROM read_csv('{w}/CAFW/CAFCASS_PERSON.csv', all_varchar = true)"""
    )
    con.execute(
        """CREATE TABLE recs AS SELECT system_id, NHS_NUMBER AS nhs_number, FORENAME AS forename,
              SURNAME AS surname, strftime(strptime(DOB, '%d/%m/%Y'), '%Y-%m-%d') AS dob, SEX AS sex,
              POSTCODE AS postcode FROM r"""
    )
    con.execute(
        f"""COPY (SELECT r.system_id, t.register_person_id AS person_id FROM r
                  JOIN read_parquet('{w}/truth/CAFW_CAFCASS_PERSON.parquet') t ON t.record_id = r.PERSON_ID)
            TO '{d}/truth.parquet'"""
    )
    # names, date of birth and sex only, on both sides (no NHS number, no postcode)
    con.execute(
        f"""COPY (SELECT person_id, NULL AS nhs_number, forename, surname, NULL AS previous_surname,
                  dob, sex, NULL AS postcode FROM reg) TO '{d}/reg_nds.parquet'"""
    )
    con.execute(
        f"""COPY (SELECT system_id, NULL AS nhs_number, forename, surname, dob, sex, NULL AS postcode
                  FROM recs) TO '{d}/recs_nds.csv' (HEADER)"""
    )
    # every field, but sex is one value throughout and the records' postcodes are all missing
    con.execute(f"COPY (SELECT * REPLACE (1 AS sex) FROM reg) TO '{d}/reg_const.parquet'")
    con.execute(
        f"""COPY (SELECT * REPLACE ('1' AS sex, NULL AS postcode) FROM recs)
            TO '{d}/recs_const.csv' (HEADER)"""
    )
    # records with a surname and nothing else: no blocking rule can run
    con.execute(
        f"""COPY (SELECT system_id, NULL AS nhs_number, NULL AS forename, surname, NULL AS dob,
                  NULL AS sex, NULL AS postcode FROM recs LIMIT 50) TO '{d}/recs_surname.csv' (HEADER)"""
    )
    return {
        "truth": d / "truth.parquet",
        "reg_nds": d / "reg_nds.parquet",
        "recs_nds": d / "recs_nds.csv",
        "reg_const": d / "reg_const.parquet",
        "recs_const": d / "recs_const.csv",
        "recs_surname": d / "recs_surname.csv",
    }


def _score(out: Path, truth: Path) -> float:
    con = duckdb.connect()
    return accuracy(con, f"read_parquet('{out}')", f"read_parquet('{truth}')")["all"].f1


def _compared(model: dict) -> list[str]:
    return [c["output_column_name"] for c in model["comparisons"]]


def test_empty_and_constant_fields_are_left_out_and_reported(files, tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    r = match_files(files["reg_const"], files["recs_const"], out)
    assert r.model is not None
    assert "sex" not in _compared(r.model) and "postcode" not in _compared(r.model)
    assert {"nhs_number", "forename", "surname", "dob"} <= set(_compared(r.model))
    notes = "\n".join(r.notes)
    assert "left out postcode: entirely empty in the records" in notes
    assert "left out sex: one value throughout the records" in notes
    assert "fields compared: nhs_number, forename, surname, dob" in notes
    # no blocking rule (standard or wide) or EM pass on a field that was left out
    rules = [str(b) for b in r.model["blocking_rules_to_generate_predictions"]]
    assert rules and not any("postcode" in b or "sex" in b for b in rules)
    passes = [n for n in r.notes if n.startswith("EM passes")]
    assert passes and "postcode" not in passes[0]
    assert _score(out, files["truth"]) > 0.99


def test_names_dob_sex_only(files, tmp_path: Path) -> None:
    """Without NHS number or postcode the matcher still links: EM passes leave two informative
    fields free (blocking on both names would leave only dob and sex, and EM collapses)."""
    out = tmp_path / "out.parquet"
    r = match_files(files["reg_nds"], files["recs_nds"], out)
    assert r.model is not None
    assert sorted(_compared(r.model)) == ["dob", "forename", "sex", "surname"]
    notes = "\n".join(r.notes)
    assert "EM passes blocked on: dob; forename + sex" in notes
    dob = next(c for c in r.model["comparisons"] if c["output_column_name"] == "dob")
    exact = next(
        lv for lv in dob["comparison_levels"] if lv.get("label_for_charts", "").startswith("Exact")
    )
    assert exact["m_probability"] > 0.8, "EM mistook same-sex pairs for matches"
    assert _score(out, files["truth"]) > 0.97


def test_no_blocking_rule_leaves_records_unmatched_and_says_why(files, tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    r = match_files(files["reg_const"], files["recs_surname"], out)
    assert r.counts == {99: 50}
    assert any("probabilistic stage skipped" in n for n in r.notes)


def _choice(*used: str) -> FieldChoice:
    return FieldChoice(
        tuple(
            FieldProfile(f, 1.0 if f in used else 0.0, 1.0, 10, 10)
            for f in ("nhs_number", "forename", "surname", "dob", "sex", "postcode")
        )
    )


def test_em_rules_follow_the_fields() -> None:
    assert em_rules(_choice("nhs_number", "forename", "surname", "dob", "sex", "postcode")) == (
        ("dob",),
        ("forename", "surname", "sex"),
    )
    # the forename comparison reads the surname too: blocking on the surname leaves only dob free
    assert em_rules(_choice("forename", "surname", "dob", "sex")) == (
        ("dob",),
        ("forename", "sex"),
    )
    assert em_rules(_choice("forename", "surname", "postcode")) == (("postcode",), ("forename",))
    assert em_rules(_choice("surname", "sex")) == ()


@settings(max_examples=60, deadline=None)
@given(
    matched=st.integers(0, 400),
    unmatched=st.integers(0, 400),
    weight=st.floats(25, 80),
)
def test_share_matched_is_recovered(matched: int, unmatched: int, weight: float) -> None:
    """Records with a decisive candidate and records with none: EM finds their share."""
    n = matched + unmatched
    sums = np.full(matched, weight)
    pi = _estimate_pi(sums, n, 10_000)
    assert 0.0 <= pi <= 1.0
    if n:
        # a decisive match on the register, or no candidate at all; nothing in between
        assert math.isclose(pi, matched / n, abs_tol=1e-3 + BLOCKING_MISS)


def test_weak_candidates_do_not_make_a_share() -> None:
    """A candidate no more likely than a random pair (Bayes factor 1) says nothing: pi stays low."""
    pi = _estimate_pi(np.zeros(1000), 1000, 1_000_000)
    assert pi < 0.01


def _posterior(candidates: list[tuple[int, int, float]], *, n: int = 1000, pi: float = 0.5):
    """prob_assign for candidate pairs (record, person, log2 Bayes factor), pi fixed."""
    from justicelink.linkage.assign import assign

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE candidates (system_id BIGINT, person_id BIGINT, match_weight DOUBLE, "
        "match_probability DOUBLE)"
    )
    for sid, pid, lbf in candidates:
        con.execute("INSERT INTO candidates VALUES (?, ?, ?, NULL)", [sid, pid, lbf])
    records = len({c[0] for c in candidates})
    assign(con, prior_weight=0.0, register_size=n, records=records, share_matched=pi)
    return {r[0]: r[1:] for r in con.execute(
        "SELECT system_id, person_id, status, round(p, 4), reason FROM prob_assign").fetchall()}  # fmt: skip


def test_posterior_worked_examples() -> None:
    """By hand, N = 1000 and pi = 0.5: P = (pi/N) BF / ((1 - pi) + pi eps + (pi/N) sum BF)."""
    got = _posterior([(1, 10, 14.0), (1, 11, 13.0), (2, 20, 20.0), (3, 30, 10.0), (3, 31, 8.0),
                      (4, 40, 12.0)])  # fmt: skip
    assert got[1][1] == 99 and got[1][0] is None and "not guessed" in got[1][3]
    assert got[1][2] == 0.6406  # the best of the two near-equal people
    assert got[2][:3] == (20, 39, 0.9990)
    assert got[3][1] == 99 and got[3][2] == 0.4489 and "below p = 0.5" in got[3][3]
    assert got[4][:3] == (40, 35, 0.8036)
