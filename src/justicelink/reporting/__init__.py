"""Self-contained HTML reports: inline CSS and SVG charts, no scripts, nothing fetched."""

from justicelink.reporting.html import bar_chart_svg, html_table, page
from justicelink.reporting.vega import bar_spec, line_spec, vega_chart, vega_scripts

__all__ = [
    "bar_chart_svg",
    "bar_spec",
    "html_table",
    "line_spec",
    "page",
    "vega_chart",
    "vega_scripts",
]
