"""Health extracts: child-health births (NCCH), GP (WLGP), hospital (PEDW), emergency (EDDS).

Events happen at a background rate in everyone; parents in public-law proceedings get extra
events in the two years before their first case, sized so that the share with at least one
event in that window hits the calibration target (see ``Calibration``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from justicelink.synth.cafcass import Cases
from justicelink.synth.config import Calibration, ErrorRates
from justicelink.synth.errors import fmt_dates, fmt_nhs, fmt_postcode, fmt_sex, person_records
from justicelink.synth.extracts_cafcass import ids
from justicelink.synth.population import YEAR_DAYS, Places, Register, _date, _days, _expand_ranges

# Read v2 codes used by the generator. The analyses keep their own code lists (phenotypes).
GP_CODES = {
    "mental_health": ("E2B..", "Eu32.", "E200.", "E2003", "Eu41."),
    "substance_use": ("E23..", "E24..", "Eu10.", "Eu11.", "1366."),
    "self_harm": ("TK...", "U2..."),
    "injury": ("S8...", "SK...", "S4..."),
    "smoking": ("137R.", "137P."),
    "background": (
        "246..",
        "22K..",
        "H06..",
        "1371.",
        "9OX..",
        "K190.",
        "M03..",
        "N245.",
        "H33..",
        "A53..",
    ),
}
PEDW_BACKGROUND = ("J181", "K359", "R074", "N390", "J459", "K529", "R104", "L039", "S000", "E119")
PEDW_CODES = {
    "mental_health": ("F322", "F412", "F431"),
    "substance_use": ("F102", "F112", "F192"),
    "self_harm": ("X780", "X600", "T391"),
    "injury": ("S525", "S720", "S060"),
}
EDDS_CODES = {
    "background": ("14A", "21Z", "03A", "07A", "11Z", "24Z", "30Z"),
    "self_harm": ("19A", "19B"),
    "injury": ("03A", "03B", "03C", "05Z"),
    "mental_health": ("35Z",),
    "substance_use": ("17A", "17B"),
}
PROV_UNITS = ("7A1", "7A2", "7A3", "7A4", "7A5", "7A6", "7A7")


def _rate_for(p_window: float, years: float = 2.0) -> float:
    """Poisson rate per year giving probability ``p_window`` of at least one event in ``years``."""
    return -np.log(1.0 - p_window) / years


def _extra_for(target: float, base: float) -> float:
    """Probability of an added event so that 1 - (1-base)(1-extra) = target."""
    return 1.0 - (1.0 - target) / (1.0 - base)


@dataclass
class Events:
    person: np.ndarray
    date: np.ndarray
    kind: np.ndarray  # key of the code lists
    planted: np.ndarray  # bool: added for a case parent


def case_parents(cases: Cases) -> tuple[np.ndarray, np.ndarray]:
    """Parents (mothers and recorded fathers) on public-law cases, and their first issue date."""
    public = cases.law[cases.party_case] == "Public"
    who = cases.party_person[public]
    when = cases.issue[cases.party_case[public]]
    order = np.lexsort((when, who))
    who, when = who[order], when[order]
    first = np.r_[True, who[1:] != who[:-1]] if len(who) else np.array([], bool)
    return who[first], when[first]


def _background(
    rng: np.random.Generator,
    reg: Register,
    rate: float,
    lo: np.datetime64,
    hi: np.datetime64,
    *,
    adults: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson events at ``rate`` per person-year while alive (and 16+ if ``adults``) in [lo, hi]."""
    start = np.maximum(reg.dob + (_days(16) if adults else np.timedelta64(0, "D")), lo)
    end = np.where(np.isnat(reg.dod), hi, np.minimum(reg.dod, hi))
    span = np.maximum((end - start).astype(np.int64), 0)
    k = rng.poisson(rate * span / YEAR_DAYS)
    owner, _ = _expand_ranges(np.zeros(len(k), dtype=np.int64), k)
    when = start[owner] + np.floor(rng.random(len(owner)) * span[owner]).astype("timedelta64[D]")
    return owner, when


