"""The family-justice analyses report: methods, figures with linkage-sensitivity bands, charts."""

from __future__ import annotations

from html import escape
from pathlib import Path

from justicelink.analyses import newborns as nb
from justicelink.analyses import recurrence as rec
from justicelink.analyses.newborns import FILTERS, NewbornResult
from justicelink.analyses.recurrence import RecurrenceResult
from justicelink.reporting import html_table, line_spec, page, vega_chart, vega_scripts


def _methods(module: object) -> str:
    doc = (module.__doc__ or "").strip()
    return "".join(f"<p>{escape(p.strip())}</p>" for p in doc.split("\n\n"))


def write_report(
    out: Path,
    project_id: str,
    newborn: NewbornResult,
    recur: RecurrenceResult,
    requests: dict[str, str],
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
        + vega_chart(line_spec(values, "birth year", "per 10,000 births", "filter"),
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
