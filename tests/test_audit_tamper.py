"""Tampering with the control database, as someone who can write it: each is detected by
`control audit verify` (exit 1, naming what is wrong) or refused. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy
from typer.testing import CliRunner

from justicelink.cli import app
from justicelink.control import Application
from justicelink.formats import GENESIS, RefusedError, entry_hash
from justicelink.platform import Platform

PASSWORD = "correct horse battery staple"
runner = CliRunner()


@pytest.fixture()
def home(tmp_path: Path, control_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("JUSTICELINK_CONTROL_URL", control_url)
    root = tmp_path / "home"
    Platform.init(root, "ada", "Ada", PASSWORD)
    with Platform.login(root, "ada", PASSWORD)[0] as ada:
        for user, role in (("gita", "governance"), ("rhys", "researcher"), ("rowan", "researcher")):
            ada.users.create(user, role, user.title(), password=PASSWORD)
    with Platform.login(root, "rhys", PASSWORD)[0] as rhys:
        pid = rhys.applications.submit(Application(
            "t", "p", "l", {"CAFW": {"CAFCASS_ALF": ["ALF_E"]}}, ["rhys"], date(2020, 1, 1),
            date(2099, 1, 1)))  # fmt: skip
    with Platform.login(root, "gita", PASSWORD)[0] as gita:
        gita.applications.decide(pid, "approve", "ok")
    return root


def _db(root: Path, *sql: str) -> None:
    with Platform.login(root, "gita", PASSWORD)[0] as p, p.cp.engine.begin() as conn:
        for s in sql:
            conn.execute(sqlalchemy.text(s))


def _verify(root: Path) -> tuple[int, str]:
    tok = Platform.login(root, "gita", PASSWORD)[1]
    res = runner.invoke(app, ["control", "audit", "verify", "--home", str(root)],
                        env={"JUSTICELINK_TOKEN": tok})  # fmt: skip
    return res.exit_code, res.output


def test_an_untouched_log_verifies(home: Path) -> None:
    code, out = _verify(home)
    assert code == 0 and "audit log intact" in out and "witnessed to entry" in out


def _rows(root: Path) -> list:
    with Platform.login(root, "gita", PASSWORD)[0] as p, p.cp.engine.connect() as conn:
        return [SimpleNamespace(**r._asdict()) for r in conn.execute(sqlalchemy.text(
            "SELECT seq, at, actor, action, object, details, on_behalf_of FROM audit_log ORDER BY seq"))]  # fmt: skip


def _rehash(root: Path, rows: list) -> None:
    """Rewrite the whole chain so it is internally consistent again (what an attacker would)."""
    prev = GENESIS
    stmts = []
    for r in rows:
        h = entry_hash(prev, r.seq, r.at, r.actor, r.action, r.object, r.details, r.on_behalf_of)
        stmts.append(f"UPDATE audit_log SET prev_hash = '{prev}', hash = '{h}' WHERE seq = {r.seq}")
        prev = h
    # hashes are unique: move them out of the way first
    _db(root, "UPDATE audit_log SET hash = 'x' || CAST(seq AS VARCHAR(20))", *stmts)


def test_an_edited_entry_with_the_chain_recomputed_is_detected(home: Path) -> None:
    rows = _rows(home)
    target = next(r for r in rows if r.action == "application.approve")
    edited = [r if r.seq != target.seq else SimpleNamespace(**{**vars(r), "actor": "user:mallory"})
              for r in rows]  # fmt: skip
    _db(home, f"UPDATE audit_log SET actor = 'user:mallory' WHERE seq = {target.seq}")
    _rehash(home, edited)
    code, out = _verify(home)
    assert code == 1 and f"entry {target.seq} differs from the one the witness signed" in out


def test_the_last_entries_deleted_are_detected(home: Path) -> None:
    rows = _rows(home)
    _db(home, f"DELETE FROM audit_log WHERE seq > {rows[-1].seq - 3}")
    code, out = _verify(home)
    # new entries (the verifier's own sign-in) now take the deleted ones' numbers
    assert code == 1 and (
        "entries were deleted" in out or "differs from the one the witness" in out
    )
    assert "the audit log records" in out, "the grants the deleted entries made are reported"


def test_a_wiped_log_is_detected(home: Path) -> None:
    _db(
        home,
        "DELETE FROM audit_log",
        "DELETE FROM audit_head",
        "INSERT INTO audit_head VALUES (1, 0)",
    )
    code, out = _verify(home)
    # the verification's own sign-in writes new entries: the log no longer starts where the
    # witness says it does
    assert code == 1 and (
        "entries were deleted" in out or "differs from the one the witness" in out
    )


def test_a_wiped_witness_is_detected(home: Path) -> None:
    (home / "witness" / "heads.jsonl").write_text("")
    code, out = _verify(home)
    assert code == 1 and "the witness log is empty: it was wiped or replaced" in out


def test_a_forged_witness_line_is_detected(home: Path) -> None:
    path = home / "witness" / "heads.jsonl"
    lines = path.read_text().splitlines()
    last = json.loads(lines[-1])
    last["hash"] = "f" * 64
    path.write_text("\n".join([*lines[:-1], json.dumps(last, sort_keys=True)]) + "\n")
    code, out = _verify(home)
    assert code == 1 and "is not signed by the witness key" in out


@pytest.mark.parametrize(
    "sql,finding",
    [
        ("INSERT INTO project_members (project_id, username) VALUES ('0001', 'rowan')",
         "rowan is a member of project 0001 with no audited event"),
        ("UPDATE users SET role = 'admin' WHERE username = 'rhys'",
         "rhys has role admin but the audit log records researcher"),
        ("UPDATE projects SET status = 'provisioned' WHERE project_id = '0001'",
         "project 0001 is provisioned but the audit log records approved"),
        ("INSERT INTO decisions (project_id, decided_by, decision, reason, decided_at) "
         "VALUES ('0001', 'gita', 'approve', 'x', '2026-01-01')",
         "1 approve decision(s) by gita on project 0001; the audit log records 0"),
        ("UPDATE decisions SET reason = 'another reason' WHERE project_id = '0001'",
         "1 approve decision(s) by gita on project 0001; the audit log records 0"),
        ("UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'ada') "
         "WHERE username = 'gita'",
         "gita's password is not the one the audit log records being set"),
        ("UPDATE api_tokens SET token_sha256 = '" + "f" * 64 + "' WHERE token_id = "
         "(SELECT min(token_id) FROM api_tokens WHERE username = 'rhys')",
         "differs from its audited creation or revocation"),
        ("INSERT INTO project_datasets (project_id, dataset, bank_table, columns) "
         "VALUES ('0001', 'WLGP', 'GP_EVENT_CLEANSED', '[\"ALF_E\"]')",
         "project 0001's datasets, tables or columns differ from its audited application"),
        ("UPDATE projects SET end_date = '2199-01-01' WHERE project_id = '0001'",
         "project 0001's title, applicant or dates differ from its audited application"),
    ],
)  # fmt: skip
def test_a_grant_written_around_the_log_is_reported(home: Path, sql: str, finding: str) -> None:
    _db(home, sql)
    code, out = _verify(home)
    assert code == 1 and finding in out, out


def test_a_token_written_around_the_log_is_reported(home: Path) -> None:
    with Platform.login(home, "rhys", PASSWORD)[0] as rhys:
        tok = rhys.tokens.create("rhys", ["catalogue:read"], days=1)
    tid = tok.split("_")[1]
    _db(home, f"UPDATE api_tokens SET scopes = '[\"admin\"]' WHERE token_id = '{tid}'")
    code, out = _verify(home)
    assert code == 1 and f"token {tid} differs from its audited creation" in out
    # and the forged scope does nothing: a token never carries more than its owner's role
    with Platform.connect(home, tok) as p:
        assert "admin" not in p.actor.scopes
        with pytest.raises(RefusedError, match="user.create is for: admin"):
            p.users.create("eve", "admin", "Eve", password=PASSWORD)


def test_a_log_cut_back_with_its_witness_is_caught_by_a_quoted_head(
    home: Path, tmp_path: Path
) -> None:
    """Whoever holds every file of a home can cut the log and the witness back to an earlier,
    consistent point. A head quoted outside the home (a release's audit-head.json, kept by its
    recipient) shows it."""
    from justicelink.witness import Witness

    with Platform.login(home, "rhys", PASSWORD)[0] as rhys:
        rhys.tokens.create("rhys", ["catalogue:read"], days=1)
    w = Witness.open(home / "witness")
    kept = tmp_path / "audit-head.json"
    kept.write_text(json.dumps(w.last().quote(w.public_key_hex)))
    seq = w.last().seq
    lines = (home / "witness" / "heads.jsonl").read_text().splitlines()
    cut = next(i for i, ln in enumerate(lines) if json.loads(ln)["seq"] >= seq - 3)
    (home / "witness" / "heads.jsonl").write_text("\n".join(lines[:cut]) + "\n")
    cut_seq = json.loads(lines[cut - 1])["seq"]
    with Platform.login(home, "gita", PASSWORD)[0] as p, p.cp.engine.begin() as conn:
        conn.execute(sqlalchemy.text(f"DELETE FROM audit_log WHERE seq > {cut_seq}"))
        conn.execute(sqlalchemy.text("DELETE FROM api_tokens WHERE username = 'rhys'"))
    tok = Platform.login(home, "gita", PASSWORD)[1]
    env = {"JUSTICELINK_TOKEN": tok}
    res = runner.invoke(
        app, ["control", "audit", "verify", "--home", str(home), "--quote", str(kept)], env=env
    )
    assert res.exit_code == 1
    assert (
        f"differs from the head quoted in {kept}" in res.output
        or "beyond the end of the log" in res.output
    )
