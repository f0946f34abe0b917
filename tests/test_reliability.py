"""Kill the bank load and the provisioning with SIGKILL at many points (real subprocesses).

After every kill: the previous version is intact, no partial version is visible, and running
again succeeds.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from justicelink import bank
from justicelink.crypto import at_rest, load_recipient
from justicelink.formats import ProjectGrant
from justicelink.linkage import load_register, run_submission
from justicelink.projects import at_rest_key, provision, store_path
from justicelink.provider import split
from justicelink.specs import load_spec

KILLS = 10


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def _run_and_kill(code: str, args: list[str], after: float) -> bool:
    """Start the job, SIGKILL it after ``after`` seconds; True if it finished first."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        proc.wait(timeout=after)
        return True
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return False


def _timed(code: str, args: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True)
    return time.perf_counter() - t


@pytest.fixture(scope="module")
def loaded(world, tmp_path_factory: pytest.TempPathFactory):
    from justicelink.crypto import ZoneKeys

    root = tmp_path_factory.mktemp("rel")
    keys = {z: ZoneKeys.create(root / z, z) for z in ("provider", "linkage", "bank")}
    load_register(world.register_dir, root / "linkage", keys["linkage"].prf_key())
    split(
        load_spec("WLGP"), world.extracts["WLGP"], root / "sub",
        linkage_recipient=load_recipient(keys["linkage"].recipient),
        bank_recipient=load_recipient(keys["bank"].recipient), provider_key=keys["provider"].prf_key(),
    )  # fmt: skip
    run = run_submission(
        root / "sub" / "linkage",
        root / "linkage",
        load_recipient(keys["bank"].recipient),
        probabilistic=False,
    )
    first = bank.load(root / "sub" / "bank", run.outbox, root / "bank", refresh_date="20250101")
    return {"root": root, "content": root / "sub" / "bank", "alf": run.outbox, "first": first}


LOAD = "import sys; from justicelink import bank; bank.load(sys.argv[1], sys.argv[2], sys.argv[3], refresh_date='20250201')"


def _check_bank(root: Path, first_digest: dict[str, str]) -> None:
    for v in bank.versions(root / "bank"):
        info = v.info
        for table, rows in info["rows"].items():
            assert bank.count_rows(root / "bank", v.dataset, v.version, table) == rows, (
                f"partial table in {v.version}"
            )
    assert _digest(root / "bank" / "datasets" / "WLGP" / "20250101") == first_digest


def test_bank_load_survives_sigkill(loaded) -> None:
    root = loaded["root"]
    first_digest = _digest(loaded["first"].folder)
    args = [str(loaded["content"]), str(loaded["alf"]), str(root / "bank")]
    full = _timed(LOAD, args)
    shutil.rmtree(root / "bank" / "datasets" / "WLGP" / "20250201")
    finished = 0
    for i in range(KILLS):
        done = _run_and_kill(LOAD, args, after=0.3 + (full - 0.3) * i / KILLS)
        _check_bank(root, first_digest)
        new = root / "bank" / "datasets" / "WLGP" / "20250201"
        if done:
            finished += 1
            assert new.is_dir()
        if new.exists():  # complete (checked above); remove it to try the next kill point
            shutil.rmtree(new)
    assert finished < KILLS, "no run was actually interrupted"
    subprocess.run([sys.executable, "-c", LOAD, *args], check=True, capture_output=True)
    _check_bank(root, first_digest)
    assert [v.version for v in bank.versions(root / "bank")] == ["20250101", "20250201"]
    # what the killed loads left behind was swept by the load that followed
    left = [p.name for p in (root / "bank" / "datasets" / "WLGP").iterdir()]
    assert not [n for n in left if n.startswith(".tmp-")], left


PROVISION = (
    "import sys, json; from pathlib import Path; from justicelink.formats import ProjectGrant; "
    "from justicelink.bank import describe; from justicelink.projects import provision; "
    "g = ProjectGrant(**json.loads(sys.argv[1])); "
    "held = [describe(Path(sys.argv[2]), ds) for ds in g.datasets]; "
    "provision(g, held, Path(sys.argv[3]), refresh=True)"
)


def test_provisioning_survives_sigkill(loaded) -> None:
    root = loaded["root"]
    tables = {
        t: bank.read_schema(root / "bank", "WLGP", "20250101", t).names
        for t in loaded["first"].rows
    }
    grant = ProjectGrant(project_id="0077", title="t", datasets={"WLGP": tables})
    first = provision(grant, [bank.describe(root / "bank", "WLGP")], root / "projects")
    store = store_path(root / "projects", grant)

    def check() -> None:
        con = duckdb.connect()
        at_rest.attach(con, store, "s", at_rest_key(root / "projects", "0077"), read_only=True)
        found = con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 's'")
        names = {r[0] for r in found.fetchall()}
        assert len(names) == len(tables), "a partial store is visible"
        for name in names:
            n = con.execute(f'SELECT count(*) FROM s."{name}"').fetchone()[0]
            assert n == first.tables.get(name, n)
        con.close()
        json.loads((root / "projects" / "0077" / "project.json").read_text())

    payload = json.dumps(
        {"project_id": grant.project_id, "title": grant.title, "datasets": grant.datasets}
    )
    args = [payload, str(root / "bank"), str(root / "projects")]
    full = _timed(PROVISION, args)
    interrupted = 0
    for i in range(KILLS):
        if not _run_and_kill(PROVISION, args, after=0.3 + (full - 0.3) * i / KILLS):
            interrupted += 1
        check()
    assert interrupted > 0
    subprocess.run([sys.executable, "-c", PROVISION, *args], check=True, capture_output=True)
    check()


SPLIT = (
    "import sys; from pathlib import Path; from justicelink.crypto import ZoneKeys, load_recipient; "
    "from justicelink.provider import split; from justicelink.specs import load_spec; "
    "r = Path(sys.argv[3]); k = {z: ZoneKeys.open(r / z, z) for z in ('provider', 'linkage', 'bank')}; "
    "split(load_spec('WLGP'), Path(sys.argv[1]), Path(sys.argv[2]), "
    "linkage_recipient=load_recipient(k['linkage'].recipient), "
    "bank_recipient=load_recipient(k['bank'].recipient), provider_key=k['provider'].prf_key(), "
    "batch_rows=20_000)"
)


def test_split_survives_sigkill_and_sweeps_its_spill(world, loaded) -> None:
    """A split killed at many points leaves no output; the next split removes the spill
    folders the killed ones left and succeeds."""
    root = loaded["root"]
    outbox = root / "outbox"
    outbox.mkdir()
    args = [str(world.extracts["WLGP"]), str(outbox / "sub"), str(root)]
    full = _timed(SPLIT, args)
    shutil.rmtree(outbox / "sub")
    interrupted = 0
    for i in range(5):
        if not _run_and_kill(SPLIT, args, after=0.5 + (full - 0.5) * i / 5):
            interrupted += 1
        sub = outbox / "sub"
        if sub.exists():  # published before the kill: then it must be whole
            for part in ("linkage", "bank"):
                assert (sub / part / "manifest.json.age").is_file(), "a partial submission"
            assert (sub / "validation-report.json").is_file()
            shutil.rmtree(sub)
    assert interrupted, "no split was actually interrupted"
    subprocess.run([sys.executable, "-c", SPLIT, *args], check=True, capture_output=True)
    assert (outbox / "sub" / "bank").is_dir()
    assert [p.name for p in outbox.iterdir()] == ["sub"]
