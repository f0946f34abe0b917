"""Write a synthetic world: the register, every provider extract, and the truth kept apart.

Layout of ``out``:
    register/   WDS_PERSON, WDS_ADDRESS, POSTCODE_LSOA (Parquet) for the trusted third party
    <DATASET>/  one file per table, as the provider holds it (CSV or Parquet)
    truth/      per person table: record id -> register person (or none) and the errors applied;
                planted.json: every planted rate, targets and realised values
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from rich.progress import Progress

from justicelink.formats import atomic_dir
from justicelink.synth import names
from justicelink.synth.cafcass import draw_cases
from justicelink.synth.config import SynthConfig
from justicelink.synth.extracts_cafcass import cafe_tables, cafw_tables
from justicelink.synth.extracts_health import births, edds, gp, health_events, pedw
from justicelink.synth.extracts_other import eduw, lacw, wdsd
from justicelink.synth.population import YEAR_DAYS, _date, make_places, make_register

DATASETS = ("CAFW", "CAFE", "NCCH", "WLGP", "PEDW", "EDDS", "EDUW", "LACW", "WDSD", "REFR")
CSV_DATASETS = ("CAFW", "CAFE", "EDUW", "LACW", "REFR")


@dataclass(frozen=True)
class SynthResult:
    out: Path
    register_dir: Path
    extracts: dict[str, Path]
    truth_dir: Path
    counts: dict[str, int]


def _write(table: pa.Table, path: Path) -> None:
    if path.suffix == ".csv":
        pacsv.write_csv(table, path, pacsv.WriteOptions(include_header=True))
    else:
        pq.write_table(table, path, compression="zstd")


def generate(
    out: Path,
    *,
    people: int = 100_000,
    seed: int = 20150401,
    start_year: int = 2015,
    end_year: int = 2024,
    config: SynthConfig | None = None,
    datasets: tuple[str, ...] = DATASETS,
    progress: bool = True,
) -> SynthResult:
    """Generate the synthetic world into ``out`` (which must not exist), atomically."""
    if people < 1000:
        raise ValueError("--people must be at least 1,000 for a meaningful population")
    if not 1990 <= start_year <= end_year <= 2030:
        raise ValueError("years must satisfy 1990 <= start-year <= end-year <= 2030")
    unknown = set(datasets) - set(DATASETS)
    if unknown:
        raise ValueError(f"unknown datasets {sorted(unknown)}; known: {', '.join(DATASETS)}")
    cfg = config or SynthConfig()
    cal, err = cfg.calibration, cfg.errors
    out = Path(out)
    rng = np.random.default_rng(seed)
    period_end = _date(end_year, 12, 31)
    counts: dict[str, int] = {}
    with Progress(disable=not progress, transient=True) as bar, atomic_dir(out) as tmp:
        task = bar.add_task("synthetic world", total=4 + len(datasets))

        def step(label: str) -> None:
            bar.update(task, advance=1, description=label)

        places = make_places(rng, people)
        reg = make_register(rng, people, start_year, end_year, places)
        step("register")
        cases, court_planted = draw_cases(rng, reg, places, cal, start_year, end_year)
        events, health_planted = health_events(rng, reg, cases, cal, start_year, end_year)
        step("cases and events")
        _write_register(tmp / "register", reg, places)
        step("register files")
        truth_dir = tmp / "truth"
        truth_dir.mkdir()
        lo, hi = _date(start_year), period_end
        births_idx = np.flatnonzero((reg.dob >= lo) & (reg.dob <= hi) & (reg.mother >= 0))
        planted: dict = {
            "seed": seed,
            "people": people,
            "start_year": start_year,
            "end_year": end_year,
        }
        for ds in datasets:
            # one child generator per dataset, so adding a dataset never changes the others
            drng = np.random.default_rng([seed, DATASETS.index(ds)])
            if ds == "CAFW":
                tables, truth = cafw_tables(drng, err[ds], reg, places, cases, period_end)
            elif ds == "CAFE":
                tables, truth = cafe_tables(drng, err[ds], reg, places, cases)
            elif ds == "NCCH":
                tables, truth, p = births(
                    drng, err[ds], reg, places, cases, cal, start_year, end_year
                )
                planted.update(p)
            elif ds == "WLGP":
                tables, truth = gp(
                    drng, err[ds], reg, places, events, start_year, end_year, births_idx
                )
            elif ds == "PEDW":
                tables, truth = pedw(
                    drng, err[ds], reg, places, events, start_year, end_year, births_idx
                )
            elif ds == "EDDS":
                tables, truth = edds(drng, err[ds], reg, places, events, start_year, end_year)
            elif ds == "EDUW":
                tables, truth = eduw(drng, err[ds], reg, places, start_year, end_year)
            elif ds == "LACW":
                tables, truth = lacw(drng, err[ds], reg, places, cases, end_year)
            elif ds == "REFR":
                tables, truth = {"LSOA2011_LOOKUP": pa.table({
                    "LSOA2011_CD": places.lsoa.astype(object),
                    "LA_NAME": np.array(names.LOCAL_AUTHORITIES, dtype=object)[places.lsoa_la],
                    "WIMD_2019_QUINTILE": places.lsoa_quintile.astype(np.int64),
                })}, {}  # fmt: skip
            else:
                tables, truth = wdsd(drng, err[ds], reg, places, start_year, end_year)
            folder = tmp / ds
            folder.mkdir()
            ext = ".csv" if ds in CSV_DATASETS else ".parquet"
            for name, table in tables.items():
                _write(table, folder / f"{name}{ext}")
                counts[f"{ds}.{name}"] = table.num_rows
            for name, table in truth.items():
                pq.write_table(table, truth_dir / f"{ds}_{name}.parquet", compression="zstd")
            step(ds)
        planted.update(_court_planted(reg, places, cases, start_year, end_year))
        if (truth_dir / "CAFW_CAFCASS_PERSON.parquet").is_file():
            planted["CAFW"]["linkable_high_confidence_share"] = _linkable_share(
                pq.read_table(truth_dir / "CAFW_CAFCASS_PERSON.parquet")
            )
        planted.update(court_planted)
        planted["health"] = health_planted
        planted["config"] = {
            "calibration": asdict(cal),
            "errors": {k: asdict(v) for k, v in err.items()},
        }
        (truth_dir / "planted.json").write_text(
            json.dumps(planted, indent=2, sort_keys=True, default=str) + "\n"
        )
    counts["register_people"] = len(reg)
    return SynthResult(
        out, out / "register", {ds: out / ds for ds in datasets}, out / "truth", counts
    )


def _write_register(folder: Path, reg, places) -> None:  # type: ignore[no-untyped-def]
    folder.mkdir()
    order = np.argsort(reg.person_id)
    pq.write_table(
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
        folder / "WDS_PERSON.parquet",
        compression="zstd",
    )
    pc = reg.address_postcode[reg.hist_address]
    addr = pa.table(
        {
            "person_id": reg.person_id[reg.hist_person],
            "ralf": reg.hist_address.astype(np.int64) + 1,
            "postcode": places.postcode[pc],
            "lsoa2011_cd": places.lsoa[places.postcode_lsoa[pc]],
            "from_date": reg.hist_from,
            "to_date": reg.hist_to,
        }
    ).sort_by([("person_id", "ascending"), ("from_date", "ascending")])
    pq.write_table(addr, folder / "WDS_ADDRESS.parquet", compression="zstd")
    pq.write_table(
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
        folder / "POSTCODE_LSOA.parquet",
        compression="zstd",
    )


def _court_planted(reg, places, cases, start_year: int, end_year: int) -> dict:  # type: ignore[no-untyped-def]
    """Realised truth of the court model, per service (CAFW = Wales, CAFE = England)."""
    years = [str(y) for y in range(start_year, end_year + 1)]
    issue_year = cases.issue.astype("datetime64[Y]").astype(int) + 1970
    out: dict = {}
    by = reg.dob.astype("datetime64[Y]").astype(int) + 1970
    births = {y: int(((by == int(y)) & (reg.mother >= 0)).sum()) for y in years}
    for service, mask in (("CAFW", cases.wales), ("CAFE", ~cases.wales)):
        pub = (cases.law == "Public") & mask
        s = pub[cases.subject_case]
        sub_year = issue_year[cases.subject_case][s]
        children = {y: len(np.unique(cases.subject_child[s][sub_year == int(y)])) for y in years}
        nb = s & cases.newborn[cases.subject_case]
        nb_year = by[cases.subject_child[nb]]
        newborn = {y: int((nb_year == int(y)).sum()) for y in years}
        # recurrence: mothers with a first public-law case, and whether they came back
        m = cases.mother[pub]
        iss = cases.issue[pub]
        order = np.lexsort((iss, m))
        m, iss = m[order], iss[order]
        first = np.r_[True, m[1:] != m[:-1]] if len(m) else np.array([], bool)
        n_cases = np.diff(np.r_[np.flatnonzero(first), len(m)])
        first_year = iss[first].astype("datetime64[Y]").astype(int) + 1970
        returned = n_cases > 1
        gap = np.full(len(n_cases), np.nan)
        second = np.flatnonzero(first) + 1
        has2 = returned
        gap[has2] = (iss[second[has2]] - iss[first][has2]).astype(np.int64) / YEAR_DAYS
        out[service] = {
            "children_in_s31_proceedings_by_issue_year": children,
            "newborn_cases_by_birth_year": newborn,
            "mothers_with_a_first_public_law_case": len(n_cases),
            "mothers_returning_within_period": int(returned.sum()),
            "mothers_returning_share": round(float(returned.mean()), 4) if len(n_cases) else None,
            "mothers_returning_by_first_year": {
                y: [
                    int((first_year == int(y)).sum()),
                    int(((first_year == int(y)) & returned).sum()),
                ]
                for y in years
            },
        }
    out["births_by_year"] = births
    # public law per 10,000 children by local authority (pooled over the years): children in s31
    # proceedings in the year by the case's authority, and child-years by home address on 1 July
    la_names = np.array(names.LOCAL_AUTHORITIES)
    wales_pub = (cases.law == "Public") & cases.wales
    s = wales_pub[cases.subject_case]
    per_year = np.unique(
        np.stack([issue_year[cases.subject_case][s], cases.subject_child[s], cases.la[cases.subject_case][s]], axis=1),
        axis=0,
    )  # fmt: skip
    children_by_la = {
        str(la_names[i]): int((per_year[:, 2] == i).sum()) for i in np.unique(per_year[:, 2])
    }
    population: dict[str, int] = {}
    for y in years:
        mid = np.datetime64(f"{y}-07-01")
        age = (mid - reg.dob).astype(np.int64) / YEAR_DAYS
        idx = np.flatnonzero((age >= 0) & (age < 18) & (np.isnat(reg.dod) | (reg.dod > mid)))
        pc = reg.postcode_on(idx, np.full(len(idx), mid))
        pc = pc[pc >= 0]
        la = places.postcode_la(pc)
        for i, n in zip(*np.unique(la[la < names.WALES_LAS], return_counts=True), strict=True):
            population[str(la_names[i])] = population.get(str(la_names[i]), 0) + int(n)
    out["CAFW"]["children_in_s31_by_la"] = children_by_la
    out["CAFW"]["child_years_by_la"] = population
    return out


def _linkable_share(truth: pa.Table) -> float:
    """Share of person records a careful matcher can link with high confidence: on the register,
    and either a clean NHS number with a clean date of birth, or clean names and date of birth."""
    t = truth.to_pydict()
    n = len(t["record_id"])
    if not n:
        return 0.0
    ok = 0
    for i in range(n):
        if t["register_person_id"][i] is None:
            continue
        dob_ok = not (t["err_dob_day_month_swap"][i] or t["err_dob_digit"][i])
        nhs_ok = not (t["err_nhs_missing"][i] or t["err_nhs_mistyped"][i])
        names_ok = not (
            t["err_forename_typo"][i] or t["err_nickname"][i] or t["err_baby_forename"][i]
            or t["err_surname_typo"][i] or t["err_surname_previous"][i]
        )  # fmt: skip
        if (nhs_ok and dob_ok) or (names_ok and dob_ok):
            ok += 1
    return round(ok / n, 4)
