"""The command line as a provider uses it: real keys in files, real refusals, exit codes."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from justicelink.cli import app
from justicelink.crypto import open_sealed

runner = CliRunner()


def test_provider_specs_lists_every_dataset() -> None:
    res = runner.invoke(app, ["provider", "specs"])
    assert res.exit_code == 0
    for name in ("CAFW", "CAFE", "NCCH", "WLGP", "PEDW", "EDDS", "EDUW", "LACW", "WDSD"):
        assert name in res.output


def test_provider_split_round_trip_and_refusal(world, zones, tmp_path: Path) -> None:
    lk = zones["linkage"].folder / "age-recipient.txt"  # a file holding the key
    bk = zones["bank"].recipient  # the key itself
    args = ["provider", "split", "--spec", "NCCH", "--input", str(world.extracts["NCCH"]),
            "--linkage-recipient", str(lk), "--bank-recipient", bk,
            "--provider-dir", str(zones["provider"].folder.parent)]  # fmt: skip
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "sub")])
    assert res.exit_code == 0, res.output
    assert "submission NCCH-" in res.output
    _, tables = open_sealed(
        tmp_path / "sub" / "linkage", zones["linkage"].identity(), "linkage", kind="identifiers"
    )
    assert next(iter(tables.values())).num_rows == 2 * world.counts["NCCH.CHILD_BIRTHS"]
    bad = runner.invoke(app, [*args, "--out", str(tmp_path / "sub")])
    assert bad.exit_code == 2 and "refused" in bad.output and "not empty" in bad.output
    wrong = runner.invoke(app, [*args[:-6], "--linkage-recipient", "age1notakey", "--bank-recipient", bk,
                                "--provider-dir", str(tmp_path / "p"), "--out", str(tmp_path / "x")])  # fmt: skip
    assert wrong.exit_code == 2
    assert not (tmp_path / "x").exists()


def test_governance_through_the_cli_end_to_end(demo_home: Path, tmp_path: Path) -> None:
    """Apply, decide, provision, query, revoke: all through the CLI, all audited."""
    home = ["--home", str(demo_home)]
    application = tmp_path / "app.toml"
    application.write_text(
        'title = "Private law repeat applications"\n'
        'purpose = "How often do families come back to court?"\n'
        'lay_summary = "Counting repeat applications, anonymously."\n'
        'start_date = "2026-01-01"\nend_date = "2029-01-01"\nresearchers = ["rowan"]\n'
        '[datasets.CAFW]\nCAFCASS_APPLICATION = ["CAP_APPLICATIONID_E", "CAP_LAWTYPENAME", "CAP_ISSUEDATE"]\n'
    )
    res = runner.invoke(
        app, ["control", "application", "submit", str(application), "--as", "rowan", *home]
    )
    assert res.exit_code == 0, res.output
    pid = res.output.strip().split()[-1]
    own = runner.invoke(
        app,
        [
            "control",
            "decide",
            pid,
            "--decision",
            "approve",
            "--reason",
            "x",
            "--as",
            "rowan",
            *home,
        ],
    )
    assert own.exit_code == 2 and "not on the governance panel" in own.output
    ok = runner.invoke(
        app,
        [
            "control",
            "decide",
            pid,
            "--decision",
            "approve",
            "--reason",
            "proportionate",
            "--as",
            "gareth",
            *home,
        ],
    )
    assert ok.exit_code == 0 and "approved" in ok.output
    prov = runner.invoke(app, ["project", "provision", pid, "--as", "dana", *home])
    assert prov.exit_code == 0, prov.output
    sql = f"SELECT count(*) AS n FROM SAIL{pid}V.CAFW_CAFCASS_APPLICATION_{_version(demo_home)}"
    q = runner.invoke(app, ["workspace", "sql", sql, "--project", pid, "--as", "rowan", *home])
    assert q.exit_code == 0 and q.output.splitlines()[0] == "n"
    rv = runner.invoke(
        app, ["project", "revoke", pid, "--reason", "ethics approval lapsed", "--as", "gita", *home]
    )
    assert rv.exit_code == 0, rv.output
    after = runner.invoke(
        app, ["workspace", "sql", "SELECT 1", "--project", pid, "--as", "rowan", *home]
    )
    assert after.exit_code == 2 and "revoked" in after.output
    assert not (demo_home / "projects" / pid / "store").exists()
    assert not (demo_home / "projects" / pid / "keys").exists()
    verify = runner.invoke(app, ["control", "audit", "verify", *home])
    assert verify.exit_code == 0 and "intact" in verify.output
    shown = runner.invoke(app, ["control", "audit", "show", "--last", "40", *home])
    for action in (
        "application.submit",
        "application.approve",
        "project.provision",
        "workspace.query",
        "project.revoke",
    ):
        assert action in shown.output


def test_users_and_tokens_through_the_cli(demo_home: Path) -> None:
    home = ["--home", str(demo_home)]
    bad = runner.invoke(
        app,
        [
            "control",
            "user",
            "add",
            "eve",
            "--role",
            "admin",
            "--name",
            "Eve",
            "--as",
            "rhys",
            *home,
        ],
    )
    assert bad.exit_code == 2 and "only admins create users" in bad.output
    ok = runner.invoke(
        app, ["control", "user", "add", "nia", "--role", "researcher", "--name", "Nia", "--as", "ada", "--password-stdin", *home],
        input="a long enough passphrase\n",
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    tok = runner.invoke(
        app,
        [
            "control",
            "token",
            "create",
            "nia",
            "--scope",
            "workspace:query",
            "--days",
            "1",
            "--as",
            "ada",
            *home,
        ],
    )
    assert tok.exit_code == 0 and tok.output.strip().startswith("jl_")
    other = runner.invoke(
        app, ["control", "token", "create", "rhys", "--scope", "admin", "--as", "nia", *home]
    )
    assert other.exit_code == 2


def _version(demo_home: Path) -> str:
    import json

    return json.loads((demo_home / "demo.json").read_text())["datasets"]["CAFW"]["version"]


def test_workspace_sql_with_a_token(demo_home: Path) -> None:
    home = ["--home", str(demo_home)]
    tok = runner.invoke(
        app,
        [
            "control",
            "token",
            "create",
            "rhys",
            "--scope",
            "workspace:query",
            "--days",
            "1",
            "--as",
            "ada",
            *home,
        ],
    )
    token = tok.output.strip()
    ok = runner.invoke(
        app,
        [
            "workspace",
            "sql",
            "SELECT 7 AS n",
            "--project",
            "0001",
            "--as",
            "rhys",
            "--token",
            token,
            *home,
        ],
    )
    assert ok.exit_code == 0 and ok.output.splitlines() == ["n", "7"]
    other = runner.invoke(
        app,
        [
            "workspace",
            "sql",
            "SELECT 1",
            "--project",
            "0001",
            "--as",
            "rowan",
            "--token",
            token,
            *home,
        ],
    )
    assert other.exit_code == 2 and "belongs to rhys" in other.output
    bad = runner.invoke(
        app,
        [
            "workspace",
            "sql",
            "SELECT 1",
            "--project",
            "0001",
            "--as",
            "rhys",
            "--token",
            "jl_nope",
            *home,
        ],
    )
    assert bad.exit_code == 2 and "unknown token" in bad.output
