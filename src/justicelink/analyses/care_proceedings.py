"""Children in s31 care proceedings by year of issue, from a project's Cafcass Cymru tables.

Runs as the researcher, inside the workspace session, on SAIL-named project tables only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa

from justicelink.formats import RESEARCH_FILTER, RefusedError, project_schema, status_in


class Session(Protocol):
    project_id: str

    def query(self, sql: str) -> pa.Table: ...


@dataclass(frozen=True)
class AnalysisResult:
    name: str
    title: str
    description: str
    sql: str
    table: pa.Table
    count_columns: list[str]
    label_column: str


def latest_table(session: Session, prefix: str) -> str:
    """The newest refresh of a SAIL-named table: exactly ``<prefix>_<YYYYMMDD>`` (so that
    ``WDSD_AR_PERS`` never picks ``WDSD_AR_PERS_ADD_...``)."""
    schema = project_schema(session.project_id)
    found = (
        session.query(
            "SELECT table_name FROM information_schema.tables "
            f"WHERE table_catalog = '{schema}' AND regexp_full_match(table_name, '{prefix}_[0-9]{{8}}') "
            "ORDER BY table_name DESC LIMIT 1"
        )
        .column(0)
        .to_pylist()
    )
    if not found:
        raise RefusedError(
            f"project {schema} has no table {prefix}_<YYYYMMDD>; the analyses need it (its "
            "dataset must be in the project's approved application)"
        )
    return f"{schema}.{found[0]}"


def children_in_care_proceedings_by_year(session: Session) -> AnalysisResult:
    app = latest_table(session, "CAFW_CAFCASS_APPLICATION")
    users = latest_table(session, "CAFW_CAFCASS_APPLICATIONSERVICEUSERS")
    alf = latest_table(session, "CAFW_CAFCASS_ALF")
    # one row per child per year: counted by ACRO in the airlock step. A child is one person:
    # by ALF_PE where linked under the research filter, else by the Cafcass person id.
    linked = status_in("p.ALF_STS_CD", RESEARCH_FILTER)
    sql = f"""SELECT DISTINCT CAST(year(a.CAP_ISSUEDATE) AS VARCHAR) AS issue_year,
       CASE WHEN {linked} THEN 'A' || p.ALF_PE ELSE 'S' || u.RECORD2ID_PE END AS child
FROM {app} a
JOIN {users} u
  ON u.RECORD1ID_PE = a.CAP_APPLICATIONID_PE AND u.RECORD2ROLEIDNAME = 'Subject'
JOIN {alf} p ON p.SYSTEM_ID_PE = u.RECORD2ID_PE
WHERE a.CAP_LAWTYPENAME = 'Public'
  AND a.CAP_PRIMARYAPPLICATIONTYPENAME IN ('Care Order (s31)', 'Supervision Order (s31)')"""
    return AnalysisResult(
        name="children-in-care-proceedings-by-year",
        title="Children in s31 care proceedings, by year of issue",
        description=(
            "Distinct children who were the subject of a public-law s31 application (care or "
            "supervision order), by the year the application was issued. A child is counted once: "
            f"by ALF_PE where linked ({status_in('ALF_STS_CD', RESEARCH_FILTER)}), else by the "
            "Cafcass person id. "
            "Source: Cafcass Cymru applications, application service users and people in the "
            "project's own tables."
        ),
        sql=sql,
        table=session.query(sql),
        count_columns=["children"],
        label_column="issue_year",  # the table is record level: one row per child and year
    )
