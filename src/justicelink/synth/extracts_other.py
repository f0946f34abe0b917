"""Education (EDUW pupil census), children looked after (LACW) and the WDSD register extract."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from justicelink.synth import names
from justicelink.synth.cafcass import Cases
from justicelink.synth.config import ErrorRates
from justicelink.synth.errors import fmt_dates
from justicelink.synth.extracts_cafcass import ids
from justicelink.synth.extracts_health import _person_table
from justicelink.synth.population import YEAR_DAYS, Places, Register, _date, _days

SEN = ("N", "A", "P", "S")


def eduw(
    rng: np.random.Generator,
    rates: ErrorRates,
    reg: Register,
    places: Places,
    start_year: int,
    end_year: int,
) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:
    """January census of pupils aged 4-15 living in Wales; one pupil record per child."""
    rows_p, rows_y = [], []
    for year in range(start_year, end_year + 1):
        jan = _date(year, 1, 15)
        age = (jan - reg.dob).astype(np.int64) / YEAR_DAYS
        alive = np.isnat(reg.dod) | (reg.dod > jan)
        cand = np.flatnonzero((age >= 4) & (age < 16) & alive)
        pc = reg.postcode_on(cand, np.full(len(cand), jan))
        cand = cand[places.postcode_in_wales(pc)]
        rows_p.append(cand)
        rows_y.append(np.full(len(cand), year))
    person = np.concatenate(rows_p)
    year = np.concatenate(rows_y)
    pupils, first = np.unique(person, return_index=True)
    first_jan = (
        np.array([_date(int(y), 1, 15) for y in year[first]])
        if len(first)
        else np.array([], "datetime64[D]")
    )
    pt, truth = _person_table(
        rng,
        rates,
        reg,
        places,
        pupils,
        first_jan,
        "IRN",
        "I",
        sex_styles=(("M", "F", ""),),
        with_nhs=False,
    )
    irn_of = dict(zip(pupils.tolist(), pt["IRN"].tolist(), strict=True))
    pc = reg.postcode_on(person, np.array([_date(int(y), 1, 15) for y in year]))
    q = places.postcode_quintile(pc)
    fsm = rng.random(len(person)) < np.clip(
        0.35 - 0.06 * (q - 1) + 0.05 * np.minimum(reg.adversity[person], 3), 0.02, 0.8
    )
    sen = rng.choice(np.array(SEN, dtype=object), len(person), p=[0.78, 0.10, 0.09, 0.03])
    la = places.postcode_la(pc)
    lea = np.array(names.LA_CODES + (0,) * (len(names.LOCAL_AUTHORITIES) - len(names.LA_CODES)))[la]
    school = ids(rng, "", max(1, len(places.lsoa) // 3), 6)
    estab = school[places.postcode_lsoa[pc] // 3 % len(school)]
    census = pa.table(
        {
            "IRN": np.array([irn_of[p] for p in person.tolist()], dtype=object),
            "YEAR": np.char.add(year.astype(str), "01").astype(object),
            "LEA": lea.astype(np.int64),
            "ESTAB": estab,
            "SENPROVISION": sen,
            "FSMELIGIBLE": fsm.astype(np.int64).astype(str).astype(object),
        }
    )
    pt.pop("NHS_NUMBER", None)
    return {"PUPIL_ALF": pa.table(pt), "PUPIL": census}, {"PUPIL_ALF": truth}


def lacw(
    rng: np.random.Generator,
    rates: ErrorRates,
    reg: Register,
    places: Places,
    cases: Cases,
    end_year: int,
) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:
    """Looked-after episodes of Welsh public-law subjects, plus some voluntary accommodation."""
    end = _date(end_year, 12, 31)
    pub = (cases.law[cases.subject_case] == "Public") & cases.wales[cases.subject_case]
    child = cases.subject_child[pub]
    case = cases.subject_case[pub]
    outcome = cases.outcome[case]
    start = cases.issue[case]
    done = cases.completed[case]
    care = np.isin(outcome, ["Care Order", "Placement Order", "Special Guardianship Order"]) | (
        outcome == ""
    )
    icO = rng.random(len(child)) < np.where(care, 0.9, 0.4)
    # episode 1: interim care order from issue to the final hearing (or still open)
    ep_child, ep_start, ep_end, ep_legal, ep_place, ep_reason_end = [], [], [], [], [], []
    c1 = icO
    ep_child.append(child[c1])
    ep_start.append(start[c1])
    ep_end.append(done[c1])
    ep_legal.append(np.full(int(c1.sum()), "C1", dtype=object))
    ep_place.append(rng.choice(np.array(["F1", "F2", "F4", "P1"], dtype=object), int(c1.sum())))
    fin = outcome[c1]
    ep_reason_end.append(
        np.select(
            [
                fin == "",
                np.isin(fin, ["Care Order", "Placement Order"]),
                fin == "Special Guardianship Order",
            ],
            ["", "X1", "E43"],
            "E4",
        ).astype(object)
    )
    # episode 2: care or placement order after the final hearing
    c2 = c1 & np.isin(outcome, ["Care Order", "Placement Order"])
    s2 = done[c2]
    adopt = outcome[c2] == "Placement Order"
    e2 = np.where(
        adopt,
        s2 + rng.integers(200, 500, int(c2.sum())).astype("timedelta64[D]"),
        np.datetime64("NaT"),
    )
    e2 = np.where(e2 <= end, e2, np.datetime64("NaT"))
    ep_child.append(child[c2])
    ep_start.append(s2)
    ep_end.append(e2)
    ep_legal.append(np.where(adopt, "E1", "C2").astype(object))
    ep_place.append(np.where(adopt, "A3", "F1").astype(object))
    ep_reason_end.append(np.where(np.isnat(e2), "", "E11").astype(object))
    # voluntary accommodation (s76) for a few other children in high-adversity families
    kids = np.flatnonzero(reg.mother >= 0)
    w = reg.adversity[kids]
    v = kids[rng.random(len(kids)) < np.clip(w * 0.0008, 0, 0.05)]
    v_start = np.maximum(reg.dob[v], _date(end_year - 9)) + rng.integers(0, 3000, len(v)).astype(
        "timedelta64[D]"
    )
    ok = (v_start <= end) & ((v_start - reg.dob[v]) < _days(17))
    v, v_start = v[ok], v_start[ok]
    v_end = v_start + rng.integers(20, 400, len(v)).astype("timedelta64[D]")
    v_end = np.where(v_end <= end, v_end, np.datetime64("NaT"))
    ep_child.append(v)
    ep_start.append(v_start)
    ep_end.append(v_end)
    ep_legal.append(np.full(len(v), "V2", dtype=object))
    ep_place.append(rng.choice(np.array(["F1", "H3"], dtype=object), len(v)))
    ep_reason_end.append(np.where(np.isnat(v_end), "", "E4").astype(object))
    e_child = np.concatenate(ep_child)
    e_start = np.concatenate(ep_start)
    e_end = np.concatenate(ep_end)
    order = np.lexsort((e_start, e_child))
    e_child, e_start, e_end = e_child[order], e_start[order], e_end[order]
    legal = np.concatenate(ep_legal)[order]
    place = np.concatenate(ep_place)[order]
    reason_end = np.concatenate(ep_reason_end)[order]
    looked_after, first = np.unique(e_child, return_index=True)
    pt, truth = _person_table(
        rng,
        rates,
        reg,
        places,
        looked_after,
        e_start[first],
        "LAC_ID",
        "LA",
        sex_styles=(("1", "2", ""),),
    )
    la_idx = places.postcode_la(reg.postcode_on(looked_after, e_start[first]))
    la_code = np.array(
        names.LA_CODES + (0,) * (len(names.LOCAL_AUTHORITIES) - len(names.LA_CODES))
    )[la_idx]
    pt["LOCAL_AUTHORITY_CODE"] = la_code.astype(str).astype(object)
    id_of = dict(zip(looked_after.tolist(), pt["LAC_ID"].tolist(), strict=True))
    ep_no = np.arange(len(e_child)) - np.repeat(first, np.diff(np.r_[first, len(e_child)]))
    episodes = pa.table(
        {
            "LAC_ID": np.array([id_of[c] for c in e_child.tolist()], dtype=object),
            "EPISODE_NUMBER": ep_no + 1,
            "EPISODE_START_DATE": fmt_dates(e_start),
            "EPISODE_END_DATE": fmt_dates(e_end),
            "REASON_EPISODE_STARTED_CODE": np.where(ep_no == 0, "S", "L").astype(object),
            "REASON_EPISODE_FINISHED_CODE": np.where(reason_end == "", None, reason_end).astype(
                object
            ),
            "LEGAL_STATUS_CODE": legal,
            "PLACEMENT_TYPE_CODE": place,
            "CATEGORY_OF_NEED_CODE": np.where(legal == "V2", "N5", "N1").astype(object),
        }
    )
    return {"CHILD": pa.table(pt), "EPISODE": episodes}, {"CHILD": truth}


def wdsd(
    rng: np.random.Generator,
    rates: ErrorRates,
    reg: Register,
    places: Places,
    start_year: int,
    end_year: int,
) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:
    """The demographic service's own extract for the bank: people and address periods (LSOA)."""
    n = len(reg)
    when = np.full(n, _date(end_year, 12, 31))
    idx = np.arange(n)
    pt, truth = _person_table(
        rng, rates, reg, places, idx, when, "PERS_ID", "W", sex_styles=(("1", "2", ""),)
    )
    pt["DOD"] = fmt_dates(reg.dod)
    pers_of = pt["PERS_ID"]
    lsoa = places.lsoa[places.postcode_lsoa[reg.address_postcode[reg.hist_address]]]
    welsh = places.postcode_in_wales(reg.address_postcode[reg.hist_address])
    ralf = ids(rng, "R", len(reg.address_postcode), 10)
    addr = pa.table(
        {
            "PERS_ID": pers_of[reg.hist_person],
            "RALF": ralf[reg.hist_address],
            "POSTCODE": places.postcode[reg.address_postcode[reg.hist_address]].astype(object),
            "FROM_DT": fmt_dates(reg.hist_from),
            "TO_DT": fmt_dates(reg.hist_to),
            "LSOA2011_CD": lsoa.astype(object),
            "WELSH_ADDRESS": welsh.astype(np.int64).astype(str).astype(object),
        }
    )
    return {"AR_PERS": pa.table(pt), "AR_PERS_ADD": addr}, {"AR_PERS": truth}
