"""Dataset specs: one declarative TOML file per dataset, the single source of column rules."""

from justicelink.specs.model import (
    COLUMN_CLASSES,
    IDENTIFIER_ROLES,
    Column,
    DatasetSpec,
    Table,
    available_specs,
    load_spec,
)

__all__ = [
    "COLUMN_CLASSES",
    "IDENTIFIER_ROLES",
    "Column",
    "DatasetSpec",
    "Table",
    "available_specs",
    "load_spec",
]
