"""Cafcass Cymru public-law cases drawn from the register's families.

Case families are chosen each year with probability rising with the family's latent adversity;
newborn proceedings are planted at a rate per 10,000 births that rises over 2015-2018.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from justicelink.synth.population import YEAR_DAYS, Register, _date

# Newborns (case issued within 14 days of birth) per 10,000 live births, by year (Wales 2015-18).
NEWBORN_PER_10K = {2015: 39.0, 2016: 55.0, 2017: 70.0, 2018: 83.0}
NEWBORN_LATER = 83.0
# Children in s31 proceedings per 10,000 children aged 0-17 per year (other than newborns).
CHILD_CASE_RATE_PER_10K = 11.0
CHILDREN_PER_CASE = 1.6


@dataclass
class Cases:
    mother: np.ndarray  # register index of the case's mother
    issue: np.ndarray  # datetime64[D]
    newborn: np.ndarray  # bool: a newborn case
    subject_case: np.ndarray  # per subject row: case index
    subject_child: np.ndarray  # per subject row: register index of the child


def _children_by_mother(reg: Register) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    kids = np.flatnonzero(reg.mother >= 0)
    order = kids[np.argsort(reg.mother[kids], kind="stable")]
    moms = reg.mother[order]
    return order, moms, np.arange(len(order))


def draw_cases(rng: np.random.Generator, reg: Register, start_year: int, end_year: int) -> Cases:
    kids_sorted, moms_sorted, _ = _children_by_mother(reg)
    mothers: list[np.ndarray] = []
    issues: list[np.ndarray] = []
    newborn: list[np.ndarray] = []
    sub_case: list[np.ndarray] = []
    sub_child: list[np.ndarray] = []
    n_cases = 0
    for year in range(start_year, end_year + 1):
        y0, y1 = _date(year), _date(year, 12, 31)
        # newborn cases: births this year, chosen by adversity
        born = np.flatnonzero((reg.dob >= y0) & (reg.dob <= y1) & (reg.mother >= 0))
        rate = NEWBORN_PER_10K.get(year, NEWBORN_LATER if year > 2018 else 39.0) / 10_000
        k = int(rng.binomial(len(born), rate)) if len(born) else 0
        if k:
            w = reg.adversity[born] + 1e-9
            pick = rng.choice(born, size=k, replace=False, p=w / w.sum())
            pick = np.sort(pick)
            issue = reg.dob[pick] + rng.integers(0, 14, size=k).astype("timedelta64[D]")
            issue = np.minimum(issue, _date(end_year, 12, 31))
            mothers.append(reg.mother[pick])
            issues.append(issue)
            newborn.append(np.ones(k, dtype=bool))
            sub_case.append(np.arange(n_cases, n_cases + k))
            sub_child.append(pick)
            n_cases += k
        # other cases: mothers of children aged 0-17 at mid-year
        mid = _date(year, 7, 1)
        age = (mid - reg.dob[kids_sorted]).astype(np.int64) / YEAR_DAYS
        under18 = (age >= 0) & (age < 18)
        elig = np.unique(moms_sorted[under18])
        alive = np.isnat(reg.dod[elig]) | (reg.dod[elig] > mid)
        elig = elig[alive]
        n_target = int(under18.sum() * CHILD_CASE_RATE_PER_10K / 10_000 / CHILDREN_PER_CASE)
        k = min(len(elig), int(rng.poisson(n_target)))
        if not k:
            continue
        w = reg.adversity[elig] ** 1.5 + 1e-9
        pick_m = np.sort(rng.choice(elig, size=k, replace=False, p=w / w.sum()))
        issue = rng.integers(y0.astype(np.int64), y1.astype(np.int64) + 1, size=k).astype(
            "datetime64[D]"
        )
        lo = np.searchsorted(moms_sorted, pick_m, side="left")
        hi = np.searchsorted(moms_sorted, pick_m, side="right")
        counts = hi - lo
        case_of = np.repeat(np.arange(k), counts)
        pos = np.repeat(lo, counts) + (
            np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        )
        child = kids_sorted[pos]
        c_age = (issue[case_of] - reg.dob[child]).astype(np.int64) / YEAR_DAYS
        keep = (c_age >= 14 / YEAR_DAYS) & (c_age < 18)
        has_subject = np.zeros(k, dtype=bool)
        has_subject[case_of[keep]] = True
        remap = np.cumsum(has_subject) - 1
        keep &= has_subject[case_of]
        mothers.append(pick_m[has_subject])
        issues.append(issue[has_subject])
        newborn.append(np.zeros(int(has_subject.sum()), dtype=bool))
        sub_case.append(n_cases + remap[case_of[keep]])
        sub_child.append(child[keep])
        n_cases += int(has_subject.sum())
    return Cases(
        mother=np.concatenate(mothers).astype(np.int64),
        issue=np.concatenate(issues),
        newborn=np.concatenate(newborn),
        subject_case=np.concatenate(sub_case).astype(np.int64),
        subject_child=np.concatenate(sub_child).astype(np.int64),
    )
