"""Self-contained HTML reports: inline CSS and SVG charts, no scripts, nothing fetched."""

from justicelink.reporting.html import bar_chart_svg, html_table, page

__all__ = ["bar_chart_svg", "html_table", "page"]
