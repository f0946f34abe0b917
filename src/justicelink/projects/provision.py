"""Provisioning: approved datasets and columns, re-keyed under the project's own key.

The project store is a DuckDB file per project (``store/SAIL<id>V.duckdb``) holding one table per
approved bank table, named the SAIL way and pinned to a dataset version. ``ALF_PE`` is
PRF(project key, "alf", bank ALF) and each ``*_PE`` native key PRF(project key, "nk_<dataset>",
bank key), so the same person has different ids in different projects and one id across a
project's datasets. Tables stream through in batches (``crypto.IntPRF``: one AES call per batch
and column), then each key domain is checked for collisions. The store is rebuilt in a
temporary file and swapped in whole. What the bank holds arrives as ``formats.BankDataset``
descriptions (``bank.describe``, passed on by the composition layer), each table with the
source the bank reads it through (its files are encrypted under the bank's key): this zone
never reads the bank's folders. The store and the workspace are encrypted DuckDB databases
under the project's own at-rest key (``keys/at-rest.key``, decision 0008).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from justicelink.crypto import IntPRF, at_rest, refuse_if_collided
from justicelink.formats import (
    BankDataset,
    ProjectGrant,
    RefusedError,
    TableSource,
    project_schema,
    write_json_atomic,
)
from justicelink.projects.naming import project_column, table_name
from justicelink.projects.storage import (
    AT_REST,
    connect,
    create_workspace,
    project_dir,
    project_keys,
    store_path,
    workspace_path,
)
from justicelink.specs import available_specs, load_spec
from justicelink.specs.model import alf_prefix

_BATCH_ROWS = 1 << 18
# how the store's pseudonyms were made; a store made another way does not join to its workspace
PSEUDONYMS = "aes-256 int-prf v1 (decision 0006)"


@dataclass(frozen=True)
class Provisioned:
    project_id: str
    store: Path
    workspace: Path
    tables: dict[str, int]
    pins: dict[str, str]


def _keyed_columns(dataset: str, bank_table: str) -> dict[str, str]:
    """Keyed column -> key domain, from the spec: every ALF of the project shares one domain
    (so ALF_PE joins across datasets); each dataset's native keys share another."""
    table = load_spec(dataset).by_bank_table(bank_table)
    keyed = {c.out_name: f"nk_{dataset}" for c in table.by_class("native_key")}
    for identity in table.identities:
        keyed[f"{alf_prefix(identity)}ALF_E"] = "alf"
    return keyed


@dataclass(frozen=True)
class _Item:
    dataset: str
    bank_table: str
    version: str
    source: TableSource  # read through the bank (its files are encrypted under its key)
    schema: pa.Schema  # the bank table's columns (source.schema(), read once)
    columns: list[str]
    keyed: dict[str, str]  # keyed column -> key domain (alf, or nk_<DATASET>)
    name: str
    recorded: Mapping[str, int]  # keyed column -> distinct bank ids, as the bank counted at load

    @property
    def label(self) -> str:
        return f"{self.dataset} {self.version} {self.bank_table}"


def _identifier_names() -> set[str]:
    """Every column a spec classes as an identifier or drops: never provisioned, whatever the
    approval says (minimisation: WOB not DOB, LSOA not postcode)."""
    names: set[str] = set()
    for ds in available_specs():
        for t in load_spec(ds).tables:
            names |= {c.name for c in t.columns if c.cls in ("identifier", "drop")}
    return names


def _plan(grant: ProjectGrant, held: dict[str, BankDataset], pins: dict[str, str]) -> list[_Item]:
    forbidden = _identifier_names()
    plan = []
    for ds, tables in sorted(grant.datasets.items()):
        version = pins[ds]
        bank_version = held[ds].version(version)
        for bank_table, columns in sorted(tables.items()):
            table = bank_version.tables.get(bank_table) if bank_version else None
            if table is None:
                raise RefusedError(f"{ds} version {version} has no table {bank_table}")
            blocked = [c for c in columns if c in forbidden]
            if blocked:
                raise RefusedError(
                    f"{ds}.{bank_table}: columns {blocked} are identifiers; projects receive "
                    "WOB, not dates of birth, and LSOA, not postcodes (minimisation)"
                )
            schema = table.source.schema()
            available_cols = schema.names
            unknown = [c for c in columns if c not in available_cols]
            if unknown:
                raise RefusedError(
                    f"{ds}.{bank_table} has no columns {unknown}; approval names columns the bank does not hold"
                )
            plan.append(
                _Item(ds, bank_table, version, table.source, schema, list(columns), {c: d for c, d in _keyed_columns(ds, bank_table).items() if c in columns},
                      table_name(ds, bank_table, version), table.distinct)
            )  # fmt: skip
    return plan


