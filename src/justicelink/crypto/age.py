"""age encryption (X25519 recipients) through pyrage.

Plaintext is only ever held in memory by the receiving zone: decryption returns bytes, never a
file in a shared temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import pyrage

from justicelink.formats import InputError, RefusedError


def load_recipient(key: str) -> pyrage.x25519.Recipient:
    """Accept an ``age1...`` public key, or the path of a file that holds one."""
    text = key.strip()
    if not text.startswith("age1"):
        path = Path(text)
        if not path.is_file():
            raise InputError(
                "expected an age public key (age1...) or a file holding one", file=text
            )
        text = path.read_text(encoding="ascii").strip()
    try:
        return pyrage.x25519.Recipient.from_str(text)
    except pyrage.RecipientError as exc:
        raise InputError("not a valid age X25519 public key", file=key) from exc


def encrypt_bytes(data: bytes, recipient: pyrage.x25519.Recipient) -> bytes:
    return pyrage.encrypt(data, [recipient])


def encrypt_file_to(data: bytes, path: Path, recipient: pyrage.x25519.Recipient) -> bytes:
    """Encrypt ``data`` to ``recipient``, write it to ``path`` and return the ciphertext."""
    cipher = encrypt_bytes(data, recipient)
    Path(path).write_bytes(cipher)
    return cipher


def decrypt_bytes(
    cipher: bytes, identity: pyrage.x25519.Identity, *, source: str, zone: str
) -> bytes:
    try:
        return pyrage.decrypt(cipher, [identity])
    except pyrage.DecryptError as exc:
        raise RefusedError(
            f"{source}: cannot be decrypted with the {zone} zone's key: it was encrypted for "
            "another zone, or it is damaged or tampered with"
        ) from exc
