"""Vega-Lite charts in self-contained HTML: the libraries are inlined once per page.

The JavaScript comes from the copies Splink ships (vega 5, vega-lite 5, vega-embed 6; their
licences are in Splink's DEPENDENCY_LICENSES.txt), so a report opens offline and fetches nothing.
"""

from __future__ import annotations

import json
import uuid
from functools import cache
from importlib import resources
from typing import Any

LIBRARIES = (("vega", "5.31.0"), ("vega-lite", "5.2.0"), ("vega-embed", "6.20.2"))


@cache
def _library(name: str, version: str) -> str:
    path = resources.files("splink") / "internals" / "files" / "external_js" / f"{name}@{version}"
    return path.read_text(encoding="utf-8")


def vega_scripts() -> str:
    """Inline <script> tags for the three libraries (put once in a page that has charts)."""
    parts = []
    for name, version in LIBRARIES:
        src = _library(name, version).replace("</script", "<\\/script")
        parts.append(f'<script data-library="{name}@{version}">{src}</script>')
    return "\n".join(parts)


def _json(value: Any) -> str:
    return (
        json.dumps(value, default=str)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def vega_chart(spec: dict[str, Any], *, title: str = "") -> str:
    """A chart's <div> and the call that renders it (needs ``vega_scripts()`` on the page)."""
    div = f"chart-{uuid.uuid4().hex[:12]}"
    spec = dict(spec)
    spec.setdefault("$schema", "https://vega.github.io/schema/vega-lite/v5.json")
    caption = f"<figcaption>{title}</figcaption>" if title else ""
    return (
        f'<figure class="chart">{caption}<div id="{div}"></div></figure>'
        f"<script>vegaEmbed('#{div}', {_json(spec)}, {{actions: false, renderer: 'svg'}})"
        f".catch(function (e) {{ document.getElementById('{div}').textContent = 'chart failed: ' + e; }});</script>"
    )


def bar_spec(
    values: list[dict[str, Any]],
    x: str,
    y: str,
    *,
    color: str | None = None,
    x_type: str = "nominal",
) -> dict[str, Any]:
    enc: dict[str, Any] = {
        "x": {"field": x, "type": x_type, "sort": None},
        "y": {"field": y, "type": "quantitative"},
        "tooltip": [{"field": k} for k in values[0]] if values else [],
    }
    if color:
        enc["color"] = {"field": color, "type": "nominal"}
        enc["xOffset"] = {"field": color}
    return {"data": {"values": values}, "mark": "bar", "encoding": enc, "width": 560, "height": 260}


def line_spec(
    values: list[dict[str, Any]], x: str, y: str, color: str, *, x_type: str = "quantitative"
) -> dict[str, Any]:
    return {
        "data": {"values": values},
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {"field": x, "type": x_type},
            "y": {"field": y, "type": "quantitative", "scale": {"zero": False}},
            "color": {"field": color, "type": "nominal"},
            "tooltip": [{"field": k} for k in values[0]] if values else [],
        },
        "width": 560,
        "height": 260,
    }
