"""Linkage runs: the generic match contract and the TTP's run over a provider submission."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyrage

from justicelink.crypto import ZoneKeys, check_no_collisions, open_sealed, prf_sql, seal_folder
from justicelink.formats import (
    ALF_FILE_NAME,
    ALF_FILE_SCHEMA,
    ALF_STATUS,
    IDENTIFIERS_FILE_NAME,
    MATCH_COLUMNS,
    SUBMISSION_FORMAT,
    InputError,
    Manifest,
    atomic_dir,
    write_json_atomic,
)
from justicelink.linkage import incremental, spill
from justicelink.linkage.cascade import CascadeResult, run_cascade
from justicelink.linkage.probabilistic import Trained, save_model
from justicelink.linkage.register import RegisterVersion, current_version
from justicelink.linkage.report import write_report


@dataclass(frozen=True)
class RunResult:
    submission_id: str
    outbox: Path
    rows: int
    by_status: dict[int, int]
    refresh: dict[str, Any] | None = None  # incremental mode and what changed


def _check_records(con: duckdb.DuckDBPyConnection, rel: str, source: str) -> None:
    cols = [r[0] for r in con.execute(f"DESCRIBE {rel}").fetchall()]
    missing = [c for c in MATCH_COLUMNS if c not in cols]
    if missing:
        raise InputError(f"missing columns {missing}", file=source)
    n, ids, nulls = con.execute(
        f"SELECT count(*), count(DISTINCT system_id), count(*) - count(system_id) FROM {rel}"
    ).fetchone()  # type: ignore[misc]
    if n == 0:
        raise InputError("no records", file=source)
    if nulls:
        raise InputError("system_id is missing on some records", file=source, column="system_id")
    if ids != n:
        raise InputError(f"{n - ids} duplicate system_id value(s)", file=source, column="system_id")
    usable = con.execute(
        f"SELECT count(*) FROM {rel} WHERE nhs_number IS NOT NULL OR surname IS NOT NULL "
        "OR forename IS NOT NULL OR dob IS NOT NULL"
    ).fetchone()[0]  # type: ignore[index]
    if usable == 0:
        raise InputError("no record has any usable identifier", file=source)


def _match(
    con: duckdb.DuckDBPyConnection, reg: RegisterVersion, *, probabilistic: bool = True,
    reuse: str | None = None, fixed: Trained | None = None,
) -> CascadeResult:  # fmt: skip
    return run_cascade(
        con, "records", f"read_parquet('{reg.person}')", register=reg, probabilistic=probabilistic,
        reuse=reuse, fixed=fixed,
    )  # fmt: skip


def run_submission(
    submission: Path,
    linkage_dir: Path,
    bank_recipient: pyrage.x25519.Recipient,
    *,
    probabilistic: bool = True,
    full: bool = False,
) -> RunResult:
    """Decrypt a provider's identifiers, match them, seal the ALF file for the bank.

    A refresh of a dataset already linked against this register version is incremental (see
    ``incremental.py``): only new or changed records are matched; ``full`` relinks everything.
    """
    keys = ZoneKeys.open(linkage_dir, "linkage")
    manifest, tables = open_sealed(submission, keys.identity(), "linkage", kind="identifiers")
    reg = current_version(linkage_dir)
    assert reg is not None
    with (
        incremental.dataset_lock(linkage_dir, manifest.dataset),
        spill.connect(linkage_dir, "run") as con,
    ):
        return _run(con, submission, linkage_dir, bank_recipient, keys, manifest, tables, reg,
                    probabilistic=probabilistic, full=full)  # fmt: skip


def _run(
    con: duckdb.DuckDBPyConnection, submission: Path, linkage_dir: Path,
    bank_recipient: pyrage.x25519.Recipient, keys: ZoneKeys, manifest: Manifest,
    tables: dict[str, pa.Table], reg: RegisterVersion, *, probabilistic: bool, full: bool,
) -> RunResult:  # fmt: skip
    con.register("records_in", tables[IDENTIFIERS_FILE_NAME])
    con.execute("CREATE TEMP TABLE records AS SELECT * FROM records_in")
    _check_records(con, "records", str(submission))
    key = keys.prf_key()
    incremental.stage_records(con, "records", key, manifest.dataset)
    prev = incremental.previous(linkage_dir, manifest.dataset, reg.version)
    if full and prev.trained is not None:
        prev = incremental.Previous(None, prev.submission_id, "full relink asked for")
    reuse = incremental.reusable(con, linkage_dir, manifest.dataset) if prev.trained else None
    n_reused = con.execute(f"SELECT count(*) FROM {reuse}").fetchone()[0] if reuse else 0  # type: ignore[index]
    n_all = con.execute("SELECT count(*) FROM records").fetchone()[0]  # type: ignore[index]
    if prev.trained is not None and not incremental.within_budget(prev.trained, n_all - n_reused):
        prev = incremental.Previous(
            None, prev.submission_id,
            f"{n_all - n_reused:,} new or changed records are too many for the earlier run's wide "
            "blocking rules (their pairs would exceed the budget): full relink",
        )  # fmt: skip
        reuse, n_reused = None, 0
    cascade = _match(con, reg, probabilistic=probabilistic, reuse=reuse, fixed=prev.trained)
    con.execute(incremental.new_links_sql())
    refresh = {
        "mode": prev.reason,
        **incremental.changes(con, linkage_dir, manifest.dataset, int(n_reused)),
    }
    alf_e = prf_sql(key, "'E|' || m.alf")
    con.execute(
        f"""
        CREATE TEMP TABLE alf_file AS
        SELECT m.system_id AS SYSTEM_ID, {alf_e} AS ALF_E,
            CAST(m.alf_sts_cd AS INTEGER) AS ALF_STS_CD, CAST(m.alf_mtch_pct AS DOUBLE) AS ALF_MTCH_PCT,
            CAST(date_trunc('week', m.dob_for_wob) AS DATE) AS WOB,
            CAST(m.gndr_cd AS INTEGER) AS GNDR_CD,
            coalesce(a.lsoa2011_cd, CASE WHEN m.person_id IS NULL THEN pc.lsoa2011_cd END) AS LSOA2011_CD, m.alf
        FROM matched m
        LEFT JOIN (SELECT ad.person_id, l.lsoa2011_cd FROM read_parquet('{reg.address}') ad
                   JOIN read_parquet('{reg.postcode}') l USING (postcode)
                   WHERE ad.to_date IS NULL) a ON a.person_id = m.person_id
        LEFT JOIN read_parquet('{reg.postcode}') pc ON pc.postcode = m.postcode
        ORDER BY m.system_id
        """
    )
    check_no_collisions(
        con, "(SELECT * FROM alf_file WHERE alf IS NOT NULL)", "alf", "ALF_E", what="ALF_E"
    )
    out_cols = ", ".join(ALF_FILE_SCHEMA.names)
    alf_table: pa.Table = (
        con.execute(f"SELECT {out_cols} FROM alf_file ORDER BY SYSTEM_ID")
        .to_arrow_table()
        .cast(ALF_FILE_SCHEMA)
    )
    by_status = dict(
        con.execute("SELECT ALF_STS_CD, count(*) FROM alf_file GROUP BY 1 ORDER BY 1").fetchall()
    )
    run_dir = Path(linkage_dir) / "runs" / manifest.submission_id
    run_dir.mkdir(parents=True, exist_ok=True)
    if cascade.model is not None:
        save_model(cascade.model, run_dir / "model.json")
    write_report(
        con, "records", run_dir / "quality.html",
        title=f"Linkage quality: {manifest.dataset} submission {manifest.submission_id}",
        cascade=cascade,
        meta={"dataset": manifest.dataset, "submission": manifest.submission_id, "register version": reg.version,
              "records": alf_table.num_rows, "candidate pairs scored": cascade.pairs,
              "linkage mode": prev.reason,
              **{k.replace("_", " "): v for k, v in refresh.items() if k != "mode"}},
    )  # fmt: skip
    outbox = Path(linkage_dir) / "outbox" / manifest.submission_id
    created = datetime.now(UTC).isoformat(timespec="seconds")
    with atomic_dir(outbox) as tmp:
        seal_folder(
            tmp,
            Manifest(
                format=SUBMISSION_FORMAT,
                kind="alf",
                dataset=manifest.dataset,
                submission_id=manifest.submission_id,
                recipient_zone="bank",
                created=created,
                provider="linkage",
                spec_name=manifest.spec_name,
                spec_version=manifest.spec_version,
                spec_hash=manifest.spec_hash,
                files=[],
                extra={"register_version": reg.version},
            ),
            {ALF_FILE_NAME: ("ALF", alf_table)},
            bank_recipient,
        )
    write_json_atomic(
        Path(linkage_dir) / "runs" / manifest.submission_id / "summary.json",
        {
            "submission_id": manifest.submission_id,
            "dataset": manifest.dataset,
            "register_version": reg.version,
            "created": created,
            "rows": alf_table.num_rows,
            "by_status": {f"{k} ({ALF_STATUS[k]})": v for k, v in by_status.items()},
            "candidate_pairs_scored": cascade.pairs,
            "refresh": refresh,
            "model_notes": cascade.notes,
        },
    )
    # the refresh state last: it never points at a run whose ALF file was not sealed
    incremental.record(
        con, linkage_dir, manifest.dataset, manifest.submission_id, reg.version, cascade.trained
    )
    return RunResult(manifest.submission_id, outbox, alf_table.num_rows, by_status, refresh)