def health_events(
    rng: np.random.Generator,
    reg: Register,
    cases: Cases,
    cal: Calibration,
    start_year: int,
    end_year: int,
) -> tuple[Events, dict]:
    lo, hi = _date(start_year - 2), _date(end_year, 12, 31)
    parents, first_issue = case_parents(cases)
    win_lo = first_issue - _days(2.0)
    people, dates, kinds, planted = [], [], [], []
    targets = {
        "mental_health": cal.mental_health_2y,
        "substance_use": cal.substance_use_2y,
        "self_harm": cal.self_harm_2y,
        "injury": cal.injury_2y,
        "ed_attendance": cal.ed_attendance_2y,
    }
    for kind, (target, base) in targets.items():
        p, d = _background(rng, reg, _rate_for(base), lo, hi, adults=True)
        people.append(p)
        dates.append(d)
        kinds.append(np.full(len(p), kind, dtype=object))
        planted.append(np.zeros(len(p), bool))
        # case parents: one more event in the 2 years before the first case, with probability q
        q = _extra_for(target, base)
        hit = (rng.random(len(parents)) < q) & (win_lo >= lo)
        alive = np.isnat(reg.dod[parents]) | (reg.dod[parents] > first_issue)
        hit &= alive
        when = win_lo[hit] + np.floor(rng.random(int(hit.sum())) * 729).astype("timedelta64[D]")
        people.append(parents[hit])
        dates.append(when)
        kinds.append(np.full(int(hit.sum()), kind, dtype=object))
        planted.append(np.ones(int(hit.sum()), bool))
    ev = Events(
        np.concatenate(people),
        np.concatenate(dates),
        np.concatenate(kinds),
        np.concatenate(planted),
    )
    truth = {
        "parents_in_s31_proceedings": len(parents),
        "targets_2y_before_first_case": {
            k: {"parents": t, "population": b} for k, (t, b) in targets.items()
        },
    }
    return ev, truth


def _person_table(
    rng: np.random.Generator,
    rates: ErrorRates,
    reg: Register,
    places: Places,
    idx: np.ndarray,
    when: np.ndarray,
    id_col: str,
    id_prefix: str,
    *,
    newborn: np.ndarray | None = None,
    sex_styles: tuple = (("1", "2", ""), ("M", "F", "U")),
    dob_fmt: str = "%Y-%m-%d",
    with_nhs: bool = True,
) -> tuple[dict[str, np.ndarray], pa.Table]:
    is_child = (when - reg.dob[idx]).astype(np.int64) < 16 * YEAR_DAYS
    cols, flags = person_records(
        rng, rates, reg, places, idx, when,
        is_child=is_child, is_newborn=newborn if newborn is not None else np.zeros(len(idx), bool),
    )  # fmt: skip
    rec = ids(rng, id_prefix, len(idx), 10)
    out = {id_col: rec}
    if with_nhs:
        out["NHS_NUMBER"] = fmt_nhs(rng, cols["nhs"], spaced=0.0)
    out.update(
        {
            "FORENAME": cols["forename"],
            "SURNAME": cols["surname"],
            "DOB": fmt_dates(cols["dob"], dob_fmt),
            "SEX": fmt_sex(rng, cols["sex"], sex_styles),
            "POSTCODE": fmt_postcode(rng, cols["postcode"], messy=0.02),
        }
    )
    stranger = flags["not_on_register"]
    truth = pa.table(
        {
            "record_id": rec,
            "register_person_id": pa.array(
                np.where(stranger, 0, reg.person_id[idx]), mask=stranger
            ),
            **{f"err_{k}": v for k, v in flags.items()},
        }
    )
    return out, truth


