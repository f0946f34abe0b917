"""Family-court cases drawn from the register's families: public law and private law.

Public law (s31): each year, families are chosen with probability rising with the mother's latent
adversity; newborn proceedings (issued within 14 days of birth) are planted at a rate per 10,000
births that rises over 2015-2018; a share of mothers return to court, usually with a later baby
(a "subsequent infant"). Private law: separated parents apply about their children, at a rate per
10,000 families that falls with area deprivation; some apply again. Cases of families living in
England go to Cafcass England (ECMS), the rest to Cafcass Cymru.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from justicelink.synth import names
from justicelink.synth.config import Calibration
from justicelink.synth.population import YEAR_DAYS, Places, Register, _date, _days, _expand_ranges

PUBLIC_OUTCOMES = (
    "Care Order", "Supervision Order", "Placement Order", "Special Guardianship Order",
    "Child Arrangements Order", "No Order", "Withdrawn",
)  # fmt: skip
PUBLIC_OUTCOME_P = (0.40, 0.12, 0.18, 0.14, 0.08, 0.05, 0.03)
PRIVATE_TYPES = (
    "Child Arrangements Order - Lives With", "Child Arrangements Order - Spend Time With",
    "Prohibited Steps Order", "Specific Issue Order",
)  # fmt: skip
PRIVATE_TYPE_P = (0.35, 0.50, 0.09, 0.06)
PRIVATE_OUTCOMES = (
    "Child Arrangements Order", "Prohibited Steps Order", "Specific Issue Order", "No Order",
    "Withdrawn",
)  # fmt: skip
PRIVATE_OUTCOME_P = (0.70, 0.06, 0.04, 0.10, 0.10)


@dataclass
class Cases:
    """One row per case (one application per case), plus subject and party rows."""

    law: np.ndarray  # "Public" / "Private"
    issue: np.ndarray  # datetime64[D]
    completed: np.ndarray  # datetime64[D], NaT if still open at the end of the period
    app_type: np.ndarray  # primary application type label
    outcome: np.ndarray  # final order label ("" if open)
    newborn: np.ndarray  # bool: public-law case issued within 14 days of the subject's birth
    returning: np.ndarray  # bool: the mother had an earlier public-law case
    mother: np.ndarray  # register index (public law: the respondent mother; private: -1)
    la: np.ndarray  # local authority index of the family's address at issue
    wales: np.ndarray  # bool: Cafcass Cymru (else Cafcass England)
    subject_case: np.ndarray
    subject_child: np.ndarray
    party_case: np.ndarray
    party_person: np.ndarray
    party_role: np.ndarray  # "Applicant" / "Respondent"

    def __len__(self) -> int:
        return len(self.issue)


def _children_index(reg: Register) -> tuple[np.ndarray, np.ndarray]:
    kids = np.flatnonzero(reg.mother >= 0)
    order = kids[np.argsort(reg.mother[kids], kind="stable")]
    return order, reg.mother[order]


def _subjects_of(
    reg: Register,
    kids_sorted: np.ndarray,
    moms_sorted: np.ndarray,
    mothers: np.ndarray,
    when: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(case position, child) for each mother's children aged 14 days to 17 at ``when``."""
    lo = np.searchsorted(moms_sorted, mothers, side="left")
    hi = np.searchsorted(moms_sorted, mothers, side="right")
    owner, pos = _expand_ranges(lo, hi - lo)
    child = kids_sorted[pos]
    age = (when[owner] - reg.dob[child]).astype(np.int64) / YEAR_DAYS
    alive = np.isnat(reg.dod[child]) | (reg.dod[child] > when[owner])
    keep = (age >= 14 / YEAR_DAYS) & (age < 18) & alive
    return owner[keep], child[keep]


