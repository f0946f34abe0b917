"""Projects zone: per-project stores under SAIL names, keyed with the project's own key and
encrypted at rest under another of its keys."""

from justicelink.projects.naming import project_column, table_name
from justicelink.projects.provision import Provisioned, provision
from justicelink.projects.storage import (
    at_rest_key,
    project_dir,
    store_path,
    withdraw,
    workspace_path,
)

__all__ = [
    "Provisioned",
    "at_rest_key",
    "project_column",
    "project_dir",
    "provision",
    "store_path",
    "table_name",
    "withdraw",
    "workspace_path",
]
