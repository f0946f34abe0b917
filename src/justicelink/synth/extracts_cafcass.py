"""Cafcass Cymru (CAFW) and Cafcass England ECMS (CAFE) extracts, as each provider holds them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from justicelink.synth import names
from justicelink.synth.cafcass import Cases, hearings
from justicelink.synth.config import ErrorRates
from justicelink.synth.errors import fmt_dates, fmt_nhs, fmt_postcode, fmt_sex, person_records
from justicelink.synth.population import Places, Register


def ids(rng: np.random.Generator, prefix: str, n: int, digits: int = 9) -> np.ndarray:
    """Distinct random provider ids such as 'CP004123456' (order reveals nothing)."""
    if n == 0:
        return np.array([], dtype=object)
    nums = rng.choice(10**digits, size=n, replace=False)
    return np.char.add(prefix, np.char.zfill(nums.astype(str), digits)).astype(object)


def _people(
    rng: np.random.Generator, rates: ErrorRates, reg: Register, cases: Cases, sel: np.ndarray
) -> dict[str, np.ndarray]:
    """Everyone on the selected cases, one row per (case, person, role); duplicates planted."""
    sel_set = np.zeros(len(cases), bool)
    sel_set[sel] = True
    s = sel_set[cases.subject_case]
    p = sel_set[cases.party_case]
    case = np.concatenate([cases.subject_case[s], cases.party_case[p]])
    person = np.concatenate([cases.subject_child[s], cases.party_person[p]])
    role = np.concatenate([np.full(int(s.sum()), "Subject", dtype=object), cases.party_role[p]])
    order = np.lexsort((case, person))
    case, person, role = case[order], person[order], role[order]
    # a person's rows after their first case are sometimes recorded under a new (duplicate) id
    first_case = np.r_[True, person[1:] != person[:-1]]
    first_of = np.maximum.accumulate(np.where(first_case, np.arange(len(person)), 0))
    later = case != case[first_of]
    dup = later & (rng.random(len(person)) < rates.duplicate_record)
    return {"case": case, "person": person, "role": role, "dup": dup}


def _person_records(
    rng: np.random.Generator,
    rates: ErrorRates,
    reg: Register,
    places: Places,
    cases: Cases,
    rows: dict[str, np.ndarray],
    prefix: str,
) -> tuple[dict[str, np.ndarray], np.ndarray, pa.Table]:
    """One record per distinct person (plus one per duplicate row); the id of every role row."""
    key = np.where(rows["dup"], -1 - np.arange(len(rows["person"])), rows["person"])
    uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
    rec_person = rows["person"][first]
    rec_case = rows["case"][first]
    when = cases.issue[rec_case]
    subj = cases.subject_child
    is_child = np.isin(rec_person, subj)
    newborn_kids = subj[cases.newborn[cases.subject_case]]
    is_newborn = np.isin(rec_person, newborn_kids) & ((when - reg.dob[rec_person]).astype(int) < 14)
    cols, flags = person_records(
        rng, rates, reg, places, rec_person, when, is_child=is_child, is_newborn=is_newborn
    )
    rec_ids = ids(rng, prefix, len(uniq))
    stranger = flags["not_on_register"]
    truth = pa.table(
        {
            "record_id": rec_ids,
            "register_person_id": pa.array(
                np.where(stranger, 0, reg.person_id[rec_person]), mask=stranger
            ),
            "duplicate": rows["dup"][first],
            **{f"err_{k}": v for k, v in flags.items()},
        }
    )
    return cols, rec_ids[inv.ravel()], truth


def _relationships(reg: Register, cases: Cases, sel: np.ndarray, rows: dict, row_ids: np.ndarray):
    """(parent id, child id) pairs: each case's parents to that case's subjects."""
    sel_set = np.zeros(len(cases), bool)
    sel_set[sel] = True
    # ids by (case, person) from the role rows
    lookup = {
        (c, p): i
        for c, p, i in zip(
            rows["case"].tolist(), rows["person"].tolist(), row_ids.tolist(), strict=True
        )
    }
    out = set()
    party_by_case: dict[int, list[int]] = {}
    for c, p in zip(cases.party_case.tolist(), cases.party_person.tolist(), strict=True):
        if sel_set[c]:
            party_by_case.setdefault(c, []).append(p)
    for c, ch in zip(cases.subject_case.tolist(), cases.subject_child.tolist(), strict=True):
        if not sel_set[c]:
            continue
        for parent in party_by_case.get(c, []):
            if reg.mother[ch] == parent or reg.father[ch] == parent:
                out.add((lookup[(c, parent)], lookup[(c, ch)]))
    pairs = sorted(out)
    return (
        np.array([a for a, _ in pairs], dtype=object),
        np.array([b for _, b in pairs], dtype=object),
    )


def _hearing_outcome_labels(rng: np.random.Generator, cases: Cases, h: dict) -> np.ndarray:
    interim_public = np.array(["Interim Care Order", "Directions", "Adjourned"], dtype=object)
    interim_private = np.array(
        ["Directions", "Interim Child Arrangements Order", "Adjourned"], dtype=object
    )
    n = len(h["case"])
    public = cases.law[h["case"]] == "Public"
    pick = rng.integers(0, 3, n)
    label = np.where(public, interim_public[pick], interim_private[pick])
    return np.where(h["final"], cases.outcome[h["case"]], label)


def cafw_tables(
    rng: np.random.Generator,
    rates: ErrorRates,
    reg: Register,
    places: Places,
    cases: Cases,
    period_end,
) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:
    sel = np.flatnonzero(cases.wales)
    rows = _people(rng, rates, reg, cases, sel)
    cols, row_ids, truth = _person_records(rng, rates, reg, places, cases, rows, "CP")
    n_p = len(truth)
    eth = rng.choice(np.array(names.ETHNICITIES, dtype=object), size=n_p, p=names.ETHNICITY_WEIGHTS)
    person = pa.table(
        {
            "PERSON_ID": truth.column("record_id"),
            "NHS_NUMBER": fmt_nhs(rng, cols["nhs"]),
            "FORENAME": cols["forename"],
            "SURNAME": cols["surname"],
            "DOB": fmt_dates(cols["dob"], "%d/%m/%Y"),
            "SEX": fmt_sex(rng, cols["sex"], (("M", "F", ""), ("Male", "Female", "Unknown"))),
            "POSTCODE": fmt_postcode(rng, cols["postcode"]),
            "ETHNICITY": eth,
            "NOTES": np.full(n_p, "Case worker notes (free text).", dtype=object),
        }
    )
    n = len(sel)
    case_ids = ids(rng, "CI", n)
    app_ids = ids(rng, "CA", n)
    pos = np.full(len(cases), -1)
    pos[sel] = np.arange(n)
    issue = cases.issue[sel]
    la_names = np.array(names.LOCAL_AUTHORITIES, dtype=object)[cases.la[sel]]
    court = np.array(names.COURTS, dtype=object)[np.array(names.LA_COURT)[cases.la[sel]]]
    incident = pa.table(
        {
            "CAP_INCIDENTID": case_ids,
            "CAP_LAWTYPENAME": cases.law[sel],
            "CAP_LOCALAUTHORITYNAME": np.where(cases.law[sel] == "Public", la_names, None),
            "CAP_COURTIDNAME": court,
            "CAP_CREATEDON": fmt_dates(issue - rng.integers(0, 4, n).astype("timedelta64[D]")),
        }
    )
    application = pa.table(
        {
            "CAP_APPLICATIONID": app_ids,
            "CAP_INCIDENTID": case_ids,
            "CAP_LAWTYPENAME": cases.law[sel],
            "CAP_PRIMARYAPPLICATIONTYPENAME": np.array(
                [t.split(" - ")[0] for t in cases.app_type[sel]], dtype=object
            ),
            "CAP_RECEIPTDATE": fmt_dates(issue - rng.integers(0, 3, n).astype("timedelta64[D]")),
            "CAP_ISSUEDATE": fmt_dates(issue),
            "CAP_DATEOFCOMPLETION": fmt_dates(cases.completed[sel]),
            "CASE_NOTES": np.full(n, "Chronology and threshold notes (free text).", dtype=object),
        }
    )
    orders = pa.table(
        {
            "CAP_APPLICATIONORDERID": ids(rng, "CO", n),
            "CAP_APPLICATIONID": app_ids,
            "CAP_ORDERTYPENAME": np.array(
                [t.replace(" (s31)", "") for t in cases.app_type[sel]], dtype=object
            ),
        }
    )
    users = pa.table(
        {
            "RECORD1ID": app_ids[pos[rows["case"]]],
            "RECORD2ID": row_ids,
            "RECORD1ROLEIDNAME": np.full(len(row_ids), "Application", dtype=object),
            "RECORD2ROLEIDNAME": rows["role"],
        }
    )
    parent, child = _relationships(reg, cases, sel, rows, row_ids)
    relationships = pa.table(
        {
            "RECORD1ID": parent,
            "RECORD2ID": child,
            "RECORD1ROLEIDNAME": np.full(len(parent), "Parent", dtype=object),
            "RECORD2ROLEIDNAME": np.full(len(parent), "Child", dtype=object),
        }
    )
    h = hearings(rng, cases, period_end)
    hs = pos[h["case"]] >= 0
    h = {k: v[hs] for k, v in h.items()}
    nh = len(h["case"])
    hearing_ids = ids(rng, "CH", nh)
    outcome_ids = ids(rng, "HO", nh)
    hc = pos[h["case"]]
    hearing = pa.table(
        {
            "CAP_HEARINGID": hearing_ids,
            "CAP_CASEID": case_ids[hc],
            "CAP_HEARINGDATETIME": fmt_dates(h["date"]),
            "CAP_COURTIDNAME": court[hc],
        }
    )
    outcome = pa.table(
        {
            "CAP_HEARINGOUTCOMEID": outcome_ids,
            "CAP_HEARINGID": hearing_ids,
            "CAP_CASEID": case_ids[hc],
            "CAP_HEARINGOUTCOMEFINALNAME": np.where(h["final"], "Yes", "No").astype(object),
            "CAP_HEARINGOUTCOMETYPEIDNAME": _hearing_outcome_labels(rng, cases, h),
        }
    )
    outcome_app = pa.table(
        {
            "CAP_CASEID": case_ids[hc],
            "CAP_HEARINGOUTCOMEID": outcome_ids,
            "CAP_APPLICATIONID": app_ids[hc],
        }
    )
    tables = {
        "CAFCASS_PERSON": person,
        "CAFCASS_INCIDENT": incident,
        "CAFCASS_APPLICATION": application,
        "CAFCASS_APPLICATIONORDERS": orders,
        "CAFCASS_APPLICATIONSERVICEUSERS": users,
        "CAFCASS_RELATIONSHIPS": relationships,
        "CAFCASS_HEARING": hearing,
        "CAFCASS_HEARINGOUTCOME": outcome,
        "CAFCASS_HEARINGOUTCOMEAPPLICATION": outcome_app,
    }
    case_truth = pa.table(
        {
            "CAP_INCIDENTID": case_ids,
            "CAP_APPLICATIONID": app_ids,
            "newborn": cases.newborn[sel],
            "returning_mother": cases.returning[sel],
            "mother_register_person_id": pa.array(
                np.where(
                    cases.mother[sel] >= 0, reg.person_id[np.maximum(cases.mother[sel], 0)], 0
                ),
                mask=cases.mother[sel] < 0,
            ),
        }
    )
    return tables, {"CAFCASS_PERSON": truth, "CASES": case_truth}


ECMS_LAWTYPES = ((1, "Public Law"), (2, "Private Law"))
ECMS_APPLICATIONTYPES = (
    (1, "Care Order (s31)"), (2, "Supervision Order (s31)"), (3, "Placement Order"),
    (10, "Child Arrangements Order - Lives With"), (11, "Child Arrangements Order - Spend Time With"),
    (12, "Prohibited Steps Order"), (13, "Specific Issue Order"),
)  # fmt: skip
ECMS_LEGALOUTPUTTYPES = (
    (1, "Care Order"), (2, "Supervision Order"), (3, "Placement Order"),
    (4, "Special Guardianship Order"), (5, "Child Arrangements Order"), (6, "No Order"),
    (7, "Withdrawn"), (8, "Prohibited Steps Order"), (9, "Specific Issue Order"),
)  # fmt: skip
ECMS_RELATIONSHIPTYPES = ((1, "Parent"), (2, "Child"))


def _code(pairs: tuple, labels: np.ndarray) -> np.ndarray:
    m = {name: code for code, name in pairs}
    return np.array([m[v] for v in labels], dtype=np.int64)


def cafe_tables(
    rng: np.random.Generator, rates: ErrorRates, reg: Register, places: Places, cases: Cases
) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:
    sel = np.flatnonzero(~cases.wales)
    rows = _people(rng, rates, reg, cases, sel)
    cols, row_ids, truth = _person_records(rng, rates, reg, places, cases, rows, "EP")
    len(truth)
    people = pa.table(
        {
            "ID": truth.column("record_id"),
            "NHSNUMBER": cols["nhs"],
            "FIRSTNAME": np.array([v.title() if v else v for v in cols["forename"]], dtype=object),
            "LASTNAME": np.array([v.title() if v else v for v in cols["surname"]], dtype=object),
            "DATEOFBIRTH": fmt_dates(cols["dob"]),
            "GENDER": fmt_sex(rng, cols["sex"], (("Male", "Female", ""),)),
            "POSTCODE": fmt_postcode(rng, cols["postcode"], messy=0.0),
        }
    )
    n = len(sel)
    case_ids = ids(rng, "EC", n)
    app_ids = ids(rng, "EA", n)
    pos = np.full(len(cases), -1)
    pos[sel] = np.arange(n)
    issue = cases.issue[sel]
    cases_t = pa.table(
        {
            "ID": case_ids,
            "LAWTYPE_ID": np.where(cases.law[sel] == "Public", 1, 2),
            "LOCALAUTHORITY_ID": cases.la[sel] + 1,
            "DATERECEIVED": fmt_dates(issue - rng.integers(0, 3, n).astype("timedelta64[D]")),
            "CLOSUREDATE": fmt_dates(cases.completed[sel]),
        }
    )
    apps = pa.table(
        {
            "ID": app_ids,
            "CASE_ID": case_ids,
            "APPLICATIONTYPE1_ID": _code(ECMS_APPLICATIONTYPES, cases.app_type[sel]),
            "DATEOFAPPLICATION": fmt_dates(issue),
            "DATECOMPLETED": fmt_dates(cases.completed[sel]),
        }
    )
    role = rows["role"]
    poa = pa.table(
        {
            "ID": ids(rng, "PA", len(row_ids)),
            "PERSON_ID": row_ids,
            "APPLICATION_ID": app_ids[pos[rows["case"]]],
            "ISSUBJECT": np.where(role == "Subject", "true", "false").astype(object),
            "ISRESPONDENT": np.where(role == "Respondent", "true", "false").astype(object),
            "ISAPPLICANT": np.where(role == "Applicant", "true", "false").astype(object),
            "ISOTHER": np.full(len(row_ids), "false", dtype=object),
        }
    )
    parent, child = _relationships(reg, cases, sel, rows, row_ids)
    rel = pa.table(
        {
            "ID": ids(rng, "PR", 2 * len(parent)),
            "PERSON_ID": np.concatenate([parent, child]),
            "RELATEDPERSON_ID": np.concatenate([child, parent]),
            "RELATIONSHIPTYPE_ID": np.concatenate(
                [np.full(len(parent), 1), np.full(len(parent), 2)]
            ),
        }
    )
    done = ~np.isnat(cases.completed[sel])
    s_sel = pos[rows["case"]] >= 0
    subj = s_sel & (role == "Subject")
    subj_case = pos[rows["case"][subj]]
    has_out = done[subj_case]
    lo = pa.table(
        {
            "ID": ids(rng, "LO", int(has_out.sum())),
            "PERSON_ID": row_ids[subj][has_out],
            "CASE_ID": case_ids[subj_case[has_out]],
            "APPLICATION_ID": app_ids[subj_case[has_out]],
            "LEGALOUTPUTTYPE_ID": _code(
                ECMS_LEGALOUTPUTTYPES, cases.outcome[sel][subj_case[has_out]]
            ),
            "DATEORDERED": fmt_dates(cases.completed[sel][subj_case[has_out]]),
        }
    )

    def lookup(pairs: tuple, label: str = "NAME") -> pa.Table:
        return pa.table({"ID": [c for c, _ in pairs], label: [n for _, n in pairs]})

    tables = {
        "ECMS_PEOPLE": people,
        "ECMS_CASES": cases_t,
        "ECMS_APPLICATIONS": apps,
        "ECMS_PERSONSONAPPLICATIONS": poa,
        "ECMS_PERSONRELATIONSHIPS": rel,
        "ECMS_LEGALOUTPUTS": lo,
        "ECMS_LAWTYPES": lookup(ECMS_LAWTYPES, "CAPTION"),
        "ECMS_APPLICATIONTYPES": lookup(ECMS_APPLICATIONTYPES),
        "ECMS_LEGALOUTPUTTYPES": lookup(ECMS_LEGALOUTPUTTYPES),
        "ECMS_RELATIONSHIPTYPES": lookup(ECMS_RELATIONSHIPTYPES),
        "ECMS_LOCALAUTHORITIES": pa.table(
            {
                "ID": list(range(1, len(names.LOCAL_AUTHORITIES) + 1)),
                "NAME": list(names.LOCAL_AUTHORITIES),
            }
        ),
    }
    return tables, {"ECMS_PEOPLE": truth}
