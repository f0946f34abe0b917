"""The population register (spine) held by the trusted third party, versioned.

Each register person gets an ALF = PRF(TTP key, person id): stable across register refreshes by
construction, never derivable without the TTP's key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from justicelink.crypto import check_no_collisions, prf_sql
from justicelink.formats import InputError, atomic_dir, write_json_atomic
from justicelink.linkage import spill

PERSON_FILE = "WDS_PERSON.parquet"
ADDRESS_FILE = "WDS_ADDRESS.parquet"
POSTCODE_FILE = "POSTCODE_LSOA.parquet"
PERSON_COLUMNS = (
    "person_id",
    "nhs_number",
    "forename",
    "surname",
    "previous_surname",
    "dob",
    "sex",
    "dod",
)
ADDRESS_COLUMNS = ("person_id", "postcode", "from_date", "to_date")
POSTCODE_COLUMNS = ("postcode", "lsoa2011_cd")


@dataclass(frozen=True)
class RegisterVersion:
    version: int
    folder: Path
    people: int

    @property
    def person(self) -> Path:
        return self.folder / "person.parquet"

    @property
    def address(self) -> Path:
        return self.folder / "address.parquet"

    @property
    def postcode(self) -> Path:
        return self.folder / "postcode_lsoa.parquet"


def _check_columns(path: Path, needed: tuple[str, ...]) -> None:
    if not path.is_file():
        raise InputError("register file is missing", file=str(path))
    try:
        names = pq.read_schema(path).names
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise InputError("not a readable Parquet file", file=str(path)) from exc
    missing = [c for c in needed if c not in names]
    if missing:
        raise InputError(f"missing columns {missing}", file=str(path))


def load_register(source: Path, linkage_dir: Path, key: bytes) -> RegisterVersion:
    """Validate and load a register extract as the next version; return it."""
    source = Path(source)
    person, address, postcode = source / PERSON_FILE, source / ADDRESS_FILE, source / POSTCODE_FILE
    _check_columns(person, PERSON_COLUMNS)
    _check_columns(address, ADDRESS_COLUMNS)
    _check_columns(postcode, POSTCODE_COLUMNS)
    root = Path(linkage_dir) / "register"
    current = current_version(linkage_dir, required=False)
    version = (current.version if current else 0) + 1
    with spill.connect(root, "load") as con:
        return _load(con, source, root, version, key, person, address, postcode)


def _load(
    con: duckdb.DuckDBPyConnection, source: Path, root: Path, version: int, key: bytes,
    person: Path, address: Path, postcode: Path,
) -> RegisterVersion:  # fmt: skip
    con.execute(f"CREATE VIEW p AS SELECT * FROM read_parquet('{person}')")
    n, ids = con.execute("SELECT count(*), count(DISTINCT person_id) FROM p").fetchone()  # type: ignore[misc]
    if n == 0:
        raise InputError("the register is empty", file=str(person))
    if ids != n:
        raise InputError(
            f"{n - ids} duplicate person_id value(s)", file=str(person), column="person_id"
        )
    nulls = con.execute("SELECT count(*) FROM p WHERE person_id IS NULL").fetchone()[0]  # type: ignore[index]
    if nulls:
        raise InputError("person_id is missing", file=str(person), column="person_id")
    # person_id is kept as given. Matching needs whole numbers: an integer id is used as it is;
    # any other id (text such as '0_2', which DuckDB would read as the number 2) gets an
    # internal number, and the given id is kept beside it (given_person_id). The ALF is always
    # made from the given id, so it is stable across register versions.
    integer_ids = pa.types.is_integer(pq.read_schema(person).field("person_id").type)
    if integer_ids:
        con.execute("CREATE TEMP TABLE ids AS SELECT person_id AS given, person_id AS iid FROM p")
    else:
        con.execute(
            "CREATE TEMP TABLE ids AS SELECT person_id AS given, "
            "row_number() OVER (ORDER BY CAST(person_id AS VARCHAR)) AS iid FROM p"
        )
    given = "" if integer_ids else "ids.given AS given_person_id, "
    with atomic_dir(root / f"v{version:04d}") as tmp:
        alf = prf_sql(key, "'ALF|' || CAST(ids.given AS VARCHAR)")
        con.execute(
            f"COPY (SELECT {alf} AS alf, ids.iid AS person_id, {given}"
            f"nhs_number, forename, surname, previous_surname, CAST(dob AS DATE) AS dob, "
            f"CAST(sex AS INTEGER) AS sex, CAST(dod AS DATE) AS dod "
            f"FROM p JOIN ids ON ids.given = p.person_id ORDER BY ids.iid) "
            f"TO '{tmp / 'person.parquet'}' (FORMAT parquet, COMPRESSION zstd)"
        )
        check_no_collisions(
            con,
            f"read_parquet('{tmp / 'person.parquet'}')",
            "person_id",
            "alf",
            what="register ALFs",
        )
        con.execute(
            f"COPY (SELECT ids.iid AS person_id, postcode, CAST(from_date AS DATE) AS from_date, "
            f"CAST(to_date AS DATE) AS to_date FROM read_parquet('{address}') a "
            f"JOIN ids ON ids.given = a.person_id "
            f"ORDER BY ids.iid, from_date) TO '{tmp / 'address.parquet'}' (FORMAT parquet)"
        )
        con.execute(
            f"COPY (SELECT postcode, lsoa2011_cd FROM read_parquet('{postcode}') ORDER BY postcode) "
            f"TO '{tmp / 'postcode_lsoa.parquet'}' (FORMAT parquet)"
        )
        # names, histories, blocking keys, term frequencies and u: built once per version
        from justicelink.linkage import prepared

        prepared.build(tmp)
        (tmp / "version.json").write_text(
            json.dumps(
                {
                    "version": version,
                    "people": n,
                    "loaded": datetime.now(UTC).isoformat(),
                    "source": str(source),
                },
                indent=2,
            )
        )
    write_json_atomic(root / "current.json", {"version": version})
    return RegisterVersion(version, root / f"v{version:04d}", int(n))


def current_version(linkage_dir: Path, *, required: bool = True) -> RegisterVersion | None:
    root = Path(linkage_dir) / "register"
    pointer = root / "current.json"
    if not pointer.is_file():
        if required:
            raise InputError(
                "no register loaded: run `justicelink linkage register load PATH` first",
                file=str(pointer),
            )
        return None
    version = json.loads(pointer.read_text())["version"]
    folder = root / f"v{version:04d}"
    people = json.loads((folder / "version.json").read_text())["people"]
    return RegisterVersion(version, folder, people)
