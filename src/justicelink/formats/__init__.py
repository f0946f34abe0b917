"""Interchange formats: the only things zones share.

Every file that crosses a zone boundary is described here (column lists, manifest layout) and in
``docs/interchange.md``. Zones import these names; they never import each other.
"""

from justicelink.formats.atomic import atomic_dir, write_json_atomic
from justicelink.formats.audit_chain import GENESIS, AuditEntry, check_chain, entry_hash
from justicelink.formats.errors import InputError, JusticelinkError, RefusedError
from justicelink.formats.layout import (
    ALF_FILE_COLUMNS,
    ALF_FILE_NAME,
    ALF_MANIFEST_NAME,
    ALF_STATUS,
    IDENTIFIER_FILE_COLUMNS,
    IDENTIFIERS_FILE_NAME,
    MANIFEST_NAME,
    RESEARCH_FILTER,
    SUBMISSION_FORMAT,
    ZONES,
    ProjectGrant,
    content_file_name,
)
from justicelink.formats.manifest import FileEntry, Manifest, sha256_bytes, sha256_file

__all__ = [
    "ALF_FILE_COLUMNS",
    "ALF_FILE_NAME",
    "ALF_MANIFEST_NAME",
    "ALF_STATUS",
    "GENESIS",
    "IDENTIFIERS_FILE_NAME",
    "IDENTIFIER_FILE_COLUMNS",
    "MANIFEST_NAME",
    "RESEARCH_FILTER",
    "SUBMISSION_FORMAT",
    "ZONES",
    "AuditEntry",
    "FileEntry",
    "InputError",
    "JusticelinkError",
    "Manifest",
    "ProjectGrant",
    "RefusedError",
    "atomic_dir",
    "check_chain",
    "content_file_name",
    "entry_hash",
    "sha256_bytes",
    "sha256_file",
    "write_json_atomic",
]
