"""Airlock zone: nothing leaves the platform except checked outputs."""

from justicelink.airlock.requests import OutputRequest, submit
from justicelink.airlock.sdc import MIN_CELL_COUNT, CheckResult, min_cell_count

__all__ = ["MIN_CELL_COUNT", "CheckResult", "OutputRequest", "min_cell_count", "submit"]
