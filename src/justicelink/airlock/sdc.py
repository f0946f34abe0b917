"""Statistical disclosure control for the walking skeleton: the minimum cell count rule.

Checks are data: each returns pass/fail with the cells that caused it, written to
``results.json`` beside the output (ACRO-style), so checkers and tools can read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

MIN_CELL_COUNT = 10


@dataclass
class CheckResult:
    check: str
    status: str  # "pass" or "fail"
    detail: str
    cells: list[dict[str, Any]] = field(default_factory=list)


def min_cell_count(
    table: pa.Table, count_columns: list[str], threshold: int = MIN_CELL_COUNT
) -> tuple[pa.Table, CheckResult]:
    """Suppress every count with 0 < value < threshold; report which cells were suppressed."""
    for c in count_columns:
        if c not in table.column_names:
            raise ValueError(f"output has no column {c}")
    cells: list[dict[str, Any]] = []
    cols = {}
    for name in table.column_names:
        values = table.column(name).to_pylist()
        if name in count_columns:
            out = []
            for i, v in enumerate(values):
                if v is not None and 0 < v < threshold:
                    cells.append({"row": i, "column": name})
                    out.append(None)
                else:
                    out.append(v)
            cols[name] = pa.array(out, type=table.column(name).type)
        else:
            cols[name] = table.column(name)
    status = "fail" if cells else "pass"
    detail = (
        f"{len(cells)} cell(s) below the minimum count of {threshold} were suppressed"
        if cells
        else f"every count is 0 or at least {threshold}"
    )
    return pa.table(cols), CheckResult("threshold", status, detail, cells)
