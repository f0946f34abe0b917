"""Names and columns of the files that travel between zones (see docs/interchange.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

SUBMISSION_FORMAT = "justicelink.submission/1"

ZONES = ("provider", "linkage", "bank", "control", "projects", "airlock")

MANIFEST_NAME = "manifest.json.age"
IDENTIFIERS_FILE_NAME = "identifiers.parquet.age"
ALF_FILE_NAME = "alf.parquet.age"
ALF_MANIFEST_NAME = "alf-manifest.json.age"

# Identifiers file (provider -> linkage). One row per person record (per identity on the record).
# This is also the RECS contract of `justicelink linkage match`. Extra columns are allowed.
IDENTIFIER_FILE_COLUMNS: dict[str, str] = {
    "system_id": "BIGINT",  # fresh random id per person record, 63-bit
    "nhs_number": "VARCHAR",  # 10 digits, check digit valid, else NULL
    "forename": "VARCHAR",  # upper case, letters, spaces, hyphens and apostrophes
    "surname": "VARCHAR",
    "dob": "DATE",
    "sex": "INTEGER",  # GNDR_CD: 1 male, 2 female, 9 unknown
    "postcode": "VARCHAR",  # normalised "AB1 2CD"
    "source_table": "VARCHAR",  # extra: which extract table the record came from
}

# ALF file (linkage -> bank). One row per identifiers-file row.
ALF_FILE_COLUMNS: dict[str, str] = {
    "SYSTEM_ID": "BIGINT",
    "ALF_E": "BIGINT",  # register ALF under the TTP key; NULL when unmatched
    "ALF_STS_CD": "INTEGER",
    "ALF_MTCH_PCT": "DOUBLE",
    "WOB": "DATE",  # Monday on or before the date of birth
    "GNDR_CD": "INTEGER",
    "LSOA2011_CD": "VARCHAR",
}

# ALF_STS_CD meanings: one source of truth for code, docs and tests.
ALF_STATUS: dict[int, str] = {
    1: "NHS number, date of birth and sex agree exactly",
    4: "NHS number agrees with partial demographic agreement",
    39: "probabilistic match, p >= 0.9",
    35: "probabilistic match, 0.5 <= p < 0.9",
    99: "unmatched",
}
RESEARCH_FILTER: tuple[int, ...] = (1, 4, 39)


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
        return f"SAIL{self.project_id}V"

    @property
    def workspace_schema(self) -> str:
        return f"SAILW{self.project_id}V"
