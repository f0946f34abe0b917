"""The submission manifest: what a zone receives and how it checks it arrived whole."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from justicelink.formats.errors import InputError


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class FileEntry:
    """One file of a submission: its name in the folder, table, row count and checksums."""

    name: str
    table: str
    rows: int
    columns: list[str]
    sha256_plain: str
    sha256_cipher: str


@dataclass(frozen=True)
class Manifest:
    """Describes one submission folder for one recipient zone."""

    format: str
    kind: str  # "identifiers", "content" or "alf"
    dataset: str
    submission_id: str
    recipient_zone: str
    created: str
    provider: str
    spec_name: str
    spec_version: str
    spec_hash: str
    files: list[FileEntry]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes, *, source: str) -> Manifest:
        try:
            raw = json.loads(data.decode("utf-8"))
            files = [FileEntry(**f) for f in raw.pop("files")]
            return cls(files=files, **raw)
        except (ValueError, TypeError, KeyError) as exc:
            raise InputError(
                f"not a valid manifest ({exc.__class__.__name__})", file=source
            ) from exc

    def entry(self, name: str) -> FileEntry:
        for f in self.files:
            if f.name == name:
                return f
        raise InputError(f"manifest lists no file named {name}", file="manifest")
