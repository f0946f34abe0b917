"""Airlock: ACRO's checks unchanged, differencing, the state machine, the two-checker rule,
resets on change, release as the only way out."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from justicelink.airlock import (
    OWNERS,
    TRANSITIONS,
    OutputBuilder,
    RequestState,
    act,
    compare,
    create_request,
    min_cell_count,
    release,
    update_output,
)
from justicelink.airlock.workflow import transition
from justicelink.formats import RefusedError

ROLES = {
    "rhys": "researcher",
    "olwen": "output_checker",
    "owain": "output_checker",
    "dana": "data_manager",
}


def _frame(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "year": rng.choice(["2015", "2016", "2017"], 400),
            "la": rng.choice(["A", "B", "C", "D"], 400, p=[0.47, 0.47, 0.04, 0.02]),
        }
    )


def _request(tmp: Path, builder: OutputBuilder | None = None) -> str:
    if builder is None:
        builder = OutputBuilder()
        df = _frame()
        builder.acro.crosstab(df.year, df.la)
    return create_request(
        tmp, project_id="0001", author="rhys", builder=builder, title="t", description="d"
    ).request_id


def test_acro_outcomes_are_kept_unchanged(tmp_path: Path) -> None:
    rid = _request(tmp_path)
    folder = tmp_path / "requests" / rid
    results = json.loads((folder / "acro" / "results.json").read_text())
    assert results["results"]["output_0"]["status"] == "review"  # suppression applied by ACRO
    checks = results["results"]["output_0"]["files"][0]["sdc"]["summary"]
    assert checks["MinimumThresholdCheck"] > 0
    state = RequestState.load(folder)
    assert state.outputs["output_0"]["status"] == "review"
    html = (folder / "report.html").read_text()
    assert "MinimumThresholdCheck" in html and "crosstab" in html


def test_every_illegal_transition_is_refused(tmp_path: Path) -> None:
    actions = {a for _, a in TRANSITIONS} | {"bogus"}
    actors = {
        "author": ("rhys", "researcher"),
        "checker": ("olwen", "output_checker"),
        "system": ("system", "system"),
        "other": ("dana", "data_manager"),
    }
    for state, action, (group, (who, role)) in itertools.product(OWNERS, actions, actors.items()):
        req = RequestState("0001-0001", "0001", "rhys", state=state)
        allowed = (state, action) in TRANSITIONS and OWNERS[state] == group
        kwargs = {"vote": "approve"} if action == "review" else {}
        if allowed:
            transition(req, action, who, role, **kwargs)
        else:
            with pytest.raises(RefusedError):
                transition(req, action, who, role, **kwargs)
            assert req.state == state, "a refused action changed the state"


def test_two_different_checkers_never_the_author(tmp_path: Path) -> None:
    rid = _request(tmp_path)
    with pytest.raises(RefusedError, match="only its author"):
        act(tmp_path, rid, "submit", "olwen", "output_checker")
    act(tmp_path, rid, "submit", "rhys", "researcher")
    with pytest.raises(RefusedError, match="only an output checker"):
        act(
            tmp_path, rid, "review", "rhys", "output_checker", vote="approve"
        )  # the author, even with the role
    assert (
        act(tmp_path, rid, "review", "olwen", "output_checker", vote="approve")
        == "partially_reviewed"
    )
    with pytest.raises(RefusedError, match="already reviewed"):
        act(tmp_path, rid, "review", "olwen", "output_checker", vote="approve")
    with pytest.raises(RefusedError, match="only approved"):
        release(tmp_path, rid, "olwen", "output_checker")
    assert act(tmp_path, rid, "review", "owain", "output_checker", vote="approve") == "approved"
    dest = release(tmp_path, rid, "olwen", "output_checker")
    names = {p.name for p in dest.iterdir()}
    assert "output_0_0.csv" in names and "results.json" in names
    assert not any("session_summary" in n for n in names), "ACRO's DONT_RELEASE files must stay in"
    for line in (dest / "checksums.sha256").read_text().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((dest / name).read_bytes()).hexdigest() == digest
    assert RequestState.load(tmp_path / "requests" / rid).state == "released"


@pytest.mark.parametrize(
    "votes,final", [(("approve", "return"), "returned"), (("approve", "reject"), "rejected")]
)
def test_votes_decide(tmp_path: Path, votes: tuple[str, str], final: str) -> None:
    rid = _request(tmp_path)
    act(tmp_path, rid, "submit", "rhys", "researcher")
    act(tmp_path, rid, "review", "olwen", "output_checker", vote=votes[0])
    assert (
        act(
            tmp_path,
            rid,
            "review",
            "owain",
            "output_checker",
            vote=votes[1],
            comment="see cell (2016, D)",
        )
        == final
    )


def test_updating_a_file_resets_the_reviews(tmp_path: Path) -> None:
    rid = _request(tmp_path)
    act(tmp_path, rid, "submit", "rhys", "researcher")
    act(tmp_path, rid, "review", "olwen", "output_checker", vote="approve")
    with pytest.raises(RefusedError, match="only the author"):
        update_output(tmp_path, rid, "olwen", "output_0_0.csv", b"x")
    update_output(tmp_path, rid, "rhys", "output_0_0.csv", b"year,count\n2015,120\n")
    state = RequestState.load(tmp_path / "requests" / rid)
    assert state.state == "submitted" and state.reviews == []
    assert (
        act(tmp_path, rid, "review", "olwen", "output_checker", vote="approve")
        == "partially_reviewed"
    )


def test_custom_outputs_go_to_manual_review(tmp_path: Path) -> None:
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n")
    b = OutputBuilder()
    with pytest.raises(ValueError, match="justification"):
        b.custom(chart, " ")
    b.custom(chart, "Figure 2 of the paper; built from the released table 0001-0001.")
    rid = _request(tmp_path, b)
    state = RequestState.load(tmp_path / "requests" / rid)
    custom = [o for o in state.outputs.values() if "Figure 2" in o.get("justification", "")]
    assert custom and custom[0]["status"] == "review"


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
    r1 = _request(tmp_path, b1)
    act(tmp_path, r1, "submit", "rhys", "researcher")
    act(tmp_path, r1, "review", "olwen", "output_checker", vote="approve")
    act(tmp_path, r1, "review", "owain", "output_checker", vote="approve")
    release(tmp_path, r1, "olwen", "output_checker")
    small = df[df.la != "D"]  # everyone but a small local authority
    b2 = OutputBuilder()
    b2.acro.crosstab(small.year, small.assign(m="children")["m"])
    r2 = create_request(
        tmp_path, project_id="0001", author="rhys", builder=b2, title="t", description="d"
    )
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
