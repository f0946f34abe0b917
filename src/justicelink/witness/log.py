"""The witness: an append-only, signed record of the audit chain's heads, kept outside the
control plane.

After every commit that adds audit entries, the control plane hands the witness a way to read
the entries after the last head it witnessed. The witness replays them itself (each must
follow the previous hash), and only then appends the new head, signed with its own Ed25519 key,
to ``heads.jsonl``. Each line also carries the hash of the line before, so lines cannot be
dropped or reordered without breaking the signatures' chain.

So whoever can write the control database cannot rewrite history unnoticed: an edited or
deleted entry no longer matches a witnessed head, a wiped log is shorter than the witness says,
and a forged head needs the witness key. On a real deployment the witness folder belongs to
another account (or host) than the control plane's writer; its public key and its latest head
are quoted in every release, so anyone holding an old release can check the log later.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from justicelink.formats import GENESIS, AuditEntry, RefusedError, check_chain

HEADS = "heads.jsonl"
PUBLIC_KEY = "witness.pub"
SIGNING_KEY = "keys/witness-signing.key"
LOCK = ".heads.lock"


class WitnessRefused(RefusedError):
    """The audit log no longer extends what the witness has already signed."""


@dataclass(frozen=True)
class Head:
    n: int  # line number in heads.jsonl, from 1
    seq: int  # the audit entry this head is
    hash: str  # that entry's hash
    at: str
    prev: str  # SHA-256 of the previous line, or GENESIS
    sig: str  # Ed25519 over the canonical body, hex

    def body(self) -> bytes:
        return _canonical({"n": self.n, "seq": self.seq, "hash": self.hash, "at": self.at,
                           "prev": self.prev})  # fmt: skip

    def line(self) -> str:
        return json.dumps({**json.loads(self.body()), "sig": self.sig}, sort_keys=True)

    def quote(self, public_key_hex: str) -> dict[str, Any]:
        """What a release or certificate quotes: enough to check the log against later."""
        return {"seq": self.seq, "hash": self.hash, "at": self.at, "witness_line": self.n,
                "prev": self.prev, "signature": self.sig,
                "witness_public_key": public_key_hex}  # fmt: skip


def _canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _line_hash(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


class Witness:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @classmethod
    def create(cls, folder: Path) -> Witness:
        folder = Path(folder)
        (folder / "keys").mkdir(parents=True, exist_ok=True)
        os.chmod(folder / "keys", 0o700)
        key_path = folder / SIGNING_KEY
        if not key_path.exists():
            key = Ed25519PrivateKey.generate()
            raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(raw.hex() + "\n")
            pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            (folder / PUBLIC_KEY).write_text(pub.hex() + "\n", encoding="ascii")
            # the first line witnesses the empty log: the log is never legitimately empty
            w = cls(folder)
            at = datetime.now(UTC).isoformat(timespec="microseconds")
            head = Head(1, 0, GENESIS, at, GENESIS, "")
            head = Head(1, 0, GENESIS, at, GENESIS, key.sign(head.body()).hex())
            (folder / HEADS).write_text(head.line() + "\n", encoding="utf-8")
            return w
        return cls(folder)

    @classmethod
    def open(cls, folder: Path) -> Witness:
        if not (Path(folder) / PUBLIC_KEY).is_file():
            raise RefusedError(f"no audit witness at {folder}")
        return cls(folder)

    # -- keys --------------------------------------------------------------------------------
    @property
    def public_key_hex(self) -> str:
        return (self.folder / PUBLIC_KEY).read_text(encoding="ascii").strip()

    def _public_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.public_key_hex))

    def _signing_key(self) -> Ed25519PrivateKey:
        raw = (self.folder / SIGNING_KEY).read_text(encoding="ascii").strip()
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(raw))

    # -- the log -----------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _lines(self) -> list[str]:
        path = self.folder / HEADS
        if not path.is_file():
            return []
        return [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]

    def _last_line(self) -> str | None:
        path = self.folder / HEADS
        if not path.is_file():
            return None
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            chunk = 4096
            while True:
                start = max(0, size - chunk)
                fh.seek(start)
                data = fh.read(size - start)
                lines = [ln for ln in data.split(b"\n") if ln.strip()]
                if len(lines) > 1 or start == 0:
                    return lines[-1].decode("utf-8") if lines else None
                chunk *= 4

    @staticmethod
    def _parse(line: str) -> Head:
        raw = json.loads(line)
        return Head(int(raw["n"]), int(raw["seq"]), str(raw["hash"]), str(raw["at"]),
                    str(raw["prev"]), str(raw["sig"]))  # fmt: skip

    def last(self) -> Head | None:
        line = self._last_line()
        return self._parse(line) if line else None

    def observe(self, entries_after: Callable[[int], list[AuditEntry]]) -> Head:
        """Witness the entries after the last witnessed head: replay them, then sign and append
        the new head. Refuses (writing nothing) if they do not extend the witnessed chain."""
        with self._locked():
            line = self._last_line()
            if not line:
                raise WitnessRefused(
                    "the witness log is empty: it was wiped or replaced; nothing was witnessed"
                )
            last = self._parse(line)
            seq, prev_hash = last.seq, last.hash
            new = entries_after(seq)
            if not new:
                return last
            problem = check_chain(new, prev_hash, seq + 1)
            if problem:
                raise WitnessRefused(
                    f"the audit log does not extend the head the witness signed (entry {seq}): "
                    f"{problem}; nothing was witnessed"
                )
            head = Head(
                n=last.n + 1, seq=new[-1].seq, hash=new[-1].hash,
                at=datetime.now(UTC).isoformat(timespec="microseconds"),
                prev=_line_hash(line), sig="",
            )  # fmt: skip
            sig = self._signing_key().sign(head.body()).hex()
            head = Head(head.n, head.seq, head.hash, head.at, head.prev, sig)
            with open(self.folder / HEADS, "a", encoding="utf-8") as fh:
                fh.write(head.line() + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            return head

    def heads(self) -> tuple[list[Head], list[str]]:
        """Every witnessed head, and what is wrong with the witness log itself (a bad signature,
        a line out of order or missing)."""
        problems: list[str] = []
        heads: list[Head] = []
        pub = self._public_key()
        prev = GENESIS
        lines = self._lines()
        if not lines:
            problems.append("the witness log is empty: it was wiped or replaced")
        for i, line in enumerate(lines, start=1):
            try:
                h = self._parse(line)
            except (ValueError, KeyError):
                problems.append(f"witness line {i} is not a witnessed head")
                break
            if h.n != i or h.prev != prev:
                problems.append(f"witness line {i} does not follow line {i - 1}")
            try:
                pub.verify(bytes.fromhex(h.sig), h.body())
            except (InvalidSignature, ValueError):
                problems.append(f"witness line {i} is not signed by the witness key")
            if heads and h.seq < heads[-1].seq:
                problems.append(f"witness line {i} goes back in the audit log")
            heads.append(h)
            prev = _line_hash(line)
        return heads, problems


def verify_quote(quote: dict[str, Any]) -> bool:
    """Whether a quoted head (from a release or certificate) carries a valid signature of the
    witness key it names. Checking it against the log is ``control audit verify --quote``."""
    try:
        h = Head(int(quote["witness_line"]), int(quote["seq"]), str(quote["hash"]),
                 str(quote["at"]), str(quote["prev"]), str(quote["signature"]))  # fmt: skip
        pub = Ed25519PublicKey.from_public_bytes(bytes.fromhex(str(quote["witness_public_key"])))
        pub.verify(bytes.fromhex(h.sig), h.body())
    except (KeyError, ValueError, InvalidSignature):
        return False
    return True
