"""Airlock zone: nothing leaves the platform except checked, approved, released outputs."""

from justicelink.airlock.differencing import Finding, against_released, compare
from justicelink.airlock.outputs import SDC_DEFAULTS, OutputBuilder
from justicelink.airlock.requests import (
    OutputRequest,
    act,
    create_request,
    release,
    request_folder,
    update_output,
)
from justicelink.airlock.sdc import MIN_CELL_COUNT, CheckResult, min_cell_count
from justicelink.airlock.workflow import OWNERS, TRANSITIONS, RequestState

__all__ = [
    "MIN_CELL_COUNT",
    "OWNERS",
    "SDC_DEFAULTS",
    "TRANSITIONS",
    "CheckResult",
    "Finding",
    "OutputBuilder",
    "OutputRequest",
    "RequestState",
    "act",
    "against_released",
    "compare",
    "create_request",
    "min_cell_count",
    "release",
    "request_folder",
    "update_output",
]
