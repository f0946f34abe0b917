"""The linkage quality report (GUILD-style), self-contained HTML with offline Vega-Lite charts.

It shows match rates by status code, by source table, age band, sex and area; how linked and
unlinked records differ; the match-weight distribution; the Splink model (m/u and match-weight
charts, waterfalls of example pairs with their data removed); and, given a truth file,
precision, recall and F1 overall, by subgroup and across thresholds, and recall at blocking.
The report holds counts and model parameters only, never an identifier.
"""

from __future__ import annotations

from datetime import date
from html import escape
from pathlib import Path
from typing import Any

import duckdb

from justicelink.formats import ALF_STATUS, LOOSE_FILTER, RESEARCH_FILTER, status_in, status_list
from justicelink.linkage.evaluate import accuracy, threshold_curve
from justicelink.linkage.probabilistic import _features, blocking_sql
from justicelink.reporting import bar_spec, html_table, line_spec, page, vega_chart, vega_scripts

LINKED = f"linked {status_list(RESEARCH_FILTER)}"  # the label of the research filter's links
AGE_BANDS = "CASE WHEN age IS NULL THEN 'unknown' WHEN age < 1 THEN '0' WHEN age < 5 THEN '1-4' WHEN age < 16 THEN '5-15' WHEN age < 25 THEN '16-24' WHEN age < 45 THEN '25-44' WHEN age < 65 THEN '45-64' ELSE '65+' END"


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple]]:
    cur = con.execute(sql)
    return [d[0] for d in cur.description], cur.fetchall()


def _table(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    cols, rows = _rows(con, sql)
    return html_table(cols, rows)


def _records_view(con: duckdb.DuckDBPyConnection, records: str, as_of: date) -> None:
    cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {records}").fetchall()}
    source = "source_table" if "source_table" in cols else "'records'"
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW report_rec AS
            SELECT r.system_id, {source} AS source_table, m.alf_sts_cd, m.alf_mtch_pct, m.match_weight,
                {status_in("m.alf_sts_cd", RESEARCH_FILTER)} AS linked,
                CASE r.sex WHEN 1 THEN 'male' WHEN 2 THEN 'female' ELSE 'unknown' END AS sex,
                date_sub('year', r.dob, DATE '{as_of.isoformat()}') AS age,
                coalesce(regexp_extract(r.postcode, '^[A-Z]+'), 'unknown') AS area,
                r.nhs_number IS NOT NULL AS has_nhs, r.postcode IS NOT NULL AS has_postcode
            FROM {records} r JOIN matched m USING (system_id)"""
    )


def _rate_section(con: duckdb.DuckDBPyConnection, expr: str, label: str, order: str = "1") -> str:
    sql = f"""SELECT {expr} AS "{label}", count(*) AS records,
                  count(*) FILTER (WHERE linked) AS linked,
                  round(100.0 * count(*) FILTER (WHERE linked) / count(*), 2) AS "linked %"
              FROM report_rec GROUP BY 1 ORDER BY {order}"""
    cols, rows = _rows(con, sql)
    values = [{label: str(r[0]), "linked %": float(r[3])} for r in rows]
    return vega_chart(
        bar_spec(values, label, "linked %"), title=f"Share {LINKED} by {label}"
    ) + html_table(cols, rows)


def _splink_charts(result: Any) -> str:
    if result is None or result.linker is None:
        return "<p>No probabilistic stage ran.</p>"
    linker = result.linker
    parts = [
        vega_chart(
            linker.visualisations.match_weights_chart().chart_dict,
            title="Match weights by comparison level",
        ),
        vega_chart(
            linker.visualisations.m_u_parameters_chart().chart_dict, title="m and u probabilities"
        ),
    ]
    if result.predictions:
        examples = []
        for band in (
            "match_probability >= 0.9",
            "match_probability BETWEEN 0.5 AND 0.9",
            "match_probability < 0.5",
        ):
            rows = linker._db_api._con.execute(
                f"SELECT * FROM {result.predictions} WHERE {band} ORDER BY match_weight DESC LIMIT 1"
            )
            cols = [d[0] for d in rows.description]
            examples += [dict(zip(cols, r, strict=True)) for r in rows.fetchall()]
        if examples:
            chart = linker.visualisations.waterfall_chart(examples, remove_sensitive_data=True)
            parts.append(
                vega_chart(
                    chart.chart_dict,
                    title="Waterfall: how example pairs were scored (data removed)",
                )
            )
    return "".join(parts)


def _blocking_recall(
    con: duckdb.DuckDBPyConnection, records: str, truth: str, cascade: Any = None
) -> str:
    if not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'splink_reg'"
    ).fetchone()[0]:  # type: ignore[index]
        return ""
    con.execute(f"CREATE OR REPLACE TEMP TABLE report_feat AS {_features(records, register=False)}")
    rules = getattr(getattr(cascade, "probabilistic", None), "rules", None)
    conds = ", ".join(f"coalesce({c}, false)" for c in blocking_sql(rules))
    n, hit = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE greatest({conds}))
            FROM {truth} t JOIN report_feat l ON l.unique_id = CAST(t.system_id AS VARCHAR)
            JOIN splink_reg r ON r.unique_id = CAST(t.person_id AS VARCHAR)"""
    ).fetchone()  # type: ignore[misc]
    rate = hit / n if n else 1.0
    return (
        f"<p>Recall at blocking: of {n:,} records with a true register person, {hit:,} "
        f"({rate:.4%}) meet at least one blocking rule with that person, so the probabilistic "
        "stage could find them.</p>"
    )


