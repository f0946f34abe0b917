"""Where ``justicelink login`` keeps a person's sign-in token: one file per platform home in the
user's config directory (``$JUSTICELINK_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/justicelink``,
else ``~/.config/justicelink``), folder mode 0700, file mode 0600. ``JUSTICELINK_TOKEN``, when
set, is used instead of any stored token.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from justicelink.formats import RefusedError

TOKEN_ENV = "JUSTICELINK_TOKEN"  # noqa: S105 - the variable's name, not a secret


def config_dir() -> Path:
    explicit = os.environ.get("JUSTICELINK_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "justicelink"


def _path(home_id: str) -> Path:
    return config_dir() / "tokens" / f"{home_id}.json"


def save(home_id: str, home_root: Path, username: str, token: str, expires: str) -> Path:
    folder = config_dir() / "tokens"
    folder.mkdir(parents=True, exist_ok=True)
    for d in (config_dir(), folder):
        os.chmod(d, 0o700)
    path = _path(home_id)
    tmp = folder / f".tmp-{uuid.uuid4().hex}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"home": str(Path(home_root).resolve()), "user": username, "token": token,
                   "expires": expires}, fh)  # fmt: skip
    os.replace(tmp, path)
    return path


def load(home_id: str) -> tuple[str, str] | None:
    """(token, where it came from), or None when nobody is signed in to this home."""
    env = os.environ.get(TOKEN_ENV)
    if env:
        return env.strip(), TOKEN_ENV
    path = _path(home_id)
    if not path.is_file():
        return None
    if path.stat().st_mode & 0o077:
        raise RefusedError(
            f"{path} can be read by others; sign in again (`justicelink login`) to replace it"
        )
    return str(json.loads(path.read_text(encoding="utf-8"))["token"]), str(path)


def forget(home_id: str) -> bool:
    path = _path(home_id)
    if path.is_file():
        path.unlink()
        return True
    return False