def _public_law(
    rng: np.random.Generator, reg: Register, cal: Calibration, start_year: int, end_year: int
) -> dict[str, np.ndarray]:
    kids_sorted, moms_sorted = _children_index(reg)
    end = _date(end_year, 12, 31)
    had_case = np.zeros(len(reg), dtype=bool)
    empty_i, empty_d = np.array([], np.int64), np.array([], "datetime64[D]")
    mothers, issues, newborn = [empty_i], [empty_d], [np.array([], bool)]
    sub_case, sub_child = [empty_i], [empty_i]
    n_cases = 0

    def add(m: np.ndarray, iss: np.ndarray, nb: np.ndarray, sc: np.ndarray, ch: np.ndarray) -> None:
        nonlocal n_cases
        mothers.append(m)
        issues.append(iss)
        newborn.append(nb)
        sub_case.append(sc + n_cases)
        sub_child.append(ch)
        n_cases += len(m)

    for year in range(start_year, end_year + 1):
        y0, y1 = _date(year), _date(year, 12, 31)
        born = np.flatnonzero((reg.dob >= y0) & (reg.dob <= y1) & (reg.mother >= 0))
        rate = cal.newborn_rate(year) / 10_000
        k = int(rng.binomial(len(born), rate)) if len(born) else 0
        if k:
            w = reg.adversity[born] + 1e-9
            pick = np.sort(rng.choice(born, size=k, replace=False, p=w / w.sum()))
            iss = np.minimum(
                reg.dob[pick] + rng.integers(0, 14, size=k).astype("timedelta64[D]"), end
            )
            add(reg.mother[pick], iss, np.ones(k, bool), np.arange(k), pick)
            had_case[reg.mother[pick]] = True
        mid = _date(year, 7, 1)
        age = (mid - reg.dob[kids_sorted]).astype(np.int64) / YEAR_DAYS
        under18 = (age >= 0) & (age < 18)
        elig = np.unique(moms_sorted[under18])
        elig = elig[(np.isnat(reg.dod[elig]) | (reg.dod[elig] > mid)) & ~had_case[elig]]
        n_target = int(under18.sum() * cal.child_case_rate_per_10k / 10_000 / cal.children_per_case)
        k = min(len(elig), int(rng.poisson(n_target)))
        if not k:
            continue
        w = reg.adversity[elig] ** 1.5 + 1e-9
        pick_m = np.sort(rng.choice(elig, size=k, replace=False, p=w / w.sum()))
        iss = rng.integers(y0.astype(np.int64), y1.astype(np.int64) + 1, size=k).astype(
            "datetime64[D]"
        )
        owner, child = _subjects_of(reg, kids_sorted, moms_sorted, pick_m, iss)
        has = np.zeros(k, dtype=bool)
        has[owner] = True
        remap = np.cumsum(has) - 1
        add(pick_m[has], iss[has], np.zeros(int(has.sum()), bool), remap[owner], child)
        had_case[pick_m[has]] = True

    first_m = np.concatenate(mothers)
    first_issue = np.concatenate(issues)
    # returns: a share of mothers come back, usually with a baby born after the first case
    ret = rng.random(len(first_m)) < cal.mother_return_probability
    cand_m, cand_issue = first_m[ret], first_issue[ret]
    lo = np.searchsorted(moms_sorted, cand_m, side="left")
    hi = np.searchsorted(moms_sorted, cand_m, side="right")
    owner, pos = _expand_ranges(lo, hi - lo)
    child = kids_sorted[pos]
    later = reg.dob[child] > cand_issue[owner] + np.timedelta64(270, "D")
    # earliest later-born child per returning mother
    best = np.full(len(cand_m), -1)
    order = np.lexsort((reg.dob[child[later]], owner[later]))
    o_l, c_l = owner[later][order], child[later][order]
    first = np.r_[True, o_l[1:] != o_l[:-1]] if len(o_l) else np.array([], bool)
    best[o_l[first]] = c_l[first]
    baby = best >= 0
    iss = np.where(baby, reg.dob[np.maximum(best, 0)], cand_issue) + np.where(
        baby, rng.integers(0, 14, len(cand_m)), rng.integers(365, 4 * 365, len(cand_m))
    ).astype("timedelta64[D]")
    ok = iss <= end
    nb_m, nb_iss, nb_child = cand_m[ok & baby], iss[ok & baby], best[ok & baby]
    add(nb_m, nb_iss, np.ones(len(nb_m), bool), np.arange(len(nb_m)), nb_child)
    other = ok & ~baby
    o_m, o_iss = cand_m[other], iss[other]
    owner, child = _subjects_of(reg, kids_sorted, moms_sorted, o_m, o_iss)
    has = np.zeros(len(o_m), dtype=bool)
    has[owner] = True
    remap = np.cumsum(has) - 1
    add(o_m[has], o_iss[has], np.zeros(int(has.sum()), bool), remap[owner], child)
    n_first = len(first_m)
    returning = np.zeros(n_cases, dtype=bool)
    returning[n_first:] = True
    return {
        "mother": np.concatenate(mothers),
        "issue": np.concatenate(issues),
        "newborn": np.concatenate(newborn),
        "returning": returning,
        "subject_case": np.concatenate(sub_case),
        "subject_child": np.concatenate(sub_child),
    }


