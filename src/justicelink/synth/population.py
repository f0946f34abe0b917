"""The population register (WDS-like spine): people, families, names, addresses, deaths.

Everything is drawn from one seeded ``numpy.random.Generator`` and vectorised: no loop per person.
Dates are ``datetime64[D]``. See docs/synthetic-data.md for the model and its simplifications.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from justicelink.synth import names

YEAR_DAYS = 365.25
NAT = np.datetime64("NaT", "D")


def _date(year: int, month: int = 1, day: int = 1) -> np.datetime64:
    return np.datetime64(f"{year:04d}-{month:02d}-{day:02d}", "D")


def _days(years: float | np.ndarray) -> np.ndarray:
    return np.round(np.asarray(years) * YEAR_DAYS).astype("timedelta64[D]")


def nhs_check_digit(first9: np.ndarray) -> np.ndarray:
    """Mod-11 check digit for rows of nine digits; 10 means 'invalid, do not use'."""
    weights = np.arange(10, 1, -1)
    rem = (first9 * weights).sum(axis=1) % 11
    check = 11 - rem
    return np.where(check == 11, 0, check)


def make_nhs_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct valid NHS numbers (as 10-character strings), in random order."""
    chunks: list[np.ndarray] = []
    have = 0
    seen = np.array([], dtype=np.int64)
    while have < n:
        base = rng.integers(400_000_000, 700_000_000, size=int((n - have) * 1.25) + 16)
        digits = (base[:, None] // 10 ** np.arange(8, -1, -1)) % 10
        check = nhs_check_digit(digits)
        ok = check != 10
        full = np.unique(base[ok] * 10 + check[ok])
        full = full[~np.isin(full, seen)]
        rng.shuffle(full)
        full = full[: n - have]
        seen = np.concatenate([seen, full])
        chunks.append(full)
        have += len(full)
    return np.concatenate(chunks).astype("U10")


@dataclass
class Places:
    lsoa: np.ndarray  # LSOA2011 codes (W01... Welsh, E01... English)
    lsoa_la: np.ndarray  # local authority index per LSOA (into names.LOCAL_AUTHORITIES)
    lsoa_quintile: np.ndarray  # WIMD quintile per LSOA (1 most deprived)
    postcode: np.ndarray  # all postcodes
    postcode_lsoa: np.ndarray  # LSOA index per postcode
    practice_la: np.ndarray  # local authority index per GP practice
    practice_code: np.ndarray  # practice codes, e.g. W91001

    def postcode_la(self, pc: np.ndarray) -> np.ndarray:
        return self.lsoa_la[self.postcode_lsoa[pc]]

    def postcode_quintile(self, pc: np.ndarray) -> np.ndarray:
        return self.lsoa_quintile[self.postcode_lsoa[pc]]

    def postcode_in_wales(self, pc: np.ndarray) -> np.ndarray:
        return self.postcode_la(pc) < names.WALES_LAS


def make_places(rng: np.random.Generator, n_people: int) -> Places:
    n_las = len(names.LOCAL_AUTHORITIES)
    n_lsoa = max(n_las * 2, n_people // 1500)
    # about 88% of LSOAs are Welsh, the rest in English border authorities
    la = np.concatenate([np.arange(n_las), np.arange(n_las)])
    extra = n_lsoa - len(la)
    welsh = rng.random(extra) < 0.88
    la = np.concatenate(
        [
            la,
            np.where(
                welsh,
                rng.integers(0, names.WALES_LAS, size=extra),
                rng.integers(names.WALES_LAS, n_las, size=extra),
            ),
        ]
    )
    is_wales = la < names.WALES_LAS
    serial = np.arange(1, n_lsoa + 1)
    lsoa = np.where(
        is_wales,
        np.char.add("W0100", np.char.zfill(serial.astype(str), 4)),
        np.char.add("E0100", np.char.zfill(serial.astype(str), 4)),
    )
    quintile = rng.integers(1, 6, size=n_lsoa)
    per = 15
    pc_lsoa = np.repeat(np.arange(n_lsoa), per)
    area = np.array(names.LA_POSTCODE_AREA)[la[pc_lsoa]]
    district = pc_lsoa % 97 + 1
    sector = np.tile(np.arange(per), n_lsoa) % 10
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
    k = np.arange(len(pc_lsoa))
    unit_a = letters[(pc_lsoa // 97 + k) % 20]
    unit_b = letters[(pc_lsoa // 97 * 7 + k // 20) % 20]
    postcode = np.char.add(
        np.char.add(np.char.add(area, district.astype(str)), " "),
        np.char.add(np.char.add(sector.astype(str), unit_a), unit_b),
    )
    postcode, first = np.unique(postcode, return_index=True)
    n_prac = max(n_las, n_people // 6000)
    practice_la = np.concatenate([np.arange(n_las), rng.integers(0, n_las, size=n_prac - n_las)])
    practice_code = np.char.add("W9", np.char.zfill(np.arange(1, n_prac + 1).astype(str), 4))
    return Places(lsoa, la, quintile, postcode, pc_lsoa[first], practice_la, practice_code)


@dataclass
class Register:
    person_id: np.ndarray  # int64, stable register id
    nhs_number: np.ndarray  # U10
    forename: np.ndarray
    surname: np.ndarray
    previous_surname: np.ndarray  # '' when none
    surname_changed_on: np.ndarray  # date the previous surname stopped being used, NaT if none
    dob: np.ndarray  # datetime64[D]
    sex: np.ndarray  # 1 male, 2 female
    dod: np.ndarray  # datetime64[D], NaT when alive
    mother: np.ndarray  # index into the arrays, -1 when not in the register
    father: np.ndarray
    partner: np.ndarray  # for women: index of the partner, -1 when none
    adversity: np.ndarray  # latent family adversity (women: own; children: their mother's)
    # address history, one row per period: person index, address (RALF) id, from, to (NaT = now)
    hist_person: np.ndarray
    hist_address: np.ndarray
    hist_from: np.ndarray
    hist_to: np.ndarray
    address_postcode: np.ndarray  # postcode index per address (RALF) id
    practice: np.ndarray  # GP practice index per person

    def __len__(self) -> int:
        return len(self.person_id)

    @property
    def postcode_now(self) -> np.ndarray:
        """Current postcode index per person (the open address period)."""
        out = np.full(len(self), -1, dtype=np.int64)
        cur = np.isnat(self.hist_to)
        out[self.hist_person[cur]] = self.address_postcode[self.hist_address[cur]]
        return out

    def postcode_on(self, idx: np.ndarray, when: np.ndarray) -> np.ndarray:
        """Postcode index of each person ``idx[i]`` on date ``when[i]`` (-1 when unknown)."""
        order = np.lexsort((self.hist_from, self.hist_person))
        hp, hf = self.hist_person[order], self.hist_from[order]
        ha = self.hist_address[order]
        # the last period starting on or before ``when``
        key_p = idx.astype(np.int64)
        pos = np.searchsorted(hp, key_p, side="right") - 1  # last row of this person
        start = np.searchsorted(hp, key_p, side="left")
        out = np.full(len(idx), -1, dtype=np.int64)
        # walk back at most a few periods (people have at most four): vectorised per step
        cand = pos.copy()
        for _ in range(5):
            ok = (cand >= start) & (out < 0)
            hit = ok & (hf[np.clip(cand, 0, len(hf) - 1)] <= when)
            out[hit] = self.address_postcode[ha[cand[hit]]]
            cand = np.where(ok & ~hit, cand - 1, cand)
        # before the first period: the first address
        missing = (out < 0) & (start < len(hp)) & (start <= pos)
        out[missing] = self.address_postcode[ha[start[missing]]]
        return out


def _pick_near(
    rng: np.random.Generator, sorted_dob: np.ndarray, target: np.ndarray, half_width_days: int
) -> np.ndarray:
    """For each target date pick a random position in ``sorted_dob`` within the window; -1 if none."""
    lo = np.searchsorted(sorted_dob, target - np.timedelta64(half_width_days, "D"))
    hi = np.searchsorted(sorted_dob, target + np.timedelta64(half_width_days, "D"))
    width = hi - lo
    pick = lo + np.floor(rng.random(len(target)) * np.maximum(width, 1)).astype(np.int64)
    return np.where(width > 0, pick, -1)


def _expand_ranges(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner index, position) for every element of the ranges [starts[i], starts[i]+counts[i])."""
    owner = np.repeat(np.arange(len(starts)), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, np.repeat(starts, counts) + offset


def make_register(
    rng: np.random.Generator, n: int, start_year: int, end_year: int, places: Places
) -> Register:
    n_women = int(n * 0.29)
    n_men = int(n * 0.29)
    n_child = n - n_women - n_men
    end = _date(end_year, 12, 31)

    def adult_dobs(k: int, last: int) -> np.ndarray:
        lo, hi = _date(1950).astype(np.int64), _date(last).astype(np.int64)
        return np.sort(rng.integers(lo, hi, size=k)).astype("datetime64[D]")

    women_dob = adult_dobs(n_women, end_year - 14)
    men_dob = adult_dobs(n_men, end_year - 16)
    c_lo, c_hi = _date(1980).astype(np.int64), end.astype(np.int64)
    child_dob = rng.integers(c_lo, c_hi + 1, size=n_child).astype("datetime64[D]")
    # twins: about 1.5% of births are twin pairs sharing date and parents
    twin_of = np.full(n_child, -1)
    pairs = np.flatnonzero(rng.random(n_child // 2) < 0.015) * 2
    twin_of[pairs + 1] = pairs
    child_dob[pairs + 1] = child_dob[pairs]

    adversity = rng.exponential(1.0, size=n_women) ** 1.6  # heavy tail: few families at high risk
    # mother's age at birth: mostly 20-38, from 14 to 50
    mat_age = np.clip(rng.normal(29.0, 6.0, size=n_child), 14.0, 50.0)
    mother_w = _pick_near(rng, women_dob, child_dob - _days(mat_age), 200)
    too_young = (mother_w >= 0) & ((child_dob - women_dob[np.maximum(mother_w, 0)]) < _days(14))
    too_old = (mother_w >= 0) & ((child_dob - women_dob[np.maximum(mother_w, 0)]) > _days(50))
    mother_w[too_young | too_old] = -1
    mother_w[pairs + 1] = mother_w[pairs]
    # each woman may have a partner about her age; most of her children are his
    partner = _pick_near(rng, men_dob, women_dob - _days(rng.normal(2.5, 3.0, n_women)), 200)
    partner[rng.random(n_women) < 0.15] = -1
    other_father = _pick_near(
        rng, men_dob, child_dob - _days(np.clip(mat_age + rng.normal(2.5, 5, n_child), 16, 65)), 300
    )
    has_mother = mother_w >= 0
    own_partner = np.where(has_mother, partner[np.maximum(mother_w, 0)], -1)
    u = rng.random(n_child)
    father_m = np.where(
        (own_partner >= 0) & (u < 0.82), own_partner, np.where(u < 0.93, other_father, -1)
    )
    father_m[pairs + 1] = father_m[pairs]
    # a father must be at least 15 at the birth
    fa_ok = (father_m < 0) | ((child_dob - men_dob[np.maximum(father_m, 0)]) >= _days(15))
    father_m[~fa_ok] = -1

    off_m = n_women
    off_c = n_women + n_men
    sex = np.concatenate(
        [np.full(n_women, 2), np.full(n_men, 1), np.where(rng.random(n_child) < 0.512, 1, 2)]
    )
    same = rng.random(len(pairs)) < 0.35  # monozygotic-like: same sex
    sex[off_c + pairs + 1] = np.where(same, sex[off_c + pairs], sex[off_c + pairs + 1])
    dob = np.concatenate([women_dob, men_dob, child_dob])
    mother = np.concatenate([np.full(off_c, -1), mother_w])
    father = np.concatenate([np.full(off_c, -1), np.where(father_m >= 0, father_m + off_m, -1)])
    partner_full = np.full(n, -1)
    partner_full[:n_women] = np.where(partner >= 0, partner + off_m, -1)

    # names
    sw = 1.0 / np.arange(1, len(names.SURNAMES) + 1) ** 0.9
    birth_surname = rng.choice(np.array(names.SURNAMES), size=n, p=sw / sw.sum())
    fem, mal = np.array(names.FEMALE), np.array(names.MALE)
    fw = 1.0 / np.arange(1, len(fem) + 1) ** 0.6
    mw = 1.0 / np.arange(1, len(mal) + 1) ** 0.6
    forename = np.where(
        sex == 2, rng.choice(fem, size=n, p=fw / fw.sum()), rng.choice(mal, size=n, p=mw / mw.sum())
    ).astype(object)
    surname = birth_surname.astype(object)
    previous = np.full(n, "", dtype=object)
    changed_on = np.full(n, NAT)
    # half of women with a partner took the partner's surname, at about 25
    took = (partner >= 0) & (rng.random(n_women) < 0.5)
    w_idx = np.flatnonzero(took)
    previous[w_idx] = surname[w_idx]
    surname[w_idx] = birth_surname[off_m + partner[w_idx]]
    changed_on[w_idx] = women_dob[w_idx] + _days(rng.uniform(19, 35, len(w_idx)))
    # children: father's surname when known, else mother's current surname
    c = np.arange(off_c, n)
    fa, mo = father[c], mother[c]
    surname[c] = np.where(
        fa >= 0,
        surname[np.maximum(fa, 0)],
        np.where(mo >= 0, surname[np.maximum(mo, 0)], surname[c]),
    )

    child_adv = np.where(mo >= 0, adversity[np.maximum(mo, 0)], 0.0)
    adv = np.concatenate([adversity, np.zeros(n_men), child_adv])

    # deaths: adults, 2%, during the period
    dod = np.full(n, NAT)
    p_lo, p_hi = _date(start_year).astype(np.int64), end.astype(np.int64)
    dead = np.flatnonzero((np.arange(n) < off_c) & (rng.random(n) < 0.02))
    dod[dead] = np.maximum(
        rng.integers(p_lo, p_hi, size=len(dead)).astype("datetime64[D]"), dob[dead] + _days(16)
    )
    dod[dod > end] = NAT
    # a mother is alive at each of her children's births
    last_birth = np.full(n, np.iinfo(np.int64).min)
    kids_with_mother = np.flatnonzero(mother >= 0)
    np.maximum.at(last_birth, mother[kids_with_mother], dob[kids_with_mother].astype(np.int64))
    died_first = ~np.isnat(dod) & (dod.astype(np.int64) <= last_birth)
    dod[died_first] = NAT

    hist = _address_history(
        rng, places, n, dob, mother, partner_full, off_m, off_c, start_year, end_year
    )
    practice = _practices(rng, places, hist, n)

    person_id = rng.permutation(n).astype(np.int64) + 1_000_001
    return Register(
        person_id=person_id,
        nhs_number=make_nhs_numbers(rng, n),
        forename=forename,
        surname=surname,
        previous_surname=previous,
        surname_changed_on=changed_on,
        dob=dob,
        sex=sex.astype(np.int64),
        dod=dod,
        mother=mother.astype(np.int64),
        father=father.astype(np.int64),
        partner=partner_full.astype(np.int64),
        adversity=adv,
        hist_person=hist[0],
        hist_address=hist[1],
        hist_from=hist[2],
        hist_to=hist[3],
        address_postcode=hist[4],
        practice=practice,
    )


def _address_history(
    rng: np.random.Generator,
    places: Places,
    n: int,
    dob: np.ndarray,
    mother: np.ndarray,
    partner: np.ndarray,
    off_m: int,
    off_c: int,
    start_year: int,
    end_year: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Households move together: a woman's partner and children share her addresses."""
    n_pc = len(places.postcode)
    # heads of household: every woman, every man who is nobody's (first) partner, orphans
    is_partner = np.zeros(n, dtype=bool)
    partner_of = np.full(n, -1)
    women_with = np.flatnonzero(partner[:off_m] >= 0)
    men, first = np.unique(partner[women_with], return_index=True)
    is_partner[men] = True
    partner_of[men] = women_with[first]
    child_follows = (np.arange(n) >= off_c) & (mother >= 0)
    head = ~is_partner & ~child_follows
    heads = np.flatnonzero(head)
    k = rng.choice(4, size=len(heads), p=[0.55, 0.30, 0.12, 0.03])  # moves in the window
    counts = k + 1
    owner, _ = _expand_ranges(np.zeros(len(heads), dtype=np.int64), counts)
    n_rows = int(counts.sum())
    first_from = np.maximum(dob[heads], _date(1990))
    w_lo = np.maximum(first_from, _date(start_year - 6)).astype(np.int64)
    w_hi = _date(end_year, 12, 31).astype(np.int64)
    u = rng.random(n_rows)
    rank = np.arange(n_rows) - np.repeat(np.cumsum(counts) - counts, counts)
    move = (w_lo[owner] + u * np.maximum(w_hi - w_lo[owner], 1)).astype(np.int64)
    # sort moves within each head, then the first period starts at first_from
    order = np.lexsort((move, owner))
    move = move[order]
    starts = np.where(rank == 0, first_from[owner].astype(np.int64), move)
    nxt = np.r_[starts[1:], 0]
    last = np.r_[owner[1:] != owner[:-1], True]
    ends = np.where(last, np.iinfo(np.int64).min, nxt)
    valid = last | (nxt > starts)
    address_postcode = rng.integers(0, n_pc, size=n_rows)
    h_person = heads[owner][valid]
    h_addr = np.arange(n_rows)[valid]
    h_from = starts[valid].astype("datetime64[D]")
    open_end = last[valid]
    h_to = np.where(open_end, 0, ends[valid]).astype("datetime64[D]")
    h_to[open_end] = NAT

    def follow(who: np.ndarray, leader: np.ndarray) -> tuple[np.ndarray, ...]:
        order = np.argsort(h_person, kind="stable")
        hp = h_person[order]
        lo = np.searchsorted(hp, leader, side="left")
        hi = np.searchsorted(hp, leader, side="right")
        own, pos = _expand_ranges(lo, hi - lo)
        rows = order[pos]
        person = who[own]
        f = np.maximum(h_from[rows], np.maximum(dob[person], _date(1990)))
        t = h_to[rows]
        keep = np.isnat(t) | (t > f)
        return person[keep], h_addr[rows][keep], f[keep], t[keep]

    partners = np.flatnonzero(is_partner)
    p_rows = follow(partners, partner_of[partners])
    kids = np.flatnonzero(child_follows)
    k_rows = follow(kids, mother[kids])
    person = np.concatenate([h_person, p_rows[0], k_rows[0]])
    addr = np.concatenate([h_addr, p_rows[1], k_rows[1]])
    f = np.concatenate([h_from, p_rows[2], k_rows[2]])
    t = np.concatenate([h_to, p_rows[3], k_rows[3]])
    order = np.lexsort((f, person))
    return person[order], addr[order], f[order], t[order], address_postcode


def _practices(rng: np.random.Generator, places: Places, hist: tuple, n: int) -> np.ndarray:
    """Each person is registered with a practice in the local authority of their first address."""
    person, addr = hist[0], hist[1]
    first = np.r_[True, person[1:] != person[:-1]]
    la = np.full(n, 0)
    la[person[first]] = places.postcode_la(hist[4][addr[first]])
    order = np.argsort(places.practice_la, kind="stable")
    pla = places.practice_la[order]
    lo = np.searchsorted(pla, la, side="left")
    hi = np.searchsorted(pla, la, side="right")
    pick = lo + np.floor(rng.random(n) * np.maximum(hi - lo, 1)).astype(np.int64)
    return np.where(hi > lo, order[np.minimum(pick, len(order) - 1)], rng.integers(0, len(pla), n))