def births(
    rng: np.random.Generator, rates: ErrorRates, reg: Register, places: Places, cases: Cases,
    cal: Calibration, start_year: int, end_year: int,
) -> tuple[dict[str, pa.Table], dict[str, pa.Table], dict]:  # fmt: skip
    # child health holds every child born since 18 years before the study starts, so that an
    # analyst can find the mothers of all children under 18 in any study year
    lo, hi = _date(start_year - 18), _date(end_year, 12, 31)
    kids = np.flatnonzero((reg.dob >= lo) & (reg.dob <= hi) & (reg.mother >= 0))
    kids = kids[np.argsort(reg.dob[kids], kind="stable")]
    n = len(kids)
    when = reg.dob[kids]
    child, truth = _person_table(
        rng,
        rates,
        reg,
        places,
        kids,
        when,
        "CHILD_ID",
        "NB",
        newborn=np.ones(n, bool),
        sex_styles=(("M", "F", "U"),),
    )
    mom = reg.mother[kids]
    mcols, mflags = person_records(
        rng, rates, reg, places, mom, when, is_child=np.zeros(n, bool), is_newborn=np.zeros(n, bool)
    )
    key = mom * 100_000 + reg.dob[kids].astype(np.int64)
    _, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    tot = counts[inv]
    srt = np.lexsort((kids, inv))
    grp = inv[srt]
    starts = np.r_[0, np.flatnonzero(np.diff(grp)) + 1]
    rank = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    order = np.zeros(n, dtype=np.int64)
    order[srt] = rank + 1
    preterm = rng.random(n) < np.where(tot > 1, 0.5, 0.07)
    gest = np.where(preterm, rng.integers(26, 37, n), rng.integers(37, 42, n))
    weight = np.round(np.clip(rng.normal(3.4, 0.5, n) - (40 - gest) * 0.18, 0.5, 5.5), 3)
    case_mothers = np.unique(cases.mother[cases.mother >= 0])
    is_case_mother = np.isin(mom, case_mothers)
    smoke = rng.random(n) < np.where(
        is_case_mother, cal.smoking_in_pregnancy[0], cal.smoking_in_pregnancy[1]
    )
    table = pa.table(
        {
            **child,
            "MAT_NHS_NUMBER": fmt_nhs(rng, mcols["nhs"], spaced=0.0),
            "MAT_FORENAME": mcols["forename"],
            "MAT_SURNAME": mcols["surname"],
            "MAT_DOB": fmt_dates(mcols["dob"]),
            "BIRTH_WEIGHT": weight,
            "GEST_AGE": gest.astype(np.int64),
            "BIRTH_ORDER": order,
            "TOT_BIRTH_NUM": tot.astype(np.int64),
            "STILLBIRTH_FLG": (rng.random(n) < 0.004).astype(np.int64).astype(str).astype(object),
            "MAT_SMOKING_CD": np.where(
                smoke, rng.choice(["2", "3"], n), rng.choice(["0", "1"], n, p=[0.9, 0.1])
            ).astype(object),
        }
    )
    mtruth = pa.table(
        {
            "record_id": child["CHILD_ID"],
            "mother_register_person_id": reg.person_id[mom],
            **{f"err_mat_{k}": v for k, v in mflags.items()},
        }
    )
    truth = pa.table(
        {
            **{c: truth.column(c) for c in truth.column_names},
            **{c: mtruth.column(c) for c in mtruth.column_names if c != "record_id"},
        }
    )
    planted = {
        "smoking_in_pregnancy": {
            "case_mothers": float(smoke[is_case_mother].mean()) if is_case_mother.any() else None,
            "other_mothers": float(smoke[~is_case_mother].mean()),
        }
    }
    return {"CHILD_BIRTHS": table}, {"CHILD_BIRTHS": truth}, planted


