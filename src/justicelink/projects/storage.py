"""Where a project's files live, and the encrypted databases they are (decision 0008).

``projects/<id>/store/SAIL<id>V.duckdb`` (the provisioned tables) and
``projects/<id>/workspace/SAILW<id>V.duckdb`` (the researchers' own tables) are DuckDB
databases encrypted under the project's at-rest key, ``projects/<id>/keys/at-rest.key``:
a copied file alone reveals nothing. Withdrawing a project deletes its store and its PRF key;
its workspace is moved aside with its at-rest key kept apart, for governance to decide on.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from justicelink.crypto import ZoneKeys, at_rest
from justicelink.crypto.keys import AT_REST_KEY_FILE
from justicelink.formats import ProjectGrant, RefusedError, project_schema, workspace_schema

# recorded in project.json: how the store and the workspace are kept at rest
AT_REST = "duckdb aes-256-gcm (decision 0008)"
WITHDRAWN = ".withdrawn"  # workspaces of withdrawn projects, out of every session's reach
WITHDRAWN_KEYS = ".withdrawn-keys"  # their at-rest keys, never beside them


def project_dir(projects_root: Path, project_id: str) -> Path:
    return Path(projects_root) / project_id


def store_path(projects_root: Path, grant_or_id: ProjectGrant | str) -> Path:
    pid = grant_or_id if isinstance(grant_or_id, str) else grant_or_id.project_id
    return project_dir(projects_root, pid) / "store" / f"{project_schema(pid)}.duckdb"


def workspace_path(projects_root: Path, project_id: str) -> Path:
    name = f"{workspace_schema(project_id)}.duckdb"
    return project_dir(projects_root, project_id) / "workspace" / name


def project_keys(projects_root: Path, project_id: str) -> ZoneKeys:
    """The project zone's keys, made on first provisioning."""
    return ZoneKeys.create(project_dir(projects_root, project_id), f"project {project_id}")


def at_rest_key(projects_root: Path, project_id: str) -> bytes:
    """The key the project's store and workspace are encrypted under."""
    path = project_dir(projects_root, project_id) / "keys" / AT_REST_KEY_FILE
    if not path.is_file():
        raise RefusedError(
            f"project {project_id} has not been provisioned (no at-rest key); provision it"
        )
    return ZoneKeys(path.parent, f"project {project_id}").at_rest_key()


def connect(spill: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory connection that can write encrypted databases, spilling (encrypted) to
    ``spill``."""
    config = {"threads": "2", "preserve_insertion_order": "false"}
    if spill is not None:
        config["temp_directory"] = str(spill)
    con = duckdb.connect(config=config)
    at_rest.enable(con)
    con.execute("SET temp_file_encryption = true")
    return con


def create_workspace(path: Path, alias: str, key: bytes, *, encrypted: bool) -> None:
    """Make the project's workspace an encrypted database: a new, empty one if there is none;
    one written before decision 0008 is copied, table by table, into an encrypted file that
    takes its place. ``encrypted`` (``project.json`` says so) skips the check, so provisioning
    does not wait for a session that holds the workspace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and encrypted:
        return
    con = connect(path.parent / ".tmp-spill")
    try:
        try:  # creates it if absent; one already encrypted (a crash before project.json) stays
            at_rest.attach(con, path, alias, key, read_only=path.exists())
            con.execute(f'DETACH "{alias}"')
            return
        except at_rest.NotEncrypted:
            pass
        tmp = path.with_name(f".tmp-{path.name}")
        tmp.unlink(missing_ok=True)
        try:
            con.execute(f"ATTACH '{_text(path)}' AS plain (READ_ONLY)")
            at_rest.attach(con, tmp, alias, key)
            con.execute(f'COPY FROM DATABASE plain TO "{alias}"')
            con.execute(f'DETACH "{alias}"')
            con.execute("DETACH plain")
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, path)
        path.with_name(path.name + ".wal").unlink(missing_ok=True)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise RefusedError(
            f"workspace {path.name} is in use by a session; it is encrypted when provisioned "
            "with no session open"
        ) from None
    finally:
        con.close()
        shutil.rmtree(path.parent / ".tmp-spill", ignore_errors=True)


def _text(path: Path) -> str:
    return str(path).replace("'", "''")


def withdraw(projects_root: Path, project_id: str) -> Path | None:
    """Remove a revoked or expired project's access: its store and its PRF key are deleted (no
    pseudonym can be recomputed); its workspace is moved aside, out of every session's reach,
    for governance to decide on, and its at-rest key kept apart from it
    (``.withdrawn-keys/<id>-<stamp>/``): deleting that key later destroys the workspace and
    every copy of it (decision 0008). Returns where the workspace went."""
    folder = project_dir(projects_root, project_id)
    if not folder.is_dir():
        return None
    shutil.rmtree(folder / "store", ignore_errors=True)
    moved = None
    if (folder / "workspace").is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        name = f"{project_id}-{stamp}"
        key = folder / "keys" / AT_REST_KEY_FILE
        if key.is_file():
            kept = Path(projects_root) / WITHDRAWN_KEYS / name
            kept.mkdir(parents=True, exist_ok=True)
            os.chmod(kept.parent, 0o700)
            os.chmod(kept, 0o700)
            shutil.move(str(key), str(kept / AT_REST_KEY_FILE))
        moved = Path(projects_root) / WITHDRAWN / name
        moved.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(moved.parent, 0o700)
        shutil.move(str(folder / "workspace"), str(moved))
    shutil.rmtree(folder / "keys", ignore_errors=True)
    (folder / "project.json").unlink(missing_ok=True)
    folder.rmdir() if not any(folder.iterdir()) else None
    return moved
