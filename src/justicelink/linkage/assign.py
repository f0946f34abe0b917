"""Assignment: from scored candidate pairs to one decision per record.

Best register person per record by match weight (a person reached by several blocking rules is
scored once). p >= 0.9 gives 39, 0.5 <= p < 0.9 gives 35, otherwise 99. When a second person is
nearly as likely (within ``AMBIGUITY_WEIGHT`` bits and itself p >= 0.5) - twins, same-name
relatives - the record is not guessed: it stays unlinked (99) and the reason says why.
"""

from __future__ import annotations

import duckdb

from justicelink.formats import AlfStatus

AMBIGUITY_WEIGHT = 2.0  # bits: the best must be at least 4x as likely as the runner-up
P_HIGH = 0.9
P_LOW = 0.5


def assign(con: duckdb.DuckDBPyConnection) -> None:
    """From ``candidates`` create ``prob_assign(system_id, person_id, status, p, weight, reason)``."""
    probable, possible, unmatched = (
        AlfStatus.PROBABLE.value,
        AlfStatus.POSSIBLE.value,
        AlfStatus.UNMATCHED.value,
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE prob_assign AS
        WITH per_person AS (
            SELECT system_id, person_id, max(match_weight) AS w, max(match_probability) AS p
            FROM candidates GROUP BY 1, 2
        ), ranked AS (
            SELECT *, row_number() OVER (PARTITION BY system_id ORDER BY w DESC, person_id) AS rk
            FROM per_person
        ), best AS (
            SELECT b.system_id, b.person_id, b.p, b.w, s.p AS p2, s.w AS w2
            FROM ranked b LEFT JOIN ranked s ON s.system_id = b.system_id AND s.rk = 2
            WHERE b.rk = 1
        )
        SELECT system_id,
            CASE WHEN ambiguous OR p < {P_LOW} THEN NULL ELSE person_id END AS person_id,
            CASE WHEN ambiguous OR p < {P_LOW} THEN {unmatched} WHEN p >= {P_HIGH} THEN {probable} ELSE {possible} END AS status,
            p, w AS weight,
            CASE
                WHEN ambiguous THEN 'two register people nearly equally likely (twins or same-name relatives): not guessed'
                WHEN p >= {P_HIGH} THEN 'probabilistic match, p >= 0.9'
                WHEN p >= {P_LOW} THEN 'probabilistic match, 0.5 <= p < 0.9'
                ELSE 'best candidate below p = 0.5' END AS reason
        FROM (
            SELECT *, (p2 IS NOT NULL AND p2 >= {P_LOW} AND w - w2 < {AMBIGUITY_WEIGHT}) AS ambiguous FROM best
        )
        """
    )
