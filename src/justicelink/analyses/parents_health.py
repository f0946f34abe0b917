"""Parents' health in the two years before care proceedings, against a matched comparison group.

Cohort: mothers and fathers who were respondents to a public-law s31 application (Cafcass
Cymru), linked under the filter; index date: the issue date of their first such case.
Comparison: up to two people per parent from the demographic register (WDSD_AR_PERS) who were
never a Cafcass respondent, alive at the parent's index date, and given the parent's index
date, matched on sex, year of birth and area deprivation. Deprivation is the WIMD 2019 quintile
of each person's address on 1 July of the index year (REFR_LSOA2011_LOOKUP), so parents without
a Welsh address that day are left out.
Outcomes in the 2 years before the index date: GP Read codes for mental health, substance use,
self-harm and injury (WLGP, joined to patients on LOCAL_NUM_PE), and any emergency department
attendance (EDDS). Each is compared with a chi-square test (2x2).
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import chi2_contingency

from justicelink.analyses.areas import address_on_1_july
from justicelink.analyses.care_proceedings import Session, latest_table
from justicelink.analyses.newborns import DEFAULT, FILTERS
from justicelink.formats import status_list

# Read v2 code lists (phenotypes) used by this analysis
CODES: dict[str, tuple[str, ...]] = {
    "mental health": ("E2B..", "Eu32.", "E200.", "E2003", "Eu41."),
    "substance use": ("E23..", "E24..", "Eu10.", "Eu11.", "1366."),
    "self-harm": ("TK...", "U2..."),
    "injury": ("S8...", "SK...", "S4..."),
}


@dataclass(frozen=True)
class Cohort:
    """Record-level flags (inside the platform only) for the airlock's ACRO tables."""

    group: list[str]
    flags: dict[str, list[int]]


@dataclass(frozen=True)
class Measure:
    measure: str
    parents: int
    parents_with: int
    comparison: int
    comparison_with: int
    chi2: float
    p_value: float

    @property
    def parents_share(self) -> float:
        return self.parents_with / self.parents if self.parents else 0.0

    @property
    def comparison_share(self) -> float:
        return self.comparison_with / self.comparison if self.comparison else 0.0


def _test(a: int, n_a: int, b: int, n_b: int) -> tuple[float, float]:
    table = [[a, n_a - a], [b, n_b - b]]
    if min(n_a, n_b) == 0 or a + b == 0 or a + b == n_a + n_b:
        return 0.0, 1.0
    chi2, p, _, _ = chi2_contingency(table)
    return float(chi2), float(p)


