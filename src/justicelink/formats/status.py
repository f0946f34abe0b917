"""Linkage status codes (``ALF_STS_CD``) and the filters research uses: one home for both.

Code, SQL, report text, docs (docs/interchange.md) and tests all read them from here. A filter is
a tuple of codes; ``status_list`` renders it once, as ``(1, 4, 39)``, which is both SQL's IN list
and the label the reports print.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class AlfStatus(IntEnum):
    """How the trusted third party linked a record to the register."""

    EXACT = 1, "NHS number, date of birth and sex agree exactly"
    NHS_PARTIAL = 4, "NHS number agrees with partial demographic agreement"
    PROBABLE = 39, "probabilistic match, p >= 0.9"
    POSSIBLE = 35, "probabilistic match, 0.5 <= p < 0.9"
    UNMATCHED = 99, "unmatched"

    meaning: str

    def __new__(cls, code: int, meaning: str) -> AlfStatus:
        member = int.__new__(cls, code)
        member._value_ = code
        member.meaning = meaning
        return member


# ALF_STS_CD -> meaning, in code order of the enum (docs/interchange.md lists the same)
ALF_STATUS: dict[int, str] = {s.value: s.meaning for s in AlfStatus}

# The recommended research filter, and the strict and loose filters of the sensitivity bands
# (plain ints, so they print and serialise as codes).
RESEARCH_FILTER: tuple[int, ...] = (
    AlfStatus.EXACT.value,
    AlfStatus.NHS_PARTIAL.value,
    AlfStatus.PROBABLE.value,
)
STRICT_FILTER: tuple[int, ...] = (AlfStatus.EXACT.value,)
LOOSE_FILTER: tuple[int, ...] = (*RESEARCH_FILTER, AlfStatus.POSSIBLE.value)


def status_list(codes: Iterable[int]) -> str:
    """A filter as text, ``(1, 4, 39)``: SQL's IN list and the label reports print alike.

    Every code must be an ``AlfStatus``, so nothing but known integers reaches SQL."""
    found = [AlfStatus(c) for c in codes]
    if not found:
        raise ValueError("a status filter needs at least one ALF_STS_CD")
    return "(" + ", ".join(str(s.value) for s in found) + ")"


def status_in(column: str, codes: Iterable[int]) -> str:
    """SQL: ``<column> IN (1, 4, 39)``."""
    return f"{column} IN {status_list(codes)}"