def _rekeyed(item: _Item, prf: IntPRF) -> tuple[pa.RecordBatchReader, list[RefusedError]]:
    """The approved columns of one bank table, batch by batch, keyed columns re-keyed; and a
    list that receives the reason if a batch cannot be re-keyed."""
    fields = []
    for c in item.columns:
        field = item.schema.field(c)
        if c in item.keyed:
            if not pa.types.is_integer(field.type):
                raise RefusedError(
                    f"{item.label}: keyed column {c} is {field.type}, not a bank id (BIGINT)"
                )
            field = pa.field(project_column(c), pa.int64())
        fields.append(field)
    schema = pa.schema(fields)

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in item.source.batches(item.columns, _BATCH_ROWS):
            arrays = []
            for i, c in enumerate(item.columns):
                if c not in item.keyed:
                    arrays.append(batch.column(i))
                    continue
                try:
                    arrays.append(prf.arrow(batch.column(i), item.keyed[c]))
                except (pa.ArrowException, TypeError, ValueError) as exc:
                    # DuckDB would wrap this (and Arrow quotes the offending id): keep it, say
                    # which column failed without any value, and re-raise after the scan
                    failures.append(
                        RefusedError(
                            f"{item.label}: column {c} could not be re-keyed ({type(exc).__name__}); "
                            "bank ids must be 63-bit integers"
                        )
                    )
                    raise
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    failures: list[RefusedError] = []
    return pa.RecordBatchReader.from_batches(schema, batches()), failures


def _check_domains(con: duckdb.DuckDBPyConnection, plan: list[_Item], project_id: str) -> None:
    """The project-wide collision check: in each key domain, as many distinct pseudonyms as
    distinct bank ids, counted over every table of the project that uses the domain.

    The pseudonyms are always counted in the store. The bank ids of a domain that comes from
    one column of one table are counted by the bank at load (``BankTable.distinct``); a domain
    that spans several columns is counted here, over their union."""
    sources: dict[str, list[tuple[_Item, str]]] = {}
    for item in plan:
        for c in sorted(item.keyed):
            sources.setdefault(item.keyed[c], []).append((item, c))
    for d, cols in sources.items():
        n_in = cols[0][0].recorded.get(cols[0][1]) if len(cols) == 1 else None
        if n_in is None:  # each bank column streams in through the bank's own reader
            for i, (item, c) in enumerate(cols):
                con.register(f"bank_ids_{i}", item.source.batches([c], _BATCH_ROWS))
            union = " UNION ALL ".join(
                f'SELECT "{c}" AS v FROM bank_ids_{i}' for i, (_, c) in enumerate(cols)
            )
            n_in = con.execute(f"SELECT count(DISTINCT v) FROM ({union})").fetchone()[0]  # type: ignore[index]
            for i in range(len(cols)):
                con.unregister(f"bank_ids_{i}")
        union = " UNION ALL ".join(
            f'SELECT "{project_column(c)}" AS v FROM "{item.name}"' for item, c in cols
        )
        n_out = con.execute(f"SELECT count(DISTINCT v) FROM ({union})").fetchone()[0]  # type: ignore[index]
        refuse_if_collided(n_in, n_out, what=f"project {project_id} {d} pseudonyms")


def provision(
    grant: ProjectGrant,
    holdings: Iterable[BankDataset],
    projects_root: Path,
    *,
    refresh: bool = False,
) -> Provisioned:
    """Build the project's store from what governance approved (``grant``) and what the bank
    holds of those datasets (``holdings``: ``bank.describe`` of each)."""
    held = {d.dataset: d for d in holdings}
    folder = project_dir(projects_root, grant.project_id)
    keys = project_keys(projects_root, grant.project_id)
    key, rest_key = keys.prf_key(), keys.at_rest_key(create=True)
    meta_path = folder / "project.json"
    old_meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    old_pins: dict[str, str] = old_meta.get("pins", {})
    if old_meta and old_meta.get("pseudonyms") != PSEUDONYMS and not refresh:
        raise RefusedError(
            f"project {grant.project_id} was provisioned with another pseudonym algorithm: "
            "re-provisioning changes every ALF_PE and *_PE, so tables saved in its workspace "
            "will no longer join to the store. Re-provision with --refresh to accept this."
        )
    pins: dict[str, str] = {}
    for ds in grant.datasets:
        available = [v.version for v in held[ds].versions] if ds in held else []
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
    spill = store.parent / ".tmp-spill"
    alias = project_schema(grant.project_id)
    con = connect(spill)
    counts: dict[str, int] = {}
    try:
        at_rest.attach(con, tmp, alias, rest_key)
        con.execute(f'USE "{alias}"')
        plan = _plan(grant, held, pins)
        prf = IntPRF(key)
        for item in plan:
            reader, failures = _rekeyed(item, prf)
            con.register("rekeyed", reader)
            try:
                con.execute(f'CREATE TABLE "{item.name}" AS SELECT * FROM rekeyed')
            except duckdb.Error:
                if failures:
                    raise failures[0] from None
                raise
            con.unregister("rekeyed")
            counts[item.name] = con.execute(f'SELECT count(*) FROM "{item.name}"').fetchone()[0]  # type: ignore[index]
        _check_domains(con, plan, grant.project_id)
        con.execute(f'CHECKPOINT "{alias}"')
        con.execute("USE memory")
        con.execute(f'DETACH "{alias}"')
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        shutil.rmtree(spill, ignore_errors=True)
        raise
    shutil.rmtree(spill, ignore_errors=True)
    con.close()
    os.replace(tmp, store)
    ws = workspace_path(projects_root, grant.project_id)
    create_workspace(
        ws, grant.workspace_schema, rest_key, encrypted=old_meta.get("at_rest") == AT_REST
    )
    write_json_atomic(
        meta_path,
        {
            "project_id": grant.project_id,
            "schema": grant.schema,
            "workspace_schema": grant.workspace_schema,
            "pins": pins,
            "pseudonyms": PSEUDONYMS,
            "at_rest": AT_REST,
            "tables": counts,
            "provisioned_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "approved_by": grant.approved_by,
        },
    )
    return Provisioned(grant.project_id, store, ws, counts, pins)
