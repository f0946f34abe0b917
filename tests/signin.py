"""Signing in as a demo home's people, the way a person does: with their password."""

from __future__ import annotations

from pathlib import Path

from justicelink.platform import Platform


def password(home: Path, user: str) -> str:
    return (Path(home) / "demo-passwords" / user).read_text().strip()


def sign_in(home: Path, user: str) -> Platform:
    p, _ = Platform.login(home, user, password(home, user), label="test")
    return p


def token(home: Path, user: str, hours: float = 1.0) -> str:
    p, tok = Platform.login(home, user, password(home, user), hours=hours, label="test")
    p.close()
    return tok
