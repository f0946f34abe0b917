"""Differencing: does a new table, set beside a table already released from the same project,
reveal a cell below the threshold?

Two tables with the same row and column labels are compared cell by cell, and their row and
column totals likewise. A difference between 1 and threshold - 1 means the two releases
together disclose a small group (e.g. a released total and a new total that leaves out one
small local authority). Such cells are named, and the output goes to manual review.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finding:
    output: str
    released: str
    where: str
    difference: float

    def describe(self) -> str:
        return (
            f"{self.output} vs released {self.released}: {self.where} differs by "
            f"{self.difference:g}, which would disclose a group smaller than the threshold"
        )


def _read(path: Path) -> dict[str, dict[str, float]] | None:
    """A CSV table as {row label: {column label: number}}; None if it is not numeric."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if len(rows) < 2:
        return None
    header = rows[0]
    table: dict[str, dict[str, float]] = {}
    for r in rows[1:]:
        if not r:
            continue
        values = {}
        for col, cell in zip(header[1:], r[1:], strict=False):
            try:
                values[col] = float(cell)
            except ValueError:
                continue
        if values:
            table[r[0]] = values
    return table or None


def _margins(t: dict[str, dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for row, cols in t.items():
        out[f"row {row} total"] = sum(cols.values())
        for col, v in cols.items():
            out[f"column {col} total"] = out.get(f"column {col} total", 0.0) + v
    return out


def compare(new: Path, released: Path, threshold: int) -> list[Finding]:
    a, b = _read(new), _read(released)
    if a is None or b is None:
        return []
    findings = []
    for row in a.keys() & b.keys():
        for col in a[row].keys() & b[row].keys():
            d = abs(a[row][col] - b[row][col])
            if 0 < d < threshold:
                findings.append(Finding(new.name, released.name, f"cell ({row}, {col})", d))
    ma, mb = _margins(a), _margins(b)
    for key in ma.keys() & mb.keys():
        d = abs(ma[key] - mb[key])
        if 0 < d < threshold:
            findings.append(Finding(new.name, released.name, key, d))
    return findings


def against_released(
    outputs: list[Path], released_root: Path, project_id: str, threshold: int
) -> list[Finding]:
    """Compare every new CSV output with every CSV the project has had released."""
    released = sorted(p for p in Path(released_root).glob(f"{project_id}-*/**/*.csv"))
    return [f for new in outputs for old in released for f in compare(new, old, threshold)]
