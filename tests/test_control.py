"""Governance rules and the audit chain."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from justicelink.control import Application, ControlPlane
from justicelink.formats import RefusedError


@pytest.fixture()
def cp(tmp_path: Path):
    c = ControlPlane.open(tmp_path / "control")
    for u, r in [
        ("ada", "admin"),
        ("gita", "governance"),
        ("gareth", "governance"),
        ("rhys", "researcher"),
        ("rowan", "researcher"),
    ]:
        c.add_user(u, r, u.title(), actor="ada")
    yield c
    c.close()


def _app(**kw) -> Application:
    base = dict(
        title="t", purpose="p", lay_summary="l", datasets={"CAFW": {"CAFCASS_ALF": ["ALF_E"]}},
        researchers=["rhys"], start_date=date(2020, 1, 1), end_date=date(2099, 1, 1),
    )  # fmt: skip
    base.update(kw)
    return Application(**base)  # type: ignore[arg-type]


def test_nobody_approves_their_own_application(cp: ControlPlane) -> None:
    cp.add_user("gwen", "governance", "Gwen", actor="ada")
    with pytest.raises(RefusedError, match="only researchers apply"):
        cp.submit("gwen", _app())
    pid = cp.submit("rhys", _app())
    with pytest.raises(RefusedError, match="not on the governance panel"):
        cp.decide(pid, "rhys", "approve", "self")
    with pytest.raises(RefusedError, match="must record its reason"):
        cp.decide(pid, "gita", "approve", " ")
    assert cp.decide(pid, "gita", "approve", "fine") == "approved"
    with pytest.raises(RefusedError, match="not awaiting a decision"):
        cp.decide(pid, "gareth", "reject", "late")
    g = cp.grant(pid)
    assert g.approved_by == "gita" and g.researchers == ["rhys"] and g.schema == "SAIL0001V"


def test_unapproved_or_expired_projects_have_no_grant(cp: ControlPlane) -> None:
    pid = cp.submit("rhys", _app())
    with pytest.raises(RefusedError, match="only approved projects"):
        cp.grant(pid)
    old = cp.submit("rhys", _app(start_date=date(2019, 1, 1), end_date=date(2020, 1, 1)))
    cp.decide(old, "gita", "approve", "ok")
    with pytest.raises(RefusedError, match="access is closed"):
        cp.grant(old)
    rej = cp.submit("rhys", _app())
    cp.decide(rej, "gita", "reject", "no")
    with pytest.raises(RefusedError, match="rejected"):
        cp.grant(rej)


def test_membership(cp: ControlPlane) -> None:
    pid = cp.submit("rhys", _app())
    cp.decide(pid, "gita", "approve", "ok")
    assert cp.require_member(pid, "rhys").project_id == pid
    with pytest.raises(RefusedError, match="not a member"):
        cp.require_member(pid, "rowan")
    with pytest.raises(RefusedError, match="not a researcher"):
        cp.require_member(pid, "gita")


def _db(cp: ControlPlane) -> str:
    return cp.url.removeprefix("sqlite:///")


def test_audit_chain_is_intact_then_detects_edits(cp: ControlPlane) -> None:
    pid = cp.submit("rhys", _app())
    cp.decide(pid, "gita", "approve", "ok")
    v = cp.verify_audit()
    assert v.ok and v.entries == 7
    con = sqlite3.connect(_db(cp))
    con.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 6")
    con.commit()
    v = cp.verify_audit()
    assert not v.ok and "entry 6 was altered" in v.problem


def test_audit_detects_deletion_in_the_middle_and_at_the_end(cp: ControlPlane) -> None:
    cp.audit("rhys", "workspace.query", "project:0001", sql_sha256="x")
    cp.audit("rhys", "workspace.query", "project:0001", sql_sha256="y")
    con = sqlite3.connect(_db(cp))
    con.execute("DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)")
    con.commit()
    v = cp.verify_audit()
    assert not v.ok and "anchor records entry" in v.problem
    con.execute("DELETE FROM audit_log WHERE seq = 3")
    con.commit()
    v = cp.verify_audit()
    assert not v.ok and "entry 3 is missing" in v.problem
