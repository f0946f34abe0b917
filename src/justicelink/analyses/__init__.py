"""Family-justice analyses over a project's SAIL-named tables, run inside the workspace."""

from justicelink.analyses.care_proceedings import (
    AnalysisResult,
    children_in_care_proceedings_by_year,
    latest_table,
)
from justicelink.analyses.local_authorities import LocalAuthorityResult, children_per_10k_by_la
from justicelink.analyses.newborns import FILTERS, NewbornResult, newborns_in_care_proceedings
from justicelink.analyses.parents_health import Measure, parents_health
from justicelink.analyses.private_law import PrivateLawResult, private_law_rates
from justicelink.analyses.recurrence import RecurrenceResult, recurrent_proceedings
from justicelink.analyses.report import write_report

__all__ = [
    "FILTERS",
    "AnalysisResult",
    "LocalAuthorityResult",
    "Measure",
    "NewbornResult",
    "PrivateLawResult",
    "RecurrenceResult",
    "children_in_care_proceedings_by_year",
    "children_per_10k_by_la",
    "latest_table",
    "newborns_in_care_proceedings",
    "parents_health",
    "private_law_rates",
    "recurrent_proceedings",
    "write_report",
]
