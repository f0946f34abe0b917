"""Small, dependency-free HTML and SVG builders. Every value is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:60rem;
color:#1b1b1b;line-height:1.5;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:1rem 0;font-size:.92rem}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
.meta{color:#555;font-size:.9rem}.pass{color:#1a7f37;font-weight:600}.fail{color:#b42318;font-weight:600}
.review{color:#9a6700;font-weight:600}.note{background:#f6f8fa;border-left:4px solid #8c959f;padding:.5rem 1rem}
svg text{font-family:system-ui,sans-serif}
"""


def page(
    title: str, sections: Sequence[tuple[str, str]], *, subtitle: str = "", head: str = ""
) -> str:
    """A whole HTML document. ``sections`` are (heading, trusted HTML body) pairs; ``head`` is
    extra trusted markup for <head> (e.g. inline chart libraries)."""
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{CSS}</style>{head}</head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(subtitle)}{" · " if subtitle else ""}generated {made} by justicelink</p>',
    ]
    for heading, body in sections:
        parts.append(f"<h2>{escape(heading)}</h2>")
        parts.append(body)
    parts.append("</body></html>")
    return "\n".join(parts)


def html_table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def bar_chart_svg(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    y_label: str,
    width: int = 720,
    height: int = 320,
    missing_label: str = "suppressed",
) -> str:
    """A vertical bar chart as inline SVG. ``None`` values are drawn as hatched gaps."""
    left, right, top, bottom = 64, 16, 36, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    vmax = max([v for v in values if v is not None] or [1.0]) or 1.0
    step = plot_w / max(len(labels), 1)
    bar_w = step * 0.7
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#333"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>',
        f'<text transform="translate(16,{top + plot_h / 2}) rotate(-90)" text-anchor="middle" font-size="12">{escape(y_label)}</text>',
    ]
    for i in range(5):
        v = vmax * i / 4
        y = top + plot_h - plot_h * i / 4
        out.append(
            f'<line x1="{left - 4}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#eee"/>'
        )
        out.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{v:,.0f}</text>'
        )
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        x = left + i * step + (step - bar_w) / 2
        if v is None:
            out.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - 12}" width="{bar_w:.1f}" height="12" fill="none" '
                f'stroke="#9a6700" stroke-dasharray="3,2"><title>{escape(lab)}: {escape(missing_label)}</title></rect>'
            )
        else:
            h = plot_h * v / vmax
            out.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="#3b6ea8"><title>{escape(lab)}: {v:,.0f}</title></rect>'
            )
        out.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" font-size="11">{escape(lab)}</text>'
        )
    out.append("</svg>")
    return "".join(out)
