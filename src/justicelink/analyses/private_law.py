"""Private-law applications per 10,000 families, by area deprivation and local authority;
repeat applications.

Families: a family is a living mother with at least one child aged 0-17 on 1 July of the year.
Mothers and their children come from child health (NCCH_CHILD_BIRTHS: ALF_PE and MAT_ALF_PE;
it holds every child born since 18 years before the first study year). The family is placed by
the mother's address that day in the demographic service (WDSD), and the LSOA gives the local
authority and WIMD 2019 quintile (1 = most deprived; REFR_LSOA2011_LOOKUP). Welsh addresses only.
Applications: Cafcass Cymru private-law applications issued in the year. An application belongs
to a family if the mother is a party (applicant or respondent) or the mother of a subject child.
A family's application is new if the family had none in the previous two years; a later one
within two years is a repeat. The headline rate counts families with a new application in the
year per 10,000 families. The repeat share counts new applications followed by another within
two years, among those issued at least two years before the last issue date in the data.
Linkage filter: mothers (in child health, the demographic service and Cafcass) and subject
children must be linked under the filter, default ALF_STS_CD IN (1, 4, 39), with strict and
loose bands.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from justicelink.analyses.areas import CHILD_AGE_DAYS, address_on_1_july, years_sql
from justicelink.analyses.care_proceedings import Session, latest_table
from justicelink.analyses.newborns import DEFAULT, FILTERS
from justicelink.formats import status_list


@dataclass(frozen=True)
class PrivateLawResult:
    by_quintile: dict[str, pa.Table]  # filter -> (q, families, applications, rate_per_10k), pooled
    by_la: pa.Table  # default filter: (la, families, applications, rate_per_10k), pooled
    by_year: pa.Table  # default filter: (yr, q, families, applications, rate_per_10k)
    repeats: dict[str, tuple[int, int]]  # filter -> (new applications followed 2 years, repeated)
    family_years: pa.Table  # default filter, aggregated: (yr, q, la, families, applications)
    sql: str


def _family_sql(session: Session, statuses: tuple[int, ...]) -> str:
    births = latest_table(session, "NCCH_CHILD_BIRTHS")
    pers = latest_table(session, "WDSD_AR_PERS")
    app = latest_table(session, "CAFW_CAFCASS_APPLICATION")
    users = latest_table(session, "CAFW_CAFCASS_APPLICATIONSERVICEUSERS")
    alf = latest_table(session, "CAFW_CAFCASS_ALF")
    st = status_list(statuses)
    mothers_on_1_july = f"""
        SELECT DISTINCT y.yr, p.PERS_ID_PE, mc.mother
        FROM mc CROSS JOIN ({years_sql(session, "Private")}) y
        JOIN {pers} p ON p.ALF_PE = mc.mother AND p.ALF_STS_CD IN {st}
        WHERE date_diff('day', mc.WOB + INTERVAL 3 DAY, make_date(y.yr, 7, 1)) BETWEEN 0 AND {CHILD_AGE_DAYS - 1}
          AND (p.DOD IS NULL OR p.DOD > make_date(y.yr, 7, 1))"""
    return f"""
        WITH mc AS (
            SELECT DISTINCT MAT_ALF_PE AS mother, ALF_PE AS child, ALF_STS_CD AS child_sts, WOB
            FROM {births}
            WHERE MAT_ALF_PE IS NOT NULL AND MAT_ALF_STS_CD IN {st} AND STILLBIRTH_FLG = 0
        ), m1 AS ({mothers_on_1_july}
        ), placed AS (
            SELECT yr, PERS_ID_PE, la, q FROM ({address_on_1_july(session, "SELECT yr, PERS_ID_PE FROM m1")})
        ), families AS (
            SELECT DISTINCT m1.yr, m1.mother, placed.la, placed.q
            FROM m1 JOIN placed USING (yr, PERS_ID_PE)
        ), priv AS (
            SELECT a.CAP_APPLICATIONID_PE AS app, a.CAP_ISSUEDATE AS issue, u.RECORD2ROLEIDNAME AS role,
                   p.ALF_PE, p.ALF_STS_CD
            FROM {app} a
            JOIN {users} u ON u.RECORD1ID_PE = a.CAP_APPLICATIONID_PE
            JOIN {alf} p ON p.SYSTEM_ID_PE = u.RECORD2ID_PE
            WHERE a.CAP_LAWTYPENAME = 'Private' AND p.ALF_PE IS NOT NULL AND p.ALF_STS_CD IN {st}
        ), family_apps AS (
            SELECT DISTINCT mc.mother, priv.issue FROM priv JOIN mc ON mc.mother = priv.ALF_PE
            WHERE priv.role IN ('Applicant', 'Respondent')
            UNION
            SELECT DISTINCT mc.mother, priv.issue FROM priv JOIN mc ON mc.child = priv.ALF_PE
            WHERE priv.role = 'Subject' AND mc.child_sts IN {st}
        ), seq AS (
            SELECT mother, issue,
                   lag(issue) OVER (PARTITION BY mother ORDER BY issue) AS prev,
                   lead(issue) OVER (PARTITION BY mother ORDER BY issue) AS next
            FROM family_apps
        ), new_apps AS (
            SELECT mother, issue, next, CAST(year(issue) AS INTEGER) AS yr FROM seq
            WHERE prev IS NULL OR date_diff('day', prev, issue) > 730
        ), family_years AS (
            SELECT f.yr, f.mother, f.la, f.q, n.issue, n.next
            FROM families f LEFT JOIN new_apps n USING (yr, mother)
        )"""


def private_law_rates(session: Session) -> PrivateLawResult:
    app = latest_table(session, "CAFW_CAFCASS_APPLICATION")
    last = f"(SELECT max(CAP_ISSUEDATE) FROM {app})"
    by_q: dict[str, pa.Table] = {}
    repeats: dict[str, tuple[int, int]] = {}
    default_sql, default_source = "", ""
    for label, statuses in FILTERS.items():
        base = _family_sql(session, statuses)
        source = f"jl_family_years_{len(by_q)}"
        session.query(f"CREATE OR REPLACE TEMP TABLE {source} AS {base} SELECT * FROM family_years")
        if label == DEFAULT:
            default_sql, default_source = base, source
        by_q[label] = session.query(
            f"""SELECT q, count(*) AS families, count(issue) AS applications,
                       round(10000.0 * count(issue) / count(*), 1) AS rate_per_10k
                FROM {source} GROUP BY q ORDER BY q"""
        )
        r = session.query(
            f"""SELECT count(*) AS n, count(*) FILTER (WHERE next IS NOT NULL AND date_diff('day', issue, next) <= 730) AS rep
                FROM {source} WHERE issue IS NOT NULL AND issue <= {last} - INTERVAL 730 DAY"""
        ).to_pylist()[0]
        repeats[label] = (int(r["n"]), int(r["rep"]))
    by_la = session.query(
        f"""SELECT la, count(*) AS families, count(issue) AS applications,
                  round(10000.0 * count(issue) / count(*), 1) AS rate_per_10k
           FROM {default_source} GROUP BY la ORDER BY la"""
    )
    by_year = session.query(
        f"""SELECT yr, q, count(*) AS families, count(issue) AS applications,
                  round(10000.0 * count(issue) / count(*), 1) AS rate_per_10k
           FROM {default_source} GROUP BY yr, q ORDER BY yr, q"""
    )
    family_years = session.query(
        f"""SELECT CAST(yr AS VARCHAR) AS yr, q, la, count(*) AS families, count(issue) AS applications
           FROM {default_source} GROUP BY ALL ORDER BY ALL"""
    )
    return PrivateLawResult(by_q, by_la, by_year, repeats, family_years, sql=default_sql)
