"""The family-justice analyses report: methods, figures with linkage-sensitivity bands, charts."""

from __future__ import annotations

from html import escape
from pathlib import Path

from justicelink.analyses import newborns as nb
from justicelink.analyses import recurrence as rec
from justicelink.analyses.newborns import FILTERS, NewbornResult
from justicelink.analyses.recurrence import RecurrenceResult
from justicelink.reporting import bar_spec, html_table, line_spec, page, vega_chart, vega_scripts


def _methods(module: object) -> str:
    doc = (module.__doc__ or "").strip()
    return "".join(f"<p>{escape(p.strip())}</p>" for p in doc.split("\n\n"))


def _health_html(health: dict, requests: dict[str, str]) -> str:
    import sys

    ph = sys.modules[
        "justicelink.analyses.parents_health"
    ]  # the module (its docstring is the method)

    default = health[nb.DEFAULT]
    rows = []
    for i, m in enumerate(default):
        band = [health[label][i].parents_share for label in FILTERS]
        rows.append(
            (
                m.measure,
                m.parents,
                f"{100 * m.parents_share:.1f}%",
                m.comparison,
                f"{100 * m.comparison_share:.1f}%",
                f"{m.chi2:.1f}",
                f"{m.p_value:.2g}",
                f"{100 * min(band):.1f}% – {100 * max(band):.1f}%",
            )
        )
    values = [
        {"measure": m.measure, "group": g, "share (%)": round(100 * s, 1)}
        for m in default
        for g, s in (("parents", m.parents_share), ("comparison", m.comparison_share))
    ]
    return (
        _methods(ph)
        + vega_chart(
            bar_spec(values, "measure", "share (%)", color="group"),
            title="Share with the measure in the 2 years before the index date",
        )
        + html_table(
            [
                "measure",
                "parents",
                "%",
                "comparison",
                "%",
                "chi-square",
                "p",
                "parents' band (strict – loose)",
            ],
            rows,
        )
        + f"<p class='note'>Airlock request {escape(requests.get('parents_health', ''))}.</p>"
    )


def write_report(
    out: Path,
    project_id: str,
    newborn: NewbornResult,
    recur: RecurrenceResult,
    requests: dict[str, str],
    health: dict | None = None,
) -> Path:
    rows, values = [], []
    years = [str(y) for y in newborn.by_year[nb.DEFAULT].column("birth_year").to_pylist()]
    for label in FILTERS:
        t = newborn.by_year[label].to_pylist()
        for r in t:
            values.append(
                {
                    "birth year": int(r["birth_year"]),
                    "filter": label,
                    "per 10,000 births": r["rate_14d_per_10k"],
                }
            )
    for i, year in enumerate(years):
        band = [newborn.by_year[label].column("rate_14d_per_10k")[i].as_py() for label in FILTERS]
        births = newborn.by_year[nb.DEFAULT].column("births")[i].as_py()
        rows.append((year, births, band[1], f"{min(band)} – {max(band)}"))
    newborn_html = (
        _methods(nb)
        + vega_chart(line_spec(values, "birth year", "per 10,000 births", "filter", x_type="ordinal"),
                     title="Newborns (issued within 14 days of birth) per 10,000 live births, by linkage filter")
        + html_table(["birth year", "live births", "per 10,000 (default filter)", "band (strict – loose)"], rows)
        + "<p class='note'>Counts behind these rates leave the platform only through the airlock: "
        f"request {escape(requests.get('newborns', ''))}.</p>"
    )  # fmt: skip
    km_values = [
        {"years since first case": t, "share not returned": s, "age at first case": band}
        for band, curve in recur.km.items()
        for t, s in curve
    ]
    share_rows = [
        (label, recur.mothers[label], f"{100 * recur.share_returned[label]:.1f}%")
        for label in FILTERS
    ]
    recur_html = (
        _methods(rec)
        + vega_chart(line_spec(km_values, "years since first case", "share not returned", "age at first case"),
                     title="Mothers not yet returned to court (Kaplan-Meier), by age at first case")
        + html_table(["linkage filter", "mothers", "returned within the data"], share_rows)
        + f"<p class='note'>Airlock request {escape(requests.get('recurrence', ''))}.</p>"
    )  # fmt: skip
    html = page(
        f"Family-justice analyses, project SAIL{project_id}V",
        [
            ("Newborns in care proceedings", newborn_html),
            ("Recurrent care proceedings", recur_html),
            *(
                [("Parents' health before proceedings", _health_html(health, requests))]
                if health
                else []
            ),
            (
                "Linkage sensitivity",
                "<p>Every headline figure is recomputed under a strict filter (status 1 only), the "
                "recommended filter (1, 4, 39) and a loose one (1, 4, 39, 35). A narrow band means "
                "the finding does not hinge on linkage quality.</p>",
            ),
        ],
        head=vega_scripts(),
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
