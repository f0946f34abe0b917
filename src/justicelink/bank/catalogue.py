"""What the bank holds: datasets, versions, tables, row counts, linkage rates, data dictionary.

``describe`` hands the same, as ``formats.BankDataset``, to the zones the bank serves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from justicelink.bank.tables import BankTableSource
from justicelink.formats import ALF_FILE_COLUMNS, BankDataset, BankTable, BankVersion
from justicelink.formats.atomic import TMP_PREFIX
from justicelink.specs import load_spec


@dataclass(frozen=True)
class DatasetVersion:
    dataset: str
    version: str
    folder: Path
    info: dict

    @property
    def tables(self) -> list[str]:
        return sorted(self.info["rows"])


def versions(bank_dir: Path, dataset: str | None = None) -> list[DatasetVersion]:
    root = Path(bank_dir) / "datasets"
    out: list[DatasetVersion] = []
    if not root.is_dir():
        return out
    for ds in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if dataset and ds.name != dataset:
            continue
        for v in sorted(
            p for p in ds.iterdir() if p.is_dir() and not p.name.startswith(TMP_PREFIX)
        ):
            info_path = v / "version.json"
            if info_path.is_file():
                out.append(DatasetVersion(ds.name, v.name, v, json.loads(info_path.read_text())))
    return out


def latest(bank_dir: Path, dataset: str) -> DatasetVersion | None:
    found = versions(bank_dir, dataset)
    return found[-1] if found else None


def describe(bank_dir: Path, dataset: str) -> BankDataset:
    """What the bank holds of ``dataset``, for zones that may not read the bank's folders:
    every complete version, oldest first, with a source for each table (read with the bank's
    key, ``bank.tables``) and the distinct-id counts recorded at load (``version.json``:
    ``distinct``; only whole numbers are passed on)."""
    described = []
    for v in versions(bank_dir, dataset):
        recorded = v.info.get("distinct", {})
        tables = {}
        for path in sorted(v.folder.glob("*.parquet")):
            counts = recorded.get(path.stem, {})
            distinct = {c: n for c, n in counts.items() if type(n) is int}  # not a JSON true
            source = BankTableSource(Path(bank_dir), dataset, v.version, path.stem)
            tables[path.stem] = BankTable(path.stem, source, distinct)
        described.append(BankVersion(dataset, v.version, tables))
    return BankDataset(dataset, tuple(described))


def dictionary(dataset: str) -> list[dict[str, str]]:
    """Bank-side data dictionary from the spec: table, column, class, type, description."""
    spec = load_spec(dataset)
    alf = ALF_FILE_COLUMNS  # the linkage columns keep the ALF file's types
    rows: list[dict[str, str]] = []
    for t in spec.tables:
        link = []
        for identity in t.identities:
            p = f"{identity}_" if identity else ""
            link += [
                (f"{p}ALF_E", "linkage", alf["ALF_E"], "Anonymised linking field (bank layer)")
            ]
            link += [(f"{p}ALF_STS_CD", "linkage", alf["ALF_STS_CD"], "Linkage status code")]
            link += [(f"{p}ALF_MTCH_PCT", "linkage", alf["ALF_MTCH_PCT"], "Match score 0-1")]
            if not identity:
                link += [("WOB", "linkage", alf["WOB"], "Week of birth (Monday on or before)")]
                link += [("GNDR_CD", "linkage", alf["GNDR_CD"], "1 male, 2 female, 9 unknown")]
                link += [("LSOA2011_CD", "linkage", alf["LSOA2011_CD"], "LSOA of residence")]
        for name, cls, typ, desc in link:
            rows.append(
                {
                    "table": t.bank_table,
                    "column": name,
                    "class": cls,
                    "type": typ,
                    "description": desc,
                }
            )
        for c in t.columns:
            if c.cls in ("identifier", "drop"):
                continue
            typ = "BIGINT" if c.cls == "native_key" else c.type.upper()
            rows.append(
                {
                    "table": t.bank_table,
                    "column": c.out_name,
                    "class": c.cls,
                    "type": typ,
                    "description": c.description,
                }
            )
    return rows
