"""Projects zone: per-project stores under SAIL names, keyed with the project's own key."""

from justicelink.projects.naming import project_column, table_name
from justicelink.projects.provision import (
    Provisioned,
    project_dir,
    provision,
    store_path,
    withdraw,
    workspace_path,
)

__all__ = [
    "Provisioned",
    "project_column",
    "project_dir",
    "provision",
    "store_path",
    "table_name",
    "withdraw",
    "workspace_path",
]
