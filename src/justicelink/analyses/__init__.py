"""Family-justice analyses over a project's SAIL-named tables, run inside the workspace."""

from justicelink.analyses.care_proceedings import (
    AnalysisResult,
    children_in_care_proceedings_by_year,
    latest_table,
)

__all__ = ["AnalysisResult", "children_in_care_proceedings_by_year", "latest_table"]
