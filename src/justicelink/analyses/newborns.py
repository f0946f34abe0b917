"""Newborns in care proceedings per 10,000 live births, with a linkage-sensitivity band.

Cohort: live births in child health (NCCH_CHILD_BIRTHS, STILLBIRTH_FLG = 0), by year of birth.
Numerator: children who were the subject of a public-law s31 application issued within 14 days
of birth (and, separately, within 7 days), found by joining Cafcass Cymru subjects to births on
ALF_PE. Projects hold the week of birth (WOB, the Monday on or before the birth), never the date:
age at issue is estimated as issue date - (WOB + 3 days), so a child within a few days of the
cut-off can fall either side (the tolerance in the tests says by how much). A partial year at
the edge of the data (fewer than half the median year's births) is left out, as are birth years before the
first year of Cafcass data (child health goes back further).
Linkage filter: ALF_STS_CD IN (1, 4, 39) by default on both sides; also run strictly (1) and
loosely (1, 4, 39, 35) to show how much the figure depends on linkage.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from justicelink.analyses.care_proceedings import Session, latest_table
from justicelink.formats import LOOSE_FILTER, RESEARCH_FILTER, STRICT_FILTER, status_list

# label ("default (1, 4, 39)") -> statuses: every headline figure is computed under each
FILTERS: dict[str, tuple[int, ...]] = {
    f"{name} {status_list(codes)}": codes
    for name, codes in (
        ("strict", STRICT_FILTER),
        ("default", RESEARCH_FILTER),
        ("loose", LOOSE_FILTER),
    )
}
DEFAULT = f"default {status_list(RESEARCH_FILTER)}"


@dataclass(frozen=True)
class NewbornResult:
    by_year: dict[
        str, pa.Table
    ]  # filter -> table(birth_year, births, newborns_14d, newborns_7d, rate_14d_per_10k)
    record_level: (
        pa.Table
    )  # default filter: one row per newborn subject (birth_year, within_7d) for ACRO
    births: pa.Table  # birth_year, births (no small cells: births per year)
    sql: str


def newborns_in_care_proceedings(session: Session) -> NewbornResult:
    app = latest_table(session, "CAFW_CAFCASS_APPLICATION")
    users = latest_table(session, "CAFW_CAFCASS_APPLICATIONSERVICEUSERS")
    alf = latest_table(session, "CAFW_CAFCASS_ALF")
    births = latest_table(session, "NCCH_CHILD_BIRTHS")
    base = f"""
        WITH b AS (
            SELECT ALF_PE, ALF_STS_CD, WOB, CAST(year(WOB + INTERVAL 3 DAY) AS VARCHAR) AS birth_year
            FROM {births} WHERE STILLBIRTH_FLG = 0
              -- child health goes back further than Cafcass: only years with court data
              AND year(WOB + INTERVAL 3 DAY) >= (SELECT min(year(CAP_ISSUEDATE)) FROM {app})
        ), s AS (
            SELECT DISTINCT p.ALF_PE, p.ALF_STS_CD, min(a.CAP_ISSUEDATE) OVER (PARTITION BY p.ALF_PE) AS first_issue
            FROM {app} a
            JOIN {users} u ON u.RECORD1ID_PE = a.CAP_APPLICATIONID_PE AND u.RECORD2ROLEIDNAME = 'Subject'
            JOIN {alf} p ON p.SYSTEM_ID_PE = u.RECORD2ID_PE
            WHERE a.CAP_LAWTYPENAME = 'Public'
              AND a.CAP_PRIMARYAPPLICATIONTYPENAME IN ('Care Order (s31)', 'Supervision Order (s31)')
              AND p.ALF_PE IS NOT NULL
        ), n AS (
            SELECT b.birth_year, date_diff('day', b.WOB + INTERVAL 3 DAY, s.first_issue) AS age_days,
                   b.ALF_STS_CD AS sts_b, s.ALF_STS_CD AS sts_s
            FROM b JOIN s USING (ALF_PE)
        )"""
    by_year: dict[str, pa.Table] = {}
    for label, statuses in FILTERS.items():
        st = status_list(statuses)
        by_year[label] = session.query(
            f"""{base}
            SELECT y.birth_year, y.births,
                   count(n.age_days) FILTER (WHERE n.age_days BETWEEN -3 AND 13 AND n.sts_b IN {st} AND n.sts_s IN {st}) AS newborns_14d,
                   count(n.age_days) FILTER (WHERE n.age_days BETWEEN -3 AND 6 AND n.sts_b IN {st} AND n.sts_s IN {st}) AS newborns_7d,
                   round(10000.0 * count(n.age_days) FILTER (WHERE n.age_days BETWEEN -3 AND 13 AND n.sts_b IN {st} AND n.sts_s IN {st}) / y.births, 1) AS rate_14d_per_10k
            FROM (SELECT birth_year, count(*) AS births FROM b GROUP BY 1
                  -- a year at the edge of the data with only a few days of births is dropped
                  QUALIFY count(*) >= 0.5 * median(count(*)) OVER ()) y
            LEFT JOIN n USING (birth_year)
            GROUP BY 1, 2 ORDER BY 1"""
        )
    st = status_list(FILTERS[DEFAULT])
    record_level = session.query(
        f"""{base}
        SELECT birth_year, CASE WHEN age_days <= 6 THEN 'within 7 days' ELSE '7 to 13 days' END AS issued
        FROM n WHERE age_days BETWEEN -3 AND 13 AND sts_b IN {st} AND sts_s IN {st}"""
    )
    births_t = session.query(
        f"{base} SELECT birth_year, count(*) AS births FROM b GROUP BY 1 ORDER BY 1"
    )
    return NewbornResult(by_year, record_level, births_t, base)
