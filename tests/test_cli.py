"""The command line as people use it: signed in with a password, every verb through the facade,
refusals as clear messages with exit code 2, output that reads in a pipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from signin import password
from typer.testing import CliRunner

from justicelink.cli import app
from justicelink.crypto import open_sealed
from justicelink.platform import Home, credentials

runner = CliRunner()


def cli(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=input)


def login(home: Path, user: str) -> None:
    res = cli(
        "login", "--home", str(home), user, "--password-stdin", input=password(home, user) + "\n"
    )
    assert res.exit_code == 0, res.output


@pytest.fixture()
def signed_out(demo_home: Path):
    yield
    credentials.forget(Home.open(demo_home).home_id)


def _version(demo_home: Path) -> str:
    return json.loads((demo_home / "demo.json").read_text())["datasets"]["CAFW"]["version"]


def test_provider_specs_lists_every_dataset() -> None:
    res = cli("provider", "specs")
    assert res.exit_code == 0
    for name in ("CAFW", "CAFE", "NCCH", "WLGP", "PEDW", "EDDS", "EDUW", "LACW", "WDSD"):
        assert name in res.output


def test_provider_split_round_trip_and_refusal(world, zones, tmp_path: Path) -> None:
    lk = zones["linkage"].folder / "age-recipient.txt"  # a file holding the key
    bk = zones["bank"].recipient  # the key itself
    args = ["provider", "split", "--spec", "NCCH", "--input", str(world.extracts["NCCH"]),
            "--linkage-recipient", str(lk), "--bank-recipient", bk,
            "--provider-dir", str(zones["provider"].folder.parent)]  # fmt: skip
    res = cli(*args, "--out", str(tmp_path / "sub"))
    assert res.exit_code == 0, res.output
    assert "submission NCCH-" in res.output
    _, tables = open_sealed(
        tmp_path / "sub" / "linkage", zones["linkage"].identity(), "linkage", kind="identifiers"
    )
    assert next(iter(tables.values())).num_rows == 2 * world.counts["NCCH.CHILD_BIRTHS"]
    bad = cli(*args, "--out", str(tmp_path / "sub"))
    assert bad.exit_code == 2 and "refused" in bad.output and "not empty" in bad.output
    wrong = cli(*args[:-6], "--linkage-recipient", "age1notakey", "--bank-recipient", bk,
                "--provider-dir", str(tmp_path / "p"), "--out", str(tmp_path / "x"))  # fmt: skip
    assert wrong.exit_code == 2
    assert not (tmp_path / "x").exists()


def test_governance_through_the_cli_end_to_end(demo_home: Path, tmp_path: Path, signed_out) -> None:
    """Apply, decide, provision, query, revoke: each by the person whose job it is, signed in."""
    home = ["--home", str(demo_home)]
    application = tmp_path / "app.toml"
    application.write_text(
        'title = "Private law repeat applications"\n'
        'purpose = "How often do families come back to court?"\n'
        'lay_summary = "Counting repeat applications, anonymously."\n'
        'start_date = "2026-01-01"\nend_date = "2029-01-01"\nresearchers = ["rowan"]\n'
        '[datasets.CAFW]\nCAFCASS_APPLICATION = ["CAP_APPLICATIONID_E", "CAP_LAWTYPENAME", "CAP_ISSUEDATE"]\n'
    )
    login(demo_home, "rowan")
    res = cli("control", "application", "submit", str(application), *home)
    assert res.exit_code == 0, res.output
    pid = res.output.strip().split()[-1]
    own = cli("control", "decide", pid, "--decision", "approve", "--reason", "x", *home)
    assert (
        own.exit_code == 2
        and "rowan is a researcher; application.decide is for: governance" in own.output
    )
    login(demo_home, "gareth")
    ok = cli("control", "decide", pid, "--decision", "approve", "--reason", "proportionate", *home)
    assert ok.exit_code == 0 and "approved" in ok.output
    login(demo_home, "dana")
    prov = cli("project", "provision", pid, *home)
    assert prov.exit_code == 0, prov.output
    login(demo_home, "rowan")
    sql = f"SELECT count(*) AS n FROM SAIL{pid}V.CAFW_CAFCASS_APPLICATION_{_version(demo_home)}"
    q = cli("workspace", "sql", sql, "--project", pid, *home)
    assert q.exit_code == 0 and q.output.splitlines()[0] == "n"
    login(demo_home, "gita")
    rv = cli("project", "revoke", pid, "--reason", "ethics approval lapsed", *home)
    assert rv.exit_code == 0, rv.output
    login(demo_home, "rowan")
    after = cli("workspace", "sql", "SELECT 1", "--project", pid, *home)
    assert after.exit_code == 2 and "is revoked" in after.output
    assert not (demo_home / "projects" / pid / "store").exists()
    assert not (demo_home / "projects" / pid / "keys").exists()
    login(demo_home, "gita")
    verify = cli("control", "audit", "verify", *home)
    assert verify.exit_code == 0 and "intact" in verify.output, verify.output
    shown = cli("control", "audit", "show", "--last", "60", *home)
    for action in ("application.submit", "application.approve", "project.provision",
                   "workspace.query", "project.revoke", "workspace.query.refused"):  # fmt: skip
        assert action in shown.output


# -- the probes of the governance-core issue, each a regression test --------------------------
def test_provisioning_needs_a_real_signed_in_data_manager(demo_home: Path, signed_out) -> None:
    home = ["--home", str(demo_home)]
    before = sorted(p.name for p in (demo_home / "projects").iterdir())
    nobody = cli("project", "provision", "0002", *home)
    assert nobody.exit_code == 2 and "nobody is signed in" in nobody.output
    fake = cli("login", *home, "nobody-at-all", "--password-stdin", input="whatever it is\n")
    assert fake.exit_code == 2 and "unknown user or wrong password" in fake.output
    login(demo_home, "rhys")
    res = cli("project", "provision", "0001", *home)
    assert res.exit_code == 2
    assert "rhys is a researcher; project.provision is for: data_manager" in res.output
    assert "Traceback" not in res.output
    assert sorted(p.name for p in (demo_home / "projects").iterdir()) == before
    login(demo_home, "gita")
    shown = cli("control", "audit", "show", "--last", "12", "--format", "json", *home)
    entries = json.loads(shown.output)
    assert {"actor": "user:rhys", "action": "project.provision.refused", "object": "project:0001"} in [
        {k: e[k] for k in ("actor", "action", "object")} for e in entries]  # fmt: skip
    assert {"actor": "anonymous", "action": "login.failed", "object": "user:nobody-at-all"} in [
        {k: e[k] for k in ("actor", "action", "object")} for e in entries]  # fmt: skip
    assert not any(e["actor"] == "system" and not e["on_behalf_of"] for e in entries)


def test_a_refused_release_copies_nothing(demo_home: Path, signed_out) -> None:
    """The author's release is refused before anything is copied; a checker's then works."""
    home = ["--home", str(demo_home)]
    login(demo_home, "rhys")
    made = cli("airlock", "run-example", "--project", "0001", *home)
    assert made.exit_code == 0, made.output
    rid = made.output.split()[1].rstrip(":")
    for checker in ("olwen", "owain"):
        login(demo_home, checker)
        assert (
            cli("airlock", "review", rid, "--vote", "approve", "--comment", "ok", *home).exit_code
            == 0
        )
    login(demo_home, "rhys")
    mine = cli("airlock", "release", rid, *home)
    assert mine.exit_code == 2 and "rhys is a researcher; airlock.release is for" in mine.output
    assert not (demo_home / "airlock" / "released" / rid).exists()
    login(demo_home, "olwen")
    ok = cli("airlock", "release", rid, *home)
    assert ok.exit_code == 0, ok.output
    head = json.loads((demo_home / "airlock" / "released" / rid / "audit-head.json").read_text())
    from justicelink.witness import verify_quote

    assert verify_quote(head) and head["seq"] > 0


def test_analyses_on_a_project_without_their_tables_are_refused_clearly(
    demo_home: Path, signed_out
) -> None:
    login(demo_home, "rowan")
    res = cli("analyses", "run", "0002", *["--home", str(demo_home)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "has no table" in res.output


# -- behaving as users expect --------------------------------------------------------------
def test_a_folder_that_is_not_a_home_is_refused_and_left_alone(tmp_path: Path) -> None:
    typo = tmp_path / "demo-hom"
    for args in (["control", "audit", "verify"], ["login", "ada", "--password-stdin"],
                 ["bank", "catalogue"]):  # fmt: skip
        res = cli(*args, "--home", str(typo), input="x\n")
        assert res.exit_code == 2 and "is not a justicelink platform home" in res.output
        assert "justicelink init --home DIR" in res.output
    assert not typo.exists()


def test_init_makes_a_home_and_its_first_admin(tmp_path: Path) -> None:
    root = tmp_path / "h"
    pw = "a long enough passphrase\n"
    res = cli("init", "--home", str(root), "--admin", "ada", "--password-stdin", input=pw)
    assert res.exit_code == 0, res.output
    assert (root / ".justicelink-home").is_file() and (root / "witness" / "witness.pub").is_file()
    assert oct((root).stat().st_mode & 0o777) == "0o700"
    again = cli("init", "--home", str(root), "--admin", "eve", "--password-stdin", input=pw)
    assert again.exit_code == 2 and "not empty" in again.output
    assert cli("login", "--home", str(root), "ada", "--password-stdin", input=pw).exit_code == 0
    stored = credentials.config_dir() / "tokens" / f"{Home.open(root).home_id}.json"
    assert stored.stat().st_mode & 0o777 == 0o600
    assert stored.parent.stat().st_mode & 0o777 == 0o700
    who = cli("whoami", "--home", str(root), "--format", "json")
    assert json.loads(who.output)["role"] == "admin"
    out = cli("logout", "--home", str(root))
    assert out.exit_code == 0 and not stored.exists()
    after = cli("whoami", "--home", str(root))
    assert after.exit_code == 2 and "nobody is signed in" in after.output


def test_the_token_variable_signs_in_too(demo_home: Path) -> None:
    from signin import token

    tok = token(demo_home, "rhys")
    env = {"JUSTICELINK_TOKEN": tok}
    res = runner.invoke(app, ["whoami", "--home", str(demo_home)], env=env)
    assert res.exit_code == 0 and "user: rhys" in res.output
    bad = runner.invoke(
        app, ["whoami", "--home", str(demo_home)], env={"JUSTICELINK_TOKEN": "jl_x"}
    )
    assert bad.exit_code == 2 and "unknown token" in bad.output


def test_output_in_a_pipe_is_plain_csv_or_json(demo_home: Path, signed_out) -> None:
    home = ["--home", str(demo_home)]
    login(demo_home, "rhys")
    tables = cli("workspace", "tables", "0001", *home)
    assert tables.exit_code == 0
    lines = tables.output.split("\n")
    assert lines[0] == "table,column,type" and "\r" not in tables.output
    assert all(line.count(",") == 2 for line in lines if line)
    long = "x" * 300
    res = cli("workspace", "sql", f"SELECT '{long}' AS v, 1 AS n", "--project", "0001", *home)
    assert res.output == f"v,n\n{long},1\n"
    js = cli("workspace", "sql", "SELECT 1 AS n", "--project", "0001", "--format", "json", *home)
    assert json.loads(js.output) == [{"n": 1}]
    listed = cli("airlock", "list", *home)
    assert listed.output.startswith("request,project,author,state,round,reviews,title\n")
    apps = cli("control", "application", "list", *home)
    assert apps.output.splitlines()[1].startswith("0001,provisioned,rhys,")
    shown = cli("control", "application", "show", "0001", "--format", "json", *home)
    assert json.loads(shown.output)["members"] == ["rhys"]


def test_sql_from_a_file_from_stdin_and_starting_with_a_comment(
    demo_home: Path, tmp_path: Path, signed_out
) -> None:
    home = ["--home", str(demo_home)]
    login(demo_home, "rhys")
    f = tmp_path / "q.sql"
    f.write_text("-- how many\nSELECT 42 AS n\n")
    assert cli("workspace", "sql", "--file", str(f), "--project", "0001", *home).output == "n\n42\n"
    piped = cli("workspace", "sql", "-", "--project", "0001", *home, input="SELECT 43 AS n")
    assert piped.output == "n\n43\n"
    fromfile = cli(
        "workspace", "sql", "--file", "-", "--project", "0001", *home, input="SELECT 44 AS n"
    )
    assert fromfile.output == "n\n44\n"
    comment = cli("workspace", "sql", "-- a comment\nSELECT 45 AS n", "--project", "0001", *home)
    assert comment.exit_code == 0 and comment.output == "n\n45\n", comment.output


def test_markup_in_messages_is_shown_as_written(tmp_path: Path) -> None:
    for name in ("[blink]home[/blink]", "nope[/]x"):
        res = cli("control", "audit", "verify", "--home", str(tmp_path / name))
        assert res.exit_code == 2, res.output
        assert name in res.output and "Traceback" not in res.output


def test_help_version_and_a_fast_start() -> None:
    assert "Usage" in cli("-h").output and "Usage" in cli("workspace", "sql", "-h").output
    v = cli("--version")
    assert v.exit_code == 0 and v.output.startswith("justicelink ")
    # importing the command line must not import the heavy libraries (start-up time is a
    # benchmark, docs/benchmarks.md; this checks the cause)
    code = "import sys, justicelink.cli; print(sorted(m for m in ('acro', 'statsmodels', 'splink', 'pandas', 'duckdb', 'sqlalchemy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ})  # fmt: skip
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("marker", ["[]", '{"format": "justicelink.home/1"}', "not json"])
def test_a_broken_home_marker_is_refused(tmp_path: Path, marker: str) -> None:
    (tmp_path / ".justicelink-home").write_text(marker)
    (tmp_path / "witness").mkdir()
    (tmp_path / "witness" / "witness.pub").write_text("00\n")
    res = cli("control", "audit", "verify", "--home", str(tmp_path))
    assert res.exit_code == 2 and "is not a justicelink platform home" in res.output


def test_catalogue_names_are_datasets_and_tables_never_paths(demo_home: Path) -> None:
    from signin import sign_in

    from justicelink.formats import RefusedError

    with sign_in(demo_home, "pat") as pat:
        with pytest.raises(RefusedError, match="not in its catalogue"):
            pat.catalogue.columns("CAFW", ["../../../../linkage/register/v0001/postcode_lsoa"])
        with pytest.raises(RefusedError, match="no such dataset"):
            pat.catalogue.dictionary("../../etc/spec.toml")
        with pytest.raises(RefusedError, match="no such dataset"):
            pat.provider.deliver("/tmp/evil.toml", Path("/nonexistent"))


def test_workspace_sql_prints_at_most_a_screen_and_says_so(demo_home: Path, signed_out) -> None:
    """The terminal is not an exit: at most SCREEN_ROWS rows in every format, long values cut,
    and a notice (stderr; the last line under a drawn table) on how to keep bulk results."""
    from justicelink.workspace import SCREEN_ROWS, SCREEN_VALUE_CHARS

    assert SCREEN_ROWS == 1_000
    home = ["--home", str(demo_home)]
    login(demo_home, "rhys")
    sql = "SELECT range AS n, 'r' || range AS label FROM range(5000)"
    out = cli("workspace", "sql", sql, "--project", "0001", *home)
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    assert lines[0] == "n,label" and len(lines) == 1 + SCREEN_ROWS
    assert lines[-1] == f"{SCREEN_ROWS - 1},r{SCREEN_ROWS - 1}"
    assert "output cut: showing 1,000 of 5,000 rows" in out.stderr
    assert "workspace table" in out.stderr and "airlock" in out.stderr
    js = cli("workspace", "sql", sql, "--project", "0001", "--format", "json", *home)
    assert len(json.loads(js.stdout)) == SCREEN_ROWS and "output cut" in js.stderr
    table = cli("workspace", "sql", sql, "--project", "0001", "--format", "table", *home)
    drawn = table.stdout.strip().splitlines()
    assert drawn[-1].startswith("output cut: showing 1,000 of 5,000 rows")
    assert sum(1 for line in drawn if line.startswith("│")) == SCREEN_ROWS
    packed = cli("workspace", "sql", "SELECT list(range) AS l FROM range(5000)", "--project",
                 "0001", *home)  # fmt: skip
    cell = packed.stdout.splitlines()[1]
    assert len(cell) <= SCREEN_VALUE_CHARS + 3 and "values cut" in packed.stderr
    small = cli("workspace", "sql", "SELECT 1 AS n", "--project", "0001", *home)
    assert small.stdout == "n\n1\n" and "output cut" not in small.stderr
    # red team F5: rows packed into 40 columns must not carry 40 screens out
    from justicelink.workspace import SCREEN_CELLS, SCREEN_CHARS

    wide_sql = (
        "SELECT " + ", ".join(f"range + {i} AS c{i}" for i in range(40)) + " FROM range(5000)"
    )
    wide = cli("workspace", "sql", wide_sql, "--project", "0001", *home)
    values = sum(len(line.split(",")) for line in wide.stdout.splitlines()[1:])
    assert values <= SCREEN_CELLS and "output cut" in wide.stderr
    assert len(wide.stdout) <= SCREEN_CHARS * 2
