"""Family-justice analyses on the demo project: they recover the generator's planted truth."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from justicelink import analyses
from justicelink import platform as pf


def _planted(demo_home: Path) -> dict:
    return json.loads((demo_home / "truth" / "planted.json").read_text())


def test_newborns_per_10k_recover_the_truth(demo_home: Path) -> None:
    """Tolerance: a newborn is found only if both the child's Cafcass record and birth record
    link (about 9 in 10 newborn Cafcass records carry a valid NHS number or clean names), and
    projects hold WOB, not DOB, so a birth near the 14-day cut-off or a year end can move by a
    few days. Over all years the recovered count must lie between 65% and 105% of the truth,
    and the stricter filter can only find fewer."""
    planted = _planted(demo_home)
    with pf.open_session(pf.Home(demo_home), "0001", "rhys") as s:
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


def test_recurrence_recovers_the_returning_share(demo_home: Path) -> None:
    """Tolerance: the planted share counts register mothers; the analysis counts Cafcass
    mothers by ALF_PE or person id, so a duplicate unlinked record can split a mother in two.
    The share must be within 5 percentage points of the truth."""
    planted = _planted(demo_home)["CAFW"]
    with pf.open_session(pf.Home(demo_home), "0001", "rhys") as s:
        result = analyses.recurrent_proceedings(s)
    share = result.share_returned["default (1, 4, 39)"]
    assert abs(share - planted["mothers_returning_share"]) < 0.05, (
        share,
        planted["mothers_returning_share"],
    )
    for curve in result.km.values():
        survival = [s for _, s in curve]
        assert survival[0] == 1.0 and all(a >= b for a, b in itertools.pairwise(survival))


def test_analyses_go_through_the_airlock_and_report(demo_home: Path) -> None:
    report, requests = pf.run_family_justice_analyses(pf.Home(demo_home), "0001", "rhys")
    html = report.read_text()
    assert "Newborns in care proceedings" in html and "Kaplan-Meier" in html and "vegaEmbed" in html
    for rid in requests.values():
        state = json.loads((demo_home / "airlock" / "requests" / rid / "request.json").read_text())
        assert state["state"] == "submitted"
        assert (demo_home / "airlock" / "requests" / rid / "acro" / "results.json").is_file()


def test_parents_health_recovers_the_planted_contrast(demo_home: Path) -> None:
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
    with pf.open_session(pf.Home(demo_home), "0001", "rhys") as s:
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
