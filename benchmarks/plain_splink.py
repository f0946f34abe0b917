"""A plain Splink 5 pipeline, as a user would write it from the Splink documentation.

It links the records to the register of one task folder (the generic contract of
``justicelink linkage match``, see ``linkage_tasks.py``) on exactly the fields the task
carries: a field that is entirely empty on either side is left out.

- DuckDB (``DuckDBAPI``), ``link_type="link_only"`` between the register and the records;
- comparisons: ``cl.NameComparison`` for forename and surname, ``cl.DateOfBirthComparison``
  (input as an ISO string), ``cl.PostcodeComparison`` for UK postcodes (``cl.ExactMatch`` for
  any other postcodes), ``cl.ExactMatch`` for sex and the NHS number;
- prediction blocking: the NHS number, and every pair of forename, surname, date of birth and
  postcode (``block_on``);
- training as in Splink's link-only and FEBRL 4 examples: λ by
  ``estimate_probability_two_random_records_match`` on deterministic rules (recall 0.8), u by
  ``estimate_u_using_random_sampling`` (10M pairs, seeded, as the docs recommend), m by EM on
  two blocking rules (date of birth; forename and surname);
- predict; then each record takes its best candidate by match weight if that candidate's
  match probability is at least 0.5 (one link per record).

Light standardisation only, as the Splink docs ask of their input: values trimmed, names
lower-cased, postcodes upper-cased, spaces taken out of NHS numbers, empty strings as null.

    python benchmarks/plain_splink.py --register REG.csv --records RECS.csv --out OUT.csv
"""

from __future__ import annotations

import argparse
import itertools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

FIELDS = ("nhs_number", "forename", "surname", "dob", "sex", "postcode")
UK_POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}")
THRESHOLD = 0.5
U_MAX_PAIRS = 1e7
SEED = 1


@dataclass(frozen=True)
class PlainResult:
    links: dict[str, str | None]  # system_id -> person_id (None: not linked)
    fields: tuple[str, ...]
    pairs: int  # predicted pairs at p >= THRESHOLD
    uk_postcodes: bool | None  # None when the postcode is not used


def _read(con: duckdb.DuckDBPyConnection, path: Path, id_col: str, name: str) -> None:
    reader = (
        f"read_parquet('{path}')"
        if path.suffix.lower() == ".parquet"
        else f"read_csv('{path}', header = true, all_varchar = true)"
    )
    con.execute(f"CREATE TABLE {name}_raw AS SELECT * FROM {reader}")
    have = {r[0] for r in con.execute(f"DESCRIBE {name}_raw").fetchall()}

    def col(c: str, expr: str) -> str:
        if c not in have:
            return f"CAST(NULL AS VARCHAR) AS {c}"
        return f"nullif({expr.format(f'trim(CAST({c} AS VARCHAR))')}, '') AS {c}"

    con.execute(
        f"""CREATE TABLE {name} AS SELECT CAST({id_col} AS VARCHAR) AS unique_id,
            {col("nhs_number", "replace({}, ' ', '')")},
            {col("forename", "lower({})")}, {col("surname", "lower({})")},
            {col("dob", "{}")}, {col("sex", "{}")}, {col("postcode", "upper({})")}
        FROM {name}_raw"""
    )


