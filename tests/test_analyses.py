"""Family-justice analyses on the demo project: they recover the generator's planted truth."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from signin import sign_in

from justicelink import analyses
from justicelink.platform import Platform


@pytest.fixture(scope="module")
def rhys(demo_home: Path):
    with sign_in(demo_home, "rhys") as p:
        yield p


def _session(p: Platform):  # type: ignore[no-untyped-def]
    return p.workspace.session("0001")


def _planted(demo_home: Path) -> dict:
    return json.loads((demo_home / "truth" / "planted.json").read_text())


def test_newborns_per_10k_recover_the_truth(demo_home: Path, rhys: Platform) -> None:
    """Tolerance: a newborn is found only if both the child's Cafcass record and birth record
    link (about 9 in 10 newborn Cafcass records carry a valid NHS number or clean names), and
    projects hold WOB, not DOB, so a birth near the 14-day cut-off or a year end can move by a
    few days. Over all years the recovered count must lie between 65% and 105% of the truth,
    and the stricter filter can only find fewer."""
    planted = _planted(demo_home)
    with _session(rhys) as s:
        result = analyses.newborns_in_care_proceedings(s)
    truth = sum(planted["CAFW"]["newborn_cases_by_birth_year"].values())
    found = {
        label: sum(t.column("newborns_14d").to_pylist()) for label, t in result.by_year.items()
    }
    assert 0.65 * truth <= found["default (1, 4, 39)"] <= 1.05 * truth, (found, truth)
    assert found["strict (1)"] <= found["default (1, 4, 39)"] <= found["loose (1, 4, 39, 35)"]
    births = {r["birth_year"]: r["births"] for r in result.births.to_pylist()}
    for year, n in planted["births_by_year"].items():
        assert abs(births.get(year, 0) - n) <= 0.03 * n, year  # births: only the year-end shift


def test_recurrence_recovers_the_returning_share(demo_home: Path, rhys: Platform) -> None:
    """Tolerance: the planted share counts register mothers; the analysis counts Cafcass
    mothers by ALF_PE or person id, so a duplicate unlinked record can split a mother in two.
    The share must be within 5 percentage points of the truth."""
    planted = _planted(demo_home)["CAFW"]
    with _session(rhys) as s:
        result = analyses.recurrent_proceedings(s)
    share = result.share_returned["default (1, 4, 39)"]
    assert abs(share - planted["mothers_returning_share"]) < 0.05, (
        share,
        planted["mothers_returning_share"],
    )
    for curve in result.km.values():
        survival = [s for _, s in curve]
        assert survival[0] == 1.0 and all(a >= b for a, b in itertools.pairwise(survival))


def test_analyses_go_through_the_airlock_and_report(demo_home: Path, rhys: Platform) -> None:
    report, requests = rhys.analyses.run("0001")
    html = report.read_text()
    assert "Newborns in care proceedings" in html and "Kaplan-Meier" in html and "vegaEmbed" in html
    for rid in requests.values():
        assert rhys.cp.request(rid).state == "submitted"
        assert (demo_home / "airlock" / "requests" / rid / "acro" / "results.json").is_file()


def test_parents_health_recovers_the_planted_contrast(demo_home: Path, rhys: Platform) -> None:
    """Tolerance: at the test size there are some 100-200 linked parents, so a share has a
    sampling error of about 3.6 points; parents' shares must be within 4 standard errors (or 8
    points) of the planted target, the comparison group's within 4 standard errors of the
    population's, and the difference must be significant for mental health and substance use.
    ED attendance also comes from 30% of injuries and self-harm events, which lifts the
    population's 2-year share from the planted 37% to about 40%: 3.5 points are added to its
    comparison tolerance."""
    targets = _planted(demo_home)["health"]["targets_2y_before_first_case"]
    names = {
        "mental health": "mental_health",
        "substance use": "substance_use",
        "ED attendance": "ed_attendance",
    }
    with _session(rhys) as s:
        result, cohort = analyses.parents_health(s)
    for m in result["default (1, 4, 39)"]:
        if m.measure not in names:
            continue
        t = targets[names[m.measure]]
        se = (t["parents"] * (1 - t["parents"]) / m.parents) ** 0.5
        assert abs(m.parents_share - t["parents"]) < max(4 * se, 0.08), (
            m.measure,
            m.parents_share,
            t,
        )
        # comparators are drawn at random (by project pseudonym) each run: 4 standard errors,
        # plus the known 3.5-point lift of ED attendance from injuries and self-harm
        se_c = (t["population"] * (1 - t["population"]) / m.comparison) ** 0.5
        tol = 4 * se_c + (0.035 if m.measure == "ED attendance" else 0.0)
        assert abs(m.comparison_share - t["population"]) < tol, (
            m.measure,
            m.comparison_share,
            t,
            tol,
        )
        assert m.parents_share > m.comparison_share
        if m.measure != "ED attendance":
            assert m.p_value < 0.05
    assert set(cohort.group) == {"parents", "comparison"}


def test_private_law_recovers_the_planted_gradient(demo_home: Path, rhys: Platform) -> None:
    """Tolerance: the analysis and the generator count the same realised families and
    applications, so sampling error does not enter. What differs is measurement. A mother
    unlinked in child health or the demographic service drops from both numerator and
    denominator; one unlinked in Cafcass (about 1 in 100 adults with the probabilistic stage)
    drops only from the numerator; a family that moves between 1 July and the issue date can
    change quintile. So each quintile's families must be within 2% of the truth and its rate
    within 10% (relative) of the planted rate; the deprivation gradient must show, and the
    two-year repeat share must be within 5 points."""
    planted = _planted(demo_home)
    truth = planted["private_law_families_and_first_applications_by_quintile"]
    with _session(rhys) as s:
        result = analyses.private_law_rates(s)
    rows = {r["q"]: r for r in result.by_quintile["default (1, 4, 39)"].to_pylist()}
    assert sorted(rows) == [1, 2, 3, 4, 5]
    for q, (families, apps) in truth.items():
        r = rows[int(q)]
        assert abs(r["families"] - families) <= 0.02 * families, (q, r, families)
        want = 10_000 * apps / families
        assert abs(r["rate_per_10k"] - want) <= 0.10 * want, (q, r, want)
    assert rows[1]["rate_per_10k"] > 1.5 * rows[5]["rate_per_10k"]
    n, repeated = result.repeats["default (1, 4, 39)"]
    share = planted["private_law_repeat_within_2y"]["share"]
    assert n > 50 and abs(repeated / n - share) < 0.05, (n, repeated, share)
    # by local authority: the same families, placed by authority
    by_la = planted["private_law_families_and_first_applications_by_la"]
    got = {r["la"]: r for r in result.by_la.to_pylist()}
    assert set(got) == set(by_la)
    for la, (families, _) in by_la.items():
        assert abs(got[la]["families"] - families) <= 0.02 * families, la


def test_children_per_10k_by_local_authority_recover_the_truth(
    demo_home: Path, rhys: Platform
) -> None:
    """Tolerance: child-years come from the demographic service, which holds everyone with a
    Welsh address, so each authority's count must be within 1% of the register's. Children in
    proceedings are counted from Cafcass, by ALF_PE where linked and by person id otherwise,
    so a child with two unlinked records can count twice: within 1 child or 10% of the truth."""
    planted = _planted(demo_home)["CAFW"]
    with _session(rhys) as s:
        result = analyses.children_per_10k_by_la(s)
    rows = {r["la"]: r for r in result.by_la["default (1, 4, 39)"].to_pylist()}
    assert set(rows) == set(planted["child_years_by_la"])
    for la, years in planted["child_years_by_la"].items():
        assert abs(rows[la]["child_years"] - years) <= 0.01 * years, la
        kids = planted["children_in_s31_by_la"].get(la, 0)
        assert abs(rows[la]["children"] - kids) <= max(1, 0.1 * kids), (la, rows[la], kids)
    assert sum(r["children"] for r in rows.values()) > 50


def test_one_analysis_by_name_and_unknown_names_refused(demo_home: Path, rhys: Platform) -> None:
    from justicelink.formats import RefusedError

    report, requests = rhys.analyses.run("0001", ("private-law",))
    assert list(requests) == ["private_law"]
    html = report.read_text()
    assert "Private-law applications by deprivation and area" in html
    assert "Newborns in care proceedings" not in html
    with pytest.raises(RefusedError, match="unknown analyses"):
        rhys.analyses.run("0001", ("nonsense",))
