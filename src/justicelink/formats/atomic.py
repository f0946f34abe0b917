"""Atomic publication: build in a hidden sibling folder, rename into place only when complete.

A failure (or SIGKILL) at any point leaves either nothing or the previous complete version, never
a half-written one. Readers must ignore names starting with ``.tmp-``.

A temporary folder is *held* while it is in use: a sibling ``<name>.lock`` file carries an
exclusive ``flock`` for the life of the process that made it. The kernel drops the lock when that
process dies, however it dies (kill -9 included), so ``sweep_stale`` can tell an abandoned
folder from one another process is still writing, and removes only the abandoned ones.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TMP_PREFIX = ".tmp-"
LOCK_SUFFIX = ".lock"
# every file and folder the platform makes is its owner's alone (rw------- / rwx------)
PRIVATE_UMASK = 0o077


def private_files() -> None:
    """Make this process create owner-only files: called by every entry point (the CLI, and
    opening or creating a platform home), before anything is written."""
    os.umask(PRIVATE_UMASK)


# an unheld temporary left by an older version, or by a crash before its lock existed
UNHELD_STALE_AFTER_S = 3600.0


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def held_tmpdir(parent: Path, label: str) -> Iterator[Path]:
    """A private temporary folder ``parent/.tmp-<label>-<id>`` (mode 0700), held by a lock
    until the block ends, then removed."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f"{TMP_PREFIX}{label}-{uuid.uuid4().hex[:8]}"
    lock = tmp.with_name(tmp.name + LOCK_SUFFIX)
    fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        tmp.mkdir(mode=0o700)
        try:
            yield tmp
        finally:
            _remove(tmp)
    finally:
        lock.unlink(missing_ok=True)
        os.close(fd)


def sweep_stale(parent: Path, *, unheld: bool = False) -> list[str]:
    """Remove the temporaries under ``parent`` whose process has died; returns their names.

    A temporary with a ``.lock`` sibling is removed only if that lock can be taken (nobody holds
    it). With ``unheld=True`` (a folder only this platform writes to), a temporary without a lock
    is removed too once it is an hour old."""
    parent = Path(parent)
    if not parent.is_dir():
        return []
    removed = []
    for entry in sorted(parent.iterdir()):
        name = entry.name
        if not name.startswith(TMP_PREFIX) or name.endswith(LOCK_SUFFIX):
            continue
        lock = entry.with_name(name + LOCK_SUFFIX)
        if lock.exists():
            try:
                fd = os.open(lock, os.O_RDONLY)
            except FileNotFoundError:  # its owner finished just now
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue  # in use
            _remove(entry)
            lock.unlink(missing_ok=True)
            os.close(fd)
            removed.append(name)
        elif unheld:
            try:
                age = time.time() - entry.lstat().st_mtime
            except FileNotFoundError:
                continue
            if age > UNHELD_STALE_AFTER_S:
                _remove(entry)
                removed.append(name)
    for entry in parent.iterdir():  # locks whose folder is already gone
        if entry.name.startswith(TMP_PREFIX) and entry.name.endswith(LOCK_SUFFIX):
            partner = entry.with_name(entry.name[: -len(LOCK_SUFFIX)])
            if not partner.exists():
                try:
                    fd = os.open(entry, os.O_RDONLY)
                except FileNotFoundError:
                    continue
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    entry.unlink(missing_ok=True)
                except BlockingIOError:
                    pass
                finally:
                    os.close(fd)
    return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_dir(final: Path, *, replace: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``final``; rename it to ``final`` on success.

    With ``replace=False`` an existing ``final`` is an error (nothing is overwritten).
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists() and not replace:
        raise FileExistsError(f"{final} already exists; refusing to overwrite it")
    tmp = final.parent / f"{TMP_PREFIX}{final.name}-{uuid.uuid4().hex[:8]}"
    lock = tmp.with_name(tmp.name + LOCK_SUFFIX)
    fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    tmp.mkdir()
    try:
        yield tmp
        if final.exists():
            old = final.parent / f"{TMP_PREFIX}old-{final.name}-{uuid.uuid4().hex[:8]}"
            final.rename(old)
            tmp.rename(final)
            shutil.rmtree(old)
        else:
            tmp.rename(final)
        _fsync_dir(final.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        lock.unlink(missing_ok=True)
        os.close(fd)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f"{TMP_PREFIX}{path.name}-{uuid.uuid4().hex[:8]}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True, default=str)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
