"""The family-justice analyses report: methods, figures with linkage-sensitivity bands, charts."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from justicelink.analyses import local_authorities as la_mod
from justicelink.analyses import newborns as nb
from justicelink.analyses import private_law as pl_mod
from justicelink.analyses import recurrence as rec
from justicelink.analyses.local_authorities import LocalAuthorityResult
from justicelink.analyses.newborns import FILTERS, NewbornResult
from justicelink.analyses.private_law import PrivateLawResult
from justicelink.analyses.recurrence import RecurrenceResult
from justicelink.formats import (
    LOOSE_FILTER,
    RESEARCH_FILTER,
    STRICT_FILTER,
    project_schema,
    status_list,
)
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


def _band(values: list[float]) -> str:
    return f"{min(values)} – {max(values)}"


def _la_html(la: LocalAuthorityResult, requests: dict[str, str]) -> str:
    default = la.by_la[nb.DEFAULT].to_pylist()
    bands = {label: la.by_la[label].column("rate_per_10k").to_pylist() for label in FILTERS}
    rows = [
        (r["la"], r["child_years"], r["children"], r["rate_per_10k"],
         _band([bands[label][i] for label in FILTERS]))
        for i, r in enumerate(default)
    ]  # fmt: skip
    values = [
        {"local authority": r["la"], "per 10,000 children": r["rate_per_10k"]} for r in default
    ]
    return (
        _methods(la_mod)
        + vega_chart(bar_spec(values, "local authority", "per 10,000 children"),
                     title="Children in s31 proceedings per 10,000 children (pooled over the years)")
        + html_table(["local authority", "child-years", "children in proceedings", "per 10,000", "band (strict – loose)"], rows)
        + f"<p class='note'>Airlock request {escape(requests.get('children_by_la', ''))}.</p>"
    )  # fmt: skip


def _private_html(pl: PrivateLawResult, requests: dict[str, str]) -> str:
    default = pl.by_quintile[nb.DEFAULT].to_pylist()
    bands = {
        label: {r["q"]: r["rate_per_10k"] for r in pl.by_quintile[label].to_pylist()}
        for label in FILTERS
    }
    empty = [label for label in FILTERS if not bands[label]]
    rows = [
        (r["q"], r["families"], r["applications"], r["rate_per_10k"],
         _band([bands[label][r["q"]] for label in FILTERS if r["q"] in bands[label]]))
        for r in default
    ]  # fmt: skip
    note = (
        f"<p class='note'>No family qualifies under {', '.join(empty)}: child health records no "
        "mother's sex, so no mother's link reaches status 1. The band spans the other filters.</p>"
        if empty
        else ""
    )
    values = [
        {"year": r["yr"], "per 10,000 families": r["rate_per_10k"], "WIMD quintile": str(r["q"])}
        for r in pl.by_year.to_pylist()
    ]
    la_rows = [
        (r["la"], r["families"], r["applications"], r["rate_per_10k"]) for r in pl.by_la.to_pylist()
    ]
    rep_rows = [
        (label, n, k, f"{100 * k / n:.1f}%" if n else "–") for label, (n, k) in pl.repeats.items()
    ]
    return (
        _methods(pl_mod)
        + vega_chart(bar_spec([{"WIMD quintile (1 = most deprived)": str(r["q"]), "per 10,000 families": r["rate_per_10k"]} for r in default],
                              "WIMD quintile (1 = most deprived)", "per 10,000 families"),
                     title="Families with a new private-law application per 10,000 families (pooled)")
        + html_table(["WIMD quintile", "family-years", "new applications", "per 10,000", "band (strict – loose)"], rows)
        + note
        + vega_chart(line_spec(values, "year", "per 10,000 families", "WIMD quintile", x_type="ordinal"),
                     title="By year and deprivation quintile (default filter)")
        + html_table(["local authority", "family-years", "new applications", "per 10,000"], la_rows)
        + "<h3>Repeat applications within two years</h3>"
        + html_table(["linkage filter", "new applications followed for 2 years", "repeated", "share"], rep_rows)
        + f"<p class='note'>Airlock request {escape(requests.get('private_law', ''))}.</p>"
    )  # fmt: skip


def _newborn_html(newborn: NewbornResult, requests: dict[str, str]) -> str:
    rows, values = [], []
    years = [str(y) for y in newborn.by_year[nb.DEFAULT].column("birth_year").to_pylist()]
    for label in FILTERS:
        for r in newborn.by_year[label].to_pylist():
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
        rows.append((year, births, band[1], _band(band)))
    return (
        _methods(nb)
        + vega_chart(line_spec(values, "birth year", "per 10,000 births", "filter", x_type="ordinal"),
                     title="Newborns (issued within 14 days of birth) per 10,000 live births, by linkage filter")
        + html_table(["birth year", "live births", "per 10,000 (default filter)", "band (strict – loose)"], rows)
        + "<p class='note'>Counts behind these rates leave the platform only through the airlock: "
        f"request {escape(requests.get('newborns', ''))}.</p>"
    )  # fmt: skip


def _recur_html(recur: RecurrenceResult, requests: dict[str, str]) -> str:
    km_values = [
        {"years since first case": t, "share not returned": s, "age at first case": band}
        for band, curve in recur.km.items()
        for t, s in curve
    ]
    share_rows = [
        (label, recur.mothers[label], f"{100 * recur.share_returned[label]:.1f}%")
        for label in FILTERS
    ]
    return (
        _methods(rec)
        + vega_chart(line_spec(km_values, "years since first case", "share not returned", "age at first case"),
                     title="Mothers not yet returned to court (Kaplan-Meier), by age at first case")
        + html_table(["linkage filter", "mothers", "returned within the data"], share_rows)
        + f"<p class='note'>Airlock request {escape(requests.get('recurrence', ''))}.</p>"
    )  # fmt: skip


def write_report(
    out: Path, project_id: str, results: dict[str, Any], requests: dict[str, str]
) -> Path:
    """The offline report of whichever analyses ran (``results``: analysis name -> result)."""
    sections: list[tuple[str, str]] = []
    if "children-by-la" in results:
        sections.append(
            (
                "Children in care proceedings by local authority",
                _la_html(results["children-by-la"], requests),
            )
        )
    if "newborns" in results:
        sections.append(
            ("Newborns in care proceedings", _newborn_html(results["newborns"], requests))
        )
    if "recurrence" in results:
        sections.append(
            ("Recurrent care proceedings", _recur_html(results["recurrence"], requests))
        )
    if "parents-health" in results:
        sections.append(
            (
                "Parents' health before proceedings",
                _health_html(results["parents-health"][0], requests),
            )
        )
    if "private-law" in results:
        sections.append(
            (
                "Private-law applications by deprivation and area",
                _private_html(results["private-law"], requests),
            )
        )
    sections.append(
        (
            "Linkage sensitivity",
            "<p>Every headline figure is recomputed under a strict filter "
            f"{status_list(STRICT_FILTER)}, the recommended filter {status_list(RESEARCH_FILTER)} "
            f"and a loose one {status_list(LOOSE_FILTER)}. A narrow band means "
            "the finding does not hinge on linkage quality.</p>",
        )
    )  # fmt: skip
    html = page(
        f"Family-justice analyses, project {project_schema(project_id)}",
        sections,
        head=vega_scripts(),
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
