"""The split: one provider extract in, an identifiers submission (to the trusted third party) and a
content submission (to the bank) out, each sealed to its recipient.

Nothing is written to ``out`` unless the whole split succeeds.
"""

from __future__ import annotations

import json
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyrage

from justicelink.crypto import check_no_collisions, prf_sql, random_ids, seal_folder
from justicelink.formats import (
    IDENTIFIER_FILE_COLUMNS,
    IDENTIFIERS_FILE_NAME,
    SUBMISSION_FORMAT,
    InputError,
    Manifest,
    atomic_dir,
    content_file_name,
)
from justicelink.provider import rules
from justicelink.provider.read import find_table_file, read_table_file
from justicelink.specs import DatasetSpec, Table
from justicelink.specs.model import system_id_column

q = rules.q


@dataclass(frozen=True)
class SplitResult:
    out: Path
    submission_id: str
    identifiers_rows: int
    content_rows: dict[str, int]
    report: dict


def _first_bad(con: duckdb.DuckDBPyConnection, rel: str, predicate: str) -> tuple[int, int] | None:
    row = con.execute(
        f"SELECT min(__row), count(*) FROM {rel} WHERE coalesce(({predicate}), false)"
    ).fetchone()
    if row and row[1]:
        return int(row[0]), int(row[1])
    return None


def _validate(con: duckdb.DuckDBPyConnection, rel: str, table: Table, file: str) -> None:
    for col in table.columns:
        if col.cls == "derived":
            continue
        # dropped columns never leave, but a monstrous field still means a broken extract
        checks = rules.checks(col)[:1] if col.cls == "drop" else rules.checks(col)
        for reason, predicate in checks:
            bad = _first_bad(con, rel, predicate)
            if bad:
                more = f" ({bad[1]} rows in all)" if bad[1] > 1 else ""
                raise InputError(reason + more, file=file, row=bad[0], column=col.name)
        if col.cls == "native_key" and col.unique:
            dup = con.execute(
                f"SELECT min(__row) FROM (SELECT __row, row_number() OVER "
                f"(PARTITION BY trim({q(col.name)}) ORDER BY __row) AS k FROM {rel} "
                f"WHERE {q(col.name)} IS NOT NULL) WHERE k = 2"
            ).fetchone()
            if dup and dup[0] is not None:
                raise InputError(
                    "duplicate value of a unique native key",
                    file=file,
                    row=int(dup[0]),
                    column=col.name,
                )


def _report_counts(
    con: duckdb.DuckDBPyConnection, rel: str, table: Table
) -> dict[str, dict[str, int]]:
    report: dict[str, dict[str, int]] = {}
    for col in table.columns:
        if col.cls == "derived":
            continue
        entry = {
            "class": col.cls,
            "nulls": con.execute(
                f"SELECT count(*) FROM {rel} WHERE {q(col.name)} IS NULL"
            ).fetchone()[0],  # type: ignore[index]
        }
        if col.cls == "identifier":
            _, invalid = rules.identifier_expr(col)
            entry["invalid_set_to_null"] = con.execute(
                f"SELECT count(*) FROM {rel} WHERE {invalid}"
            ).fetchone()[0]  # type: ignore[index]
        report[col.name] = entry
    return report


