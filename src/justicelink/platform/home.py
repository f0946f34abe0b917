"""A platform home: one folder per zone, made once by ``justicelink init``.

A folder is a home only if it holds the marker written by ``init`` (with the home's id) and a
control plane; every other command refuses anything else, so a mistyped ``--home`` never makes
a new, empty platform.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from justicelink.crypto import ZoneKeys
from justicelink.formats import RefusedError, private_files

MARKER = ".justicelink-home"
HOME_FORMAT = "justicelink.home/1"


@dataclass(frozen=True)
class Home:
    root: Path

    @property
    def provider(self) -> Path:
        return self.root / "provider"

    @property
    def linkage(self) -> Path:
        return self.root / "linkage"

    @property
    def bank(self) -> Path:
        return self.root / "bank"

    @property
    def control(self) -> Path:
        return self.root / "control"

    @property
    def witness(self) -> Path:
        return self.root / "witness"

    @property
    def projects(self) -> Path:
        return self.root / "projects"

    @property
    def airlock(self) -> Path:
        return self.root / "airlock"

    @property
    def truth(self) -> Path:
        return self.root / "truth"

    @property
    def marker(self) -> Path:
        return self.root / MARKER

    @property
    def home_id(self) -> str:
        return str(self._marker()["home_id"])

    def _marker(self) -> dict:
        try:
            marker = json.loads(self.marker.read_text())
        except (OSError, ValueError):
            return {}
        ok = isinstance(marker, dict) and isinstance(marker.get("home_id"), str)
        return marker if ok and re.fullmatch(r"[0-9a-f]{32}", marker["home_id"]) else {}

    @classmethod
    def create(cls, root: Path) -> Home:
        """Make the folders and zone keys of a new home (``Platform.init`` does the rest)."""
        private_files()
        home = cls(Path(root))
        if home.root.exists() and any(home.root.iterdir()):
            raise RefusedError(
                f"{home.root} is not empty; a new platform home needs an empty folder"
            )
        home.root.mkdir(parents=True, exist_ok=True)
        os.chmod(home.root, 0o700)
        ZoneKeys.create(home.provider, "provider")
        ZoneKeys.create(home.linkage, "linkage")
        ZoneKeys.create(home.bank, "bank")
        for d in (home.control, home.projects, home.airlock):
            d.mkdir(parents=True, exist_ok=True)
        return home

    def write_marker(self) -> None:
        """Written last by ``init``: until it exists the folder is not a home."""
        body = {"format": HOME_FORMAT, "home_id": uuid.uuid4().hex,
                "created": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
        tmp = self.marker.with_name(f".tmp{MARKER}")
        tmp.write_text(json.dumps(body, indent=2) + "\n")
        tmp.replace(self.marker)

    @classmethod
    def open(cls, root: Path) -> Home:
        private_files()
        home = cls(Path(root))
        if not home.is_home():
            raise RefusedError(
                f"{home.root} is not a justicelink platform home; make one with "
                "`justicelink init --home DIR --admin NAME`, or pass the --home of an existing one"
            )
        return home

    def is_home(self) -> bool:
        marker = self._marker()
        return marker.get("format") == HOME_FORMAT and (self.witness / "witness.pub").is_file()
