"""Write a synthetic world: register, provider extracts and the truth kept apart."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from rich.progress import Progress

from justicelink.formats import atomic_dir
from justicelink.synth import names
from justicelink.synth.cafcass import NEWBORN_LATER, NEWBORN_PER_10K, draw_cases
from justicelink.synth.extracts import births_table, cafcass_tables
from justicelink.synth.population import make_places, make_register


@dataclass(frozen=True)
class SynthResult:
    out: Path
    register_dir: Path
    extracts: dict[str, Path]
    truth_dir: Path
    counts: dict[str, int]


def _write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd")


def _write_csv(table: pa.Table, path: Path) -> None:
    pacsv.write_csv(table, path, pacsv.WriteOptions(include_header=True))


def generate(
    out: Path,
    *,
    people: int = 100_000,
    seed: int = 20150401,
    start_year: int = 2015,
    end_year: int = 2024,
    progress: bool = True,
) -> SynthResult:
    """Generate the synthetic world into ``out`` (which must not exist), atomically."""
    if people < 1000:
        raise ValueError("--people must be at least 1,000 for a meaningful population")
    if not 1990 <= start_year <= end_year <= 2030:
        raise ValueError("years must satisfy 1990 <= start-year <= end-year <= 2030")
    out = Path(out)
    rng = np.random.default_rng(seed)
    steps = ["places", "register", "cases", "Cafcass extract", "births extract", "write"]
    with Progress(disable=not progress, transient=True) as bar, atomic_dir(out) as tmp:
        task = bar.add_task("synthetic data", total=len(steps))
        places = make_places(rng, people)
        bar.advance(task)
        reg = make_register(rng, people, start_year, end_year, places)
        bar.advance(task)
        cases = draw_cases(rng, reg, start_year, end_year)
        bar.advance(task)
        caf, caf_truth = cafcass_tables(rng, reg, places, cases)
        bar.advance(task)
        births, births_truth = births_table(rng, reg, places, start_year, end_year)
        bar.advance(task)

        regdir = tmp / "register"
        regdir.mkdir()
        order = np.argsort(reg.person_id)
        _write_parquet(
            pa.table(
                {
                    "person_id": reg.person_id[order],
                    "nhs_number": reg.nhs_number[order],
                    "forename": reg.forename[order].astype(str),
                    "surname": reg.surname[order].astype(str),
                    "previous_surname": pa.array(
                        [s or None for s in reg.previous_surname[order]], pa.string()
                    ),
                    "dob": reg.dob[order],
                    "sex": reg.sex[order],
                    "dod": reg.dod[order],
                }
            ),
            regdir / "WDS_PERSON.parquet",
        )
        moved = reg.postcode_before >= 0
        start = np.maximum(reg.dob, np.datetime64("1990-01-01"))
        addr = pa.table(
            {
                "person_id": np.concatenate([reg.person_id, reg.person_id[moved]]),
                "postcode": np.concatenate(
                    [places.postcode[reg.postcode_now], places.postcode[reg.postcode_before[moved]]]
                ),
                "from_date": np.concatenate([np.where(moved, reg.moved_on, start), start[moved]]),
                "to_date": np.concatenate(
                    [np.full(len(reg), np.datetime64("NaT"), "datetime64[D]"), reg.moved_on[moved]]
                ),
            }
        )
        addr = addr.sort_by([("person_id", "ascending"), ("from_date", "ascending")])
        _write_parquet(addr, regdir / "WDS_ADDRESS.parquet")
        _write_parquet(
            pa.table(
                {
                    "postcode": places.postcode,
                    "lsoa2011_cd": places.lsoa[places.postcode_lsoa],
                    "local_authority": np.array(names.LOCAL_AUTHORITIES)[
                        places.lsoa_la[places.postcode_lsoa]
                    ],
                    "wimd2019_quintile": places.lsoa_quintile[places.postcode_lsoa],
                }
            ),
            regdir / "POSTCODE_LSOA.parquet",
        )
        extracts = {}
        for ds, tables in (("CAFW", caf), ("NCCH", {"CHILD_BIRTHS": births})):
            d = tmp / ds
            d.mkdir()
            for name, table in tables.items():
                _write_csv(table, d / f"{name}.csv")
            extracts[ds] = out / ds
        truth = tmp / "truth"
        truth.mkdir()
        _write_parquet(caf_truth, truth / "CAFW_CAFCASS_PERSON.parquet")
        _write_parquet(births_truth, truth / "NCCH_CHILD_BIRTHS.parquet")
        planted = _planted(reg, cases, start_year, end_year)
        (truth / "planted.json").write_text(json.dumps(planted, indent=2, sort_keys=True) + "\n")
        bar.advance(task)
    counts = {
        "register_people": len(reg),
        "cafcass_people": caf["CAFCASS_PERSON"].num_rows,
        "cafcass_applications": caf["CAFCASS_APPLICATION"].num_rows,
        "births": births.num_rows,
    }
    return SynthResult(out, out / "register", extracts, out / "truth", counts)


def _planted(reg, cases, start_year: int, end_year: int) -> dict:
    years = range(start_year, end_year + 1)
    issue_year = cases.issue.astype("datetime64[Y]").astype(int) + 1970
    sub_year = issue_year[cases.subject_case]
    children_by_year = {}
    for y in years:
        children_by_year[str(y)] = len(np.unique(cases.subject_child[sub_year == y]))
    births_by_year = {}
    newborn_by_year = {}
    by = reg.dob.astype("datetime64[Y]").astype(int) + 1970
    nb_child = cases.subject_child[cases.newborn[cases.subject_case]]
    nb_year = by[nb_child]
    for y in years:
        births_by_year[str(y)] = int(((by == y) & (reg.mother >= 0)).sum())
        newborn_by_year[str(y)] = int((nb_year == y).sum())
    return {
        "children_in_s31_proceedings_by_issue_year": children_by_year,
        "births_by_year": births_by_year,
        "newborn_cases_by_birth_year": newborn_by_year,
        "newborn_target_per_10k": {
            str(y): NEWBORN_PER_10K.get(y, NEWBORN_LATER if y > 2018 else 39.0) for y in years
        },
    }