def write_report(
    con: duckdb.DuckDBPyConnection,
    records: str,
    out: Path,
    *,
    title: str,
    cascade: Any = None,
    truth: str | None = None,
    meta: dict[str, Any] | None = None,
    as_of: date | None = None,
) -> Path:
    """``records``: the records relation (system_id, dob, sex, nhs_number, postcode[, source_table]);
    ``matched`` must exist in ``con``; ``truth``: relation (system_id, person_id) or None."""
    as_of = as_of or date.today()
    _records_view(con, records, as_of)
    status_rows = con.execute(
        "SELECT alf_sts_cd, count(*) FROM report_rec GROUP BY 1 ORDER BY 1"
    ).fetchall()
    total = sum(n for _, n in status_rows)
    summary = html_table(
        ["ALF_STS_CD", "meaning", "records", "%"],
        [(s, ALF_STATUS.get(s, ""), f"{n:,}", f"{100 * n / total:.2f}") for s, n in status_rows],
    )
    status_chart = vega_chart(
        bar_spec(
            [{"ALF_STS_CD": str(s), "records": n} for s, n in status_rows], "ALF_STS_CD", "records"
        ),
        title="Records by linkage status",
    )
    meta_rows = [(k, str(v)) for k, v in (meta or {}).items()]
    sections = [
        ("Summary", html_table(["", ""], meta_rows) + summary + status_chart),
        ("Match rates by source table", _rate_section(con, "source_table", "source table")),
        (
            "Match rates by age band",
            _rate_section(con, AGE_BANDS, "age band", "min(age) NULLS LAST"),
        ),
        ("Match rates by sex", _rate_section(con, "sex", "sex")),
        ("Match rates by area (postcode area)", _rate_section(con, "area", "area")),
        (
            "Linked and unlinked records compared",
            _table(
                con,
                f"""SELECT CASE WHEN linked THEN '{LINKED}' ELSE 'not linked' END AS "group",
                       count(*) AS records,
                       round(100.0 * avg(has_nhs::INT), 1) AS "% with NHS number",
                       round(100.0 * avg(has_postcode::INT), 1) AS "% with postcode",
                       round(100.0 * avg((sex = 'female')::INT), 1) AS "% female",
                       median(age) AS "median age"
                   FROM report_rec GROUP BY 1 ORDER BY 1""",
            ),
        ),
    ]
    weights = con.execute(
        "SELECT floor(match_weight) AS w, count(*) FROM report_rec WHERE match_weight IS NOT NULL GROUP BY 1 ORDER BY 1"
    ).fetchall()
    hist = (
        vega_chart(
            bar_spec(
                [{"match weight": float(w), "records": n} for w, n in weights],
                "match weight",
                "records",
                x_type="ordinal",
            ),
            title="Best candidate's match weight, records scored by Splink",
        )
        if weights
        else "<p>No record reached the probabilistic stage.</p>"
    )
    sections.append(("Match weight distribution", hist))
    sections.append(
        (
            "The probabilistic model (Splink)",
            _splink_charts(cascade.probabilistic if cascade else None),
        )
    )
    if cascade is not None and cascade.notes:
        sections.append(
            (
                "Model notes",
                "<ul>" + "".join(f"<li>{escape(n)}</li>" for n in cascade.notes) + "</ul>",
            )
        )
    if truth is not None:
        overall = accuracy(con, "matched", truth)["all"]
        by_status = accuracy(con, "matched", truth, group_by="r.alf_sts_cd", statuses=LOOSE_FILTER)
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW report_truth AS SELECT t.*, rr.source_table, rr.sex, {AGE_BANDS} AS age_band "
            f"FROM {truth} t JOIN report_rec rr USING (system_id)"
        )
        by_age = accuracy(con, "matched", "report_truth", group_by="t.age_band")
        by_source = accuracy(con, "matched", "report_truth", group_by="t.source_table")
        by_sex = accuracy(con, "matched", "report_truth", group_by="t.sex")

        def acc_table(d: dict[str, Any], label: str) -> str:
            return html_table(
                [label, "records", "linked", "correct", "precision", "recall", "F1"],
                [
                    (
                        k,
                        a.records,
                        a.linked,
                        a.correct,
                        f"{a.precision:.5f}",
                        f"{a.recall:.5f}",
                        f"{a.f1:.5f}",
                    )
                    for k, a in d.items()
                ],
            )

        curve = threshold_curve(con, "matched", truth)
        long = [
            {"threshold": c["threshold"], "measure": m, "value": c[m]}
            for c in curve
            for m in ("precision", "recall", "f1")
        ]
        sections.append(
            (
                "Accuracy against the truth",
                acc_table({LINKED: overall}, "")
                + "<h3>By status code (each status counted as linked)</h3>" + acc_table(by_status, "ALF_STS_CD")
                + "<h3>By age band</h3>" + acc_table(by_age, "age band")
                + "<h3>By sex</h3>" + acc_table(by_sex, "sex")
                + "<h3>By source table</h3>" + acc_table(by_source, "source table")
                + vega_chart(line_spec(long, "threshold", "value", "measure"), title="If the linked set were p >= threshold")
                + _blocking_recall(con, records, truth, cascade),
            )
        )  # fmt: skip
    html = page(title, sections, subtitle=f"generated for {as_of.isoformat()}", head=vega_scripts())
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
