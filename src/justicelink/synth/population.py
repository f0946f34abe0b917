"""The population register (WDS-like spine): people, families, names, addresses, deaths.

Everything is drawn from one seeded ``numpy.random.Generator`` and vectorised: no loop per person.
Dates are ``datetime64[D]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from justicelink.synth import names

DAY = np.timedelta64(1, "D")
YEAR_DAYS = 365.25


def _date(year: int, month: int = 1, day: int = 1) -> np.datetime64:
    return np.datetime64(f"{year:04d}-{month:02d}-{day:02d}", "D")


def nhs_check_digit(first9: np.ndarray) -> np.ndarray:
    """Mod-11 check digit for rows of nine digits; 10 means 'invalid, do not use'."""
    weights = np.arange(10, 1, -1)
    rem = (first9 * weights).sum(axis=1) % 11
    check = 11 - rem
    return np.where(check == 11, 0, check)


def make_nhs_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct valid NHS numbers (as 10-character strings), in random order."""
    out: list[np.ndarray] = []
    have = 0
    seen: set[int] = set()
    while have < n:
        base = rng.integers(400_000_000, 700_000_000, size=int((n - have) * 1.25) + 16)
        digits = (base[:, None] // 10 ** np.arange(8, -1, -1)) % 10
        check = nhs_check_digit(digits)
        ok = check != 10
        full = base[ok] * 10 + check[ok]
        full = np.array([v for v in np.unique(full) if v not in seen], dtype=np.int64)
        rng.shuffle(full)
        full = full[: n - have]
        seen.update(full.tolist())
        out.append(full)
        have += len(full)
    return np.concatenate(out).astype("U10")


@dataclass
class Places:
    lsoa: np.ndarray  # LSOA2011 codes
    lsoa_la: np.ndarray  # local authority index per LSOA
    lsoa_quintile: np.ndarray  # WIMD quintile per LSOA (1 most deprived)
    postcode: np.ndarray  # all postcodes
    postcode_lsoa: np.ndarray  # LSOA index per postcode


def make_places(rng: np.random.Generator, n_people: int) -> Places:
    n_lsoa = max(22, n_people // 1500)
    lsoa = np.array([f"W0100{i:04d}" for i in range(1, n_lsoa + 1)])
    la = np.concatenate([np.arange(22), rng.integers(0, 22, size=n_lsoa - 22)])
    quintile = rng.integers(1, 6, size=n_lsoa)
    per = 15
    pc_lsoa = np.repeat(np.arange(n_lsoa), per)
    area = np.array(names.LA_POSTCODE_AREA)[la[pc_lsoa]]
    district = (pc_lsoa // 40) % 99 + 1
    sector = np.tile(np.arange(per), n_lsoa) % 10
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
    unit_a = letters[(pc_lsoa * 7 + np.arange(len(pc_lsoa))) % 20]
    unit_b = letters[(pc_lsoa // 20 + np.arange(len(pc_lsoa)) * 3) % 20]
    postcode = np.char.add(
        np.char.add(np.char.add(area, district.astype(str)), " "),
        np.char.add(np.char.add(sector.astype(str), unit_a), unit_b),
    )
    postcode, first = np.unique(postcode, return_index=True)
    return Places(lsoa, la, quintile, postcode, pc_lsoa[first])


@dataclass
class Register:
    person_id: np.ndarray  # int64, stable register id
    nhs_number: np.ndarray  # U10
    forename: np.ndarray
    surname: np.ndarray
    previous_surname: np.ndarray  # '' when none
    dob: np.ndarray  # datetime64[D]
    sex: np.ndarray  # 1 male, 2 female
    dod: np.ndarray  # datetime64[D], NaT when alive
    mother: np.ndarray  # index into the arrays, -1 when not in the register
    father: np.ndarray
    adversity: np.ndarray  # latent family adversity of the person's mother (children)
    # address history: one current postcode index, optionally one earlier one
    postcode_now: np.ndarray
    postcode_before: np.ndarray  # -1 when no move
    moved_on: np.ndarray  # datetime64[D], NaT when no move

    def __len__(self) -> int:
        return len(self.person_id)


def _pick_in_window(
    rng: np.random.Generator, sorted_dob: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """For each window [lo, hi) of dates pick a random position in ``sorted_dob``; -1 if none."""
    a = np.searchsorted(sorted_dob, lo)
    b = np.searchsorted(sorted_dob, hi)
    width = b - a
    pick = a + np.floor(rng.random(len(lo)) * np.maximum(width, 1)).astype(np.int64)
    return np.where(width > 0, pick, -1)


def make_register(
    rng: np.random.Generator, n: int, start_year: int, end_year: int, places: Places
) -> Register:
    n_women = int(n * 0.29)
    n_men = int(n * 0.29)
    n_child = n - n_women - n_men
    end = _date(end_year, 12, 31)

    # Adults: born 1955 .. end_year - 18
    def adult_dobs(k: int) -> np.ndarray:
        lo, hi = _date(1955).astype(np.int64), _date(end_year - 18).astype(np.int64)
        return np.sort(rng.integers(lo, hi, size=k)).astype("datetime64[D]")

    women_dob = adult_dobs(n_women)
    men_dob = adult_dobs(n_men)
    # Children of the register's women: born 1985 .. end of period
    c_lo, c_hi = _date(1985).astype(np.int64), end.astype(np.int64)
    child_dob = rng.integers(c_lo, c_hi, size=n_child).astype("datetime64[D]")
    # twins: about 1.5% of births are twin pairs sharing date and parents
    twin_of = np.full(n_child, -1)
    pairs = np.flatnonzero(rng.random(n_child // 2) < 0.015) * 2
    twin_of[pairs + 1] = pairs
    child_dob[pairs + 1] = child_dob[pairs]

    adversity = rng.exponential(1.0, size=n_women) ** 1.6  # heavy tail: few families at high risk
    mother_w = _pick_in_window(
        rng,
        women_dob,
        child_dob - np.timedelta64(int(45 * YEAR_DAYS), "D"),
        child_dob - np.timedelta64(int(16 * YEAR_DAYS), "D"),
    )
    mother_w[pairs + 1] = mother_w[pairs]
    # each woman has a partner near her age; 80% of her children are his, 15% another man's
    partner = _pick_in_window(
        rng,
        men_dob,
        women_dob - np.timedelta64(6 * 365, "D"),
        women_dob + np.timedelta64(3 * 365, "D"),
    )
    u = rng.random(n_child)
    other_father = _pick_in_window(
        rng,
        men_dob,
        child_dob - np.timedelta64(int(50 * YEAR_DAYS), "D"),
        child_dob - np.timedelta64(int(17 * YEAR_DAYS), "D"),
    )
    has_mother = mother_w >= 0
    father_m = np.where(
        has_mother & (u < 0.80),
        partner[np.maximum(mother_w, 0)],
        np.where(u < 0.95, other_father, -1),
    )
    father_m[pairs + 1] = father_m[pairs]

    sex = np.concatenate(
        [np.full(n_women, 2), np.full(n_men, 1), np.where(rng.random(n_child) < 0.512, 1, 2)]
    )
    sex[n_women + n_men + pairs + 1] = np.where(
        rng.random(len(pairs)) < 0.35,
        sex[n_women + n_men + pairs],
        sex[n_women + n_men + pairs + 1],
    )
    dob = np.concatenate([women_dob, men_dob, child_dob])
    off_m = n_women
    mother = np.concatenate([np.full(n_women + n_men, -1), mother_w])
    father = np.concatenate(
        [np.full(n_women + n_men, -1), np.where(father_m >= 0, father_m + off_m, -1)]
    )

    # names
    sw = 1.0 / np.arange(1, len(names.SURNAMES) + 1) ** 0.9
    birth_surname = rng.choice(np.array(names.SURNAMES), size=n, p=sw / sw.sum())
    fem = np.array(names.FEMALE)
    mal = np.array(names.MALE)
    fw = 1.0 / np.arange(1, len(fem) + 1) ** 0.6
    mw = 1.0 / np.arange(1, len(mal) + 1) ** 0.6
    forename = np.where(
        sex == 2,
        rng.choice(fem, size=n, p=fw / fw.sum()),
        rng.choice(mal, size=n, p=mw / mw.sum()),
    ).astype(object)
    surname = birth_surname.astype(object)
    previous = np.full(n, "", dtype=object)
    # half of women with a partner took the partner's surname
    took = (partner >= 0) & (rng.random(n_women) < 0.5)
    w_idx = np.flatnonzero(took)
    previous[w_idx] = surname[w_idx]
    surname[w_idx] = birth_surname[off_m + partner[w_idx]]
    # children: father's surname when known, else mother's current surname
    c = np.arange(n_women + n_men, n)
    fa = father[c]
    mo = mother[c]
    surname[c] = np.where(
        fa >= 0,
        surname[np.maximum(fa, 0)],
        np.where(mo >= 0, surname[np.maximum(mo, 0)], surname[c]),
    )

    child_adv = np.where(mo >= 0, adversity[np.maximum(mo, 0)], 0.0)
    adv = np.concatenate([adversity, np.zeros(n_men), child_adv])

    # deaths: adults, 2%, during the period
    dod = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    p_lo, p_hi = _date(start_year).astype(np.int64), end.astype(np.int64)
    dead = np.flatnonzero((np.arange(n) < n_women + n_men) & (rng.random(n) < 0.02))
    dod[dead] = rng.integers(p_lo, p_hi, size=len(dead)).astype("datetime64[D]")

    # addresses: women and unattached men get a random postcode; partners live with the woman;
    # children live with their mother (else father).
    n_pc = len(places.postcode)
    pc = rng.integers(0, n_pc, size=n)
    has_partner = partner >= 0
    pc[off_m + partner[has_partner]] = pc[np.flatnonzero(has_partner)]
    pc[c] = np.where(
        mo >= 0, pc[np.maximum(mo, 0)], np.where(fa >= 0, pc[np.maximum(fa, 0)], pc[c])
    )
    # 25% of households moved once during the period (children move with their mother)
    moved = rng.random(n) < 0.25
    before = np.where(moved, rng.integers(0, n_pc, size=n), -1)
    moved_on = np.where(
        moved, rng.integers(p_lo, p_hi, size=n).astype("datetime64[D]"), np.datetime64("NaT")
    )
    before[c] = np.where(mo >= 0, before[np.maximum(mo, 0)], before[c])
    moved_on[c] = np.where(mo >= 0, moved_on[np.maximum(mo, 0)], moved_on[c])
    # nobody moves before they are born
    born_after = moved & (moved_on <= dob)
    before[born_after] = -1
    moved_on[born_after] = np.datetime64("NaT")

    person_id = rng.permutation(n).astype(np.int64) + 1_000_001
    return Register(
        person_id=person_id,
        nhs_number=make_nhs_numbers(rng, n),
        forename=forename,
        surname=surname,
        previous_surname=previous,
        dob=dob,
        sex=sex.astype(np.int64),
        dod=dod,
        mother=mother.astype(np.int64),
        father=father.astype(np.int64),
        adversity=adv,
        postcode_now=pc,
        postcode_before=before,
        moved_on=moved_on,
    )
