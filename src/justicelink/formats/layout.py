"""Names and columns of the files that travel between zones (see docs/interchange.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

SUBMISSION_FORMAT = "justicelink.submission/1"

ZONES = ("provider", "linkage", "bank", "control", "projects", "airlock")

MANIFEST_NAME = "manifest.json.age"
IDENTIFIERS_FILE_NAME = "identifiers.parquet.age"
ALF_FILE_NAME = "alf.parquet.age"
ALF_MANIFEST_NAME = "alf-manifest.json.age"

# Identifiers file (provider -> linkage). One row per person record (per identity on the record).
# This is also the RECS contract of `justicelink linkage match`. Extra columns are allowed.
IDENTIFIER_FILE_SCHEMA = pa.schema(
    [
        ("system_id", pa.int64()),  # fresh random id per person record, 63-bit
        ("nhs_number", pa.string()),  # 10 digits, check digit valid, else NULL
        ("forename", pa.string()),  # upper case, letters, spaces, hyphens and apostrophes
        ("surname", pa.string()),
        ("dob", pa.date32()),
        ("sex", pa.int32()),  # GNDR_CD: 1 male, 2 female, 9 unknown
        ("postcode", pa.string()),  # normalised "AB1 2CD"
        ("source_table", pa.string()),  # extra: which extract table the record came from
    ]
)
# what matching needs of every records file: all but the extra source_table
MATCH_COLUMNS: tuple[str, ...] = tuple(
    n for n in IDENTIFIER_FILE_SCHEMA.names if n != "source_table"
)

# ALF file (linkage -> bank). One row per identifiers-file row.
ALF_FILE_SCHEMA = pa.schema(
    [
        ("SYSTEM_ID", pa.int64()),
        ("ALF_E", pa.int64()),  # register ALF under the TTP key; NULL when unmatched
        ("ALF_STS_CD", pa.int32()),  # justicelink.formats.AlfStatus
        ("ALF_MTCH_PCT", pa.float64()),
        ("WOB", pa.date32()),  # Monday on or before the date of birth
        ("GNDR_CD", pa.int32()),
        ("LSOA2011_CD", pa.string()),
    ]
)

# SQL names of the Arrow types these schemas use (DuckDB's names; docs/interchange.md shows them)
_SQL_TYPES: dict[pa.DataType, str] = {
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.string(): "VARCHAR",
    pa.date32(): "DATE",
}


def sql_columns(schema: pa.Schema) -> dict[str, str]:
    """Column -> SQL type name, in the schema's order."""
    return {f.name: _SQL_TYPES[f.type] for f in schema}


IDENTIFIER_FILE_COLUMNS: dict[str, str] = sql_columns(IDENTIFIER_FILE_SCHEMA)
ALF_FILE_COLUMNS: dict[str, str] = sql_columns(ALF_FILE_SCHEMA)


def project_schema(project_id: str) -> str:
    """A project's read-only tables, the SAIL way: ``SAIL<id>V`` (e.g. ``SAIL0001V``)."""
    return f"SAIL{project_id}V"


def workspace_schema(project_id: str) -> str:
    """A project's writable workspace: ``SAILW<id>V``."""
    return f"SAILW{project_id}V"


def content_file_name(table: str) -> str:
    return f"content-{table}.parquet.age"


@dataclass(frozen=True)
class ProjectGrant:
    """What governance approved for a project: the control plane's word to the provisioner."""

    project_id: str  # four digits, e.g. "0001"
    title: str
    datasets: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # dataset -> bank table -> approved columns
    researchers: list[str] = field(default_factory=list)
    approved_by: str = ""
    approved_at: str = ""
    end_date: str = ""

    @property
    def schema(self) -> str:
        return project_schema(self.project_id)

    @property
    def workspace_schema(self) -> str:
        return workspace_schema(self.project_id)
