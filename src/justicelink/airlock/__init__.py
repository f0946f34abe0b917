"""Airlock zone: nothing leaves the platform except checked, approved, released outputs.

The airlock holds the files (ACRO's outputs and checks, differencing, the checkers' report, the
released bundles). Who may act, and a request's state and reviews, are the control plane's.
"""

from justicelink.airlock.differencing import Finding, against_released, compare
from justicelink.airlock.outputs import SDC_DEFAULTS, OutputBuilder
from justicelink.airlock.requests import (
    PreparedRequest,
    RequestView,
    prepare_request,
    releasable,
    release,
    replace_output,
    request_folder,
    unrelease,
    write_report,
)
from justicelink.airlock.sdc import MIN_CELL_COUNT, CheckResult, min_cell_count

__all__ = [
    "MIN_CELL_COUNT",
    "SDC_DEFAULTS",
    "CheckResult",
    "Finding",
    "OutputBuilder",
    "PreparedRequest",
    "RequestView",
    "against_released",
    "compare",
    "min_cell_count",
    "prepare_request",
    "releasable",
    "release",
    "replace_output",
    "request_folder",
    "unrelease",
    "write_report",
]