def parents_health(session: Session) -> tuple[dict[str, list[Measure]], Cohort]:
    """(filter label -> one Measure per outcome, the default filter's record-level cohort)."""
    app = latest_table(session, "CAFW_CAFCASS_APPLICATION")
    users = latest_table(session, "CAFW_CAFCASS_APPLICATIONSERVICEUSERS")
    alf = latest_table(session, "CAFW_CAFCASS_ALF")
    pers = latest_table(session, "WDSD_AR_PERS")
    patient = latest_table(session, "WLGP_PATIENT_ALF_CLEANSED")
    events = latest_table(session, "WLGP_GP_EVENT_CLEANSED")
    edds = latest_table(session, "EDDS_EDDS")
    out: dict[str, list[Measure]] = {}
    cohort = Cohort([], {})
    for label, statuses in FILTERS.items():
        st = status_list(statuses)
        people = """SELECT yr, PERS_ID_PE FROM jl_ph_pp
                    UNION SELECT yr, PERS_ID_PE FROM jl_ph_cand"""
        # the matching inputs are materialised once per filter: the later steps use each twice
        session.query(
            f"""CREATE OR REPLACE TEMP TABLE jl_ph_everyone AS
                SELECT ALF_PE, min(PERS_ID_PE) AS PERS_ID_PE, min(GNDR_CD) AS sex, min(year(WOB)) AS yob,
                       min(DOD) AS DOD
                FROM {pers} WHERE ALF_STS_CD IN {st} AND ALF_PE IS NOT NULL GROUP BY ALF_PE"""
        )
        session.query(
            f"""CREATE OR REPLACE TEMP TABLE jl_ph_pp AS
                WITH parents0 AS (
                    SELECT p.ALF_PE, min(p.GNDR_CD) AS sex, min(year(p.WOB)) AS yob, min(a.CAP_ISSUEDATE) AS idx
                    FROM {app} a
                    JOIN {users} u ON u.RECORD1ID_PE = a.CAP_APPLICATIONID_PE AND u.RECORD2ROLEIDNAME = 'Respondent'
                    JOIN {alf} p ON p.SYSTEM_ID_PE = u.RECORD2ID_PE
                    WHERE a.CAP_LAWTYPENAME = 'Public' AND p.ALF_STS_CD IN {st} AND p.ALF_PE IS NOT NULL
                    GROUP BY p.ALF_PE HAVING min(a.CAP_ISSUEDATE) >= DATE '2015-01-01'
                )
                SELECT p0.*, CAST(year(p0.idx) AS INTEGER) AS yr, e.PERS_ID_PE
                FROM parents0 p0 JOIN jl_ph_everyone e USING (ALF_PE)"""
        )
        session.query(
            f"""CREATE OR REPLACE TEMP TABLE jl_ph_never AS
                SELECT * FROM jl_ph_everyone
                WHERE ALF_PE NOT IN (SELECT p.ALF_PE FROM {alf} p JOIN {users} u ON u.RECORD2ID_PE = p.SYSTEM_ID_PE
                                     WHERE u.RECORD2ROLEIDNAME = 'Respondent' AND p.ALF_PE IS NOT NULL)"""
        )
        session.query(
            """CREATE OR REPLACE TEMP TABLE jl_ph_cand AS
                SELECT DISTINCT pp.yr, c.PERS_ID_PE FROM (SELECT DISTINCT yr, sex, yob FROM jl_ph_pp) pp
                JOIN jl_ph_never c ON c.sex = pp.sex AND c.yob = pp.yob
                WHERE c.DOD IS NULL OR c.DOD > make_date(pp.yr, 7, 1)"""
        )
        session.query(
            f"CREATE OR REPLACE TEMP TABLE jl_ph_placed AS {address_on_1_july(session, people)}"
        )
        base = f"""
            WITH pp AS (SELECT * FROM jl_ph_pp), never AS (SELECT * FROM jl_ph_never),
            placed AS (SELECT * FROM jl_ph_placed
            ), parents AS (
                SELECT pp.ALF_PE, pp.sex, pp.yob, pp.idx, pp.yr, pl.q,
                       row_number() OVER (PARTITION BY pp.sex, pp.yob, pp.yr, pl.q ORDER BY hash(pp.ALF_PE)) - 1 AS r
                FROM pp JOIN placed pl USING (yr, PERS_ID_PE)
            ), cands AS (
                SELECT c.ALF_PE, c.sex, c.yob, c.DOD, pl.yr, pl.q,
                       row_number() OVER (PARTITION BY c.sex, c.yob, pl.yr, pl.q ORDER BY hash(c.ALF_PE, pl.yr)) - 1 AS r
                FROM never c JOIN placed pl ON pl.PERS_ID_PE = c.PERS_ID_PE
            ), pairs AS (
                -- in each cell (sex, year of birth, index year, quintile) the parent ranked i gets
                -- the candidates ranked 2i and 2i + 1: an equi-join, no fan-out
                SELECT c.ALF_PE, p.idx
                FROM parents p
                JOIN cands c ON c.sex = p.sex AND c.yob = p.yob AND c.yr = p.yr AND c.q = p.q AND c.r // 2 = p.r
                WHERE c.DOD IS NULL OR c.DOD > p.idx
            ), cohort AS (
                SELECT ALF_PE, idx, 'parents' AS grp FROM parents
                UNION ALL SELECT ALF_PE, idx, 'comparison' FROM pairs
            ), gp AS (
                SELECT pt.ALF_PE, e.EVENT_DT, e.EVENT_CD FROM {events} e
                JOIN {patient} pt ON pt.LOCAL_NUM_PE = e.LOCAL_NUM_PE WHERE pt.ALF_PE IS NOT NULL
            )"""
        flags = [
            f"""max(CASE WHEN g.EVENT_CD IN ({", ".join(f"'{c}'" for c in codes)}) THEN 1 ELSE 0 END) AS "{name}" """
            for name, codes in CODES.items()
        ]
        rows = session.query(
            f"""{base}
            SELECT c.grp, c.ALF_PE, {", ".join(flags)},
                max(CASE WHEN ed.ALF_PE IS NOT NULL THEN 1 ELSE 0 END) AS "ED attendance"
            FROM cohort c
            LEFT JOIN gp g ON g.ALF_PE = c.ALF_PE AND g.EVENT_DT >= c.idx - INTERVAL 730 DAY AND g.EVENT_DT < c.idx
            LEFT JOIN (SELECT ALF_PE, ADMIN_ARR_DT FROM {edds}) ed
                ON ed.ALF_PE = c.ALF_PE AND ed.ADMIN_ARR_DT >= c.idx - INTERVAL 730 DAY AND ed.ADMIN_ARR_DT < c.idx
            GROUP BY 1, 2"""
        ).to_pylist()
        measures = []
        for name in [*CODES, "ED attendance"]:
            par = [r[name] for r in rows if r["grp"] == "parents"]
            com = [r[name] for r in rows if r["grp"] == "comparison"]
            chi2, p = _test(sum(par), len(par), sum(com), len(com))
            measures.append(Measure(name, len(par), sum(par), len(com), sum(com), chi2, p))
        out[label] = measures
        if label == DEFAULT:
            cohort = Cohort(
                [r["grp"] for r in rows],
                {name: [r[name] for r in rows] for name in [*CODES, "ED attendance"]},
            )
    return out, cohort


__all__ = ["CODES", "DEFAULT", "Measure", "parents_health"]
