"""Validation and normalisation rules, as vectorised DuckDB SQL over a raw all-text table.

Each check returns the first offending row (the ``__row`` column, 1-based) so refusals can name
file, row and column. Normalisers turn provider formats into the interchange format.
"""

from __future__ import annotations

from justicelink.provider.read import MAX_FIELD_CHARS
from justicelink.specs import Column

SEX_MALE = ("M", "MALE", "1")
SEX_FEMALE = ("F", "FEMALE", "2")
SEX_UNKNOWN = ("U", "UNKNOWN", "9", "0", "I", "INDETERMINATE", "X")
POSTCODE_RE = "[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}"
FORMULA_RE = "^([=+@\t\r]|-[^0-9.])"


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def date_expr(col: Column) -> str:
    parts = [f"try_strptime(trim({q(col.name)}), '{f}')" for f in col.formats]
    return f"CAST(coalesce({', '.join(parts)}) AS DATE)"


def checks(col: Column) -> list[tuple[str, str]]:
    """(reason, SQL predicate true on a bad row) for one column."""
    c = q(col.name)
    out = [
        (f"field longer than {MAX_FIELD_CHARS:,} characters", f"length({c}) > {MAX_FIELD_CHARS}"),
        (
            "value starts like a spreadsheet formula (=, +, @, - or a control character); "
            "refused to protect whoever opens the file",
            f"regexp_matches({c}, '{FORMULA_RE}')",
        ),
    ]
    if col.required:
        out.append(("required value is missing", f"{c} IS NULL OR trim({c}) = ''"))
    if col.codes is not None:
        out.append(
            (
                f"value is not in the spec's code list ({', '.join(col.codes)})",
                f"{c} IS NOT NULL AND trim({c}) NOT IN ({_lit(col.codes)})",
            )
        )
    if col.type == "date":
        fmts = " or ".join(col.formats)
        out.append(
            (
                f"not a valid date in the declared format ({fmts})",
                f"{c} IS NOT NULL AND trim({c}) <> '' AND {date_expr(col)} IS NULL",
            )
        )
    elif col.type == "integer":
        out.append(
            ("not a whole number", f"{c} IS NOT NULL AND TRY_CAST(trim({c}) AS BIGINT) IS NULL")
        )
    elif col.type == "decimal":
        out.append(("not a number", f"{c} IS NOT NULL AND TRY_CAST(trim({c}) AS DOUBLE) IS NULL"))
    if col.role == "sex":
        allowed = SEX_MALE + SEX_FEMALE + SEX_UNKNOWN
        out.append(
            (
                "sex code not recognised (M/F/U, MALE/FEMALE/UNKNOWN, 1/2/9)",
                f"{c} IS NOT NULL AND upper(trim({c})) NOT IN ({_lit(allowed)})",
            )
        )
    return out


def nhs_expr(col: Column) -> tuple[str, str]:
    """(normalised NHS number or NULL, predicate 'present but invalid')."""
    n = f"regexp_replace({q(col.name)}, '[\\s-]', '', 'g')"
    weighted = " + ".join(f"CAST(substr({n}, {i}, 1) AS INTEGER) * {11 - i}" for i in range(1, 10))
    valid = (
        f"(regexp_full_match({n}, '[0-9]{{10}}') AND "
        f"(11 - (({weighted}) % 11)) % 11 = CAST(substr({n}, 10, 1) AS INTEGER))"
    )
    return (
        f"CASE WHEN {q(col.name)} IS NULL THEN NULL WHEN {valid} THEN {n} ELSE NULL END",
        f"{q(col.name)} IS NOT NULL AND NOT coalesce({valid}, false)",
    )


def postcode_expr(col: Column) -> tuple[str, str]:
    p = f"upper(regexp_replace({q(col.name)}, '\\s', '', 'g'))"
    valid = f"regexp_full_match({p}, '{POSTCODE_RE}')"
    norm = f"substr({p}, 1, length({p}) - 3) || ' ' || right({p}, 3)"
    return (
        f"CASE WHEN {valid} THEN {norm} ELSE NULL END",
        f"{q(col.name)} IS NOT NULL AND NOT coalesce({valid}, false)",
    )


def name_expr(col: Column) -> tuple[str, str]:
    up = f"strip_accents(upper({q(col.name)}))"
    cleaned = f"trim(regexp_replace(regexp_replace({up}, '[^A-Z ''-]', '', 'g'), '\\s+', ' ', 'g'))"
    return (
        f"nullif({cleaned}, '')",
        f"{q(col.name)} IS NOT NULL AND nullif({cleaned}, '') IS NULL",
    )


def sex_expr(col: Column) -> tuple[str, str]:
    v = f"upper(trim({q(col.name)}))"
    return (
        f"CASE WHEN {v} IN ({_lit(SEX_MALE)}) THEN 1 WHEN {v} IN ({_lit(SEX_FEMALE)}) THEN 2 "
        "ELSE 9 END",
        "false",
    )


def identifier_expr(col: Column) -> tuple[str, str]:
    if col.role == "nhs_number":
        return nhs_expr(col)
    if col.role == "postcode":
        return postcode_expr(col)
    if col.role in ("forename", "surname"):
        return name_expr(col)
    if col.role == "sex":
        return sex_expr(col)
    if col.role == "dob":
        return date_expr(col), "false"
    raise ValueError(col.role)


def content_expr(col: Column) -> str:
    c = q(col.name)
    if col.type == "date":
        return date_expr(col)
    if col.type == "integer":
        return f"TRY_CAST(trim({c}) AS BIGINT)"
    if col.type == "decimal":
        return f"TRY_CAST(trim({c}) AS DOUBLE)"
    return f"nullif(trim({c}), '')"


def derived_expr(col: Column, table_cols: dict[str, Column]) -> str:
    args = [table_cols[a] for a in col.args]
    as_dates = [date_expr(a) if a.type == "date" else q(a.name) for a in args]
    if col.derive == "age_years":
        return f"date_sub('year', {as_dates[0]}, {as_dates[1]})"
    if col.derive == "week_of":
        return f"CAST(date_trunc('week', {as_dates[0]}) AS DATE)"
    raise ValueError(col.derive)
