"""Minimum cell count: small counts suppressed, cells named, report and results written."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa

from justicelink.airlock import min_cell_count, submit


def test_small_counts_are_suppressed_and_named() -> None:
    t = pa.table({"year": ["2015", "2016", "2017", "2018"], "n": [25, 9, 0, 10]})
    out, res = min_cell_count(t, ["n"], 10)
    assert out.column("n").to_pylist() == [25, None, 0, 10]
    assert res.status == "fail" and res.cells == [{"row": 1, "column": "n"}]
    _, ok = min_cell_count(pa.table({"n": [10, 11]}), ["n"])
    assert ok.status == "pass"


def test_request_folder_holds_only_checked_output(tmp_path: Path) -> None:
    t = pa.table({"issue_year": ["2015", "2016"], "children": [42, 3]})
    req = submit(
        tmp_path, project_id="0001", author="rhys", name="kids", title="Kids", description="d",
        table=t, count_columns=["children"], label_column="issue_year", sql="SELECT 1",
    )  # fmt: skip
    assert req.request_id == "0001-0001" and req.suppressed_cells == 1
    with open(req.folder / "outputs" / "kids.csv") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["issue_year", "children"], ["2015", "42"], ["2016", ""]]
    results = json.loads((req.folder / "results.json").read_text())
    assert results["results"]["kids"]["checks"][0]["cells"] == [{"row": 1, "column": "children"}]
    html = req.report.read_text()
    assert (
        "<svg" in html
        and "<script" not in html
        and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    )
    second = submit(
        tmp_path, project_id="0001", author="rhys", name="kids", title="Kids", description="d",
        table=t, count_columns=["children"], label_column="issue_year", sql="SELECT 1",
    )  # fmt: skip
    assert second.request_id == "0001-0002"