def _carried(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """Fields with at least one value on both sides."""
    out = []
    for f in FIELDS:
        n_reg, n_rec = con.execute(
            f"SELECT (SELECT count({f}) FROM reg), (SELECT count({f}) FROM rec)"
        ).fetchone()  # type: ignore[misc]
        if n_reg and n_rec:
            out.append(f)
    return tuple(out)


def _uk_postcodes(con: duckdb.DuckDBPyConnection) -> bool:
    """Most postcodes on both sides look like UK postcodes (outward code, space, inward code)."""
    for t in ("reg", "rec"):
        values = [r[0] for r in con.execute(f"SELECT postcode FROM {t} WHERE postcode IS NOT NULL").fetchall()]  # fmt: skip
        if sum(bool(UK_POSTCODE.fullmatch(v)) for v in values) < 0.5 * len(values):
            return False
    return True


def settings(fields: tuple[str, ...], uk_postcodes: bool) -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    comparisons: list[Any] = []
    if "forename" in fields:
        comparisons.append(cl.NameComparison("forename"))
    if "surname" in fields:
        comparisons.append(cl.NameComparison("surname"))
    if "dob" in fields:
        comparisons.append(
            cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y-%m-%d")
        )
    if "postcode" in fields:
        comparisons.append(
            cl.PostcodeComparison("postcode") if uk_postcodes else cl.ExactMatch("postcode")
        )
    if "sex" in fields:
        comparisons.append(cl.ExactMatch("sex"))
    if "nhs_number" in fields:
        comparisons.append(cl.ExactMatch("nhs_number"))
    rules: list[Any] = [block_on("nhs_number")] if "nhs_number" in fields else []
    blockable = [f for f in ("forename", "surname", "dob", "postcode") if f in fields]
    rules += [block_on(a, b) for a, b in itertools.combinations(blockable, 2)]
    if not rules:
        rules = [block_on(f) for f in blockable]
    return SettingsCreator(
        link_type="link_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
    )


def link(register: Path, records: Path) -> PlainResult:
    """Train and predict with plain Splink; one link per record (best candidate, p >= 0.5)."""
    from splink import DuckDBAPI, Linker, block_on

    con = duckdb.connect()
    _read(con, Path(register), "person_id", "reg")
    _read(con, Path(records), "system_id", "rec")
    fields = _carried(con)
    if not fields:
        raise ValueError("no field carries data on both sides")
    uk = _uk_postcodes(con) if "postcode" in fields else None
    keep = ", ".join(("unique_id", *fields))
    reg_df = con.sql(f"SELECT {keep} FROM reg").to_arrow_table()
    rec_df = con.sql(f"SELECT {keep} FROM rec").to_arrow_table()

    db_api = DuckDBAPI()
    reg_sdf = db_api.register(reg_df, dataset_display_name="register")
    rec_sdf = db_api.register(rec_df, dataset_display_name="records")
    linker = Linker([reg_sdf, rec_sdf], settings(fields, bool(uk)), log_level=logging.WARNING)

    deterministic: list[Any] = []
    if "nhs_number" in fields:
        deterministic.append(block_on("nhs_number"))
    names_dob = [f for f in ("forename", "surname", "dob") if f in fields]
    if names_dob:
        deterministic.append(block_on(*names_dob))
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=SEED)
    em_rules = [
        cols
        for cols in (("dob",), ("forename", "surname"), ("postcode",), ("surname",), ("forename",))
        if all(c in fields for c in cols)
    ][:2]
    for cols in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*cols), estimate_without_term_frequencies=True
        )

    # keeping only pairs at p >= 0.5 and then the best per record is the same as taking each
    # record's best candidate and linking it if p >= 0.5
    pred = linker.inference.predict(threshold_match_probability=THRESHOLD)
    scored = pred.as_duckdbpyrelation().select(
        "unique_id_l, unique_id_r, source_dataset_l, match_weight"
    )
    con.register("scored", scored.to_arrow_table())
    best = con.sql(
        """
        SELECT rec_id, reg_id, pairs FROM (
            SELECT CASE WHEN source_dataset_l = 'records' THEN unique_id_l ELSE unique_id_r END AS rec_id,
                   CASE WHEN source_dataset_l = 'records' THEN unique_id_r ELSE unique_id_l END AS reg_id,
                   count(*) OVER () AS pairs,
                   row_number() OVER (
                       PARTITION BY CASE WHEN source_dataset_l = 'records' THEN unique_id_l ELSE unique_id_r END
                       ORDER BY match_weight DESC,
                                CASE WHEN source_dataset_l = 'records' THEN unique_id_r ELSE unique_id_l END
                   ) AS k
            FROM scored
        ) WHERE k = 1
        """
    ).fetchall()
    chosen = {str(r): str(p) for r, p, _ in best}
    n_pairs = int(best[0][2]) if best else 0
    ids = [r[0] for r in con.execute("SELECT unique_id FROM rec ORDER BY unique_id").fetchall()]
    con.close()
    return PlainResult({i: chosen.get(i) for i in ids}, fields, n_pairs, uk)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--register", type=Path, required=True)
    ap.add_argument("--records", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True, help="CSV: system_id, person_id")
    a = ap.parse_args()
    res = link(a.register, a.records)
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pa.table(
        {
            "system_id": pa.array(list(res.links), pa.string()),
            "person_id": pa.array(list(res.links.values()), pa.string()),
        }
    )
    pacsv.write_csv(table, a.out, pacsv.WriteOptions(quoting_style="needed"))
    print(
        f"plain Splink: fields {', '.join(res.fields)}; postcodes "
        f"{'n/a' if res.uk_postcodes is None else 'UK' if res.uk_postcodes else 'not UK (exact match)'}; "
        f"{res.pairs:,} pairs at p >= {THRESHOLD}; "
        f"{sum(v is not None for v in res.links.values()):,} of {len(res.links):,} records linked"
    )  # fmt: skip


if __name__ == "__main__":
    main()
