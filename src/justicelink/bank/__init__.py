"""Bank zone: anonymised, versioned datasets under the bank's own key layer."""

from justicelink.bank.catalogue import DatasetVersion, dictionary, latest, versions
from justicelink.bank.load import LoadResult, load

__all__ = ["DatasetVersion", "LoadResult", "dictionary", "latest", "load", "versions"]
