"""The matching cascade: deterministic stages, then Splink for what is left, then assignment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from justicelink.formats import LOOSE_FILTER, AlfStatus, status_in
from justicelink.linkage.assign import assign
from justicelink.linkage.deterministic import match_deterministic
from justicelink.linkage.probabilistic import prepare_register, prior_weight, train_and_predict


@dataclass
class CascadeResult:
    model: dict[str, Any] | None
    counts: dict[int, int]
    notes: list[str] = field(default_factory=list)
    pairs: int = 0
    probabilistic: Any = None  # ProbabilisticResult, for the quality report


def run_cascade(
    con: duckdb.DuckDBPyConnection,
    records: str,
    reg_person: str,
    *,
    register=None,  # type: ignore[no-untyped-def]
    register_sql: str | None = None,
    probabilistic: bool = True,
    deterministic: bool = True,
) -> CascadeResult:
    """Create ``matched`` (one row per record): system_id, person_id, alf_sts_cd, alf_mtch_pct,
    match_weight, reason, dob_for_wob, gndr_cd, postcode.

    ``reg_person``: relation of register people (person_id, nhs_number, forename, surname,
    previous_surname, dob, sex[, alf]). ``register`` (a RegisterVersion, with address history) or
    ``register_sql`` (one postcode per person) feeds the probabilistic stage.
    """
    if deterministic:
        match_deterministic(con, records, reg_person)
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE det_matches (system_id BIGINT, person_id BIGINT, status INTEGER, reason VARCHAR)"
        )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE remaining AS SELECT * FROM {records} ANTI JOIN det_matches USING (system_id)"
    )
    model = None
    notes: list[str] = []
    pairs = 0
    res = None
    if probabilistic:
        ready = prepare_register(con, register, register_sql)
        res = train_and_predict(con, records, "remaining", prepared=ready)
        model, notes, pairs = res.model, list(res.notes), res.pairs
        post = assign(
            con,
            prior_weight=prior_weight(model) if model is not None else 0.0,
            register_size=res.register_size,
            records=res.scored,
        )
        notes.append(post.note())
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE prob_assign (system_id BIGINT, person_id BIGINT, status INTEGER, "
            "p DOUBLE, weight DOUBLE, reason VARCHAR)"
        )
    alf = (
        "g.alf"
        if "alf" in [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reg_person}").fetchall()]
        else "NULL"
    )
    probabilistic_statuses = (AlfStatus.PROBABLE, AlfStatus.POSSIBLE)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE matched AS
        WITH decided AS (
            SELECT system_id, person_id, status, 1.0 AS p, CAST(NULL AS DOUBLE) AS weight, reason FROM det_matches
            UNION ALL
            SELECT system_id, person_id, status, CASE WHEN {status_in("status", probabilistic_statuses)} THEN p END, weight, reason FROM prob_assign
        )
        SELECT r.system_id, d.person_id, {alf} AS alf,
            coalesce(d.status, {AlfStatus.UNMATCHED.value}) AS alf_sts_cd,
            CASE WHEN {status_in("d.status", LOOSE_FILTER)} THEN d.p END AS alf_mtch_pct,
            d.weight AS match_weight,
            coalesce(d.reason, 'no candidate found') AS reason,
            coalesce(g.dob, r.dob) AS dob_for_wob,
            coalesce(g.sex, CASE WHEN r.sex IN (1, 2) THEN r.sex END, 9) AS gndr_cd,
            r.postcode
        FROM {records} r
        LEFT JOIN decided d USING (system_id)
        LEFT JOIN {reg_person} g ON g.person_id = d.person_id
        """
    )
    counts = dict(
        con.execute("SELECT alf_sts_cd, count(*) FROM matched GROUP BY 1 ORDER BY 1").fetchall()
    )
    return CascadeResult(model=model, counts=counts, notes=notes, pairs=pairs, probabilistic=res)
