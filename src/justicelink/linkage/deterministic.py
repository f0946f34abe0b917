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

from justicelink.formats import AlfStatus


def _swap(col: str) -> str:
    return (
        f"CASE WHEN day({col}) <= 12 THEN "
        f"try_cast(make_date(year({col}), day({col}), month({col})) AS DATE) END"
    )


def match_deterministic(con: duckdb.DuckDBPyConnection, records: str, reg_person: str) -> None:
    """Create temp table ``det_matches(system_id, person_id, status, reason)``: stages 1 and 4.

    ``reg_person`` is a relation with person_id, nhs_number, forename, surname, previous_surname,
    dob, sex.
    """
    exact, partial = AlfStatus.EXACT.value, AlfStatus.NHS_PARTIAL.value
    con.execute(f"CREATE OR REPLACE TEMP VIEW reg_all AS SELECT * FROM {reg_person}")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE reg_nhs AS SELECT * FROM reg_all WHERE nhs_number IN "
        "(SELECT nhs_number FROM reg_all WHERE nhs_number IS NOT NULL GROUP BY 1 HAVING count(*) = 1)"
    )
    name_agrees = (
        "(jaro_winkler_similarity(coalesce(r.forename, ''), coalesce(g.forename, '')) >= 0.88 "
        "OR jaro_winkler_similarity(coalesce(r.surname, ''), coalesce(g.surname, '')) >= 0.88 "
        "OR (g.previous_surname IS NOT NULL AND r.surname = g.previous_surname))"
    )
    one_transposition = (
        "(damerau_levenshtein(CAST(r.dob AS VARCHAR), CAST(g.dob AS VARCHAR)) = 1 "
        f"OR r.dob = {_swap('g.dob')})"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE det_matches AS
        WITH cand AS (
            SELECT r.system_id, g.person_id,
                CASE
                    WHEN r.dob = g.dob AND r.sex IN (1, 2) AND r.sex = g.sex THEN {exact}
                    WHEN r.dob = g.dob AND coalesce(r.sex, 9) = 9 AND {name_agrees} THEN {partial}
                    WHEN {one_transposition} AND (r.sex = g.sex OR coalesce(r.sex, 9) = 9)
                         AND {name_agrees} THEN {partial}
                END AS status
            FROM {records} r JOIN reg_nhs g ON r.nhs_number = g.nhs_number
        )
        SELECT system_id, person_id, status,
            CASE status
                WHEN {exact} THEN 'NHS number, date of birth and sex agree'
                ELSE 'NHS number agrees; date of birth or sex partly agrees; a name agrees' END AS reason
        FROM cand WHERE status IS NOT NULL
        """
    )