def gp(
    rng: np.random.Generator, rates: ErrorRates, reg: Register, places: Places, ev: Events,
    start_year: int, end_year: int, births_idx: np.ndarray,
) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:  # fmt: skip
    """One GP registration per person; coded events (background, planted, smoking in pregnancy)."""
    n = len(reg)
    lo, hi = _date(start_year - 2), _date(end_year, 12, 31)
    reg_start = np.maximum(reg.dob, _date(1990))
    patients = np.flatnonzero(np.isnat(reg.dod) | (reg.dod >= lo))
    pt, truth = _person_table(
        rng, rates, reg, places, patients, np.maximum(reg_start[patients], lo), "LOCAL_NUM", "L"
    )
    local_of = np.full(n, None, dtype=object)
    local_of[patients] = pt["LOCAL_NUM"]
    prac = places.practice_code[reg.practice].astype(object)
    patient = pa.table(
        {
            **pt,
            "PRAC_CD": prac[patients],
            "REG_START_DT": fmt_dates(reg_start[patients]),
            "REG_END_DT": fmt_dates(reg.dod[patients]),
        }
    )
    bp, bd = _background(rng, reg, 0.35, lo, hi, adults=False)
    bk = np.full(len(bp), "background", dtype=object)
    gp_kinds = ("mental_health", "substance_use", "self_harm", "injury")
    sel = np.isin(ev.kind, gp_kinds)
    # smoking recorded in pregnancy for some mothers (about 6 months before the birth)
    moms = reg.mother[births_idx]
    smoker = rng.random(len(moms)) < 0.2
    sp, sd = (
        moms[smoker],
        reg.dob[births_idx][smoker]
        - rng.integers(60, 240, int(smoker.sum())).astype("timedelta64[D]"),
    )
    person = np.concatenate([bp, ev.person[sel], sp])
    date = np.concatenate([bd, ev.date[sel], sd])
    kind = np.concatenate([bk, ev.kind[sel], np.full(len(sp), "smoking", dtype=object)])
    keep = np.isin(person, patients) & (date >= lo) & (date <= hi)
    person, date, kind = person[keep], date[keep], kind[keep]
    order = np.lexsort((date, person))
    person, date, kind = person[order], date[order], kind[order]
    codes = np.empty(len(kind), dtype=object)
    for k, lst in GP_CODES.items():
        m = kind == k
        codes[m] = rng.choice(np.array(lst, dtype=object), int(m.sum()))
    val = np.where(
        np.isin(codes, ["246..", "22K.."]), np.round(rng.normal(25, 6, len(codes)), 1), np.nan
    )
    events = pa.table(
        {
            "LOCAL_NUM": local_of[person],
            "PRAC_CD": prac[person],
            "EVENT_CD": codes,
            "EVENT_VAL": pa.array(val, mask=np.isnan(val)),
            "EVENT_DT": fmt_dates(date),
        }
    )
    return {"PATIENT": patient, "GP_EVENT": events}, {"PATIENT": truth}


