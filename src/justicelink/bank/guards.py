"""The bank never holds an identifier. These guards refuse a load that would bring one in.

1. By spec: every column of a content file must be one the spec allows into the bank.
2. Defence in depth, by value: a text column whose values look like NHS numbers, full UK
   postcodes or full dates (a date of birth smuggled as text) is refused, whatever the spec
   says. Real dates travel only in columns the spec declares as dates.
"""

from __future__ import annotations

import duckdb

from justicelink.formats import RefusedError
from justicelink.specs import Table
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


def check_values(con: duckdb.DuckDBPyConnection, relation: str, table: Table, source: str) -> None:
    for col in table.columns:
        if col.cls not in ("content", "derived") or col.type != "string":
            continue
        c = f'"{col.out_name}"'
        n, nhs, pc, dates = con.execute(
            f"SELECT count({c}), count(*) FILTER (WHERE regexp_matches(trim({c}), '{NHS_RE}')), "
            f"count(*) FILTER (WHERE regexp_matches(upper(trim({c})), '{POSTCODE_RE}')), "
            f"count(*) FILTER (WHERE regexp_matches(trim({c}), '{DATE_RE}')) "
            f"FROM {relation}"
        ).fetchone()  # type: ignore[misc]
        if n and (nhs or pc or dates):
            what = (
                "NHS numbers"
                if nhs
                else "full postcodes"
                if pc
                else "full dates (a date of birth?)"
            )
            raise RefusedError(
                f"{source}: column {col.out_name} holds values that look like {what}; "
                "the bank never holds identifiers. Load refused; fix the extract or the spec."
            )
