"""Passwords (argon2id) and API tokens (scoped, expiring, revocable, stored only as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD = 12
TOKEN_PREFIX = "jl_"  # noqa: S105 - a label, not a secret
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# verified against when the user does not exist, so timing does not reveal which names exist
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"passwords must be at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token() -> tuple[str, str, str]:
    """(token id, the secret token shown once, its SHA-256 as stored)."""
    token_id = secrets.token_hex(8)
    token = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    return token_id, token, token_sha256(token)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def expiry(days: float) -> datetime:
    if not 0 < days <= 365:
        raise ValueError("tokens last between a moment and 365 days")
    return datetime.now(UTC) + timedelta(days=days)
