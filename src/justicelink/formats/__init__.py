"""Interchange formats: the only things zones share.

Every file that crosses a zone boundary is described here (Arrow schemas, manifest layout, the
bank's description of what it holds) and in ``docs/interchange.md``, with the rules the code reads
(linkage status codes and filters, SAIL schema names). Zones import these names; they never import
each other.
"""

from justicelink.formats.atomic import (
    atomic_dir,
    held_tmpdir,
    private_files,
    sweep_stale,
    write_json_atomic,
)
from justicelink.formats.audit_chain import GENESIS, AuditEntry, check_chain, entry_hash
from justicelink.formats.errors import InputError, JusticelinkError, RefusedError
from justicelink.formats.holdings import BankDataset, BankTable, BankVersion, TableSource
from justicelink.formats.layout import (
    ALF_FILE_COLUMNS,
    ALF_FILE_NAME,
    ALF_FILE_SCHEMA,
    ALF_MANIFEST_NAME,
    IDENTIFIER_FILE_COLUMNS,
    IDENTIFIER_FILE_SCHEMA,
    IDENTIFIERS_FILE_NAME,
    MANIFEST_NAME,
    MATCH_COLUMNS,
    SUBMISSION_FORMAT,
    ZONES,
    ProjectGrant,
    content_file_name,
    project_schema,
    sql_columns,
    workspace_schema,
)
from justicelink.formats.manifest import FileEntry, Manifest, sha256_bytes, sha256_file
from justicelink.formats.outputs import OutputFile
from justicelink.formats.status import (
    ALF_STATUS,
    LOOSE_FILTER,
    RESEARCH_FILTER,
    STRICT_FILTER,
    AlfStatus,
    status_in,
    status_list,
)

__all__ = [
    "ALF_FILE_COLUMNS",
    "ALF_FILE_NAME",
    "ALF_FILE_SCHEMA",
    "ALF_MANIFEST_NAME",
    "ALF_STATUS",
    "GENESIS",
    "IDENTIFIERS_FILE_NAME",
    "IDENTIFIER_FILE_COLUMNS",
    "IDENTIFIER_FILE_SCHEMA",
    "LOOSE_FILTER",
    "MANIFEST_NAME",
    "MATCH_COLUMNS",
    "RESEARCH_FILTER",
    "STRICT_FILTER",
    "SUBMISSION_FORMAT",
    "ZONES",
    "AlfStatus",
    "AuditEntry",
    "BankDataset",
    "BankTable",
    "BankVersion",
    "FileEntry",
    "InputError",
    "JusticelinkError",
    "Manifest",
    "OutputFile",
    "ProjectGrant",
    "RefusedError",
    "TableSource",
    "atomic_dir",
    "check_chain",
    "content_file_name",
    "entry_hash",
    "held_tmpdir",
    "private_files",
    "project_schema",
    "sha256_bytes",
    "sha256_file",
    "sql_columns",
    "status_in",
    "status_list",
    "sweep_stale",
    "workspace_schema",
    "write_json_atomic",
]
