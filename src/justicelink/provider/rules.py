"""Validation and normalisation rules, as vectorised DuckDB SQL over a raw all-text table.

Each check returns the first offending row (the ``__row`` column, 1-based) so refusals can name
file, row and column. Normalisers turn provider formats into the interchange format.
"""

from __future__ import annotations

from justicelink.provider.read import MAX_FIELD_CHARS
from justicelink.specs import Column, bounds

SEX_MALE = ("M", "MALE", "1")
SEX_FEMALE = ("F", "FEMALE", "2")
SEX_UNKNOWN = ("U", "UNKNOWN", "9", "0", "I", "INDETERMINATE", "X")
POSTCODE_RE = "[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}"


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def date_expr(col: Column) -> str:
    parts = [f"try_strptime(trim({q(col.name)}), '{f}')" for f in col.formats]
    return f"CAST(coalesce({', '.join(parts)}) AS DATE)"


def typed_expr(col: Column) -> str | None:
    """The typed value of a date, integer or decimal column (NULL when it does not parse)."""
    c = q(col.name)
    if col.type == "date":
        return date_expr(col)
    if col.type == "integer":
        return f"TRY_CAST(trim({c}) AS BIGINT)"
    if col.type == "decimal":
        return f"TRY_CAST(trim({c}) AS DOUBLE)"
    return None


def checks(col: Column, typed: str | None = None) -> list[tuple[str, str]]:
    """(reason, SQL predicate true on a bad row) for one column.

    ``typed`` names an already computed typed value (see ``typed_expr``), so parsing happens once.
    Content values are then held to the spec's bounds (``specs.bounds``: the same checks the bank
    repeats at load).
    """
    c = q(col.name)
    out = [
        (
            f"field longer than {MAX_FIELD_CHARS:,} characters",
            f"strlen({c}) > {MAX_FIELD_CHARS} AND length({c}) > {MAX_FIELD_CHARS}",
        ),
    ]
    if col.required:
        out.append(("required value is missing", f"{c} IS NULL OR trim({c}) = ''"))
    if col.codes is not None and col.cls != "content":
        out.append(
            (
                f"value is not in the spec's code list ({', '.join(col.codes)})",
                f"{c} IS NOT NULL AND trim({c}) NOT IN ({_lit(col.codes)})",
            )
        )
    parsed = typed or typed_expr(col)
    if col.type == "date":
        fmts = " or ".join(col.formats)
        out.append(
            (
                f"not a valid date in the declared format ({fmts})",
                f"{c} IS NOT NULL AND trim({c}) <> '' AND {parsed} IS NULL",
            )
        )
    elif col.type == "integer":
        out.append(("not a whole number", f"{c} IS NOT NULL AND {parsed} IS NULL"))
    elif col.type == "decimal":
        out.append(("not a number", f"{c} IS NOT NULL AND {parsed} IS NULL"))
    if col.cls == "content" and col.type == "string":
        out += bounds.value_checks(col, stored_text(col))
    elif col.cls in ("content", "identifier") and col.type != "string" and parsed:
        out += bounds.value_checks(col, parsed)
    if col.role == "sex":
        allowed = SEX_MALE + SEX_FEMALE + SEX_UNKNOWN
        out.append(
            (
                "sex code not recognised (M/F/U, MALE/FEMALE/UNKNOWN, 1/2/9)",
                f"{c} IS NOT NULL AND upper(trim({c})) NOT IN ({_lit(allowed)})",
            )
        )
    return out


def stored_text(col: Column) -> str:
    """How a content string is stored: trimmed of spaces, an empty value missing."""
    return f"nullif(trim({q(col.name)}), '')"


def derived_from(col: Column, typed: dict[str, str]) -> str:
    """A derived column computed from its arguments' typed values (``typed``: column -> SQL)."""
    args = [typed[a] for a in col.args]
    if col.derive == "age_years":
        return f"date_sub('year', {args[0]}, {args[1]})"
    if col.derive == "week_of":
        return f"CAST(date_trunc('week', {args[0]}) AS DATE)"
    raise ValueError(col.derive)


def identifier_staged(col: Column, h: str) -> tuple[dict[str, str], str]:
    """(helper columns, normalised value) for an identifier, for two-level evaluation.

    Helpers are computed once in an inner projection; the normalised value refers to them by
    name, so an expensive cleaning step is never repeated per use. ``h`` prefixes helper names.
    """
    c = q(col.name)
    if col.role == "nhs_number":
        cleaned, x = q(h + "c"), q(h + "x")
        weighted = " + ".join(f"(({x} // {10 ** (10 - i)}) % 10) * {11 - i}" for i in range(1, 10))
        return (
            {
                h + "c": f"replace(replace({c}, ' ', ''), '-', '')",
                h + "x": f"TRY_CAST(replace(replace({c}, ' ', ''), '-', '') AS BIGINT)",
            },
            f"CASE WHEN regexp_full_match({cleaned}, '[0-9]{{10}}') AND "
            f"(11 - (({weighted}) % 11)) % 11 = {x} % 10 THEN {cleaned} END",
        )
    if col.role == "postcode":
        p = q(h + "c")
        return (
            {h + "c": f"upper(replace(replace({c}, ' ', ''), chr(9), ''))"},
            f"CASE WHEN regexp_full_match({p}, '{POSTCODE_RE}') THEN "
            f"substr({p}, 1, length({p}) - 3) || ' ' || right({p}, 3) END",
        )
    if col.role in ("forename", "surname"):
        up = f"strip_accents(upper({c}))"
        cleaned = (
            f"trim(regexp_replace(regexp_replace({up}, '[^A-Z ''-]', '', 'g'), '\\s+', ' ', 'g'))"
        )
        # most names are already plain capital letters: one cheap match, no rewriting
        fast = f"CASE WHEN regexp_full_match({c}, '[A-Z]+') THEN {c} ELSE {cleaned} END"
        return {h + "c": fast}, f"nullif({q(h + 'c')}, '')"
    if col.role == "sex":
        v = q(h + "c")
        return (
            {h + "c": f"upper(trim({c}))"},
            f"CASE WHEN {v} IN ({_lit(SEX_MALE)}) THEN 1 WHEN {v} IN ({_lit(SEX_FEMALE)}) THEN 2 ELSE 9 END",
        )
    raise ValueError(col.role)
