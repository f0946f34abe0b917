"""Bank load: content joined to the ALF file, the bank's key layer applied, one atomic refresh.

Layout: ``bank/datasets/<DATASET>/<YYYYMMDD>/<BANK_TABLE>.parquet`` plus ``version.json``.
Each table is DuckDB-encrypted Parquet under the bank's at-rest key (``bank.tables``). A refresh is published by renaming a complete folder into place, so readers only ever see whole
versions, and earlier versions are never touched.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from justicelink.bank.guards import check_columns, check_values
from justicelink.bank.tables import connect, copy_to
from justicelink.crypto import (
    ZoneKeys,
    check_no_collisions,
    open_sealed,
    prf_sql,
    refuse_if_collided,
)
from justicelink.formats import (
    ALF_FILE_NAME,
    ALF_FILE_SCHEMA,
    RESEARCH_FILTER,
    InputError,
    RefusedError,
    atomic_dir,
    content_file_name,
    status_in,
    sweep_stale,
)
from justicelink.specs import load_spec
from justicelink.specs.model import alf_prefix, system_id_column


@dataclass(frozen=True)
class LoadResult:
    dataset: str
    version: str
    folder: Path
    rows: dict[str, int]
    linkage_rate: float


def _refresh_date(value: str | None) -> str:
    if value is None:
        return date.today().strftime("%Y%m%d")
    if not re.fullmatch(r"\d{8}", value):
        raise InputError("refresh date must be YYYYMMDD", column="--refresh-date")
    try:
        datetime.strptime(value, "%Y%m%d")
    except ValueError as exc:
        raise InputError("refresh date is not a real date", column="--refresh-date") from exc
    return value


def load(
    content_dir: Path, alf_dir: Path | None, bank_dir: Path, *, refresh_date: str | None = None
) -> LoadResult:
    """Load a content submission with its ALF file. A dataset with no person table (reference
    data) has no identifiers and so no ALF file: pass ``alf_dir=None``."""
    keys = ZoneKeys.open(bank_dir, "bank")
    ident = keys.identity()
    manifest, tables = open_sealed(content_dir, ident, "bank", kind="content")
    if alf_dir is None:
        if any(t.is_person_table for t in load_spec(manifest.dataset).tables):
            raise RefusedError(f"{manifest.dataset} holds people: its ALF file is required")
        alf_manifest = manifest
        alf_tables = {ALF_FILE_NAME: ALF_FILE_SCHEMA.empty_table()}
    else:
        alf_manifest, alf_tables = open_sealed(alf_dir, ident, "bank", kind="alf")
    if alf_manifest.submission_id != manifest.submission_id:
        raise RefusedError(
            f"the ALF file belongs to submission {alf_manifest.submission_id}, "
            f"not {manifest.submission_id}"
        )
    spec = load_spec(manifest.dataset)
    if spec.sha256 != manifest.spec_hash:
        raise RefusedError(
            f"submission {manifest.submission_id} was split with a different version of the "
            f"{spec.dataset} spec (hash {manifest.spec_hash[:12]}, bank has {spec.sha256[:12]})"
        )
    version = _refresh_date(refresh_date)
    final = Path(bank_dir) / "datasets" / spec.dataset / version
    sweep_stale(final.parent, unheld=True)  # what killed loads of this dataset left behind
    if final.exists():
        raise RefusedError(
            f"{spec.dataset} already has a refresh dated {version}; versions are never "
            "overwritten (pass another --refresh-date)"
        )
    key = keys.prf_key()
    con = connect(bank_dir, create_key=True, write=True)
    con.register("alf_in", alf_tables[ALF_FILE_NAME])
    con.execute(
        f"CREATE TEMP TABLE alf AS SELECT *, {prf_sql(key, 'ALF_E')} AS BANK_ALF FROM alf_in"
    )
    check_no_collisions(
        con, "(SELECT * FROM alf WHERE ALF_E IS NOT NULL)", "ALF_E", "BANK_ALF", what="bank ALF"
    )
    rows: dict[str, int] = {}
    distinct: dict[str, dict[str, int]] = {}  # keyed column -> distinct ids, for provisioning
    with atomic_dir(final) as tmp:
        for table in spec.tables:
            name = content_file_name(table.bank_table)
            if name not in tables:
                raise RefusedError(f"{content_dir}: the submission has no {table.bank_table} table")
            data = tables[name]
            check_columns(table, list(data.column_names), f"{content_dir}/{name}")
            rel = f"in_{table.bank_table}"
            con.register(rel, data)
            check_values(con, rel, table, f"{content_dir}/{name}")
            select: list[str] = []
            joins: list[str] = []
            for i, identity in enumerate(table.identities):
                sid, p, a = system_id_column(identity), alf_prefix(identity), f"a{i}"
                missing = con.execute(
                    f"SELECT count(*) FROM {rel} t ANTI JOIN alf ON t.{sid} = alf.SYSTEM_ID"
                ).fetchone()[0]  # type: ignore[index]
                if missing:
                    raise RefusedError(
                        f"the ALF file has no row for {missing} record(s) of {table.bank_table}; "
                        "load refused"
                    )
                joins.append(f"LEFT JOIN alf {a} ON t.{sid} = {a}.SYSTEM_ID")
                select += [
                    f"{a}.BANK_ALF AS {p}ALF_E",
                    f"{a}.ALF_STS_CD AS {p}ALF_STS_CD",
                    f"{a}.ALF_MTCH_PCT AS {p}ALF_MTCH_PCT",
                ]
                if not identity:
                    select += [
                        f"{a}.WOB AS WOB",
                        f"{a}.GNDR_CD AS GNDR_CD",
                        f"{a}.LSOA2011_CD AS LSOA2011_CD",
                    ]
            for col in table.columns:
                c = f'"{col.out_name}"'
                if col.cls == "native_key":
                    select.append(f"{prf_sql(key, 't.' + c)} AS {c}")
                elif col.cls in ("content", "derived"):
                    select.append(f"t.{c}")
            select.append(f"DATE '{version[:4]}-{version[4:6]}-{version[6:]}' AS AVAIL_FROM_DT")
            out = tmp / f"{table.bank_table}.parquet"
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE staged AS SELECT {', '.join(select)} "
                f"FROM {rel} t {' '.join(joins)}"
            )
            # staged holds one re-keyed row per input row: distinct counts must agree
            counts: dict[str, int] = {}
            for col in table.by_class("native_key"):
                c = f'"{col.out_name}"'
                n_in = con.execute(f"SELECT count(DISTINCT {c}) FROM {rel}").fetchone()[0]  # type: ignore[index]
                n_out = con.execute(f"SELECT count(DISTINCT {c}) FROM staged").fetchone()[0]  # type: ignore[index]
                refuse_if_collided(n_in, n_out, what=f"{table.bank_table}.{col.out_name}")
                counts[col.out_name] = n_out
            for identity in table.identities:
                c = f"{alf_prefix(identity)}ALF_E"
                counts[c] = con.execute(f"SELECT count(DISTINCT {c}) FROM staged").fetchone()[0]  # type: ignore[index]
            distinct[table.bank_table] = counts
            copy_to(con, "staged", out)
            rows[table.bank_table] = data.num_rows
        alf_rows = alf_tables[ALF_FILE_NAME].num_rows
        linked = con.execute(
            f"SELECT count(*) FROM alf WHERE {status_in('ALF_STS_CD', RESEARCH_FILTER)}"
        ).fetchone()[0]  # type: ignore[index]
        rate = linked / alf_rows if alf_rows else 0.0  # reference data: no people, rate 0
        (tmp / "version.json").write_text(
            json.dumps(
                {
                    "dataset": spec.dataset,
                    "version": version,
                    "submission_id": manifest.submission_id,
                    "spec_version": spec.version,
                    "spec_hash": spec.sha256,
                    "register_version": alf_manifest.extra.get("register_version"),
                    "loaded": datetime.now(UTC).isoformat(timespec="seconds"),
                    "rows": rows,
                    "distinct": distinct,
                    "linkage": {
                        "records": alf_rows,
                        "linked_1_4_39": linked,  # under RESEARCH_FILTER
                        "rate": round(rate, 6),
                        "by_status": dict(
                            (str(k), v)
                            for k, v in con.execute(
                                "SELECT ALF_STS_CD, count(*) FROM alf GROUP BY 1 ORDER BY 1"
                            ).fetchall()
                        ),
                    },
                },
                indent=2,
            )
            + "\n"
        )
    con.close()
    return LoadResult(spec.dataset, version, final, rows, rate)
