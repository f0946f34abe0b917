"""Bank zone: anonymised, versioned datasets under the bank's own key layer."""

from justicelink.bank.catalogue import DatasetVersion, describe, dictionary, latest, versions
from justicelink.bank.load import LoadResult, load

__all__ = ["DatasetVersion", "LoadResult", "describe", "dictionary", "latest", "load", "versions"]
