"""What the bank holds of a dataset, as the bank describes it to the zones it serves.

The bank's folder layout is the bank's own: ``justicelink.bank.describe`` reads it and returns
these descriptions, the composition layer hands them on (to provisioning), and no other zone
walks the bank's folders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class BankTable:
    """One table of one dataset version: its Parquet file and the bank's own id counts."""

    name: str  # bank table, e.g. "CAFCASS_ALF"
    path: Path
    # keyed column (every *ALF_E and native key) -> distinct ids, counted by the bank at load;
    # empty when the version recorded none
    distinct: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class BankVersion:
    """One complete, published refresh of a dataset (never changed once published)."""

    dataset: str
    version: str  # YYYYMMDD
    tables: Mapping[str, BankTable] = field(default_factory=dict)  # bank table -> table


@dataclass(frozen=True)
class BankDataset:
    """Every complete version the bank holds of a dataset, oldest first (none: not loaded)."""

    dataset: str
    versions: tuple[BankVersion, ...] = ()

    def version(self, version: str) -> BankVersion | None:
        return next((v for v in self.versions if v.version == version), None)
