"""Identifier error model: how a provider's records differ from the register's truth.

Each kind of error is applied independently at its configured rate (``config.ErrorRates``) and
flagged per record, so the truth tables say exactly what was done to every record.
"""

from __future__ import annotations

import numpy as np

from justicelink.synth import names
from justicelink.synth.config import ErrorRates
from justicelink.synth.population import NAT, Places, Register, _days, nhs_check_digit

LETTERS = np.array(list("ABCDEFGHIJKLMNOPRSTUWY"))


def typo(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """One substitution, deletion or transposition per value (only the few chosen values)."""
    out = values.copy()
    kinds = rng.integers(0, 3, size=len(values))
    pos_u = rng.random(len(values))
    subs = rng.integers(0, len(LETTERS), size=len(values))
    for i, v in enumerate(values):
        if not isinstance(v, str) or len(v) < 3:
            continue
        p = 1 + int(pos_u[i] * (len(v) - 2))
        if kinds[i] == 0:
            out[i] = v[:p] + LETTERS[subs[i]] + v[p + 1 :]
        elif kinds[i] == 1:
            out[i] = v[:p] + v[p + 1 :]
        else:
            out[i] = v[: p - 1] + v[p] + v[p - 1] + v[p + 1 :]
    return out


def nickname(values: np.ndarray) -> np.ndarray:
    return np.array([names.NICKNAMES.get(v, v) for v in values], dtype=object)


def swap_day_month(dob: np.ndarray) -> np.ndarray:
    """Swap day and month where the result is a real, different date; else leave it."""
    out = dob.copy()
    y = dob.astype("datetime64[Y]")
    m = (dob.astype("datetime64[M]") - y.astype("datetime64[M]")).astype(int) + 1
    d = (dob - dob.astype("datetime64[M]").astype("datetime64[D]")).astype(int) + 1
    ok = (d <= 12) & (d != m)
    swapped = (
        y.astype("datetime64[M]") + (np.where(ok, d, 1) - 1).astype("timedelta64[M]")
    ).astype("datetime64[D]") + (np.where(ok, m, 1) - 1).astype("timedelta64[D]")
    out[ok] = swapped[ok]
    return out


def dob_digit(rng: np.random.Generator, dob: np.ndarray) -> np.ndarray:
    """A keying slip: the day or the year off by one."""
    year = rng.random(len(dob)) < 0.5
    delta = np.where(rng.random(len(dob)) < 0.5, -1, 1)
    return np.where(year, dob + _days(delta.astype(float)), dob + delta.astype("timedelta64[D]"))


def mistype_nhs(rng: np.random.Generator, nhs: np.ndarray) -> np.ndarray:
    """Change one digit: the check digit then almost always fails."""
    out = nhs.copy()
    pos = rng.integers(0, 10, size=len(nhs))
    dig = rng.integers(1, 10, size=len(nhs))
    for i, v in enumerate(nhs):
        if isinstance(v, str) and len(v) == 10:
            d = str((int(v[pos[i]]) + dig[i]) % 10)
            out[i] = v[: pos[i]] + d + v[pos[i] + 1 :]
    return out


def strangers(
    rng: np.random.Generator, n: int, sex: np.ndarray, dob: np.ndarray
) -> dict[str, np.ndarray]:
    """Identifiers of people the register does not hold (NHS numbers from a range it never uses)."""
    base = rng.integers(900_000_000, 999_999_999, size=n)
    digits = (base[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    check = nhs_check_digit(digits)
    nhs = np.where(
        check == 10, None, (base * 10 + np.where(check == 10, 0, check)).astype(str)
    ).astype(object)
    fem, mal = np.array(names.FEMALE), np.array(names.MALE)
    fore = np.where(sex == 2, rng.choice(fem, n), rng.choice(mal, n)).astype(object)
    sur = rng.choice(np.array(names.SURNAMES), n).astype(object)
    shift = rng.integers(-400, 400, size=n).astype("timedelta64[D]")
    return {"nhs": nhs, "forename": fore, "surname": sur, "dob": dob + shift}


def person_records(
    rng: np.random.Generator,
    rates: ErrorRates,
    reg: Register,
    places: Places,
    idx: np.ndarray,
    when: np.ndarray,
    *,
    is_child: np.ndarray,
    is_newborn: np.ndarray,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Identifier columns of a provider's records of register people ``idx`` seen on ``when``.

    Returns (columns, flags). Columns: nhs (str or None), forename, surname, dob (datetime64),
    sex (1/2 or 0 when missing), postcode (str or None). Flags: one boolean array per error kind.
    """
    n = len(idx)
    flags: dict[str, np.ndarray] = {}

    def flag(name: str, p: float | np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        f = rng.random(n) < p
        if where is not None:
            f &= where
        flags[name] = f
        return f

    nhs = reg.nhs_number[idx].astype(object)
    fore = reg.forename[idx].copy()
    sur = reg.surname[idx].copy()
    dob = reg.dob[idx].copy()
    sex = reg.sex[idx].copy()
    pc_idx = reg.postcode_on(idx, when)
    pc = np.where(pc_idx >= 0, places.postcode[np.maximum(pc_idx, 0)], None).astype(object)

    f = flag("nhs_missing", np.where(is_child, rates.nhs_missing_child, rates.nhs_missing_adult))
    nhs[f] = None
    f = flag("nhs_mistyped", rates.nhs_mistyped, ~flags["nhs_missing"])
    nhs[f] = mistype_nhs(rng, nhs[f])
    f = flag("nickname", rates.nickname)
    fore[f] = nickname(fore[f])
    f = flag("forename_typo", rates.forename_typo)
    fore[f] = typo(rng, fore[f])
    f = flag("baby_forename", np.where(is_newborn, rates.baby_forename_newborn, 0.0))
    fore[f] = "BABY"
    had_previous = (reg.previous_surname[idx] != "") & (
        np.isnat(reg.surname_changed_on[idx]) | (when > reg.surname_changed_on[idx])
    )
    f = flag("surname_previous", rates.surname_previous, had_previous)
    sur[f] = reg.previous_surname[idx][f]
    before_change = (reg.previous_surname[idx] != "") & (when <= reg.surname_changed_on[idx])
    sur[before_change] = reg.previous_surname[idx][before_change]  # not an error: the name then
    f = flag("surname_typo", rates.surname_typo)
    sur[f] = typo(rng, sur[f])
    f = flag("dob_day_month_swap", rates.dob_day_month_swap)
    dob[f] = swap_day_month(dob[f])
    flags["dob_day_month_swap"] = f & (dob != reg.dob[idx])
    f = flag("dob_digit", rates.dob_digit, ~flags["dob_day_month_swap"])
    dob[f] = dob_digit(rng, dob[f])
    # a stale postcode: the address before the current one, where there was one
    earlier = reg.postcode_on(idx, when - np.timedelta64(3 * 365, "D"))
    f = flag("postcode_stale", rates.postcode_stale, (earlier >= 0) & (earlier != pc_idx))
    pc[f] = places.postcode[earlier[f]]
    f = flag("postcode_missing", rates.postcode_missing)
    pc[f] = None
    f = flag("sex_missing", rates.sex_missing)
    sex[f] = 0
    f = flag("not_on_register", rates.not_on_register, ~is_child)
    if f.any():
        s = strangers(rng, int(f.sum()), sex[f], dob[f])
        nhs[f] = s["nhs"]
        fore[f] = s["forename"]
        sur[f] = s["surname"]
        dob[f] = s["dob"]
    cols = {"nhs": nhs, "forename": fore, "surname": sur, "dob": dob, "sex": sex, "postcode": pc}
    return cols, flags


# --- presentation: how each provider writes identifiers ------------------------------------


def fmt_nhs(rng: np.random.Generator, nhs: np.ndarray, spaced: float = 0.2) -> np.ndarray:
    sp = rng.random(len(nhs)) < spaced
    return np.array(
        [f"{v[:3]} {v[3:6]} {v[6:]}" if (s and v) else v for v, s in zip(nhs, sp, strict=True)],
        dtype=object,
    )


def fmt_postcode(rng: np.random.Generator, pc: np.ndarray, messy: float = 0.1) -> np.ndarray:
    m = rng.random(len(pc)) < messy
    return np.array(
        [v.lower().replace(" ", "") if (v and x) else v for v, x in zip(pc, m, strict=True)],
        dtype=object,
    )


def fmt_sex(
    rng: np.random.Generator, sex: np.ndarray, styles: tuple[tuple[str, str, str], ...]
) -> np.ndarray:
    """``styles`` are (male, female, unknown) spellings; one is picked per record."""
    k = rng.integers(0, len(styles), size=len(sex))
    table = np.array(styles, dtype=object)
    col = np.where(sex == 1, 0, np.where(sex == 2, 1, 2))
    out = table[k, col]
    out[out == ""] = None
    return out


def fmt_dates(d: np.ndarray, fmt: str = "%Y-%m-%d") -> np.ndarray:
    s = np.datetime_as_string(d, unit="D").astype(object)
    if fmt == "%d/%m/%Y":
        return np.array(
            [None if v == "NaT" else f"{v[8:10]}/{v[5:7]}/{v[0:4]}" for v in s], dtype=object
        )
    if fmt == "%Y%m%d":
        return np.array([None if v == "NaT" else v.replace("-", "") for v in s], dtype=object)
    return np.array([None if v == "NaT" else v for v in s], dtype=object)


__all__ = ["NAT", "fmt_dates", "fmt_nhs", "fmt_postcode", "fmt_sex", "person_records"]