def _private_law(
    rng: np.random.Generator,
    reg: Register,
    places: Places,
    cal: Calibration,
    start_year: int,
    end_year: int,
) -> tuple[dict[str, np.ndarray], dict]:
    """Separated parents' applications; returns the cases and the realised (planted) rates.

    A *family* is a living mother with a child under 18 on 1 July of the year, placed by
    her address that day: an analyst can see it in child health (mother-child links) and the
    demographic service (addresses). A family with a known father of one of those children
    applies at its quintile's rate (``cal.private_law_per_10k_families``); the other parent
    is that father. The recorded truth is per family, whatever the father: applications per
    10,000 families, by year and quintile, by local authority, and the share of first
    applications followed by a repeat within two years.
    """
    kids = np.flatnonzero(reg.mother >= 0)
    # the pair of each child with a known father, for the subjects of a case
    both = kids[reg.father[kids] >= 0]
    pair_key = reg.mother[both] * len(reg) + reg.father[both]
    order = np.argsort(pair_key, kind="stable")
    both, pair_key = both[order], pair_key[order]
    end = _date(end_year, 12, 31)
    out: dict[str, list[np.ndarray]] = {
        k: [] for k in ("mother", "app", "resp", "issue", "sc", "ch")
    }
    by_year: dict[str, dict[str, list[int]]] = {}
    by_la: dict[str, list[int]] = {}
    n_cases = 0
    for year in range(start_year, end_year + 1):
        mid = _date(year, 7, 1)
        age = (mid - reg.dob[kids]).astype(np.int64) / YEAR_DAYS
        young = (age >= 0) & (age < 18)
        fam = np.unique(reg.mother[kids[young]])
        fam = fam[np.isnat(reg.dod[fam]) | (reg.dod[fam] > mid)]  # living mothers
        # the father of the youngest child under 18 who has one
        yk = kids[young & (reg.father[kids] >= 0)]
        yk = yk[np.lexsort((-reg.dob[yk].astype(np.int64), reg.mother[yk]))]
        first = (
            np.r_[True, reg.mother[yk][1:] != reg.mother[yk][:-1]] if len(yk) else np.zeros(0, bool)
        )
        with_father, their_father = reg.mother[yk][first], reg.father[yk][first]
        pos = np.searchsorted(with_father, fam)
        has_father = (pos < len(with_father)) & (
            with_father[np.minimum(pos, len(with_father) - 1)] == fam
        )
        father = np.where(has_father, their_father[np.minimum(pos, len(their_father) - 1)], -1)
        pc = reg.postcode_on(fam, np.full(len(fam), mid))
        known = pc >= 0
        pc_ok = np.where(known, pc, 0)
        in_wales = known & places.postcode_in_wales(pc_ok)
        q = np.where(known, places.postcode_quintile(pc_ok), 0)
        la = np.where(known, places.postcode_la(pc_ok), -1)
        rate = np.array([0.0, *cal.private_law_per_10k_families])[q] / 10_000
        chosen = (rng.random(len(fam)) < rate) & has_father
        year_rec = by_year.setdefault(str(year), {})
        for quint in range(1, 6):
            in_q = in_wales & (q == quint)
            year_rec[str(quint)] = [int(in_q.sum()), int((chosen & in_q).sum())]
        for i in np.unique(la[in_wales]):
            rec = by_la.setdefault(str(names.LOCAL_AUTHORITIES[i]), [0, 0])
            rec[0] += int((in_wales & (la == i)).sum())
            rec[1] += int((in_wales & (la == i) & chosen).sum())
        c_m, c_f = fam[chosen], father[chosen]
        iss = rng.integers(
            _date(year).astype(np.int64), _date(year, 12, 31).astype(np.int64) + 1, len(c_m)
        ).astype("datetime64[D]")
        # repeat applications by the same parents within two years
        rep = rng.random(len(c_m)) < cal.private_repeat_probability
        r_iss = iss[rep] + rng.integers(90, 730, int(rep.sum())).astype("timedelta64[D]")
        keep = r_iss <= end
        # first applications issued early enough for two years' follow-up, and their repeats
        early = (iss <= end - np.timedelta64(730, "D")) & in_wales[chosen]
        year_rec["followed"] = [int(early.sum()), int((early & rep).sum())]
        c_m = np.concatenate([c_m, c_m[rep][keep]])
        c_f = np.concatenate([c_f, c_f[rep][keep]])
        iss = np.concatenate([iss, r_iss[keep]])
        father_applies = rng.random(len(c_m)) < 0.65
        app = np.where(father_applies, c_f, c_m)
        resp = np.where(father_applies, c_m, c_f)
        # subjects: the pair's children aged 0-17 at issue
        key = c_m * len(reg) + c_f
        lo = np.searchsorted(pair_key, key, side="left")
        hi = np.searchsorted(pair_key, key, side="right")
        owner, pos2 = _expand_ranges(lo, hi - lo)
        child = both[pos2]
        a = (iss[owner] - reg.dob[child]).astype(np.int64) / YEAR_DAYS
        ok = (a >= 0) & (a < 18)
        has = np.zeros(len(c_m), bool)
        has[owner[ok]] = True
        remap = np.cumsum(has) - 1
        out["mother"].append(c_m[has])
        out["app"].append(app[has])
        out["resp"].append(resp[has])
        out["issue"].append(iss[has])
        out["sc"].append(n_cases + remap[owner[ok]])
        out["ch"].append(child[ok])
        n_cases += int(has.sum())
    cases = {k: np.concatenate(v) if v else np.array([], np.int64) for k, v in out.items()}
    followed = [sum(v["followed"][i] for v in by_year.values()) for i in (0, 1)]
    planted = {
        "private_law_applications_per_10k_families_by_quintile": {
            y: {
                k: round(v[1] / v[0] * 10_000, 2) if v[0] else 0.0
                for k, v in rec.items()
                if k != "followed"
            }
            for y, rec in by_year.items()
        },
        "private_law_families_and_first_applications_by_quintile": {
            str(k): [sum(rec[str(k)][i] for rec in by_year.values()) for i in (0, 1)]
            for k in range(1, 6)
        },
        "private_law_families_and_first_applications_by_la": by_la,
        "private_law_repeat_within_2y": {
            "first_applications": followed[0],
            "repeated": followed[1],
            "share": round(followed[1] / followed[0], 4) if followed[0] else None,
        },
    }
    return cases, planted


