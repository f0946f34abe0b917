"""The bounds a spec puts on every content value, as SQL predicates (true on a bad value).

One home for them: the provider's split checks them on the raw extract, and the bank checks them
again on every load (defence in depth), so a value that could hold a row of identifiers never
passes either. Each check is ``(reason, predicate)``; reasons never quote a value.
"""

from __future__ import annotations

from datetime import date

from justicelink.specs.model import Column

# control characters, invisible formatting (zero-width, bidi overrides, BOM) and line separators
CONTROL_RE = r"[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]"
# what a spreadsheet runs as a formula, after any leading whitespace or invisible character
FORMULA_RE = r"^[\s\p{Z}\p{Cc}\p{Cf}]*([=+@]|-[^0-9.])"

REASON_CONTROL = "value holds a control or invisible formatting character (tab, line break, NUL...)"
REASON_FORMULA = (
    "value starts like a spreadsheet formula (=, +, @ or -, after any spaces); refused to "
    "protect whoever opens the file"
)


def _str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def resolve_date(bound: str | float | None) -> date | None:
    if bound is None:
        return None
    if bound == "today":
        return date.today()
    return date.fromisoformat(str(bound))


def string_checks(col: Column, v: str) -> list[tuple[str, str]]:
    """Checks of a content string; ``v`` is the SQL of the value as it would be stored.

    A code list admits only the spec's own values, so it needs no other check."""
    if col.codes is not None:
        codes = ", ".join(_str(c) for c in col.codes)
        return [
            (f"value is not in the spec's code list ({', '.join(col.codes)})",
             f"{v} NOT IN ({codes})")
        ]  # fmt: skip
    out = [
        (REASON_CONTROL, f"regexp_matches({v}, {_str(CONTROL_RE)})"),
        (REASON_FORMULA, f"regexp_matches({v}, {_str(FORMULA_RE)})"),
    ]
    if col.max_length is not None:
        out.append(
            (f"value longer than the spec allows ({col.max_length} characters)",
             f"length({v}) > {col.max_length}")
        )  # fmt: skip
    if col.regex is not None:
        out.append(
            (f"value does not have the form the spec declares (pattern {col.pattern})",
             f"NOT regexp_full_match({v}, {_str(col.regex)})")
        )  # fmt: skip
    return out


def date_checks(col: Column, d: str) -> list[tuple[str, str]]:
    """Checks of a date; ``d`` is the SQL of the typed DATE."""
    lo, hi = resolve_date(col.min), resolve_date(col.max)
    out = []
    if lo is not None:
        out.append((f"date before the earliest the spec allows ({lo})", f"{d} < DATE '{lo}'"))
    if hi is not None:
        late = "today" if col.max == "today" else str(hi)
        out.append((f"date after the latest the spec allows ({late})", f"{d} > DATE '{hi}'"))
    return out


def number_checks(col: Column, x: str) -> list[tuple[str, str]]:
    """Checks of an integer or decimal; ``x`` is the SQL of the typed number."""
    out = []
    if col.codes is not None:
        codes = ", ".join(_str(c) for c in col.codes)
        out.append(
            (f"value is not in the spec's code list ({', '.join(col.codes)})",
             f"CAST({x} AS VARCHAR) NOT IN ({codes})")
        )  # fmt: skip
    if col.type == "decimal":
        out.append(("not a finite number (inf or nan)", f"NOT isfinite({x})"))
    if col.min is not None:
        out.append((f"number below the spec's minimum ({col.min})", f"{x} < {col.min}"))
    if col.max is not None:
        out.append((f"number above the spec's maximum ({col.max})", f"{x} > {col.max}"))
    return out


def value_checks(col: Column, stored: str) -> list[tuple[str, str]]:
    """The checks for ``col``'s typed or stored value ``stored``, by its type (NULL passes)."""
    if col.type == "string":
        checks = string_checks(col, stored)
    elif col.type == "date":
        checks = date_checks(col, stored)
    else:
        checks = number_checks(col, stored)
    return [(reason, f"({stored} IS NOT NULL AND ({pred}))") for reason, pred in checks]
