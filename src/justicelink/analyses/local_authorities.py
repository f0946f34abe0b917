"""Children in s31 care proceedings per 10,000 children, by local authority.

Numerator: distinct children who were the subject of a public-law s31 application (care or
supervision order) issued in the year, by the local authority that brought the case
(CAFCASS_INCIDENT.CAP_LOCALAUTHORITYNAME). A child is one person: by ALF_PE where linked under
the filter, else by the Cafcass person id, so the filter only changes how children are
de-duplicated.
Denominator: children aged 0-17 on 1 July of the year (age from the week of birth), alive
that day, living at a Welsh address in the authority, from the demographic service
(WDSD_AR_PERS and WDSD_AR_PERS_ADD, LSOA to authority through REFR_LSOA2011_LOOKUP).
Rates are per 10,000 child-years, pooled over the years with applications, and by year.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from justicelink.analyses.areas import CHILD_AGE_DAYS, address_on_1_july, years_sql
from justicelink.analyses.care_proceedings import Session, latest_table
from justicelink.analyses.newborns import DEFAULT, FILTERS
from justicelink.formats import status_list

S31 = "('Care Order (s31)', 'Supervision Order (s31)')"


@dataclass(frozen=True)
class LocalAuthorityResult:
    by_la: dict[str, pa.Table]  # filter -> (la, child_years, children, rate_per_10k), pooled
    by_year: pa.Table  # default filter: (yr, la, child_years, children, rate_per_10k)
    children: pa.Table  # default filter, record level: (yr, la), one row per child and year
    sql: str


def children_per_10k_by_la(session: Session) -> LocalAuthorityResult:
    app = latest_table(session, "CAFW_CAFCASS_APPLICATION")
    incident = latest_table(session, "CAFW_CAFCASS_INCIDENT")
    users = latest_table(session, "CAFW_CAFCASS_APPLICATIONSERVICEUSERS")
    alf = latest_table(session, "CAFW_CAFCASS_ALF")
    pers = latest_table(session, "WDSD_AR_PERS")
    children_at = f"""
        SELECT y.yr, p.PERS_ID_PE FROM {pers} p CROSS JOIN ({years_sql(session, "Public")}) y
        WHERE date_diff('day', p.WOB + INTERVAL 3 DAY, make_date(y.yr, 7, 1)) BETWEEN 0 AND {CHILD_AGE_DAYS - 1}
          AND (p.DOD IS NULL OR p.DOD > make_date(y.yr, 7, 1))"""
    population_sql = (
        f"SELECT DISTINCT yr, PERS_ID_PE, la FROM ({address_on_1_july(session, children_at)})"
    )
    session.query(f"CREATE OR REPLACE TEMP TABLE jl_child_years AS {population_sql}")

    def subjects(statuses: tuple[int, ...]) -> str:
        st = status_list(statuses)
        return f"""
            SELECT DISTINCT CAST(year(a.CAP_ISSUEDATE) AS INTEGER) AS yr, i.CAP_LOCALAUTHORITYNAME AS la,
                   CASE WHEN p.ALF_STS_CD IN {st} THEN 'A' || p.ALF_PE ELSE 'S' || u.RECORD2ID_PE END AS child
            FROM {app} a
            JOIN {incident} i ON i.CAP_INCIDENTID_PE = a.CAP_INCIDENTID_PE
            JOIN {users} u ON u.RECORD1ID_PE = a.CAP_APPLICATIONID_PE AND u.RECORD2ROLEIDNAME = 'Subject'
            JOIN {alf} p ON p.SYSTEM_ID_PE = u.RECORD2ID_PE
            WHERE a.CAP_LAWTYPENAME = 'Public' AND a.CAP_PRIMARYAPPLICATIONTYPENAME IN {S31}
              AND i.CAP_LOCALAUTHORITYNAME IS NOT NULL"""

    by_la: dict[str, pa.Table] = {}
    for label, statuses in FILTERS.items():
        by_la[label] = session.query(
            f"""WITH c AS ({subjects(statuses)}),
                 pop AS (SELECT la, count(*) AS child_years FROM jl_child_years GROUP BY la),
                 num AS (SELECT la, count(*) AS children FROM c GROUP BY la)
            SELECT pop.la, pop.child_years, coalesce(num.children, 0) AS children,
                   round(10000.0 * coalesce(num.children, 0) / pop.child_years, 1) AS rate_per_10k
            FROM pop LEFT JOIN num USING (la) ORDER BY pop.la"""
        )
    default = subjects(FILTERS[DEFAULT])
    by_year = session.query(
        f"""WITH c AS ({default}),
             pop AS (SELECT yr, la, count(*) AS child_years FROM jl_child_years GROUP BY ALL),
             num AS (SELECT yr, la, count(*) AS children FROM c GROUP BY ALL)
        SELECT pop.yr, pop.la, pop.child_years, coalesce(num.children, 0) AS children,
               round(10000.0 * coalesce(num.children, 0) / pop.child_years, 1) AS rate_per_10k
        FROM pop LEFT JOIN num USING (yr, la) ORDER BY 1, 2"""
    )
    children = session.query(f"SELECT CAST(yr AS VARCHAR) AS yr, la FROM ({default})")
    return LocalAuthorityResult(by_la, by_year, children, sql=f"{population_sql};\n{default}")