def pedw(
    rng: np.random.Generator, rates: ErrorRates, reg: Register, places: Places, ev: Events,
    start_year: int, end_year: int, births_idx: np.ndarray,
) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:  # fmt: skip
    lo, hi = _date(start_year - 2), _date(end_year, 12, 31)
    bp, bd = _background(rng, reg, 0.05, lo, hi, adults=False)
    bk = np.full(len(bp), "background", dtype=object)
    # a share of planted and background events of some kinds lead to an admission
    share = {"mental_health": 0.08, "substance_use": 0.15, "self_harm": 0.5, "injury": 0.2}
    take = np.zeros(len(ev.kind), bool)
    for k, s in share.items():
        m = ev.kind == k
        take[m] = rng.random(int(m.sum())) < s
    moms = reg.mother[births_idx]
    person = np.concatenate([bp, ev.person[take], moms])
    date = np.concatenate([bd, ev.date[take], reg.dob[births_idx]])
    kind = np.concatenate([bk, ev.kind[take], np.full(len(moms), "maternity", dtype=object)])
    keep = (date >= lo) & (date <= hi)
    person, date, kind = person[keep], date[keep], kind[keep]
    order = np.lexsort((date, person))
    person, date, kind = person[order], date[order], kind[order]
    n = len(person)
    st, truth = _person_table(rng, rates, reg, places, person, date, "SPELL_NUM", "S")
    los = np.where(kind == "maternity", rng.integers(1, 4, n), rng.geometric(0.3, n))
    disch = date + los.astype("timedelta64[D]")
    method = np.where(kind == "maternity", "31", np.where(rng.random(n) < 0.6, "21", "11")).astype(
        object
    )
    spell = pa.table(
        {
            **st,
            "PROV_UNIT_CD": rng.choice(np.array(PROV_UNITS, dtype=object), n),
            "ADMIS_DT": fmt_dates(date),
            "ADMIS_MTHD_CD": method,
            "DISCH_DT": fmt_dates(disch),
            "DISCH_MTHD_CD": np.full(n, "1", dtype=object),
        }
    )
    diag = np.empty(n, dtype=object)
    for k, lst in {
        **PEDW_CODES,
        "background": PEDW_BACKGROUND,
        "maternity": ("O800", "Z370"),
    }.items():
        m = kind == k
        diag[m] = rng.choice(np.array(lst, dtype=object), int(m.sum()))
    two = rng.random(n) < 0.1
    epi_owner = np.concatenate([np.arange(n), np.flatnonzero(two)])
    epi_num = np.concatenate([np.ones(n, np.int64), np.full(int(two.sum()), 2)])
    order = np.lexsort((epi_num, epi_owner))
    epi_owner, epi_num = epi_owner[order], epi_num[order]
    epi_diag = np.where(
        epi_num == 1,
        diag[epi_owner],
        rng.choice(np.array(PEDW_BACKGROUND, dtype=object), len(epi_owner)),
    )
    episode = pa.table(
        {
            "SPELL_NUM": st["SPELL_NUM"][epi_owner],
            "EPI_NUM": epi_num,
            "EPI_STR_DT": fmt_dates(date[epi_owner]),
            "EPI_END_DT": fmt_dates(disch[epi_owner]),
            "DIAG_CD_1234": epi_diag,
        }
    )
    k = rng.integers(1, 4, len(epi_owner))
    d_owner, _ = _expand_ranges(np.zeros(len(k), dtype=np.int64), k)
    rank = np.arange(len(d_owner)) - np.repeat(np.cumsum(k) - k, k)
    d_code = np.where(
        rank == 0,
        epi_diag[d_owner],
        rng.choice(np.array(PEDW_BACKGROUND, dtype=object), len(d_owner)),
    )
    diagt = pa.table(
        {
            "SPELL_NUM": st["SPELL_NUM"][epi_owner][d_owner],
            "EPI_NUM": epi_num[d_owner],
            "DIAG_NUM": rank + 1,
            "DIAG_CD_1234": d_code,
        }
    )
    return {"SPELL": spell, "EPISODE": episode, "DIAG": diagt}, {"SPELL": truth}


def edds(
    rng: np.random.Generator, rates: ErrorRates, reg: Register, places: Places, ev: Events,
    start_year: int, end_year: int,
) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:  # fmt: skip
    lo, hi = _date(start_year - 2), _date(end_year, 12, 31)
    cp, cd = _background(rng, reg, 0.25, lo, hi, adults=False)
    child = (cd - reg.dob[cp]).astype(np.int64) < 16 * YEAR_DAYS
    cp, cd = cp[child], cd[child]  # adults' attendances come from the events (ed_attendance)
    ed = ev.kind == "ed_attendance"
    sh = np.isin(ev.kind, ("self_harm", "injury")) & (rng.random(len(ev.kind)) < 0.3)
    person = np.concatenate([cp, ev.person[ed], ev.person[sh]])
    date = np.concatenate([cd, ev.date[ed], ev.date[sh]])
    kind = np.concatenate(
        [
            np.full(len(cp), "background", dtype=object),
            np.full(int(ed.sum()), "background", dtype=object),
            ev.kind[sh],
        ]
    )
    keep = (date >= lo) & (date <= hi)
    person, date, kind = person[keep], date[keep], kind[keep]
    order = np.lexsort((date, person))
    person, date, kind = person[order], date[order], kind[order]
    n = len(person)
    at, truth = _person_table(rng, rates, reg, places, person, date, "ATTENDANCE_ID", "E")
    diag = np.empty(n, dtype=object)
    for k, lst in EDDS_CODES.items():
        m = kind == k
        diag[m] = rng.choice(np.array(lst, dtype=object), int(m.sum()))
    table = pa.table(
        {
            **at,
            "ADMIN_ARR_DT": fmt_dates(date),
            "ARRIVAL_MODE": np.where(rng.random(n) < 0.2, "1", "2").astype(object),
            "DIAG_CD_1": diag,
        }
    )
    return {"EDDS": table}, {"EDDS": truth}
