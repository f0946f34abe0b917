"""What of a result reaches a screen: the first ``SCREEN_ROWS`` rows, each value cut at
``SCREEN_VALUE_CHARS`` characters, at most ``SCREEN_CELLS`` values and ``SCREEN_CHARS``
characters in all, and a notice saying so. The terminal is not a way out of
the platform (``workspace sql ... > file`` once wrote 561,429 record-level rows): bulk results
belong in a workspace table, and leave only through the airlock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from justicelink.workspace.limits import (
    SCREEN_CELLS,
    SCREEN_CHARS,
    SCREEN_ROWS,
    SCREEN_VALUE_CHARS,
)


@dataclass(frozen=True)
class Screen:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    total_rows: int
    values_cut: int

    @property
    def cut(self) -> bool:
        return self.total_rows > len(self.rows) or self.values_cut > 0

    def notice(self) -> str:
        parts = []
        if self.total_rows > len(self.rows):
            parts.append(f"showing {len(self.rows):,} of {self.total_rows:,} rows")
        if self.values_cut:
            parts.append(f"{self.values_cut:,} values cut at {SCREEN_VALUE_CHARS:,} characters")
        return (
            f"output cut: {'; '.join(parts)} (a screen shows at most {SCREEN_ROWS:,} rows, "
            f"{SCREEN_CELLS:,} values and {SCREEN_CHARS:,} characters). "
            "To keep a bulk result, write it to a workspace table (CREATE TABLE ... AS SELECT "
            "...); results leave the platform only through the airlock"
        )


def _shown(value: Any) -> tuple[Any, bool]:
    if value is None or isinstance(value, bool | int | float):
        return value, False
    text = value if isinstance(value, str) else (
        json.dumps(value, default=str) if isinstance(value, list | dict | tuple) else str(value)
    )  # fmt: skip
    if len(text) > SCREEN_VALUE_CHARS:
        return text[:SCREEN_VALUE_CHARS] + "…", True
    return value, False


def for_screen(table: pa.Table, rows: int = SCREEN_ROWS) -> Screen:
    """The part of ``table`` a screen shows: whole rows, as many as fit the row, value and
    character budgets."""
    columns = table.column_names
    rows = min(rows, max(1, SCREEN_CELLS // max(1, len(columns))))
    head = table.slice(0, rows)
    out: list[tuple[Any, ...]] = []
    cut = chars = 0
    for raw in zip(*(head.column(c).to_pylist() for c in columns), strict=True):
        row = []
        for v in raw:
            shown, was_cut = _shown(v)
            cut += was_cut
            chars += len(str(shown))
            row.append(shown)
        if out and chars > SCREEN_CHARS:
            break
        out.append(tuple(row))
    return Screen(list(columns), out, table.num_rows, cut)
