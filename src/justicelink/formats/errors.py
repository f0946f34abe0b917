"""Errors that teach: every refusal names what, where and why, and never echoes a data value."""

from __future__ import annotations


class JusticelinkError(Exception):
    """Base class for every refusal the platform makes on purpose."""


class InputError(JusticelinkError):
    """Bad input, located as precisely as we can: file, row (1-based, header excluded), column."""

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.reason = reason
        self.file = file
        self.row = row
        self.column = column
        where = []
        if file is not None:
            where.append(f"file {file}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {reason}" if prefix else reason)


class RefusedError(JusticelinkError):
    """A request that the rules forbid (wrong key, wrong role, unapproved project, ...)."""
