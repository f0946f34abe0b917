"""SAIL naming: tables ``<DS>_<BASE>_<YYYYMMDD>`` and ``_PE`` keys (the schemas ``SAIL<id>V`` /
``SAILW<id>V`` are ``formats.project_schema`` / ``formats.workspace_schema``)."""

from __future__ import annotations


def table_name(dataset: str, bank_table: str, version: str) -> str:
    base = bank_table if bank_table.startswith(f"{dataset}_") else f"{dataset}_{bank_table}"
    return f"{base}_{version}"


def project_column(bank_column: str) -> str:
    """Bank-encrypted ids (``*_E``) become project-encrypted (``*_PE``)."""
    return bank_column[:-2] + "_PE" if bank_column.endswith("_E") else bank_column
