"""Governance rules through the facade, on SQLite and on PostgreSQL 15: accounts, passwords,
tokens, applications and decisions, expiry, revocation, and concurrent audit appends."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy

from justicelink.control import Application
from justicelink.formats import RefusedError
from justicelink.platform import Platform

PASSWORD = "correct horse battery staple"
PEOPLE = [("gita", "governance"), ("gareth", "governance"), ("rhys", "researcher"),
          ("rowan", "researcher"), ("dana", "data_manager")]  # fmt: skip


@pytest.fixture()
def home(tmp_path: Path, control_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JUSTICELINK_CONTROL_URL", control_url)
    root = tmp_path / "home"
    Platform.init(root, "ada", "Ada", PASSWORD)
    with login(root, "ada") as ada:
        for user, role in PEOPLE:
            ada.users.create(user, role, user.title(), password=PASSWORD)
    return root


_OPEN: list[Platform] = []


def login(root: Path, user: str) -> Platform:
    p = Platform.login(root, user, PASSWORD)[0]
    _OPEN.append(p)
    return p


@pytest.fixture(autouse=True)
def _close_platforms():
    yield
    while _OPEN:
        _OPEN.pop().close()


def _app(**kw) -> Application:
    base = dict(
        title="t", purpose="p", lay_summary="l", datasets={"CAFW": {"CAFCASS_ALF": ["ALF_E"]}},
        researchers=["rhys"], start_date=date(2020, 1, 1), end_date=date(2099, 1, 1),
    )  # fmt: skip
    base.update(kw)
    return Application(**base)  # type: ignore[arg-type]


def _sql(p: Platform, sql: str) -> list:
    with p.cp.engine.begin() as conn:
        res = conn.execute(sqlalchemy.text(sql))
        return list(res) if res.returns_rows else []


def test_nobody_approves_their_own_application(home: Path) -> None:
    gita, rhys = login(home, "gita"), login(home, "rhys")
    with pytest.raises(RefusedError, match="application.submit is for: researcher"):
        gita.applications.submit(_app())
    pid = rhys.applications.submit(_app())
    with pytest.raises(RefusedError, match="rhys is a researcher; application.decide is for"):
        rhys.applications.decide(pid, "approve", "self")
    with pytest.raises(RefusedError, match="must record its reason"):
        gita.applications.decide(pid, "approve", " ")
    assert gita.applications.decide(pid, "approve", "fine") == "approved"
    with pytest.raises(RefusedError, match="project 0001 is approved: reject is not allowed"):
        login(home, "gareth").applications.decide(pid, "reject", "late")
    g = gita.cp.grant(pid)
    assert g.approved_by == "gita" and g.researchers == ["rhys"] and g.schema == "SAIL0001V"


def test_a_panel_member_named_on_an_application_cannot_decide_it(home: Path) -> None:
    with login(home, "ada") as ada:
        ada.users.create("gwen", "researcher", "Gwen", password=PASSWORD)
    pid = login(home, "rhys").applications.submit(_app(researchers=["rhys", "gwen"]))
    with login(home, "ada") as ada:
        ada.users.set_role("gwen", "governance")  # she joins the panel afterwards
    with pytest.raises(RefusedError, match="gwen applied for or is named on project"):
        login(home, "gwen").applications.decide(pid, "approve", "mine")


def test_unapproved_or_expired_projects_are_not_provisioned(home: Path) -> None:
    rhys, gita, dana = login(home, "rhys"), login(home, "gita"), login(home, "dana")
    pid = rhys.applications.submit(_app())
    with pytest.raises(RefusedError, match="project 0001 is submitted and runs"):
        dana.projects.provision(pid)
    old = rhys.applications.submit(_app(start_date=date(2019, 1, 1), end_date=date(2020, 1, 1)))
    gita.applications.decide(old, "approve", "ok")
    with pytest.raises(RefusedError, match="is expired and runs 2019-01-01 to 2020-01-01"):
        dana.projects.provision(old)
    assert gita.applications.show(old).state == "expired"
    stored = _sql(gita, f"SELECT status FROM projects WHERE project_id = '{old}'")[0][0]
    assert stored == "approved", "reading a project, or refusing an action on it, writes nothing"
    moved = [e.action for e in gita.cp.audit_entries(f"project:{old}") if e.actor == "system"]
    assert moved == []
    # an expired project's data is withdrawn by the panel; the expiry is written first
    gita.projects.revoke(old, "ended")
    steps = [(e.actor, e.action, e.on_behalf_of) for e in gita.cp.audit_entries(f"project:{old}")
             if e.action in ("project.expire", "project.revoke")]  # fmt: skip
    assert steps == [
        ("system", "project.expire", "user:gita"),
        ("user:gita", "project.revoke", None),
    ]
    assert gita.audit.verify().ok
    rej = rhys.applications.submit(_app())
    gita.applications.decide(rej, "reject", "no")
    with pytest.raises(RefusedError, match="is rejected"):
        dana.projects.provision(rej)


def test_passwords_are_argon2_and_logins_audited(home: Path) -> None:
    with login(home, "rhys") as rhys:
        with pytest.raises(RefusedError, match="at least 12"):
            rhys.users.set_password("rhys", "short")
        stored = _sql(rhys, "SELECT password_hash FROM users WHERE username = 'rhys'")[0][0]
        assert stored.startswith("$argon2id$") and "horse" not in stored
    for user, pw in (("rhys", "wrong horse battery"), ("nobody", PASSWORD)):
        with pytest.raises(RefusedError, match="unknown user or wrong password"):
            Platform.login(home, user, pw)
    with login(home, "gita") as gita:
        actions = [(e.actor, e.action, e.object) for e in gita.audit.entries()]
    assert ("user:gita", "login", "user:gita") in actions
    assert ("anonymous", "login.failed", "user:rhys") in actions
    assert ("anonymous", "login.failed", "user:nobody") in actions


def test_tokens_are_scoped_expiring_and_revocable(home: Path) -> None:
    rhys = login(home, "rhys")
    narrow = rhys.tokens.create("rhys", ["catalogue:read"], days=1)
    assert narrow.startswith("jl_")
    with Platform.connect(home, narrow) as p:
        assert p.actor.username == "rhys"
        with pytest.raises(RefusedError, match="the token lacks the application:submit scope"):
            p.applications.submit(_app())
    with pytest.raises(RefusedError, match="unknown token"):
        Platform.connect(home, narrow + "x")
    stored = [r[0] for r in _sql(rhys, "SELECT token_sha256 FROM api_tokens")]
    assert narrow not in stored and all(len(s) == 64 for s in stored)
    with pytest.raises(RefusedError, match="cannot carry governance:decide"):
        rhys.tokens.create("rhys", ["governance:decide"], days=1)
    with pytest.raises(RefusedError, match="scopes must be some of"):
        rhys.tokens.create("rhys", ["everything"], days=1)
    with pytest.raises(RefusedError, match="token.create on user:rowan: user:rowan is not rhys"):
        rhys.tokens.create("rowan", ["catalogue:read"], days=1)
    p = Platform.connect(home, narrow)
    _OPEN.append(p)
    rhys.tokens.revoke(narrow.split("_")[1])
    with pytest.raises(RefusedError, match="token revoked"):
        p.catalogue.versions()  # a platform already open stops at its next action
    with pytest.raises(RefusedError, match="token revoked"):
        Platform.connect(home, narrow)
    short = rhys.tokens.create("rhys", ["catalogue:read"], days=1)
    _sql(
        rhys,
        f"UPDATE api_tokens SET expires_at = created_at WHERE token_id = '{short.split('_')[1]}'",
    )
    with pytest.raises(RefusedError, match="token expired"):
        Platform.connect(home, short)
    assert any(e.action == "token.refused" for e in rhys.cp.audit_entries())


def test_a_role_change_revokes_the_persons_tokens(home: Path) -> None:
    rowan = login(home, "rowan")
    with login(home, "ada") as ada:
        ada.users.set_role("rowan", "output_checker")
        with pytest.raises(RefusedError, match="nobody changes their own role"):
            ada.users.set_role("ada", "researcher")
    with pytest.raises(RefusedError, match="token revoked"):
        rowan.catalogue.versions()
    assert login(home, "rowan").actor.role == "output_checker"


def test_changes_requested_then_resubmitted_then_revoked(home: Path) -> None:
    rhys, gita, gareth = login(home, "rhys"), login(home, "gita"), login(home, "gareth")
    pid = rhys.applications.submit(_app())
    assert (
        gita.applications.decide(pid, "request_changes", "name the columns") == "changes_requested"
    )
    with pytest.raises(RefusedError, match="rowan did not apply for project 0001"):
        login(home, "rowan").applications.resubmit(pid, _app(title="theirs"))
    rhys.applications.resubmit(pid, _app(title="revised"))
    assert gareth.applications.decide(pid, "approve", "now proportionate") == "approved"
    assert gita.applications.show(pid).title == "revised"
    with pytest.raises(RefusedError, match="project.revoke is for: governance"):
        rhys.projects.revoke(pid, "mine")
    gita.projects.revoke(pid, "breach of the data access agreement")
    with pytest.raises(RefusedError, match="project 0001 is revoked"):
        login(home, "dana").projects.provision(pid)
    with pytest.raises(RefusedError, match="project 0001 is revoked"):
        rhys.workspace.session(pid)
    assert gita.audit.verify().ok


def test_lists_show_what_each_person_may_see(home: Path) -> None:
    rhys, rowan = login(home, "rhys"), login(home, "rowan")
    mine = rhys.applications.submit(_app())
    rowan.applications.submit(_app(researchers=["rowan"]))
    assert [a.project_id for a in rhys.applications.list()] == [mine]
    assert len(login(home, "gita").applications.list()) == 2
    with pytest.raises(RefusedError, match="rowan is not a member of project 0001"):
        rowan.applications.show(mine)


def test_concurrent_appends_keep_the_chain(home: Path, control_url: str) -> None:
    """Several processes append at once; the chain stays whole and every head is witnessed."""
    code = (
        "import sys; from justicelink.platform import Home, open_control_plane\n"
        "cp = open_control_plane(Home.open(sys.argv[1]))\n"
        "for i in range(15): cp.record('user:rhys', 'workspace.query', 'project:0001', n=i)\n"
    )
    import os

    env = {**os.environ, "JUSTICELINK_CONTROL_URL": control_url}
    before = len(login(home, "gita").audit.entries())
    procs = [subprocess.Popen([sys.executable, "-c", code, str(home)], env=env) for _ in range(4)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    with login(home, "gita") as gita:
        v = gita.audit.verify()
        assert v.ok, v.problems
        # + reading the log, gita's second login and her sign-in token
        assert v.entries == before + 1 + 60 + 2
    heads = [json.loads(x) for x in (home / "witness" / "heads.jsonl").read_text().splitlines()]
    assert [h["n"] for h in heads] == list(range(1, len(heads) + 1))


def test_nobody_acts_as_someone_else_not_even_an_admin(home: Path) -> None:
    """An admin makes accounts; they cannot mint another person's token or set their password,
    so one admin cannot act as two output checkers (or as a researcher on their data)."""
    login(home, "rhys")
    ada = login(home, "ada")
    with pytest.raises(RefusedError, match="user:rhys is not ada's own"):
        ada.tokens.create("rhys", ["workspace:query"], days=1)
    with pytest.raises(RefusedError, match="user:rhys is not ada's own"):
        ada.users.set_password("rhys", "a new password for rhys")
    assert [t.username for t in ada.tokens.list("rhys")] == ["rhys"]  # an admin may look


def test_a_new_password_ends_the_persons_other_sign_ins(home: Path) -> None:
    first, second = login(home, "rhys"), login(home, "rhys")
    second.users.set_password("rhys", "another long passphrase")
    with pytest.raises(RefusedError, match="token revoked"):
        first.catalogue.versions()
    second.catalogue.versions()  # the sign-in that changed it goes on
    assert Platform.login(home, "rhys", "another long passphrase")[0].actor.username == "rhys"
    assert login(home, "gita").audit.verify().ok


def test_reads_are_audited(home: Path) -> None:
    gita = login(home, "gita")
    gita.applications.list()
    gita.audit.entries()
    actions = [e.action for e in gita.cp.audit_entries("home")[-2:]]
    assert actions == ["application.list", "audit.show"]


def test_typed_names_never_reach_the_audit_log_unchecked(home: Path) -> None:
    ada = login(home, "ada")
    for bad in ("9434765919", "Jane Smith", "../etc"):
        with pytest.raises(RefusedError, match="a user name is"):
            ada.users.set_role(bad, "admin")
    with pytest.raises(RefusedError, match="a token id is 16 hexadecimal"):
        ada.tokens.revoke("JaneSmith-1985-03-02")
    text = " ".join(e.object + e.details for e in ada.cp.audit_entries())
    assert "9434765919" not in text and "Jane" not in text and "1985" not in text
