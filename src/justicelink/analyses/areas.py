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
    ``PERS_ID_PE``) placed by their address on 1 July of ``yr``; Welsh addresses only."""
    addr = latest_table(session, "WDSD_AR_PERS_ADD")
    lookup = latest_table(session, "REFR_LSOA2011_LOOKUP")
    return f"""
        SELECT x.yr, x.PERS_ID_PE, l.LA_NAME AS la, l.WIMD_2019_QUINTILE AS q
        FROM ({people}) x
        JOIN {addr} a ON a.PERS_ID_PE = x.PERS_ID_PE
        LEFT JOIN {lookup} l ON l.LSOA2011_CD = a.LSOA2011_CD
        QUALIFY row_number() OVER (
            PARTITION BY x.yr, x.PERS_ID_PE
            ORDER BY (a.FROM_DT <= make_date(x.yr, 7, 1)) DESC,
                     CASE WHEN a.FROM_DT <= make_date(x.yr, 7, 1) THEN a.FROM_DT END DESC,
                     a.FROM_DT
        ) = 1 AND a.WELSH_ADDRESS = '1' AND l.LA_NAME IS NOT NULL"""
