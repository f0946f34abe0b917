"""Incremental linkage: a dataset refresh links only what is new or changed.

Each run of a dataset leaves, in ``links/<DATASET>/``:

- ``links.parquet``: per record, a keyed hash of its normalised identifiers (``id_hash``) and its
  decision (person, status, probability, weight, reason), never the identifiers themselves;
- ``trained.json``: what the run learnt (the Splink model, blocking rules, share matched);
- ``state.json``: the register version and submission it was made against.

The next submission of the dataset, against the same register version, reuses the decision of
every record whose identifiers hash the same, and sends only the others (new records, or
records whose identifiers changed) through the cascade, scored with the same parameters. So
each decision is the one a full relink with those parameters would make (tested). A new register
version (people added, identifiers corrected) means a full relink and a new model: earlier
decisions may no longer hold. The run reports what changed and why.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from justicelink.crypto import check_no_collisions, prf_sql
from justicelink.formats import InputError, RefusedError, atomic_dir, write_json_atomic
from justicelink.linkage.probabilistic import (
    MATCHER_VERSION,
    PAIRS_MIN,
    PAIRS_PER_RECORD,
    Trained,
)

LINKS_DIR = "links"
IDENTIFIERS = ("nhs_number", "forename", "surname", "dob", "sex", "postcode")


DATASET_CODE = re.compile(r"[A-Z][A-Z0-9_]{1,31}")
MIN_SCORED_TO_REUSE = 200  # pi estimated on fewer scored records is not frozen for refreshes


def _check_dataset(dataset: str) -> str:
    """The code goes into a path and into SQL: refuse anything but a dataset code."""
    if not DATASET_CODE.fullmatch(dataset):
        raise InputError("the submission's dataset code is not a dataset code", column="dataset")
    return dataset


def _folder(linkage_dir: Path, dataset: str) -> Path:
    return Path(linkage_dir) / LINKS_DIR / _check_dataset(dataset)


def _identifiers_json() -> str:
    # JSON of the values in a fixed order: unambiguous (a value holding '|' cannot shift into
    # the next field) and a missing value (null) is not any text
    return "to_json([" + ", ".join(f"CAST({c} AS VARCHAR)" for c in IDENTIFIERS) + "])"


def id_hash_sql(key: bytes, dataset: str) -> str:
    """A keyed hash of a record's normalised identifiers (``records`` columns as the split
    wrote them), in a domain of its own per dataset (two datasets' hashes never join)."""
    return prf_sql(key, f"'IDH|{_check_dataset(dataset)}|' || {_identifiers_json()}")


@dataclass(frozen=True)
class Previous:
    """The earlier run of a dataset, if it can be reused, and why not otherwise."""

    trained: Trained | None
    submission_id: str | None
    reason: str


def previous(linkage_dir: Path, dataset: str, register_version: int) -> Previous:
    folder = _folder(linkage_dir, dataset)
    state_file = folder / "state.json"
    if not state_file.is_file():
        return Previous(None, None, "first run of the dataset: full linkage")
    state = json.loads(state_file.read_text())
    if state.get("matcher_version") != MATCHER_VERSION:
        return Previous(
            None, state["submission_id"],
            f"matcher version {MATCHER_VERSION} (earlier run: {state.get('matcher_version')}): full relink",
        )  # fmt: skip
    if state["register_version"] != register_version:
        return Previous(
            None,
            state["submission_id"],
            f"register version {register_version} (earlier run: version "
            f"{state['register_version']}): full relink",
        )
    trained_file = folder / "trained.json"
    if not trained_file.is_file():
        return Previous(
            None, state["submission_id"],
            "earlier run left no model to reuse (none trained, or too few records scored to "
            f"fix the share matched: under {MIN_SCORED_TO_REUSE}): full relink",
        )  # fmt: skip
    trained = Trained.from_json(json.loads(trained_file.read_text()))
    return Previous(
        trained,
        state["submission_id"],
        f"incremental: unchanged records reuse submission {state['submission_id']}'s decisions",
    )


def stage_records(con: duckdb.DuckDBPyConnection, records: str, key: bytes, dataset: str) -> None:
    """Add ``id_hash`` to the records (``records_h``), refusing a hash collision."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE records_h AS SELECT *, {id_hash_sql(key, dataset)} AS id_hash "
        f"FROM {records}"
    )
    check_no_collisions(
        con, f"(SELECT {_identifiers_json()} AS ident, id_hash FROM records_h)", "ident",
        "id_hash", what="identifier hashes",
    )  # fmt: skip


def within_budget(trained: Trained, fresh: int) -> bool:
    """Would the earlier run's wide blocking rules stay within this run's pair budget? They were
    counted on the earlier run's records; pairs grow with the records scored."""
    if not trained.wide_pairs:
        return True
    expected = trained.wide_pairs * fresh / max(trained.scored, 1)
    return expected <= max(PAIRS_MIN, PAIRS_PER_RECORD * fresh)


def reusable(con: duckdb.DuckDBPyConnection, linkage_dir: Path, dataset: str) -> str:
    """Create ``reuse`` (system_id, person_id, status, p, weight, reason) for the records whose
    identifiers hash as in the earlier run; return its name."""
    links = _folder(linkage_dir, dataset) / "links.parquet"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE reuse AS
            SELECT r.system_id, l.person_id, l.status, l.p, l.weight, l.reason
            FROM records_h r JOIN (SELECT DISTINCT ON (id_hash) * FROM read_parquet('{links}')) l
            USING (id_hash)"""
    )
    return "reuse"


def changes(
    con: duckdb.DuckDBPyConnection, linkage_dir: Path, dataset: str, reused: int
) -> dict[str, Any]:
    """What changed since the earlier run, and why. SYSTEM_IDs are drawn afresh for every
    submission, so records are followed by their identifiers: a record is reused (identifiers
    as before), or linked anew (a new record, or one whose identifiers changed); identifier sets
    of the earlier run that are gone were removed or changed. People are followed by person."""
    links = _folder(linkage_dir, dataset) / "links.parquet"
    if not links.is_file():
        return {"reused_decisions": reused}
    row = con.execute(
        f"""WITH old AS (SELECT * FROM read_parquet('{links}'))
            SELECT
              (SELECT count(*) FROM new_links WHERE id_hash NOT IN (SELECT id_hash FROM old)),
              (SELECT count(*) FROM new_links WHERE id_hash NOT IN (SELECT id_hash FROM old)
                 AND person_id IS NOT NULL),
              (SELECT count(DISTINCT id_hash) FROM old WHERE id_hash NOT IN (SELECT id_hash FROM new_links)),
              (SELECT count(DISTINCT person_id) FROM new_links WHERE person_id IS NOT NULL
                 AND person_id NOT IN (SELECT person_id FROM old WHERE person_id IS NOT NULL)),
              (SELECT count(DISTINCT person_id) FROM old WHERE person_id IS NOT NULL
                 AND person_id NOT IN (SELECT person_id FROM new_links WHERE person_id IS NOT NULL))"""
    ).fetchone()
    assert row is not None
    keys = ("linked_anew", "linked_anew_to_a_person", "earlier_identifier_sets_gone",
            "people_added", "people_no_longer_linked")  # fmt: skip
    return {"reused_decisions": reused, **dict(zip(keys, (int(v) for v in row), strict=True))}


def record(
    con: duckdb.DuckDBPyConnection, linkage_dir: Path, dataset: str, submission_id: str,
    register_version: int, trained: Trained | None,
) -> None:  # fmt: skip
    """Keep this run's decisions (``new_links``) and parameters for the next refresh: the
    whole folder is written aside and swapped in at once, after the run's ALF file is sealed,
    so the state never points at a run that did not deliver."""
    with atomic_dir(_folder(linkage_dir, dataset), replace=True) as tmp:
        con.execute(f"COPY new_links TO '{tmp / 'links.parquet'}' (FORMAT parquet)")
        if trained is not None and trained.scored >= MIN_SCORED_TO_REUSE:
            write_json_atomic(tmp / "trained.json", trained.as_json())
        write_json_atomic(
            tmp / "state.json",
            {"register_version": register_version, "submission_id": submission_id,
             "matcher_version": MATCHER_VERSION},
        )  # fmt: skip


@contextlib.contextmanager
def dataset_lock(linkage_dir: Path, dataset: str) -> Iterator[None]:
    """One run of a dataset at a time: the refresh state is read at the start of a run and
    replaced at its end."""
    folder = _folder(linkage_dir, dataset)
    folder.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder.parent / f".{dataset}.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RefusedError(
                f"another linkage run of {dataset} is in progress; try again when it ends"
            ) from None
        yield
    finally:
        os.close(fd)


def new_links_sql() -> str:
    """The decisions of this run, per record, from ``matched`` and ``records_h``."""
    return """CREATE OR REPLACE TEMP TABLE new_links AS
        SELECT m.system_id, r.id_hash, m.person_id, m.alf_sts_cd AS status, m.alf_mtch_pct AS p,
               m.match_weight AS weight, m.reason
        FROM matched m JOIN records_h r USING (system_id)"""
