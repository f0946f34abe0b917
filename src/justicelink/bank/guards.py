"""The bank never holds an identifier. These guards refuse a load that would bring one in.

1. By spec: every column of a content file must be one the spec allows into the bank.
2. Defence in depth, by value: every content value is held again to its spec's bounds (type,
   length, code list or pattern, date range, no control characters: ``specs.bounds``, the
   split's own checks), and a text column holding anything that looks like a valid NHS number,
   a full UK postcode or a full date (a date of birth smuggled as text), as the whole value or
   anywhere inside it, is refused, whatever the spec says. Real dates travel only in columns the
   spec declares as dates.
"""

from __future__ import annotations

import duckdb

from justicelink.formats import RefusedError
from justicelink.specs import Column, Table, bounds
from justicelink.specs.model import system_id_column

POSTCODE_RE = "^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$"
# a full date written as text: 2010-03-14, 14/03/2010, 14.03.2010, 20100314
DATE_RE = "^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{2}[/.][0-9]{2}[/.][0-9]{4}|(19|20)[0-9]{2}[01][0-9][0-3][0-9])$"
NHS_RE = "^[0-9]{3} ?[0-9]{3} ?[0-9]{4}$"


def allowed_columns(table: Table) -> list[str]:
    cols = [system_id_column(i) for i in table.identities]
    cols += [c.out_name for c in table.columns if c.cls in ("native_key", "content", "derived")]
    return cols


def check_columns(table: Table, columns: list[str], source: str) -> None:
    identifiers = {c.name for c in table.by_class("identifier")} | {
        c.name for c in table.by_class("drop")
    }
    bad = [c for c in columns if c in identifiers]
    if bad:
        raise RefusedError(
            f"{source}: columns {bad} are identifiers or dropped columns under the spec; "
            "the bank never holds them. Load refused."
        )
    allowed = allowed_columns(table)
    unexpected = [c for c in columns if c not in allowed]
    missing = [c for c in allowed if c not in columns]
    if unexpected or missing:
        raise RefusedError(
            f"{source}: columns differ from the spec (unexpected {unexpected}, missing {missing}). "
            "Load refused."
        )


# identifier-shaped text anywhere inside a value (word-bounded), whatever the separators:
# ten or more digits in a run (an NHS number, spaced, dashed or dotted); a postcode with any
# separator; a date written with - / . or spaces, as eight digits, or with a month's name
DIGIT_RUN_RE = r"[0-9](?:[-. /]?[0-9]){9,}"
POSTCODE_ANYWHERE_RE = r"\b[A-Z]{1,2}[0-9][A-Z0-9]?[\s._/-]*[0-9][A-Z]{2}\b"
DATE_ANYWHERE_RE = (
    r"\b(19|20)[0-9]{2}[-/. ][0-9]{1,2}[-/. ][0-9]{1,2}\b"
    r"|\b[0-9]{1,2}[-/. ][0-9]{1,2}[-/. ]([0-9]{2}|[0-9]{4})\b"
    r"|\b(19|20)[0-9]{2}[01][0-9][0-3][0-9]\b"
    r"|\b[0-9]{1,2}(ST|ND|RD|TH)?[\s,.-]+(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*"
    r"[\s,.-]+(19|20)?[0-9]{2}\b"
)
SQL_TYPES = {"string": "VARCHAR", "date": "DATE", "integer": "BIGINT", "decimal": "DOUBLE"}


def _valid_nhs(x: str) -> str:
    """SQL: ``x`` (10 digits, maybe spaced) passes the NHS number's modulus-11 check."""
    d = f"replace({x}, ' ', '')"
    weighted = " + ".join(f"CAST(substr({d}, {i}, 1) AS INTEGER) * {11 - i}" for i in range(1, 10))
    check = f"(11 - (({weighted}) % 11)) % 11"
    return f"({check} <> 10 AND {check} = CAST(substr({d}, 10, 1) AS INTEGER))"


def _stored_type(col: Column) -> str:
    if col.cls == "derived":
        return "BIGINT" if col.derive == "age_years" else "DATE"
    return SQL_TYPES[col.type]


def check_values(con: duckdb.DuckDBPyConnection, relation: str, table: Table, source: str) -> None:
    """Every content value within its spec's bounds (the split's own checks, repeated), and no
    identifier-shaped text inside any string, wherever it sits."""
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE {relation}").fetchall()}
    for col in table.columns:
        if col.cls not in ("content", "derived"):
            continue
        c = f'"{col.out_name}"'
        want = _stored_type(col)
        if types.get(col.out_name) != want:
            raise RefusedError(
                f"{source}: column {col.out_name} is {types.get(col.out_name)}, the spec says "
                f"{want}. Load refused."
            )
        checks = bounds.value_checks(col, c) if col.cls == "content" else []
        if checks:
            case = " ".join(f"WHEN {pred} THEN {i}" for i, (_, pred) in enumerate(checks))
            bad, n = con.execute(
                f"SELECT min(CASE {case} END), count(*) FILTER (WHERE CASE {case} END IS NOT NULL) "
                f"FROM {relation}"
            ).fetchone()  # type: ignore[misc]
            if bad is not None:
                raise RefusedError(
                    f"{source}: column {col.out_name}: {n:,} value(s) outside the spec "
                    f"({checks[bad][0]}); the bank repeats the split's checks. Load refused."
                )
        if want == "BIGINT":  # a whole number in NHS-number range that passes its check
            digits = f"lpad(CAST({c} AS VARCHAR), 10, '0')"
            nhs_int = con.execute(
                f"SELECT count(*) FROM {relation} WHERE {c} BETWEEN 100000000 AND 9999999999 "
                f"AND {_valid_nhs(digits)}"
            ).fetchone()[0]  # type: ignore[index]
            if nhs_int:
                raise RefusedError(
                    f"{source}: column {col.out_name} holds {nhs_int:,} number(s) shaped like "
                    "NHS numbers; the bank never holds identifiers. Load refused."
                )
        if want != "VARCHAR":
            continue
        n, nhs, pc, dates = con.execute(
            f"SELECT count({c}), "
            f"count(*) FILTER (WHERE regexp_matches(trim({c}), '{NHS_RE}') "
            f"OR regexp_matches({c}, '{DIGIT_RUN_RE}')), "
            f"count(*) FILTER (WHERE regexp_matches(upper(trim({c})), '{POSTCODE_RE}') "
            f"OR regexp_matches(upper({c}), '{POSTCODE_ANYWHERE_RE}')), "
            f"count(*) FILTER (WHERE regexp_matches(trim({c}), '{DATE_RE}') "
            f"OR regexp_matches(upper({c}), '{DATE_ANYWHERE_RE}')) "
            f"FROM {relation}"
        ).fetchone()  # type: ignore[misc]
        if n and (nhs or pc or dates):
            what = (
                "NHS numbers (ten or more digits)"
                if nhs
                else "full postcodes"
                if pc
                else "full dates (a date of birth?)"
            )
            raise RefusedError(
                f"{source}: column {col.out_name} holds values that look like {what} or contain "
                "them; the bank never holds identifiers. Load refused; fix the extract or the spec."
            )
