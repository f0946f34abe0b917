"""Governance rules and the audit chain."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy

from justicelink.control import Application, ControlPlane
from justicelink.formats import RefusedError


@pytest.fixture()
def cp(tmp_path: Path, control_url: str):
    c = ControlPlane.open(tmp_path / "control", url=control_url)
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


def _tamper(cp: ControlPlane, sql: str) -> None:
    """Edit the database behind the control plane's back (as an attacker with DB access)."""
    with cp.engine.begin() as conn:
        conn.execute(sqlalchemy.text(sql))


def test_audit_chain_is_intact_then_detects_edits(cp: ControlPlane) -> None:
    pid = cp.submit("rhys", _app())
    cp.decide(pid, "gita", "approve", "ok")
    v = cp.verify_audit()
    assert v.ok and v.entries == 7
    _tamper(cp, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 6")
    v = cp.verify_audit()
    assert not v.ok and "entry 6 was altered" in v.problem


def test_audit_detects_deletion_in_the_middle_and_at_the_end(cp: ControlPlane) -> None:
    cp.audit("rhys", "workspace.query", "project:0001", sql_sha256="x")
    cp.audit("rhys", "workspace.query", "project:0001", sql_sha256="y")
    _tamper(cp, "DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)")
    v = cp.verify_audit()
    assert not v.ok and "anchor records entry" in v.problem
    _tamper(cp, "DELETE FROM audit_log WHERE seq = 3")
    v = cp.verify_audit()
    assert not v.ok and "entry 3 is missing" in v.problem


def test_passwords_are_argon2_and_logins_audited(cp: ControlPlane) -> None:
    with pytest.raises(RefusedError, match="at least 12"):
        cp.set_password("rhys", "short", actor="ada")
    cp.set_password("rhys", "correct horse battery", actor="ada")
    with cp.engine.connect() as conn:
        stored = conn.execute(
            sqlalchemy.text("SELECT password_hash FROM users WHERE username = 'rhys'")
        ).scalar_one()
    assert stored.startswith("$argon2id$") and "correct" not in stored
    assert cp.login("rhys", "correct horse battery") == "researcher"
    for user, pw in (("rhys", "wrong horse battery"), ("nobody", "correct horse battery")):
        with pytest.raises(RefusedError, match="unknown user or wrong password"):
            cp.login(user, pw)
    actions = [(e["actor"], e["action"]) for e in cp.audit_entries()]
    assert (
        ("rhys", "login") in actions
        and ("rhys", "login.failed") in actions
        and ("nobody", "login.failed") in actions
    )
    assert cp.verify_audit().ok


def test_tokens_are_scoped_expiring_and_revocable(cp: ControlPlane) -> None:
    token = cp.create_token("rhys", ["workspace:query"], days=1, actor="ada")
    assert token.startswith("jl_")
    assert cp.authenticate(token, "workspace:query") == "rhys"
    with pytest.raises(RefusedError, match="lacks the airlock:review scope"):
        cp.authenticate(token, "airlock:review")
    with pytest.raises(RefusedError, match="unknown token"):
        cp.authenticate(token + "x", "workspace:query")
    with cp.engine.connect() as conn:
        stored = (
            conn.execute(sqlalchemy.text("SELECT token_sha256 FROM api_tokens")).scalars().all()
        )
    assert token not in stored and all(len(s) == 64 for s in stored)
    token_id = token.split("_")[1]
    cp.revoke_token(token_id, actor="ada")
    with pytest.raises(RefusedError, match="token revoked"):
        cp.authenticate(token, "workspace:query")
    short = cp.create_token("rowan", ["workspace:query"], days=1, actor="ada")
    _tamper(cp, "UPDATE api_tokens SET expires_at = created_at WHERE username = 'rowan'")
    with pytest.raises(RefusedError, match="token expired"):
        cp.authenticate(short, "workspace:query")
    with pytest.raises(RefusedError, match="scopes must be"):
        cp.create_token("rhys", ["everything"], days=1, actor="ada")
    assert any(e["action"] == "token.refused" for e in cp.audit_entries())


def test_changes_requested_then_resubmitted_then_revoked(cp: ControlPlane) -> None:
    pid = cp.submit("rhys", _app())
    assert (
        cp.decide(pid, "gita", "request_changes", "name the columns you need")
        == "changes_requested"
    )
    with pytest.raises(RefusedError, match="only approved"):
        cp.grant(pid)
    cp.resubmit(pid, "rhys", _app(title="revised"))
    assert cp.decide(pid, "gareth", "approve", "now proportionate") == "approved"
    assert cp.grant(pid).title == "revised"
    with pytest.raises(RefusedError, match="cannot revoke"):
        cp.revoke(pid, "rhys", "mine")
    cp.revoke(pid, "gita", "breach of the data access agreement")
    with pytest.raises(RefusedError, match="revoked"):
        cp.grant(pid)
    with pytest.raises(RefusedError, match="revoked"):
        cp.require_member(pid, "rhys")


def test_concurrent_appends_keep_the_chain(cp: ControlPlane, tmp_path: Path) -> None:
    """Several processes append at once; the chain stays whole (serialised appends)."""
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from justicelink.control import ControlPlane\n"
        "cp = ControlPlane.open(Path(sys.argv[1]), url=sys.argv[2])\n"
        "for i in range(15): cp.audit('rhys', 'workspace.query', 'project:0001', n=i)\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "control"), cp.url])
        for _ in range(4)
    ]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    v = cp.verify_audit()
    assert v.ok, v.problem
    assert v.entries == 5 + 60
