"""Recurrent care proceedings: mothers returning to court (Kaplan-Meier), by age at first case.

Cohort: mothers who were respondents (GNDR_CD = 2) to a public-law s31 application in Cafcass
Cymru. A mother is one person by ALF_PE where linked under the filter, else by her Cafcass
person id (so a mother recorded twice and not linked counts twice: linkage matters here).
Event: a later public-law case (a different case, issued after the first). Time from the first
issue date; censored at the last issue date in the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from justicelink.analyses.care_proceedings import Session, latest_table
from justicelink.analyses.newborns import DEFAULT, FILTERS
from justicelink.formats import status_list


@dataclass(frozen=True)
class RecurrenceResult:
    share_returned: dict[str, float]  # filter -> share of mothers with a later case
    mothers: dict[str, int]
    km: dict[str, list[tuple[float, float]]]  # age band -> [(years, share still not returned)]
    record_level: pa.Table  # default filter: one row per mother (age_band, returned)


def _km(times: np.ndarray, events: np.ndarray) -> list[tuple[float, float]]:
    order = np.argsort(times)
    t, e = times[order], events[order]
    at_risk = len(t)
    s = 1.0
    curve = [(0.0, 1.0)]
    for time in np.unique(t):
        mask = t == time
        d = int(e[mask].sum())
        if d:
            s *= 1 - d / at_risk
            curve.append((float(time), s))
        at_risk -= int(mask.sum())
    return curve


def recurrent_proceedings(session: Session) -> RecurrenceResult:
    app = latest_table(session, "CAFW_CAFCASS_APPLICATION")
    users = latest_table(session, "CAFW_CAFCASS_APPLICATIONSERVICEUSERS")
    alf = latest_table(session, "CAFW_CAFCASS_ALF")
    shares: dict[str, float] = {}
    counts: dict[str, int] = {}
    default_rows = None
    for label, statuses in FILTERS.items():
        st = status_list(statuses)
        rows = session.query(
            f"""
            WITH m AS (
                SELECT CASE WHEN p.ALF_STS_CD IN {st} THEN 'A' || p.ALF_PE ELSE 'S' || u.RECORD2ID_PE END AS mother,
                       p.WOB, a.CAP_INCIDENTID_PE AS case_id, a.CAP_ISSUEDATE AS issue
                FROM {app} a
                JOIN {users} u ON u.RECORD1ID_PE = a.CAP_APPLICATIONID_PE AND u.RECORD2ROLEIDNAME = 'Respondent'
                JOIN {alf} p ON p.SYSTEM_ID_PE = u.RECORD2ID_PE
                WHERE a.CAP_LAWTYPENAME = 'Public' AND p.GNDR_CD = 2
            ), per_mother AS (
                SELECT mother, min(WOB) AS wob, min(issue) AS first_issue,
                       min(issue) FILTER (WHERE issue > (SELECT min(issue) FROM m m2 WHERE m2.mother = m.mother)) AS second_issue
                FROM m GROUP BY mother
            )
            SELECT mother,
                CASE WHEN date_sub('year', wob, first_issue) < 20 THEN 'under 20'
                     WHEN date_sub('year', wob, first_issue) < 25 THEN '20-24'
                     WHEN date_sub('year', wob, first_issue) < 30 THEN '25-29' ELSE '30 and over' END AS age_band,
                second_issue IS NOT NULL AS returned,
                date_diff('day', first_issue, coalesce(second_issue, (SELECT max(issue) FROM m))) / 365.25 AS years
            FROM per_mother"""
        )
        returned = np.array(rows.column("returned").to_pylist(), dtype=bool)
        shares[label] = float(returned.mean()) if len(returned) else 0.0
        counts[label] = len(returned)
        if label == DEFAULT:
            default_rows = rows
    assert default_rows is not None
    km = {}
    bands = np.array(default_rows.column("age_band").to_pylist())
    years = np.array(default_rows.column("years").to_pylist(), dtype=float)
    events = np.array(default_rows.column("returned").to_pylist(), dtype=bool)
    for band in sorted(set(bands.tolist())):
        sel = bands == band
        km[band] = _km(years[sel], events[sel])
    record_level = pa.table(
        {"age_band": bands, "returned": np.where(events, "returned", "not returned")}
    )
    return RecurrenceResult(shares, counts, km, record_level)
