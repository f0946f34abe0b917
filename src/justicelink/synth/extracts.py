"""Provider extracts as the providers hold them (with identifiers), plus the truth behind them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from justicelink.synth import errors as err
from justicelink.synth import names
from justicelink.synth.cafcass import Cases
from justicelink.synth.population import Places, Register

OUTCOMES = (
    "Care Order", "Supervision Order", "Placement Order", "Special Guardianship Order",
    "Child Arrangements Order", "No Order", "Withdrawn",
)  # fmt: skip
OUTCOME_P = (0.42, 0.12, 0.16, 0.14, 0.08, 0.05, 0.03)


def _ids(rng: np.random.Generator, prefix: str, n: int) -> np.ndarray:
    """Distinct provider ids such as 'CP00412345' (random, so order reveals nothing)."""
    nums = rng.choice(10**8, size=n, replace=False) if n else np.array([], dtype=np.int64)
    return np.char.add(prefix, np.char.zfill(nums.astype(str), 8)).astype(object)


def postcode_at(reg: Register, places: Places, idx: np.ndarray, when: np.ndarray) -> np.ndarray:
    """The person's postcode on a date (earlier address before a move)."""
    moved = reg.postcode_before[idx] >= 0
    earlier = moved & (when < reg.moved_on[idx])
    pc = np.where(earlier, reg.postcode_before[idx], reg.postcode_now[idx])
    return places.postcode[pc].astype(object)


def _fmt_dates(d: np.ndarray, fmt: str) -> np.ndarray:
    s = np.datetime_as_string(d, unit="D").astype(object)
    if fmt == "%d/%m/%Y":
        s = np.array(
            [f"{v[8:10]}/{v[5:7]}/{v[0:4]}" if v != "NaT" else None for v in s], dtype=object
        )
    else:
        s = np.array([None if v == "NaT" else v for v in s], dtype=object)
    return s


def _sex_text(rng: np.random.Generator, sex: np.ndarray) -> np.ndarray:
    styles = rng.integers(0, 3, size=len(sex))
    m = np.array(["M", "1", "Male"], dtype=object)
    f = np.array(["F", "2", "Female"], dtype=object)
    return np.where(sex == 1, m[styles], f[styles])


