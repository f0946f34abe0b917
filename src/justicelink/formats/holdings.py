"""What the bank holds of a dataset, as the bank describes it to the zones it serves.

The bank's folder layout is the bank's own: ``justicelink.bank.describe`` reads it and returns
these descriptions, the composition layer hands them on (to provisioning), and no other zone
walks the bank's folders. Its files are encrypted under the bank's key (decision 0008), so a
table is read only through the ``TableSource`` the bank gives with it: the bank opens the file
with its key and hands over Arrow batches, never the key or the path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pyarrow as pa


class TableSource(Protocol):
    """One bank table as the bank lets another zone read it."""

    def schema(self) -> pa.Schema:
        """Every column of the table, with its Arrow type."""
        ...

    def batches(self, columns: Sequence[str], batch_rows: int) -> pa.RecordBatchReader:
        """The named columns, streamed in batches of at most ``batch_rows`` rows."""
        ...


@dataclass(frozen=True)
class BankTable:
    """One table of one dataset version: how to read it and the bank's own id counts."""

    name: str  # bank table, e.g. "CAFCASS_ALF"
    source: TableSource = field(compare=False, repr=False)
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
