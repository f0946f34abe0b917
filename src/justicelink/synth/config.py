"""Parameters of the synthetic world: calibration targets and identifier error rates.

Defaults follow published figures where there are any (see docs/synthetic-data.md); every value
can be overridden from a TOML file (``justicelink synth --config FILE``) with sections
``[calibration]`` and ``[errors.<DATASET>]``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from justicelink.formats import InputError


@dataclass(frozen=True)
class ErrorRates:
    """Per-record probabilities of each kind of identifier error in one provider's extract."""

    nhs_missing_adult: float = 0.35
    nhs_missing_child: float = 0.08
    nhs_mistyped: float = 0.01
    forename_typo: float = 0.03
    nickname: float = 0.02
    surname_previous: float = 0.3  # of women with a previous surname: the old one is recorded
    surname_typo: float = 0.01
    dob_day_month_swap: float = 0.01
    dob_digit: float = 0.005
    postcode_stale: float = 0.08
    postcode_missing: float = 0.04
    sex_missing: float = 0.02
    baby_forename_newborn: float = 0.4
    duplicate_record: float = 0.02  # the same person recorded twice under two ids
    not_on_register: float = 0.0  # records of people the register does not hold


# Cafcass adults often come without an NHS number, some are not on the Welsh register at all
# (recent arrivals, people living outside Wales); tuned so that about 80% of Cafcass Cymru
# person records are linkable with high confidence, the published rate.
CAFCASS = ErrorRates(
    nhs_missing_adult=0.5, forename_typo=0.04, nickname=0.04, surname_typo=0.02,
    dob_day_month_swap=0.015, dob_digit=0.01, not_on_register=0.25,
)  # fmt: skip
HEALTH = ErrorRates(
    nhs_missing_adult=0.01, nhs_missing_child=0.01, nhs_mistyped=0.002, forename_typo=0.01,
    nickname=0.01, surname_previous=0.05, surname_typo=0.005, dob_day_month_swap=0.002,
    dob_digit=0.001, postcode_stale=0.05, postcode_missing=0.01, sex_missing=0.002,
    baby_forename_newborn=0.15, duplicate_record=0.0,
)  # fmt: skip
EDUCATION = ErrorRates(
    nhs_missing_adult=1.0, nhs_missing_child=1.0, nhs_mistyped=0.0, forename_typo=0.01,
    nickname=0.02, surname_previous=0.0, surname_typo=0.01, dob_day_month_swap=0.003,
    dob_digit=0.002, postcode_stale=0.05, postcode_missing=0.02, sex_missing=0.002,
    baby_forename_newborn=0.0, duplicate_record=0.0,
)  # fmt: skip
REGISTER_LIKE = replace(HEALTH, nhs_missing_adult=0.0, nhs_missing_child=0.0, postcode_stale=0.0)

DEFAULT_ERRORS: dict[str, ErrorRates] = {
    "CAFW": CAFCASS,
    "CAFE": CAFCASS,
    "NCCH": replace(HEALTH, nhs_missing_adult=0.03),
    "WLGP": replace(HEALTH, nhs_missing_adult=0.003, nhs_missing_child=0.003),
    "PEDW": HEALTH,
    "EDDS": replace(HEALTH, nhs_missing_adult=0.08, nhs_missing_child=0.05, forename_typo=0.02),
    "EDUW": EDUCATION,
    "LACW": replace(EDUCATION, nhs_missing_adult=0.5, nhs_missing_child=0.5),
    "WDSD": REGISTER_LIKE,
    "REFR": ErrorRates(),  # reference data: no people, no errors
}


@dataclass(frozen=True)
class Calibration:
    """Planted rates. Newborn rates: Wales 2015-2018 (Broadhurst et al., FJO)."""

    newborn_per_10k_births: dict[str, float] = field(
        default_factory=lambda: {"2015": 39.0, "2016": 55.0, "2017": 70.0, "2018": 83.0}
    )
    newborn_per_10k_births_later: float = 83.0
    child_case_rate_per_10k: float = 11.0
    children_per_case: float = 1.6
    mother_return_probability: float = 0.30
    private_law_per_10k_families: tuple[float, ...] = (95.0, 80.0, 65.0, 55.0, 45.0)
    private_repeat_probability: float = 0.18
    # parents in s31 proceedings, 2 years before the first case, vs the general population
    # (FJO: mental health 44% vs 16%, substance use 19% vs 2%, ED attendance 59% vs 37%)
    mental_health_2y: tuple[float, float] = (0.44, 0.16)
    substance_use_2y: tuple[float, float] = (0.19, 0.02)
    ed_attendance_2y: tuple[float, float] = (0.59, 0.37)
    self_harm_2y: tuple[float, float] = (0.12, 0.02)  # assumption: no published figure used
    injury_2y: tuple[float, float] = (0.30, 0.15)  # assumption
    smoking_in_pregnancy: tuple[float, float] = (0.55, 0.15)  # case mothers vs others, assumption

    def newborn_rate(self, year: int) -> float:
        if str(year) in self.newborn_per_10k_births:
            return self.newborn_per_10k_births[str(year)]
        first = min(int(y) for y in self.newborn_per_10k_births)
        if year < first:
            return self.newborn_per_10k_births[str(first)]
        return self.newborn_per_10k_births_later


@dataclass(frozen=True)
class SynthConfig:
    calibration: Calibration = field(default_factory=Calibration)
    errors: dict[str, ErrorRates] = field(default_factory=lambda: dict(DEFAULT_ERRORS))


def _apply(obj, values: dict, where: str):  # type: ignore[no-untyped-def]
    known = {f.name: f for f in fields(obj)}
    for key, value in values.items():
        if key not in known:
            raise InputError(f"unknown setting {key!r} in [{where}]")
        current = getattr(obj, key)
        if isinstance(current, tuple):
            value = tuple(value)
        obj = replace(obj, **{key: value})
    return obj


def load_config(path: Path | None) -> SynthConfig:
    if path is None:
        return SynthConfig()
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read the synth config ({exc})", file=str(path)) from exc
    cal = _apply(Calibration(), raw.pop("calibration", {}), "calibration")
    errors = dict(DEFAULT_ERRORS)
    for ds, values in raw.pop("errors", {}).items():
        if ds not in errors:
            raise InputError(f"unknown dataset {ds!r} in [errors]", file=str(path))
        errors[ds] = _apply(errors[ds], values, f"errors.{ds}")
    if raw:
        raise InputError(f"unknown sections {sorted(raw)}", file=str(path))
    return SynthConfig(cal, errors)
