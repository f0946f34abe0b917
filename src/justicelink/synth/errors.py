"""Identifier error model: how provider records differ from the register's truth.

Each kind is applied independently at its configured rate and flagged per record in the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from justicelink.synth import names


@dataclass(frozen=True)
class ErrorRates:
    nhs_missing_adult: float = 0.35
    nhs_missing_child: float = 0.08
    nhs_mistyped: float = 0.01
    forename_typo: float = 0.03
    nickname: float = 0.02
    dob_day_month_swap: float = 0.01
    postcode_stale: float = 0.08
    postcode_missing: float = 0.04
    sex_missing: float = 0.02
    baby_forename_newborn: float = 0.4


CAFW_ERRORS = ErrorRates()
NCCH_ERRORS = ErrorRates(
    nhs_missing_adult=0.03,
    nhs_missing_child=0.01,
    forename_typo=0.01,
    nickname=0.0,
    dob_day_month_swap=0.002,
    postcode_stale=0.0,
    postcode_missing=0.01,
    sex_missing=0.002,
    baby_forename_newborn=0.15,
)


def typo(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """One substitution, deletion or transposition per value."""
    out = values.copy()
    kinds = rng.integers(0, 3, size=len(values))
    pos_u = rng.random(len(values))
    letters = "ABCDEFGHIJKLMNOPRSTUWY"
    subs = rng.integers(0, len(letters), size=len(values))
    for i, v in enumerate(values):  # bounded: only the few records chosen for a typo
        if not isinstance(v, str) or len(v) < 3:
            continue
        p = 1 + int(pos_u[i] * (len(v) - 2))
        if kinds[i] == 0:
            out[i] = v[:p] + letters[subs[i]] + v[p + 1 :]
        elif kinds[i] == 1:
            out[i] = v[:p] + v[p + 1 :]
        else:
            out[i] = v[: p - 1] + v[p] + v[p - 1] + v[p + 1 :]
    return out


def nickname(values: np.ndarray) -> np.ndarray:
    return np.array([names.NICKNAMES.get(v, v) for v in values], dtype=object)


def swap_day_month(dob: np.ndarray) -> np.ndarray:
    """Swap day and month where the result is a real date; otherwise leave the date alone."""
    out = dob.copy()
    y = dob.astype("datetime64[Y]")
    m = (dob.astype("datetime64[M]") - y).astype(int) + 1
    d = (dob - dob.astype("datetime64[M]")).astype(int) + 1
    ok = (d <= 12) & (d != m)
    new_m = np.where(ok, d, 1)
    new_d = np.where(ok, m, 1)
    swapped = (y.astype("datetime64[M]") + (new_m - 1).astype("timedelta64[M]")).astype(
        "datetime64[D]"
    ) + (new_d - 1).astype("timedelta64[D]")
    out[ok] = swapped[ok]
    return out


def mistype_nhs(rng: np.random.Generator, nhs: np.ndarray) -> np.ndarray:
    """Change one digit: the check digit then almost always fails."""
    out = nhs.copy()
    pos = rng.integers(0, 10, size=len(nhs))
    dig = rng.integers(0, 10, size=len(nhs))
    for i, v in enumerate(nhs):
        if isinstance(v, str) and len(v) == 10:
            d = str((int(v[pos[i]]) + 1 + dig[i] % 9) % 10)
            out[i] = v[: pos[i]] + d + v[pos[i] + 1 :]
    return out