def apply_person_errors(
    rng: np.random.Generator,
    rates: err.ErrorRates,
    reg: Register,
    places: Places,
    idx: np.ndarray,
    when: np.ndarray,
    is_child: np.ndarray,
    is_newborn: np.ndarray,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Identifier columns of the provider's records for register people ``idx`` seen on ``when``."""
    n = len(idx)
    flags: dict[str, np.ndarray] = {}

    def flag(name: str, p: float | np.ndarray) -> np.ndarray:
        f = rng.random(n) < p
        flags[name] = f
        return f

    nhs = reg.nhs_number[idx].astype(object)
    f = flag("nhs_missing", np.where(is_child, rates.nhs_missing_child, rates.nhs_missing_adult))
    nhs[f] = None
    f = flag("nhs_mistyped", rates.nhs_mistyped) & ~flags["nhs_missing"]
    flags["nhs_mistyped"] = f
    nhs[f] = err.mistype_nhs(rng, nhs[f])
    spaced = rng.random(n) < 0.2
    nhs = np.array(
        [f"{v[:3]} {v[3:6]} {v[6:]}" if s and v else v for v, s in zip(nhs, spaced, strict=True)],
        dtype=object,
    )
    fore = reg.forename[idx].copy()
    f = flag("nickname", rates.nickname)
    fore[f] = err.nickname(fore[f])
    f = flag("forename_typo", rates.forename_typo)
    fore[f] = err.typo(rng, fore[f])
    f = flag("baby_forename", np.where(is_newborn, rates.baby_forename_newborn, 0.0))
    fore[f] = "BABY"
    sur = reg.surname[idx].copy()
    dob = reg.dob[idx].copy()
    f = flag("dob_day_month_swap", rates.dob_day_month_swap)
    dob[f] = err.swap_day_month(dob[f])
    pc = postcode_at(reg, places, idx, when)
    f = flag("postcode_stale", rates.postcode_stale) & (reg.postcode_before[idx] >= 0)
    flags["postcode_stale"] = f
    pc[f] = places.postcode[reg.postcode_before[idx][f]]
    f = flag("postcode_missing", rates.postcode_missing)
    pc[f] = None
    # presentation noise the split must normalise: case and spacing
    lower = rng.random(n) < 0.1
    pc = np.array(
        [v.lower().replace(" ", "") if (v and lw) else v for v, lw in zip(pc, lower, strict=True)],
        dtype=object,
    )
    sex = _sex_text(rng, reg.sex[idx])
    f = flag("sex_missing", rates.sex_missing)
    sex[f] = None
    cols = {
        "NHS_NUMBER": nhs,
        "FORENAME": fore,
        "SURNAME": sur,
        "DOB": dob,
        "SEX": sex,
        "POSTCODE": pc,
    }
    return cols, flags


def cafcass_tables(
    rng: np.random.Generator, reg: Register, places: Places, cases: Cases
) -> tuple[dict[str, pa.Table], pa.Table]:
    n_cases = len(cases.mother)
    # fathers recorded on 70% of cases where the subject has a father on the register
    sub_father = reg.father[cases.subject_child]
    rec_case = rng.random(n_cases) < 0.7
    has_f = (sub_father >= 0) & rec_case[cases.subject_case]
    f_case = cases.subject_case[has_f]
    f_person = sub_father[has_f]
    pair = (
        np.unique(np.stack([f_case, f_person], axis=1), axis=0)
        if len(f_case)
        else np.zeros((0, 2), np.int64)
    )
    # everyone on a case: subjects, the mother, fathers
    role_case = np.concatenate([cases.subject_case, np.arange(n_cases), pair[:, 0]])
    role_person = np.concatenate([cases.subject_child, cases.mother, pair[:, 1]])
    role_name = np.concatenate(
        [np.full(len(cases.subject_case), "Subject"), np.full(n_cases + len(pair), "Respondent")]
    ).astype(object)
    people, first_seen = np.unique(role_person, return_index=True)
    person_ids = _ids(rng, "CP", len(people))
    pid_of = dict(zip(people.tolist(), person_ids.tolist(), strict=True))
    first_case = role_case[first_seen]
    when = cases.issue[first_case]
    is_child = np.isin(people, cases.subject_child)
    newborn_children = cases.subject_child[cases.newborn[cases.subject_case]]
    is_newborn = np.isin(people, newborn_children)
    ident, flags = apply_person_errors(
        rng, err.CAFW_ERRORS, reg, places, people, when, is_child, is_newborn
    )
    eth = rng.choice(
        np.array(names.ETHNICITIES, dtype=object), size=len(people), p=names.ETHNICITY_WEIGHTS
    )
    person = pa.table(
        {
            "PERSON_ID": person_ids,
            "NHS_NUMBER": ident["NHS_NUMBER"],
            "FORENAME": ident["FORENAME"],
            "SURNAME": ident["SURNAME"],
            "DOB": _fmt_dates(ident["DOB"], "%d/%m/%Y"),
            "SEX": ident["SEX"],
            "POSTCODE": ident["POSTCODE"],
            "ETHNICITY": eth,
            "NOTES": np.full(len(people), "Case worker notes (free text).", dtype=object),
        }
    )
    truth = pa.table(
        {
            "PERSON_ID": person_ids,
            "register_person_id": reg.person_id[people],
            **{f"err_{k}": v for k, v in flags.items()},
        }
    )
    case_ids = _ids(rng, "CI", n_cases)
    app_ids = _ids(rng, "CA", n_cases)
    mother_pc_lsoa = places.postcode_lsoa[reg.postcode_now[cases.mother]]
    la = places.lsoa_la[mother_pc_lsoa]
    issue_s = _fmt_dates(cases.issue, "%Y-%m-%d")
    incident = pa.table(
        {
            "CAP_INCIDENTID": case_ids,
            "CAP_LAWTYPENAME": np.full(n_cases, "Public", dtype=object),
            "CAP_LOCALAUTHORITYNAME": np.array(names.LOCAL_AUTHORITIES, dtype=object)[la],
            "CAP_COURTIDNAME": np.array(names.COURTS, dtype=object)[np.array(names.LA_COURT)[la]],
            "CAP_CREATEDON": _fmt_dates(
                cases.issue - rng.integers(0, 4, n_cases).astype("timedelta64[D]"), "%Y-%m-%d"
            ),
        }
    )
    care = rng.random(n_cases) < 0.85
    done = cases.issue + rng.integers(120, 400, n_cases).astype("timedelta64[D]")
    application = pa.table(
        {
            "CAP_APPLICATIONID": app_ids,
            "CAP_INCIDENTID": case_ids,
            "CAP_LAWTYPENAME": np.full(n_cases, "Public", dtype=object),
            "CAP_PRIMARYAPPLICATIONTYPENAME": np.where(
                care, "Care Order (s31)", "Supervision Order (s31)"
            ).astype(object),
            "CAP_RECEIPTDATE": _fmt_dates(
                cases.issue - rng.integers(0, 3, n_cases).astype("timedelta64[D]"), "%Y-%m-%d"
            ),
            "CAP_ISSUEDATE": issue_s,
            "CAP_DATEOFCOMPLETION": _fmt_dates(done, "%Y-%m-%d"),
            "CASE_NOTES": np.full(
                n_cases, "Chronology and threshold notes (free text).", dtype=object
            ),
        }
    )
    users = pa.table(
        {
            "RECORD1ID": app_ids[role_case],
            "RECORD2ID": np.array([pid_of[p] for p in role_person.tolist()], dtype=object),
            "RECORD2ROLEIDNAME": role_name,
        }
    )
    # relationships: each case's mother and recorded father to each subject
    rel_parent = np.concatenate([cases.mother[cases.subject_case], sub_father[has_f]])
    rel_child = np.concatenate([cases.subject_child, cases.subject_child[has_f]])
    rel = np.unique(np.stack([rel_parent, rel_child], axis=1), axis=0)
    relationships = pa.table(
        {
            "RECORD1ID": np.array([pid_of[p] for p in rel[:, 0].tolist()], dtype=object),
            "RECORD2ID": np.array([pid_of[c] for c in rel[:, 1].tolist()], dtype=object),
            "RECORD1ROLEIDNAME": np.full(len(rel), "Parent", dtype=object),
            "RECORD2ROLEIDNAME": np.full(len(rel), "Child", dtype=object),
        }
    )
    outcome = rng.choice(np.array(OUTCOMES, dtype=object), size=n_cases, p=OUTCOME_P)
    orders = pa.table(
        {
            "CAP_APPLICATIONID": app_ids,
            "CAP_ORDERTYPENAME": outcome,
            "CAP_ORDERDATE": _fmt_dates(done, "%Y-%m-%d"),
        }
    )
    tables = {
        "CAFCASS_PERSON": person,
        "CAFCASS_INCIDENT": incident,
        "CAFCASS_APPLICATION": application,
        "CAFCASS_APPLICATIONSERVICEUSERS": users,
        "CAFCASS_RELATIONSHIPS": relationships,
        "CAFCASS_APPLICATIONORDERS": orders,
    }
    return tables, truth


def births_table(
    rng: np.random.Generator, reg: Register, places: Places, start_year: int, end_year: int
) -> tuple[pa.Table, pa.Table]:
    lo = np.datetime64(f"{start_year}-01-01")
    hi = np.datetime64(f"{end_year}-12-31")
    kids = np.flatnonzero((reg.dob >= lo) & (reg.dob <= hi) & (reg.mother >= 0))
    n = len(kids)
    when = reg.dob[kids]
    ident, flags = apply_person_errors(
        rng, err.NCCH_ERRORS, reg, places, kids, when, np.ones(n, bool), np.ones(n, bool)
    )
    mom = reg.mother[kids]
    m_ident, m_flags = apply_person_errors(
        rng, err.NCCH_ERRORS, reg, places, mom, when, np.zeros(n, bool), np.zeros(n, bool)
    )
    twin = np.zeros(n, dtype=np.int64)
    key = np.stack([mom, reg.dob[kids].astype(np.int64)], axis=1)
    _, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    tot = counts[inv.ravel()]
    order = np.zeros(n, dtype=np.int64)
    srt = np.lexsort((kids, inv.ravel()))
    grp = inv.ravel()[srt]
    starts = np.r_[0, np.flatnonzero(np.diff(grp)) + 1]
    rank = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    order[srt] = rank + 1
    twin[:] = tot
    preterm = rng.random(n) < np.where(tot > 1, 0.5, 0.07)
    gest = np.where(preterm, rng.integers(26, 37, n), rng.integers(37, 42, n))
    weight = np.round(np.clip(rng.normal(3.4, 0.5, n) - (40 - gest) * 0.18, 0.5, 5.5), 3)
    births = pa.table(
        {
            "CHILD_ID": _ids(rng, "NB", n),
            "NHS_NUMBER": ident["NHS_NUMBER"],
            "FORENAME": ident["FORENAME"],
            "SURNAME": ident["SURNAME"],
            "DOB": _fmt_dates(ident["DOB"], "%Y-%m-%d"),
            "SEX": ident["SEX"],
            "POSTCODE": ident["POSTCODE"],
            "MAT_NHS_NUMBER": m_ident["NHS_NUMBER"],
            "MAT_FORENAME": m_ident["FORENAME"],
            "MAT_SURNAME": m_ident["SURNAME"],
            "MAT_DOB": _fmt_dates(m_ident["DOB"], "%Y-%m-%d"),
            "BIRTH_WEIGHT": weight,
            "GEST_AGE": gest.astype(np.int64),
            "BIRTH_ORDER": order,
            "TOT_BIRTH_NUM": twin,
            "STILLBIRTH_FLG": (rng.random(n) < 0.004).astype(np.int64).astype(str).astype(object),
        }
    )
    truth = pa.table(
        {
            "CHILD_ID": births.column("CHILD_ID"),
            "register_person_id": reg.person_id[kids],
            "register_mother_person_id": reg.person_id[mom],
            **{f"err_{k}": v for k, v in flags.items()},
            **{f"err_mat_{k}": v for k, v in m_flags.items()},
        }
    )
    return births, truth
