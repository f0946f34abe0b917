"""The matching cascade: deterministic stages, then Splink for what is left, then assignment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from justicelink.formats import LOOSE_FILTER, AlfStatus, status_in
from justicelink.linkage.assign import assign
from justicelink.linkage.deterministic import match_deterministic
from justicelink.linkage.probabilistic import (
    Trained,
    prepare_register,
    prior_weight,
    train_and_predict,
)


@dataclass
class CascadeResult:
    model: dict[str, Any] | None
    counts: dict[int, int]
    notes: list[str] = field(default_factory=list)
    pairs: int = 0
    probabilistic: Any = None  # ProbabilisticResult, for the quality report
    trained: Trained | None = None  # parameters a refresh can reuse


def run_cascade(
    con: duckdb.DuckDBPyConnection,
    records: str,
    reg_person: str,
    *,
    register=None,  # type: ignore[no-untyped-def]
    register_sql: str | None = None,
    probabilistic: bool = True,
    deterministic: bool = True,
    reuse: str | None = None,
    fixed: Trained | None = None,
) -> CascadeResult:
    """Create ``matched`` (one row per record): system_id, person_id, alf_sts_cd, alf_mtch_pct,
    match_weight, reason, dob_for_wob, gndr_cd, postcode.

    ``reg_person``: relation of register people (person_id, nhs_number, forename, surname,
    previous_surname, dob, sex[, alf]). ``register`` (a RegisterVersion, with address history) or
    ``register_sql`` (one postcode per person) feeds the probabilistic stage.

    Incremental runs: ``reuse`` is a relation of decisions kept from an earlier run (system_id,
    person_id, status, p, weight, reason) for records whose identifiers have not changed; only
    the other records go through the stages. ``fixed`` scores them with the earlier run's
    parameters (model, blocking rules, share matched), so each decision is the one a full
    relink with those parameters would make.
    """
    if reuse is None:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE reused (system_id BIGINT, person_id BIGINT, status INTEGER, "
            "p DOUBLE, weight DOUBLE, reason VARCHAR)"
        )
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE reused AS SELECT * FROM {reuse}")
    all_records = records
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE fresh AS SELECT * FROM {records} ANTI JOIN reused USING (system_id)"
    )
    records = "fresh"
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
    trained: Trained | None = None
    notes: list[str] = []
    pairs = 0
    res = None
    if probabilistic:
        ready = prepare_register(con, register, register_sql)
        res = train_and_predict(con, records, "remaining", prepared=ready, fixed=fixed)
        model, notes, pairs = res.model, list(res.notes), res.pairs
        post = assign(
            con,
            prior_weight=prior_weight(model) if model is not None else 0.0,
            register_size=res.register_size,
            records=res.scored,
            share_matched=fixed.share_matched if fixed is not None else None,
        )
        notes.append(post.note())
        if model is not None:
            trained = fixed or Trained(
                model, res.rules, post.share_matched, tuple(res.notes), res.scored, res.wide_pairs
            )
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
            UNION ALL
            SELECT system_id, person_id, status, p, weight, reason FROM reused
        )
        SELECT r.system_id, d.person_id, {alf} AS alf,
            coalesce(d.status, {AlfStatus.UNMATCHED.value}) AS alf_sts_cd,
            CASE WHEN {status_in("d.status", LOOSE_FILTER)} THEN d.p END AS alf_mtch_pct,
            d.weight AS match_weight,
            coalesce(d.reason, 'no candidate found') AS reason,
            coalesce(g.dob, r.dob) AS dob_for_wob,
            coalesce(g.sex, CASE WHEN r.sex IN (1, 2) THEN r.sex END, 9) AS gndr_cd,
            r.postcode
        FROM {all_records} r
        LEFT JOIN decided d USING (system_id)
        LEFT JOIN {reg_person} g ON g.person_id = d.person_id
        """
    )
    counts = dict(
        con.execute("SELECT alf_sts_cd, count(*) FROM matched GROUP BY 1 ORDER BY 1").fetchall()
    )
    return CascadeResult(
        model=model, counts=counts, notes=notes, pairs=pairs, probabilistic=res, trained=trained
    )