def draw_cases(
    rng: np.random.Generator,
    reg: Register,
    places: Places,
    cal: Calibration,
    start_year: int,
    end_year: int,
) -> tuple[Cases, dict]:
    pub = _public_law(rng, reg, cal, start_year, end_year)
    priv, private_planted = _private_law(rng, reg, places, cal, start_year, end_year)
    n_pub, n_priv = len(pub["issue"]), len(priv["issue"])
    end = _date(end_year, 12, 31)
    issue = np.concatenate([pub["issue"], priv["issue"]])
    law = np.array(["Public"] * n_pub + ["Private"] * n_priv, dtype=object)
    duration = np.concatenate([rng.integers(120, 420, n_pub), rng.integers(60, 360, n_priv)])
    completed = issue + duration.astype("timedelta64[D]")
    completed = np.where(completed <= end, completed, np.datetime64("NaT"))
    care = rng.random(n_pub) < 0.85
    app_type = np.concatenate(
        [
            np.where(care, "Care Order (s31)", "Supervision Order (s31)"),
            rng.choice(PRIVATE_TYPES, n_priv, p=PRIVATE_TYPE_P),
        ]
    ).astype(object)
    outcome = np.concatenate(
        [
            rng.choice(PUBLIC_OUTCOMES, n_pub, p=PUBLIC_OUTCOME_P),
            rng.choice(PRIVATE_OUTCOMES, n_priv, p=PRIVATE_OUTCOME_P),
        ]
    ).astype(object)
    outcome[np.isnat(completed)] = ""
    # the family's address at issue decides the local authority and the service
    lead = np.concatenate([pub["mother"], priv["mother"]])
    pc = reg.postcode_on(lead, issue)
    la = places.postcode_la(pc)
    wales = places.postcode_in_wales(pc)
    # parties: public law, the mother and (often) the subjects' father as respondents
    sub_case = np.concatenate([pub["subject_case"], priv["sc"] + n_pub])
    sub_child = np.concatenate([pub["subject_child"], priv["ch"]])
    pf = reg.father[pub["subject_child"]]
    rec = (pf >= 0) & (rng.random(len(pf)) < 0.7)
    fpairs = (
        np.unique(np.stack([pub["subject_case"][rec], pf[rec]], axis=1), axis=0)
        if rec.any()
        else np.zeros((0, 2), np.int64)
    )
    party_case = np.concatenate(
        [np.arange(n_pub), fpairs[:, 0], np.arange(n_priv) + n_pub, np.arange(n_priv) + n_pub]
    )
    party_person = np.concatenate([pub["mother"], fpairs[:, 1], priv["app"], priv["resp"]])
    party_role = np.array(
        ["Respondent"] * (n_pub + len(fpairs)) + ["Applicant"] * n_priv + ["Respondent"] * n_priv,
        dtype=object,
    )
    cases = Cases(
        law=law,
        issue=issue,
        completed=completed,
        app_type=app_type,
        outcome=outcome,
        newborn=np.concatenate([pub["newborn"], np.zeros(n_priv, bool)]),
        returning=np.concatenate([pub["returning"], np.zeros(n_priv, bool)]),
        mother=np.concatenate([pub["mother"], np.full(n_priv, -1)]),
        la=la,
        wales=wales,
        subject_case=sub_case,
        subject_child=sub_child,
        party_case=party_case,
        party_person=party_person,
        party_role=party_role,
    )
    return cases, private_planted


def hearings(
    rng: np.random.Generator, cases: Cases, period_end: np.datetime64
) -> dict[str, np.ndarray]:
    """2-6 hearings per case between issue and completion; the last of a completed case is final."""
    n = len(cases)
    k = rng.integers(2, 7, size=n)
    owner, _ = _expand_ranges(np.zeros(n, dtype=np.int64), k)
    open_end = np.minimum(cases.issue + _days(1.0), period_end)
    end = np.where(np.isnat(cases.completed), open_end, cases.completed)
    span = np.maximum((end - cases.issue).astype(np.int64), 1)
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(k) - k, k)
    is_last = rank == k[owner] - 1
    frac = np.where(is_last, 1.0, (rank + rng.random(len(owner))) / k[owner] * 0.95)
    when = cases.issue[owner] + np.round(frac * span[owner]).astype("timedelta64[D]")
    final = is_last & ~np.isnat(cases.completed[owner])
    return {"case": owner, "date": when, "final": final}
