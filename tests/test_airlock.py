"""Airlock files: ACRO's checks unchanged, differencing, checksums recorded at creation, and a
release that copies only files still matching them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from justicelink.airlock import (
    OutputBuilder,
    PreparedRequest,
    RequestView,
    compare,
    min_cell_count,
    prepare_request,
    release,
    replace_output,
    write_report,
)
from justicelink.formats import RefusedError


def _frame(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "year": rng.choice(["2015", "2016", "2017"], 400),
            "la": rng.choice(["A", "B", "C", "D"], 400, p=[0.47, 0.47, 0.04, 0.02]),
        }
    )


def _prepare(tmp: Path, builder: OutputBuilder | None = None, n: int = 1) -> PreparedRequest:
    if builder is None:
        builder = OutputBuilder()
        df = _frame()
        builder.acro.crosstab(df.year, df.la)
    prepared = prepare_request(tmp, f"0001-{n:04d}", "0001", builder)
    write_report(prepared.folder, RequestView(prepared.request_id, "0001", "SAIL0001V", "rhys",
                                              "approved", "t", "d", "", prepared.files))  # fmt: skip
    return prepared


def test_acro_outcomes_are_kept_unchanged_and_every_file_has_a_checksum(tmp_path: Path) -> None:
    prepared = _prepare(tmp_path)
    results = json.loads((prepared.folder / "acro" / "results.json").read_text())
    assert results["results"]["output_0"]["status"] == "review"  # suppression applied by ACRO
    checks = results["results"]["output_0"]["files"][0]["sdc"]["summary"]
    assert checks["MinimumThresholdCheck"] > 0
    assert prepared.outcomes["output_0"] == "review"
    for f in prepared.files:
        digest = hashlib.sha256((prepared.folder / "acro" / f.name).read_bytes()).hexdigest()
        assert f.sha256 == digest
    html = (prepared.folder / "report.html").read_text()
    assert "MinimumThresholdCheck" in html and "crosstab" in html
    assert not (prepared.folder / "request.json").exists(), "state lives in the control plane"


def test_release_copies_only_files_that_still_match_their_checksums(tmp_path: Path) -> None:
    prepared = _prepare(tmp_path)
    dest = release(tmp_path, prepared.request_id, prepared.files, {"audit-head.json": b"{}\n"})
    names = {p.name for p in dest.iterdir()}
    assert {"output_0_0.csv", "results.json", "audit-head.json", "checksums.sha256"} <= names
    assert not any("session_summary" in n for n in names), "ACRO's DONT_RELEASE files stay in"
    for line in (dest / "checksums.sha256").read_text().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((dest / name).read_bytes()).hexdigest() == digest
    with pytest.raises(RefusedError, match="has already been released"):
        release(tmp_path, prepared.request_id, prepared.files, {})


def test_a_file_changed_after_checking_is_never_released(tmp_path: Path) -> None:
    prepared = _prepare(tmp_path)
    (prepared.folder / "acro" / "output_0_0.csv").write_text("year,count\n2015,3\n")
    with pytest.raises(RefusedError, match="output_0_0.csv changed after it was checked"):
        release(tmp_path, prepared.request_id, prepared.files, {})
    assert not (tmp_path / "released").exists() or not any((tmp_path / "released").iterdir())


def test_replacing_an_output_returns_its_new_checksum(tmp_path: Path) -> None:
    prepared = _prepare(tmp_path)
    sha = replace_output(tmp_path, prepared.request_id, "output_0_0.csv", b"year,n\n2015,120\n")
    assert sha == hashlib.sha256(b"year,n\n2015,120\n").hexdigest()
    with pytest.raises(RefusedError, match="has no output file results.json"):
        replace_output(tmp_path, prepared.request_id, "results.json", b"{}")


def test_custom_outputs_go_to_manual_review(tmp_path: Path) -> None:
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n")
    b = OutputBuilder()
    with pytest.raises(ValueError, match="justification"):
        b.custom(chart, " ")
    b.custom(chart, "Figure 2 of the paper; built from the released table 0001-0001.")
    prepared = _prepare(tmp_path, b)
    custom = [f for f in prepared.files if "Figure 2" in f.justification]
    assert custom and custom[0].status == "review"


def _write(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(r) for r in rows) + "\n")
    return path


def test_differencing_flags_a_small_group(tmp_path: Path) -> None:
    released = _write(
        tmp_path / "released.csv", [["year", "children"], ["2015", "140"], ["2016", "151"]]
    )
    new = _write(tmp_path / "new.csv", [["year", "children"], ["2015", "137"], ["2016", "151"]])
    findings = compare(new, released, threshold=10)
    assert (
        len(findings) >= 1
        and findings[0].where == "cell (2015, children)"
        and findings[0].difference == 3
    )
    same = _write(tmp_path / "same.csv", [["year", "children"], ["2015", "140"], ["2016", "151"]])
    far = _write(tmp_path / "far.csv", [["year", "children"], ["2015", "120"], ["2016", "151"]])
    assert compare(same, released, 10) == [] and compare(far, released, 10) == []


def test_differencing_end_to_end(tmp_path: Path) -> None:
    """Release a total; a second table that leaves out one small group is sent to review."""
    df = _frame(3)
    b1 = OutputBuilder()
    b1.acro.crosstab(df.year, df.assign(m="children")["m"])
    r1 = _prepare(tmp_path, b1, 1)
    release(tmp_path, r1.request_id, r1.files, {})
    small = df[df.la != "D"]  # everyone but a small local authority
    b2 = OutputBuilder()
    b2.acro.crosstab(small.year, small.assign(m="children")["m"])
    r2 = _prepare(tmp_path, b2, 2)
    findings = json.loads((r2.folder / "differencing.json").read_text())
    assert findings and all(0 < f["difference"] < 10 for f in findings)
    assert r2.outcomes["output_0"] == "review"
    assert (
        "would disclose a group smaller than the threshold"
        in (r2.folder / "report.html").read_text()
    )


def test_min_cell_count_rule() -> None:
    t = pa.table({"year": ["2015", "2016", "2017", "2018"], "n": [25, 9, 0, 10]})
    out, res = min_cell_count(t, ["n"], 10)
    assert out.column("n").to_pylist() == [25, None, 0, 10]
    assert res.status == "fail" and res.cells == [{"row": 1, "column": "n"}]
