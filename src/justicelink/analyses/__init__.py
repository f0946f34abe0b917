"""Family-justice analyses over a project's SAIL-named tables, run inside the workspace."""

from justicelink.analyses.care_proceedings import (
    AnalysisResult,
    children_in_care_proceedings_by_year,
    latest_table,
)
from justicelink.analyses.newborns import FILTERS, NewbornResult, newborns_in_care_proceedings
from justicelink.analyses.parents_health import Measure, parents_health
from justicelink.analyses.recurrence import RecurrenceResult, recurrent_proceedings
from justicelink.analyses.report import write_report

__all__ = [
    "FILTERS",
    "AnalysisResult",
    "Measure",
    "NewbornResult",
    "RecurrenceResult",
    "children_in_care_proceedings_by_year",
    "latest_table",
    "newborns_in_care_proceedings",
    "parents_health",
    "recurrent_proceedings",
    "write_report",
]