def split(
    spec: DatasetSpec,
    input_path: Path,
    out: Path,
    *,
    linkage_recipient: pyrage.x25519.Recipient,
    bank_recipient: pyrage.x25519.Recipient,
    provider_key: bytes,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> SplitResult:
    out = Path(out)
    if out.exists():
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        else:
            raise InputError("output folder already exists and is not empty", file=str(out))
    created = datetime.now(UTC)
    submission_id = f"{spec.dataset}-{created:%Y%m%d}-{secrets.token_hex(4)}"
    con = duckdb.connect()
    single = len(spec.tables) == 1
    id_parts: list[str] = []
    content: dict[str, tuple[str, pa.Table]] = {}
    report: dict = {"dataset": spec.dataset, "submission_id": submission_id, "tables": {}}
    for table in spec.tables:
        path = find_table_file(Path(input_path), table.name, single)
        raw = read_table_file(
            path,
            [c.name for c in table.columns if c.cls != "derived"],
            encoding=encoding,
            delimiter=delimiter,
        )
        n = raw.num_rows
        raw = raw.append_column("__row", pa.array(np.arange(1, n + 1, dtype=np.int64)))
        for identity in table.identities:
            raw = raw.append_column(f"__sid_{identity}", pa.array(random_ids(n)))
        rel = f"raw_{table.name}"
        con.register(rel, raw)
        _validate(con, rel, table, str(path))
        report["tables"][table.name] = {
            "file": path.name,
            "rows": n,
            "columns": _report_counts(con, rel, table),
        }
        cols = {c.name: c for c in table.columns}
        select = [f"{q('__sid_' + i)} AS {q(system_id_column(i))}" for i in table.identities]
        for col in table.columns:
            if col.cls == "native_key":
                select.append(
                    f"{prf_sql(provider_key, f'trim({q(col.name)})')} AS {q(col.out_name)}"
                )
            elif col.cls == "content":
                select.append(f"{rules.content_expr(col)} AS {q(col.out_name)}")
            elif col.cls == "derived":
                select.append(f"{rules.derived_expr(col, cols)} AS {q(col.out_name)}")
        con.execute(
            f"CREATE TEMP TABLE c_{table.name} AS SELECT {', '.join(select)}, __row "
            f"FROM {rel} ORDER BY __row"
        )
        for col in table.by_class("native_key"):
            check_no_collisions(
                con,
                f"(SELECT trim({q(col.name)}) AS s, p FROM {rel} JOIN "
                f"(SELECT __row, {q(col.out_name)} AS p FROM c_{table.name}) USING (__row))",
                "s",
                "p",
                what=f"{table.name}.{col.name}",
            )
        content[content_file_name(table.bank_table)] = (
            table.bank_table,
            con.execute(
                f"SELECT * EXCLUDE (__row) FROM c_{table.name} ORDER BY __row"
            ).to_arrow_table(),
        )
        for identity in table.identities:
            exprs = {}
            for c in table.by_class("identifier"):
                if c.identity == identity:
                    exprs[c.role] = rules.identifier_expr(c)[0]
            parts = [f"{q('__sid_' + identity)} AS system_id"]
            for role, typ in IDENTIFIER_FILE_COLUMNS.items():
                if role in ("system_id", "source_table"):
                    continue
                default = "9" if role == "sex" else "NULL"
                parts.append(f"CAST({exprs.get(role, default)} AS {typ}) AS {role}")
            label = table.name + (f":{identity}" if identity else "")
            parts.append(f"'{label}' AS source_table")
            id_parts.append(f"SELECT {', '.join(parts)} FROM {rel}")
    identifiers = con.execute(" UNION ALL ".join(id_parts) + " ORDER BY system_id").to_arrow_table()
    if identifiers.num_rows != len(np.unique(identifiers.column("system_id").to_numpy())):
        raise InputError("SYSTEM_ID collision across tables; run the split again")
    base = dict(
        format=SUBMISSION_FORMAT,
        dataset=spec.dataset,
        submission_id=submission_id,
        created=created.isoformat(timespec="seconds"),
        provider=spec.provider,
        spec_name=spec.dataset,
        spec_version=spec.version,
        spec_hash=spec.sha256,
        files=[],
    )
    with atomic_dir(out) as tmp:
        seal_folder(
            tmp / "linkage",
            Manifest(kind="identifiers", recipient_zone="linkage", **base),  # type: ignore[arg-type]
            {IDENTIFIERS_FILE_NAME: ("IDENTIFIERS", identifiers)},
            linkage_recipient,
        )
        seal_folder(
            tmp / "bank",
            Manifest(kind="content", recipient_zone="bank", **base),  # type: ignore[arg-type]
            content,
            bank_recipient,
        )
        (tmp / "validation-report.json").write_text(json.dumps(report, indent=2) + "\n")
    con.close()
    return SplitResult(
        out=out,
        submission_id=submission_id,
        identifiers_rows=identifiers.num_rows,
        content_rows={t: tbl.num_rows for t, tbl in content.values()},
        report=report,
    )


def deliver(submission: Path, zone_inbox: Path, part: str) -> Path:
    """Copy one part (``linkage`` or ``bank``) of a submission into a zone's inbox."""
    src = Path(submission) / part
    if not src.is_dir():
        raise InputError(f"submission has no {part} part", file=str(submission))
    dest = Path(zone_inbox) / Path(submission).name
    with atomic_dir(dest) as tmp:
        for f in src.iterdir():
            shutil.copy2(f, tmp / f.name)
    return dest
