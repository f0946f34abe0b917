"""Which identifiers carry information in this run: the matcher adapts to the data in front of it.

A field is compared (and used in blocking) only when both sides carry it: at least
``MIN_COVERAGE`` of rows non-null on each side and more than one distinct value on each side. A
field entirely null, or constant (every record ``sex = 1``), says nothing about who is who; left
in, it would only feed EM a degenerate level. The choice, and why, is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

# the fields the probabilistic stage can compare, in the order the report lists them
FIELDS = ("nhs_number", "forename", "surname", "dob", "sex", "postcode")
MIN_COVERAGE = 0.01


@dataclass(frozen=True)
class FieldProfile:
    field: str
    records_coverage: float
    register_coverage: float
    records_distinct: int
    register_distinct: int

    @property
    def used(self) -> bool:
        return self.why_not is None

    @property
    def why_not(self) -> str | None:
        for side, cov, distinct in (
            ("records", self.records_coverage, self.records_distinct),
            ("register", self.register_coverage, self.register_distinct),
        ):
            if cov == 0:
                return f"entirely empty in the {side}"
            if cov < MIN_COVERAGE:
                return f"present on {cov:.2%} of the {side} (below {MIN_COVERAGE:.0%})"
            if distinct < 2:
                return f"one value throughout the {side}"
        return None


@dataclass(frozen=True)
class FieldChoice:
    profiles: tuple[FieldProfile, ...]

    @property
    def used(self) -> tuple[str, ...]:
        return tuple(p.field for p in self.profiles if p.used)

    def __contains__(self, field: str) -> bool:
        return field in self.used

    def notes(self) -> list[str]:
        used = ", ".join(self.used) or "none"
        out = [f"fields compared: {used}"]
        out += [f"left out {p.field}: {p.why_not}" for p in self.profiles if not p.used]
        return out


def _profile(con: duckdb.DuckDBPyConnection, rel: str) -> dict[str, tuple[float, int]]:
    parts = ", ".join(
        f"count({f}) / greatest(count(*), 1), approx_count_distinct({f})" for f in FIELDS
    )
    row = con.execute(f"SELECT {parts} FROM {rel}").fetchone()
    assert row is not None
    return {f: (float(row[2 * i]), int(row[2 * i + 1])) for i, f in enumerate(FIELDS)}


def choose_fields(con: duckdb.DuckDBPyConnection, records: str, register: str) -> FieldChoice:
    """Profile the (cleaned) records and register relations; both carry the ``FIELDS`` columns,
    with ``sex`` 1/2 or NULL (unknown)."""
    rec, reg = _profile(con, records), _profile(con, register)
    return FieldChoice(
        tuple(FieldProfile(f, rec[f][0], reg[f][0], rec[f][1], reg[f][1]) for f in FIELDS)
    )
