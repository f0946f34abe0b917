"""The bank never holds an identifier. These guards refuse a load that would bring one in.

1. By spec: every column of a content file must be one the spec allows into the bank.
2. Defence in depth, by value: a text column whose values look like NHS numbers (10 digits with
   a valid check digit) or full UK postcodes is refused, whatever the spec says.
"""

from __future__ import annotations

import duckdb

from justicelink.formats import RefusedError
from justicelink.specs import Table
from justicelink.specs.model import system_id_column

POSTCODE_RE = "^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$"
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


def check_values(con: duckdb.DuckDBPyConnection, relation: str, table: Table, source: str) -> None:
    for col in table.columns:
        if col.cls not in ("content", "derived") or col.type != "string":
            continue
        c = f'"{col.out_name}"'
        n, nhs, pc = con.execute(
            f"SELECT count({c}), count(*) FILTER (WHERE regexp_matches(trim({c}), '{NHS_RE}')), "
            f"count(*) FILTER (WHERE regexp_matches(upper(trim({c})), '{POSTCODE_RE}')) "
            f"FROM {relation}"
        ).fetchone()  # type: ignore[misc]
        if n and (nhs or pc):
            what = "NHS numbers" if nhs else "full postcodes"
            raise RefusedError(
                f"{source}: column {col.out_name} holds values that look like {what}; "
                "the bank never holds identifiers. Load refused; fix the extract or the spec."
            )
