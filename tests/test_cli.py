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
