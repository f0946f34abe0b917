"""Output requests: what a researcher asks to take out, checked before anyone sees it.

Layout: ``airlock/requests/<project>-<nnnn>/`` with ``outputs/<name>.csv`` (after SDC),
``results.json`` (every check, ACRO-style), ``request.json`` and a self-contained ``report.html``.
The unsuppressed table never enters the airlock folder.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from justicelink.airlock.sdc import MIN_CELL_COUNT, min_cell_count
from justicelink.formats import InputError, atomic_dir, sha256_file
from justicelink.reporting import bar_chart_svg, html_table, page

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class OutputRequest:
    request_id: str
    project_id: str
    author: str
    folder: Path
    status: str
    report: Path
    suppressed_cells: int


def _next_id(root: Path, project_id: str) -> str:
    existing = [p.name for p in root.glob(f"{project_id}-*") if p.is_dir()]
    n = max((int(x.rsplit("-", 1)[1]) for x in existing), default=0) + 1
    return f"{project_id}-{n:04d}"


def _cell(v: object) -> str:
    s = "" if v is None else str(v)
    # never write something a spreadsheet would run
    return (
        "'" + s
        if s[:1] in ("=", "+", "-", "@") and not s.lstrip("-").replace(".", "").isdigit()
        else s
    )


def submit(
    airlock_dir: Path,
    *,
    project_id: str,
    author: str,
    name: str,
    title: str,
    description: str,
    table: pa.Table,
    count_columns: list[str],
    label_column: str,
    sql: str,
    threshold: int = MIN_CELL_COUNT,
) -> OutputRequest:
    if not _NAME.match(name):
        raise InputError("output names are lower-case letters, digits, - and _", column="name")
    root = Path(airlock_dir) / "requests"
    root.mkdir(parents=True, exist_ok=True)
    request_id = _next_id(root, project_id)
    checked, result = min_cell_count(table, count_columns, threshold)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    final = root / request_id
    with atomic_dir(final) as tmp:
        (tmp / "outputs").mkdir()
        out_csv = tmp / "outputs" / f"{name}.csv"
        with open(out_csv, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(checked.column_names)
            for row in zip(
                *(checked.column(c).to_pylist() for c in checked.column_names), strict=True
            ):
                w.writerow([_cell(v) for v in row])
        results = {
            "version": "justicelink-sdc/1",
            "request_id": request_id,
            "results": {
                name: {
                    "uid": name,
                    "status": result.status,
                    "type": "table",
                    "properties": {"method": "sql", "count_columns": count_columns},
                    "files": [{"name": f"outputs/{name}.csv", "sha256": sha256_file(out_csv)}],
                    "checks": [asdict(result)],
                    "outcome": "suppressed" if result.status == "fail" else "pass",
                }
            },
        }
        (tmp / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        status = "checked_awaiting_review"
        (tmp / "request.json").write_text(
            json.dumps(
                {
                    "request_id": request_id,
                    "project_id": project_id,
                    "author": author,
                    "created": created,
                    "status": status,
                    "outputs": [name],
                    "sql": sql,
                    "description": description,
                },
                indent=2,
            )
            + "\n"
        )
        labels = [str(v) for v in checked.column(label_column).to_pylist()]
        values = checked.column(count_columns[0]).to_pylist()
        status_cls = "pass" if result.status == "pass" else "review"
        report = page(
            title,
            [
                ("Summary", f"<p>{_esc(description)}</p>"),
                ("Chart", bar_chart_svg(labels, values, title=title, y_label=count_columns[0])),
                (
                    "Table (after disclosure control)",
                    html_table(
                        checked.column_names, [list(r.values()) for r in checked.to_pylist()]
                    ),
                ),
                (
                    "Disclosure control",
                    f'<p class="{status_cls}">Minimum cell count {threshold}: {result.status.upper()}</p>'
                    f"<p>{_esc(result.detail[:1].upper() + result.detail[1:])}. Suppressed cells are blank in the table and dashed in the chart.</p>"
                    '<p class="note">This output is awaiting review by two output checkers; '
                    "nothing leaves the platform until they approve it.</p>",
                ),
                ("Query", f"<pre>{_esc(sql)}</pre>"),
            ],
            subtitle=f"Project SAIL{project_id}V · request {request_id} · author {author}",
        )
        (tmp / "report.html").write_text(report, encoding="utf-8")
    return OutputRequest(
        request_id, project_id, author, final, status, final / "report.html", len(result.cells)
    )


def _esc(s: str) -> str:
    from html import escape

    return escape(s)
