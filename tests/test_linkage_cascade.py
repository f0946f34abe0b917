"""The generic matching contract: the cascade on real Splink, accuracy against the truth, missing
columns, bad input, twins, and the quality report."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from justicelink.formats import InputError
from justicelink.linkage import match_files
from justicelink.linkage.evaluate import accuracy

OUT_COLUMNS = ["system_id", "person_id", "alf_sts_cd", "alf_mtch_pct", "match_weight", "reason"]


@pytest.fixture(scope="module")
def contract_files(world, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """REG, RECS and truth built from the synthetic world's Cafcass Cymru people."""
    d = tmp_path_factory.mktemp("contract")
    w = world.out
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT p.person_id, p.nhs_number, p.forename, p.surname, p.previous_surname, p.dob, p.sex, a.postcode
              FROM read_parquet('{w}/register/WDS_PERSON.parquet') p LEFT JOIN (
                SELECT person_id, arg_max(postcode, from_date) AS postcode
                FROM read_parquet('{w}/register/WDS_ADDRESS.parquet') GROUP BY 1) a USING (person_id))
            TO '{d}/reg.parquet'"""
    )
    con.execute(
        f"""CREATE TABLE r AS SELECT row_number() OVER () AS system_id, *
            FROM read_csv('{w}/CAFW/CAFCASS_PERSON.csv', all_varchar = true)"""
    )
    con.execute(
        f"""COPY (SELECT system_id, NHS_NUMBER AS nhs_number, FORENAME AS forename, SURNAME AS surname,
                  strftime(strptime(DOB, '%d/%m/%Y'), '%Y-%m-%d') AS dob, SEX AS sex, POSTCODE AS postcode
                  FROM r) TO '{d}/recs.csv' (HEADER)"""
    )
    con.execute(
        f"""COPY (SELECT r.system_id, t.register_person_id AS person_id FROM r
                  JOIN read_parquet('{w}/truth/CAFW_CAFCASS_PERSON.parquet') t ON t.record_id = r.PERSON_ID)
            TO '{d}/truth.parquet'"""
    )
    return {
        "reg": d / "reg.parquet",
        "recs": d / "recs.csv",
        "truth": d / "truth.parquet",
        "dir": d,
    }


def test_contract_output_and_accuracy(contract_files, tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    report = tmp_path / "quality.html"
    r = match_files(
        contract_files["reg"], contract_files["recs"], out, report=report, truth=contract_files["truth"],
        model_path=tmp_path / "model.json",
    )  # fmt: skip
    table = pq.read_table(out)
    assert table.column_names == OUT_COLUMNS
    n_recs = len(contract_files["recs"].read_text().splitlines()) - 1
    assert table.num_rows == n_recs == len(set(table.column("system_id").to_pylist()))
    assert set(table.column("alf_sts_cd").to_pylist()) <= {1, 4, 39, 35, 99}
    assert r.counts.get(39, 0) > 0, "the probabilistic stage linked nobody"
    con = duckdb.connect()
    acc = accuracy(con, f"read_parquet('{out}')", f"read_parquet('{contract_files['truth']}')")[
        "all"
    ]
    # 20k people, one postcode per register person: F1 must still be high and precision near 1
    assert acc.precision > 0.998 and acc.f1 > 0.99, acc.as_dict()
    assert (tmp_path / "model.json").is_file()
    html = report.read_text()
    assert (
        "Accuracy against the truth" in html
        and "vegaEmbed" in html
        and "Recall at blocking" in html
    )
    assert not re.search(r"<script[^>]+src=", html), "the report must not fetch scripts"
    # no identifier from the records appears in the report
    recs = pa.csv.read_csv(
        contract_files["recs"],
        convert_options=pa.csv.ConvertOptions(column_types={"nhs_number": pa.string()}),
    )
    body = html.upper()
    for nhs in [v for v in recs.column("nhs_number").to_pylist() if v][:500]:
        assert nhs.replace(" ", "") not in body
    names = {
        f"{f} {s}".upper()
        for f, s in zip(
            recs.column("forename").to_pylist(), recs.column("surname").to_pylist(), strict=True
        )
        if f and s
    }
    assert not [n for n in names if n in body]


def test_splink_only_mode(contract_files, tmp_path: Path) -> None:
    r = match_files(
        contract_files["reg"], contract_files["recs"], tmp_path / "o.csv", deterministic=False
    )
    assert set(r.counts) <= {39, 35, 99} and r.counts.get(39, 0) > 0
    assert (tmp_path / "o.csv").read_text().splitlines()[0] == ",".join(OUT_COLUMNS)


def test_missing_and_entirely_null_columns(contract_files, tmp_path: Path) -> None:
    con = duckdb.connect()
    recs = tmp_path / "recs.parquet"
    con.execute(
        f"COPY (SELECT system_id, nhs_number, forename, surname, dob, NULL AS postcode "
        f"FROM read_csv('{contract_files['recs']}', all_varchar = true)) TO '{recs}'"
    )
    r = match_files(contract_files["reg"], recs, tmp_path / "o.parquet")
    linked = sum(v for k, v in r.counts.items() if k in (1, 4, 39))
    assert linked > 0.6 * sum(r.counts.values())


def _write(path: Path, rows: list[dict]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


REG_ROW = {
    "person_id": 1,
    "nhs_number": None,
    "forename": "A",
    "surname": "B",
    "previous_surname": None,
    "dob": "2000-01-01",
    "sex": 1,
    "postcode": None,
}
REC_ROW = {
    "system_id": 1,
    "nhs_number": None,
    "forename": "A",
    "surname": "B",
    "dob": "2000-01-01",
    "sex": 1,
    "postcode": None,
}


@pytest.mark.parametrize(
    "which,rows,message",
    [
        ("reg", [REG_ROW, REG_ROW], "1 duplicate person_id"),
        (
            "recs",
            [REC_ROW, {**REC_ROW, "system_id": 2, "dob": "2000-13-45"}],
            "unparseable date of birth",
        ),
        ("recs", [{**REC_ROW, "system_id": None}], "without system_id"),
        (
            "recs",
            [{**REC_ROW, "forename": None, "surname": None, "dob": None}],
            "no record has any usable identifier",
        ),
        ("recs", [{k: v for k, v in REC_ROW.items() if k != "system_id"}], "missing columns"),
    ],
)
def test_bad_input_is_refused(tmp_path: Path, which: str, rows: list[dict], message: str) -> None:
    reg = _write(tmp_path / "reg.parquet", [REG_ROW])
    recs = _write(tmp_path / "recs.parquet", [REC_ROW])
    target = reg if which == "reg" else recs
    _write(target, rows)
    out = tmp_path / "out.parquet"
    with pytest.raises(InputError, match=message):
        match_files(reg, recs, out)
    assert not out.exists()
    assert not list(tmp_path.glob(".tmp-*"))


def test_empty_and_wrongly_typed_files(tmp_path: Path) -> None:
    reg = _write(tmp_path / "reg.parquet", [REG_ROW])
    empty = tmp_path / "empty.csv"
    empty.write_text("system_id,nhs_number,forename,surname,dob,sex,postcode\n")
    with pytest.raises(InputError, match="no rows"):
        match_files(reg, empty, tmp_path / "o.parquet")
    assert not (tmp_path / "o.parquet").exists()


def test_twins_are_not_guessed(contract_files, tmp_path: Path) -> None:
    """A newborn twin recorded as 'BABY' matches both twins equally: left unlinked, reason kept."""
    con = duckdb.connect()
    reg_rows = (
        con.execute(f"SELECT * FROM read_parquet('{contract_files['reg']}')")
        .to_arrow_table()
        .to_pylist()
    )
    twins = [
        {"person_id": 9_000_001, "nhs_number": None, "forename": "ELUNED", "surname": "QUAYLE", "previous_surname": None,
         "dob": "2020-03-03", "sex": 2, "postcode": "CF10 1AA"},
        {"person_id": 9_000_002, "nhs_number": None, "forename": "GWENLLIAN", "surname": "QUAYLE", "previous_surname": None,
         "dob": "2020-03-03", "sex": 2, "postcode": "CF10 1AA"},
    ]  # fmt: skip
    for r in reg_rows:
        r["dob"] = str(r["dob"]) if r["dob"] else None
    reg = _write(tmp_path / "reg.parquet", reg_rows + twins)
    recs_rows = (
        con.execute(f"SELECT * FROM read_csv('{contract_files['recs']}', all_varchar = true)")
        .to_arrow_table()
        .to_pylist()
    )
    recs_rows = [{**r, "system_id": int(r["system_id"])} for r in recs_rows]
    baby = {
        "system_id": 10**9,
        "nhs_number": None,
        "forename": "BABY",
        "surname": "QUAYLE",
        "dob": "2020-03-03",
        "sex": "F",
        "postcode": "CF10 1AA",
    }
    named = {**baby, "system_id": 10**9 + 1, "forename": "GWENLLIAN"}
    recs = _write(tmp_path / "recs.parquet", [*recs_rows, baby, named])
    out = tmp_path / "out.parquet"
    match_files(reg, recs, out)
    got = {r["system_id"]: r for r in pq.read_table(out).to_pylist()}
    assert got[10**9]["alf_sts_cd"] == 99 and got[10**9]["person_id"] is None
    assert "not guessed" in got[10**9]["reason"]
    assert got[10**9 + 1]["person_id"] == 9_000_002 and got[10**9 + 1]["alf_sts_cd"] in (39, 35)


def _nhs(n: int) -> str:
    """A valid NHS number (modulus 11) near ``n``."""
    while True:
        digits = f"{n:09d}"[-9:]
        check = (11 - sum(int(d) * (10 - i) for i, d in enumerate(digits)) % 11) % 11
        if check != 10:
            return digits + str(check)
        n += 1


def _id_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    import csv

    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_text_ids_are_kept_exactly_as_given(tmp_path: Path) -> None:
    """Issue #15: text record ids were refused, and a register id '0_2' became the number 2
    (DuckDB reads '_' as a digit separator), so every link pointed at the wrong person."""
    reg = _id_csv(
        tmp_path / "reg.csv",
        ["person_id", "nhs_number", "forename", "surname", "previous_surname", "dob", "sex", "postcode"],
        [["0_2", _nhs(1), "ANN", "JONES", "", "2001-02-03", "2", ""],
         ["2", _nhs(2), "BOB", "SMITH", "", "1990-05-06", "1", ""],
         ["007", _nhs(3), "CAT", "REES", "", "1985-07-08", "2", ""]],
    )  # fmt: skip
    recs = _id_csv(
        tmp_path / "recs.csv",
        ["system_id", "nhs_number", "forename", "surname", "dob", "sex", "postcode"],
        [["rec-1-org", _nhs(1), "ANN", "JONES", "2001-02-03", "2", ""],
         ["c17", _nhs(2), "BOB", "SMITH", "1990-05-06", "1", ""],
         ["7", _nhs(3), "CAT", "REES", "1985-07-08", "2", ""]],
    )  # fmt: skip
    out = tmp_path / "out.csv"
    match_files(reg, recs, out, probabilistic=False)
    got = {r["system_id"]: r["person_id"] for r in _read_csv_text(out)}
    assert got == {"rec-1-org": "0_2", "c17": "2", "7": "007"}


def _read_csv_text(path: Path) -> list[dict]:
    import csv

    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_duplicate_given_ids_are_refused_with_a_count(tmp_path: Path) -> None:
    recs = _id_csv(
        tmp_path / "recs.csv",
        ["system_id", "nhs_number", "forename", "surname", "dob", "sex", "postcode"],
        [["a", "", "A", "B", "2000-01-01", "1", ""], ["a", "", "C", "D", "2000-01-01", "1", ""]],
    )
    reg = _write(tmp_path / "reg.parquet", [REG_ROW])
    with pytest.raises(InputError, match="1 duplicate system_id value") as info:
        match_files(reg, recs, tmp_path / "o.csv", probabilistic=False)
    assert "'a'" not in str(info.value)


_TEXT_ID = st.text(
    alphabet=st.characters(whitelist_categories=("L", "N"), whitelist_characters="_-. "),
    min_size=1,
    max_size=10,
).filter(lambda v: v.strip() == v)


@settings(max_examples=20, deadline=None)
@given(
    person_ids=st.lists(_TEXT_ID, min_size=1, max_size=6, unique=True),
    system_ids=st.lists(_TEXT_ID, min_size=6, max_size=6, unique=True),
    as_parquet_ints=st.booleans(),
)
def test_ids_round_trip_unchanged(tmp_path_factory, person_ids, system_ids, as_parquet_ints):
    """Text, integer and mixed ids come back exactly as given, each record on its person."""
    d = tmp_path_factory.mktemp("ids")
    n = len(person_ids)
    if as_parquet_ints:
        person_ids = [abs(hash(p)) % (2**62) for p in person_ids]
        if len(set(person_ids)) != n:
            return
    people = [(person_ids[i], _nhs(10_000 + 97 * i), f"19{50 + i}-0{1 + i % 9}-1{i % 9}")
              for i in range(n)]  # fmt: skip
    reg_rows = [{**REG_ROW, "person_id": p, "nhs_number": nhs, "dob": dob, "forename": "X",
                 "surname": f"S{i}"} for i, (p, nhs, dob) in enumerate(people)]  # fmt: skip
    if as_parquet_ints:
        reg = _write(d / "reg.parquet", reg_rows)
    else:
        reg = _id_csv(d / "reg.csv", list(REG_ROW),
                      [[("" if r[k] is None else str(r[k])) for k in REG_ROW] for r in reg_rows])  # fmt: skip
    recs = _id_csv(
        d / "recs.csv",
        list(REC_ROW),
        [
            [system_ids[i], nhs, "X", f"S{i}", dob, "1", ""]
            for i, (_, nhs, dob) in enumerate(people)
        ],
    )
    out = d / "out.csv"
    match_files(reg, recs, out, probabilistic=False)
    got = {r["system_id"]: r["person_id"] for r in _read_csv_text(out)}
    assert got == {system_ids[i]: str(people[i][0]) for i in range(n)}
