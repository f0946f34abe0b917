"""Where people lived: the demographic service's address history placed on a date, with the
local authority and WIMD 2019 quintile of the address's LSOA (REFR_LSOA2011_LOOKUP).

A person's address on a date is the latest one starting on or before it; before their first
recorded move-in, their first address. Only Welsh addresses have a local authority and quintile.
"""

from __future__ import annotations

from justicelink.analyses.care_proceedings import Session, latest_table

CHILD_AGE_DAYS = 6574  # 18 years: age 0-17 means 0 <= days since birth (WOB + 3 days) < 6574


def years_sql(session: Session, law: str) -> str:
    """The years with applications of one law type in the project's Cafcass Cymru data."""
    app = latest_table(session, "CAFW_CAFCASS_APPLICATION")
    return (
        f"SELECT DISTINCT CAST(year(CAP_ISSUEDATE) AS INTEGER) AS yr FROM {app} "
        f"WHERE CAP_LAWTYPENAME = '{law}'"
    )


def address_on_1_july(session: Session, people: str) -> str:
    """SQL for (yr, PERS_ID_PE, la, q): each person of ``people`` (a relation with ``yr`` and
    ``PERS_ID_PE``) placed by their address on 1 July of ``yr``; Welsh addresses only.

    An ASOF join finds the latest address starting on or before the date without sorting every
    person's history (it scales to millions of person-years in the session's memory)."""
    addr = latest_table(session, "WDSD_AR_PERS_ADD")
    lookup = latest_table(session, "REFR_LSOA2011_LOOKUP")
    return f"""
        WITH x AS (SELECT DISTINCT yr, PERS_ID_PE, make_date(yr, 7, 1) AS d FROM ({people})),
        on_date AS (
            SELECT x.yr, x.PERS_ID_PE, a.FROM_DT AS since, a.LSOA2011_CD AS lsoa, a.WELSH_ADDRESS AS welsh
            FROM x ASOF LEFT JOIN {addr} a ON a.PERS_ID_PE = x.PERS_ID_PE AND a.FROM_DT <= x.d
        ), firsts AS (
            SELECT PERS_ID_PE, arg_min(LSOA2011_CD, FROM_DT) AS lsoa, arg_min(WELSH_ADDRESS, FROM_DT) AS welsh
            FROM {addr} WHERE PERS_ID_PE IN (SELECT PERS_ID_PE FROM on_date WHERE since IS NULL)
            GROUP BY PERS_ID_PE
        ), placed AS (
            SELECT o.yr, o.PERS_ID_PE,
                   CASE WHEN o.since IS NULL THEN f.lsoa ELSE o.lsoa END AS lsoa,
                   CASE WHEN o.since IS NULL THEN f.welsh ELSE o.welsh END AS welsh
            FROM on_date o LEFT JOIN firsts f USING (PERS_ID_PE)
        )
        SELECT p.yr, p.PERS_ID_PE, l.LA_NAME AS la, l.WIMD_2019_QUINTILE AS q
        FROM placed p JOIN {lookup} l ON l.LSOA2011_CD = p.lsoa
        WHERE p.welsh = '1'"""
