"""Provisioning: approved datasets and columns, re-keyed under the project's own key.

The project store is a DuckDB file per project (``store/SAIL<id>V.duckdb``) holding one table per
approved bank table, named the SAIL way and pinned to a dataset version. ``ALF_PE`` is
PRF(project key, bank ALF), so the same person has different ids in different projects and one
id across a project's datasets. The store is rebuilt in a temporary file and swapped in whole.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from justicelink.crypto import ZoneKeys, check_no_collisions, prf_sql
from justicelink.formats import ProjectGrant, RefusedError, write_json_atomic
from justicelink.projects.naming import project_column, table_name
from justicelink.specs import load_spec


@dataclass(frozen=True)
class Provisioned:
    project_id: str
    store: Path
    workspace: Path
    tables: dict[str, int]
    pins: dict[str, str]


def project_dir(projects_root: Path, project_id: str) -> Path:
    return Path(projects_root) / project_id


def store_path(projects_root: Path, grant_or_id: ProjectGrant | str) -> Path:
    pid = grant_or_id if isinstance(grant_or_id, str) else grant_or_id.project_id
    return project_dir(projects_root, pid) / "store" / f"SAIL{pid}V.duckdb"


def workspace_path(projects_root: Path, project_id: str) -> Path:
    return project_dir(projects_root, project_id) / "workspace" / f"SAILW{project_id}V.duckdb"


def _keyed_columns(dataset: str, bank_table: str) -> set[str]:
    spec = load_spec(dataset)
    table = spec.by_bank_table(bank_table)
    keyed = {c.out_name for c in table.by_class("native_key")}
    for identity in table.identities:
        keyed.add(f"{identity}_ALF_E" if identity else "ALF_E")
    return keyed


def _dataset_versions(bank_dir: Path, dataset: str) -> list[str]:
    root = Path(bank_dir) / "datasets" / dataset
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / "version.json").is_file()
    )


def provision(
    grant: ProjectGrant, bank_dir: Path, projects_root: Path, *, refresh: bool = False
) -> Provisioned:
    folder = project_dir(projects_root, grant.project_id)
    keys = ZoneKeys.create(folder, f"project {grant.project_id}")
    key = keys.prf_key()
    meta_path = folder / "project.json"
    old_pins: dict[str, str] = (
        json.loads(meta_path.read_text())["pins"] if meta_path.is_file() else {}
    )
    pins: dict[str, str] = {}
    for ds in grant.datasets:
        available = _dataset_versions(bank_dir, ds)
        if not available:
            raise RefusedError(f"the bank holds no version of {ds}; load it before provisioning")
        pins[ds] = (
            old_pins[ds]
            if (ds in old_pins and not refresh and old_pins[ds] in available)
            else available[-1]
        )
    store = store_path(projects_root, grant)
    store.parent.mkdir(parents=True, exist_ok=True)
    tmp = store.with_name(f".tmp-{store.name}")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    counts: dict[str, int] = {}
    alf_selects: list[str] = []
    try:
        for ds, tables in sorted(grant.datasets.items()):
            version = pins[ds]
            for bank_table, columns in sorted(tables.items()):
                src = Path(bank_dir) / "datasets" / ds / version / f"{bank_table}.parquet"
                if not src.is_file():
                    raise RefusedError(f"{ds} version {version} has no table {bank_table}")
                available_cols = pq.read_schema(src).names
                unknown = [c for c in columns if c not in available_cols]
                if unknown:
                    raise RefusedError(
                        f"{ds}.{bank_table} has no columns {unknown}; approval names columns the bank does not hold"
                    )
                keyed = _keyed_columns(ds, bank_table)
                select = []
                for c in columns:
                    if c in keyed:
                        select.append(
                            f'{prf_sql(key, chr(34) + c + chr(34))} AS "{project_column(c)}"'
                        )
                    else:
                        select.append(f'"{c}"')
                name = table_name(ds, bank_table, version)
                con.execute(
                    f"CREATE TABLE \"{name}\" AS SELECT {', '.join(select)} FROM read_parquet('{src}')"
                )
                counts[name] = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # type: ignore[index]
                for c in columns:
                    if c in keyed:
                        check_no_collisions(
                            con,
                            f"(SELECT \"{c}\" AS s, {prf_sql(key, chr(34) + c + chr(34))} AS p FROM read_parquet('{src}'))",
                            "s", "p", what=f"{name}.{project_column(c)}",
                        )  # fmt: skip
                        if c.endswith("ALF_E"):
                            alf_selects.append(f"SELECT \"{c}\" AS s FROM read_parquet('{src}')")
        if alf_selects:
            check_no_collisions(
                con,
                f"(SELECT s, {prf_sql(key, 's')} AS p FROM ({' UNION ALL '.join(alf_selects)}))",
                "s", "p", what=f"project {grant.project_id} ALF_PE",
            )  # fmt: skip
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, store)
    ws = workspace_path(projects_root, grant.project_id)
    ws.parent.mkdir(parents=True, exist_ok=True)
    if not ws.exists():
        duckdb.connect(str(ws)).close()
    write_json_atomic(
        meta_path,
        {
            "project_id": grant.project_id,
            "schema": grant.schema,
            "workspace_schema": grant.workspace_schema,
            "pins": pins,
            "tables": counts,
            "provisioned_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "approved_by": grant.approved_by,
        },
    )
    return Provisioned(grant.project_id, store, ws, counts, pins)
