"""Key material of one zone, kept in that zone's own ``keys/`` folder and nowhere else.

A zone has an age identity (to receive files) and, where it pseudonymises, a 256-bit PRF key.
Secret files are created with mode 0600.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import pyrage

from justicelink.formats import RefusedError

IDENTITY_FILE = "age-identity.txt"
RECIPIENT_FILE = "age-recipient.txt"
PRF_KEY_FILE = "prf.key"
AT_REST_KEY_FILE = "at-rest.key"  # DuckDB encryption of the zone's files (crypto.at_rest)


def _write_secret(path: Path, text: str) -> None:
    """Write a secret once, whole or not at all: a crash never leaves an empty key file (a lost
    at-rest key is lost data), and an existing key is never replaced (``FileExistsError``)."""
    tmp = path.with_name(f".tmp-{path.name}-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(text + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class ZoneKeys:
    """Handle on a zone's key folder. Creating it generates fresh keys once."""

    folder: Path
    zone: str

    @classmethod
    def create(cls, zone_dir: Path, zone: str, *, prf: bool = True) -> ZoneKeys:
        folder = Path(zone_dir) / "keys"
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        if not (folder / IDENTITY_FILE).exists():
            ident = pyrage.x25519.Identity.generate()
            _write_secret(folder / IDENTITY_FILE, str(ident))
            (folder / RECIPIENT_FILE).write_text(str(ident.to_public()) + "\n", encoding="ascii")
        if prf and not (folder / PRF_KEY_FILE).exists():
            _write_secret(folder / PRF_KEY_FILE, secrets.token_hex(32))
        return cls(folder=folder, zone=zone)

    @classmethod
    def open(cls, zone_dir: Path, zone: str) -> ZoneKeys:
        folder = Path(zone_dir) / "keys"
        if not (folder / IDENTITY_FILE).exists():
            raise RefusedError(
                f"the {zone} zone has no keys at {folder}; create them first "
                f"(e.g. `justicelink {zone} init --home DIR`)"
            )
        return cls(folder=folder, zone=zone)

    @property
    def recipient(self) -> str:
        return (self.folder / RECIPIENT_FILE).read_text(encoding="ascii").strip()

    def identity(self) -> pyrage.x25519.Identity:
        return pyrage.x25519.Identity.from_str(
            (self.folder / IDENTITY_FILE).read_text(encoding="ascii").strip()
        )

    def prf_key(self) -> bytes:
        path = self.folder / PRF_KEY_FILE
        if not path.exists():
            raise RefusedError(f"the {self.zone} zone has no PRF key at {path}")
        return bytes.fromhex(path.read_text(encoding="ascii").strip())

    def at_rest_key(self, *, create: bool = False) -> bytes:
        """The 256-bit key the zone's files are encrypted under at rest (``crypto.at_rest``).

        ``create`` makes it on first use (by the code that writes the zone's files)."""
        path = self.folder / AT_REST_KEY_FILE
        if not path.exists():
            if not create:
                raise RefusedError(f"the {self.zone} zone has no at-rest key at {path}")
            _write_secret(path, secrets.token_hex(32))
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
