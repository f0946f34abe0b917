"""The generic matching contract (``justicelink linkage match``), also used by the benchmarks.

REG (CSV or Parquet): person_id, nhs_number, forename, surname, previous_surname, dob, sex,
postcode. RECS: system_id, nhs_number, forename, surname, dob, sex, postcode. Any value may be
null and any column may be entirely null; extra columns are ignored. OUT (Parquet, or CSV by
extension): system_id, person_id, alf_sts_cd, alf_mtch_pct, match_weight, plus ``reason``.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from justicelink.crypto import at_rest
from justicelink.formats import MATCH_COLUMNS, InputError, held_tmpdir, sweep_stale
from justicelink.linkage.cascade import run_cascade
from justicelink.linkage.probabilistic import save_model

REG_COLUMNS = (
    "person_id",
    "nhs_number",
    "forename",
    "surname",
    "previous_surname",
    "dob",
    "sex",
    "postcode",
)


@dataclass(frozen=True)
class MatchResult:
    out: Path
    counts: dict[int, int]
    model: dict[str, Any] | None
    pairs: int
    notes: tuple[str, ...] = ()  # fields compared and left out, blocking, posterior


def _reader(path: Path) -> str:
    if path.suffix.lower() == ".parquet":
        return f"read_parquet('{path}')"
    return f"read_csv('{path}', header = true, all_varchar = true)"


def _load(con: duckdb.DuckDBPyConnection, path: Path, name: str, needed: tuple[str, ...]) -> None:
    if not path.is_file():
        raise InputError("no such file", file=str(path))
    try:
        # ids are kept exactly as given (text stays text: DuckDB would read '0_2' as the number
        # 2); matching works on internal row numbers (__iid), mapped back in the output
        con.execute(
            f"CREATE TEMP TABLE {name}_raw AS "
            f"SELECT *, row_number() OVER () AS __iid FROM {_reader(path)}"
        )
    except duckdb.Error:
        raise InputError(
            f"cannot read the file as {'Parquet' if path.suffix.lower() == '.parquet' else 'CSV'} (damaged, or not that format)",
            file=str(path),
        ) from None
    cols = [r[0] for r in con.execute(f"DESCRIBE {name}_raw").fetchall()]
    missing = [c for c in needed if c not in cols]
    if missing:
        raise InputError(f"missing columns {missing}", file=str(path))
    if con.execute(f"SELECT count(*) FROM {name}_raw").fetchone()[0] == 0:  # type: ignore[index]
        raise InputError("the file has no rows", file=str(path))


def _clean_sql(name: str, id_col: str, has_prev: bool) -> str:
    """Normalise like the provider split does, so the contract accepts lightly cleaned input."""

    def name_expr(c: str) -> str:
        return f"nullif(trim(regexp_replace(strip_accents(upper(CAST({c} AS VARCHAR))), '[^A-Z ''-]', '', 'g')), '')"

    nhs = "nullif(regexp_replace(CAST(nhs_number AS VARCHAR), '[^0-9]', '', 'g'), '')"
    pc = "upper(replace(CAST(postcode AS VARCHAR), ' ', ''))"
    prev = f"{name_expr('previous_surname')} AS previous_surname," if has_prev else ""
    return f"""
        SELECT __iid AS {id_col},
            CASE WHEN length({nhs}) = 10 THEN {nhs} END AS nhs_number,
            {name_expr("forename")} AS forename,
            {name_expr("surname")} AS surname,
            {prev}
            TRY_CAST(dob AS DATE) AS dob,
            CASE upper(trim(CAST(sex AS VARCHAR))) WHEN '1' THEN 1 WHEN 'M' THEN 1 WHEN 'MALE' THEN 1
                WHEN '2' THEN 2 WHEN 'F' THEN 2 WHEN 'FEMALE' THEN 2 ELSE 9 END AS sex,
            CASE WHEN regexp_full_match({pc}, '[A-Z]{{1,2}}[0-9][A-Z0-9]?[0-9][A-Z]{{2}}')
                 THEN substr({pc}, 1, length({pc}) - 3) || ' ' || right({pc}, 3)
                 -- a postcode of another country is kept as given (letters and digits)
                 WHEN regexp_full_match({pc}, '[A-Z0-9-]{{3,10}}') THEN {pc} END AS postcode
        FROM {name}_raw"""


def _check(con: duckdb.DuckDBPyConnection, name: str, id_col: str, path: Path) -> None:
    n, ids, nulls = con.execute(
        f"SELECT count(*), count(DISTINCT {id_col}), count(*) - count({id_col}) FROM {name}_raw"
    ).fetchone()  # type: ignore[misc]
    if nulls:
        raise InputError(f"{nulls} row(s) without {id_col}", file=str(path), column=id_col)
    if ids != n:
        raise InputError(f"{n - ids} duplicate {id_col} value(s)", file=str(path), column=id_col)
    bad_dob = con.execute(
        f"SELECT count(*) FROM {name}_raw WHERE dob IS NOT NULL AND TRY_CAST(dob AS DATE) IS NULL"
    ).fetchone()[0]  # type: ignore[index]
    if bad_dob:
        row = con.execute(
            f"SELECT rn FROM (SELECT row_number() OVER () AS rn, dob FROM {name}_raw) "
            "WHERE dob IS NOT NULL AND TRY_CAST(dob AS DATE) IS NULL LIMIT 1"
        ).fetchone()[0]  # type: ignore[index]
        raise InputError(
            f"unparseable date of birth ({bad_dob} row(s))",
            file=str(path),
            row=int(row),
            column="dob",
        )


def match_files(
    register: Path, records: Path, out: Path, *, model_path: Path | None = None, probabilistic: bool = True,
    deterministic: bool = True, memory_limit: str = "3GB", report: Path | None = None,
    truth: Path | None = None,
) -> MatchResult:  # fmt: skip
    register, records, out = Path(register), Path(records), Path(out)
    sweep_stale(out.parent)  # spills of runs that were killed
    held = contextlib.ExitStack()
    spill = held.enter_context(held_tmpdir(out.parent, "match"))
    con = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": str(spill)})
    at_rest.enable(con)  # identifiers that spill are encrypted (an ephemeral key per run)
    con.execute("SET temp_file_encryption = true")
    try:
        _load(con, register, "reg", ("person_id",))
        _load(con, records, "rec", ("system_id",))
        for name, cols, path in (("reg", REG_COLUMNS, register), ("rec", MATCH_COLUMNS, records)):
            have = [r[0] for r in con.execute(f"DESCRIBE {name}_raw").fetchall()]
            for c in cols:  # a column may be absent or entirely null: add it as nulls
                if c not in have:
                    con.execute(f"ALTER TABLE {name}_raw ADD COLUMN {c} VARCHAR")
            id_col = "person_id" if name == "reg" else "system_id"
            _check(con, name, id_col, path)
            con.execute(f"CREATE TEMP TABLE {name} AS {_clean_sql(name, id_col, name == 'reg')}")
        usable = con.execute(
            "SELECT count(*) FROM rec WHERE nhs_number IS NOT NULL OR forename IS NOT NULL OR surname IS NOT NULL OR dob IS NOT NULL"
        ).fetchone()[0]  # type: ignore[index]
        if usable == 0:
            raise InputError(
                "no record has any usable identifier (NHS number, name or date of birth)",
                file=str(records),
            )
        result = run_cascade(
            con,
            "rec",
            "reg",
            register_sql="SELECT * FROM reg",
            probabilistic=probabilistic,
            deterministic=deterministic,
        )
        fmt = "(FORMAT csv, HEADER true)" if out.suffix.lower() == ".csv" else "(FORMAT parquet)"
        tmp = spill / out.name
        con.execute(
            "COPY (SELECT r.system_id, g.person_id, m.alf_sts_cd, m.alf_mtch_pct, m.match_weight, "
            "m.reason FROM matched m JOIN rec_raw r ON r.__iid = m.system_id "
            "LEFT JOIN reg_raw g ON g.__iid = m.person_id ORDER BY m.system_id) "
            f"TO '{tmp}' {fmt}"
        )
        os.replace(tmp, out)
        if model_path is not None and result.model is not None:
            save_model(result.model, model_path)
        if report is not None:
            truth_rel = None
            if truth is not None:
                _load(con, Path(truth), "truth", ("system_id", "person_id"))
                con.execute(
                    "CREATE TEMP TABLE truth AS SELECT r.__iid AS system_id, g.__iid AS person_id "
                    "FROM truth_raw t JOIN rec_raw r "
                    "ON CAST(r.system_id AS VARCHAR) = CAST(t.system_id AS VARCHAR) "
                    "LEFT JOIN reg_raw g ON CAST(g.person_id AS VARCHAR) = CAST(t.person_id AS VARCHAR)"
                )
                truth_rel = "truth"
            from justicelink.linkage.report import write_report

            write_report(
                con, "rec", report, title=f"Linkage quality: {records.name}", cascade=result, truth=truth_rel,
                meta={"register": register.name, "records": records.name, "candidate pairs scored": result.pairs},
            )  # fmt: skip
        return MatchResult(out, result.counts, result.model, result.pairs, tuple(result.notes))
    finally:
        con.close()

        held.close()
