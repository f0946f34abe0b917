"""Bank zone: anonymised, versioned datasets under the bank's own key layer, encrypted at rest."""

from justicelink.bank.catalogue import DatasetVersion, describe, dictionary, latest, versions
from justicelink.bank.load import LoadResult, load
from justicelink.bank.tables import count_rows, open_table, read_schema

__all__ = [
    "DatasetVersion",
    "LoadResult",
    "count_rows",
    "describe",
    "dictionary",
    "latest",
    "load",
    "open_table",
    "read_schema",
    "versions",
]
