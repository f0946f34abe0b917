"""Deterministic stages of the matching cascade, in SQL.

Status 1: valid NHS number, date of birth and sex all agree with exactly one register person.
Status 4: valid NHS number agrees, with partial demographic agreement: the date of birth agrees
but sex is unknown, or the date of birth is the register's with day and month swapped; and a
name agrees (forename, surname or a previous surname, allowing a near miss).
An NHS number held by two register people never matches. Everything else is 99 (for now: the
probabilistic stage will look at what is left).
"""

from __future__ import annotations

import duckdb

from justicelink.linkage.register import RegisterVersion

RECORD_COLUMNS = ("system_id", "nhs_number", "forename", "surname", "dob", "sex", "postcode")


def _swap(col: str) -> str:
    return (
        f"CASE WHEN day({col}) <= 12 THEN "
        f"try_cast(make_date(year({col}), day({col}), month({col})) AS DATE) END"
    )


def match_deterministic(con: duckdb.DuckDBPyConnection, records: str, reg: RegisterVersion) -> None:
    """Create temp table ``matched`` (one row per record) from the relation ``records``."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW reg AS SELECT * FROM read_parquet('{reg.person}')")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE reg_nhs AS SELECT * FROM reg WHERE nhs_number IN "
        "(SELECT nhs_number FROM reg WHERE nhs_number IS NOT NULL GROUP BY 1 HAVING count(*) = 1)"
    )
    name_agrees = (
        "(jaro_winkler_similarity(coalesce(r.forename, ''), coalesce(g.forename, '')) >= 0.88 "
        "OR jaro_winkler_similarity(coalesce(r.surname, ''), coalesce(g.surname, '')) >= 0.88 "
        "OR (g.previous_surname IS NOT NULL AND r.surname = g.previous_surname))"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE matched AS
        WITH cand AS (
            SELECT r.system_id, g.person_id, g.alf, g.dob AS reg_dob, g.sex AS reg_sex,
                CASE
                    WHEN r.dob = g.dob AND r.sex IN (1, 2) AND r.sex = g.sex THEN 1
                    WHEN r.dob = g.dob AND coalesce(r.sex, 9) = 9 AND {name_agrees} THEN 4
                    WHEN r.dob = {_swap("g.dob")} AND (r.sex = g.sex OR coalesce(r.sex, 9) = 9)
                         AND {name_agrees} THEN 4
                END AS status
            FROM {records} r JOIN reg_nhs g ON r.nhs_number = g.nhs_number
        )
        SELECT r.system_id, c.person_id, c.alf,
            coalesce(c.status, 99) AS alf_sts_cd,
            CASE WHEN c.status IS NOT NULL THEN 1.0 END AS alf_mtch_pct,
            CAST(NULL AS DOUBLE) AS match_weight,
            CASE c.status
                WHEN 1 THEN 'NHS number, date of birth and sex agree'
                WHEN 4 THEN 'NHS number agrees; date of birth or sex partly agrees; name agrees'
                ELSE 'no deterministic match' END AS reason,
            coalesce(c.reg_dob, r.dob) AS dob_for_wob,
            coalesce(c.reg_sex, r.sex, 9) AS gndr_cd,
            r.postcode
        FROM {records} r LEFT JOIN (SELECT * FROM cand WHERE status IS NOT NULL) c
            ON r.system_id = c.system_id
        """
    )
