"""Benchmark: the cost of encryption at rest (decision 0008) on bank load, provision and queries.

    .venv/bin/python benchmarks/bench_at_rest.py --rows 100000 1000000

One EDDS-shaped submission per size (the extract of bench_split, split by the provider; the
ALF file made directly, one ALF per ~3 attendances, as a stand-in for the TTP, so that the
benchmark measures the bank and not the linkage). Then, each in a fresh process, once as the
product runs (encrypted) and once with encryption switched off *inside this benchmark only*
(``_plaintext``: the product has no such switch):
- bank load: the content joined to the ALF file, re-keyed, written as Parquet;
- provision: the table re-keyed under a project key into the project store (and workspace);
- queries in a researcher session: a GROUP BY over the person table, and a join of every
  attendance to the person's first one (best of 3 runs each).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

VERSION = "20260101"
GROUP_BY = (
    "SELECT ARRIVAL_MODE, DIAG_CD_1, count(*) AS n, count(DISTINCT ALF_PE) AS people "
    "FROM SAIL0042V.EDDS_EDDS_{v} GROUP BY ALL"
)
JOIN = (
    "SELECT e.DIAG_CD_1, count(*) AS n FROM SAIL0042V.EDDS_EDDS_{v} e JOIN ("
    "SELECT ALF_PE, min(ADMIN_ARR_DT) AS first FROM SAIL0042V.EDDS_EDDS_{v} GROUP BY 1) f "
    "USING (ALF_PE) WHERE e.ADMIN_ARR_DT > f.first GROUP BY 1"
)


def make_submission(root: Path, rows: int) -> None:
    """Provider split of an EDDS extract, and a sealed ALF file for it."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_split import make_extract

    from justicelink.crypto import ZoneKeys, load_recipient, open_sealed, seal_folder
    from justicelink.formats import ALF_FILE_NAME, ALF_FILE_SCHEMA, IDENTIFIERS_FILE_NAME, Manifest
    from justicelink.provider import split
    from justicelink.specs import load_spec

    keys = {z: ZoneKeys.create(root / z, z) for z in ("provider", "linkage", "bank")}
    make_extract(root / "extract.parquet", rows, "parquet")
    split(
        load_spec("EDDS"), root / "extract.parquet", root / "sub",
        linkage_recipient=load_recipient(keys["linkage"].recipient),
        bank_recipient=load_recipient(keys["bank"].recipient), provider_key=keys["provider"].prf_key(),
    )  # fmt: skip
    manifest, tables = open_sealed(
        root / "sub" / "linkage", keys["linkage"].identity(), "linkage", kind="identifiers"
    )
    sid = tables[IDENTIFIERS_FILE_NAME].column("system_id")
    n = len(sid)
    rng = np.random.default_rng(5)
    people = rng.integers(0, np.iinfo(np.int64).max, max(1, n // 3))
    status = rng.choice(np.array([1, 4, 39, 99], np.int32), n, p=[0.7, 0.1, 0.15, 0.05])
    alf = pa.table(
        {
            "SYSTEM_ID": sid,
            "ALF_E": pa.array(rng.choice(people, n), mask=status == 99),
            "ALF_STS_CD": status,
            "ALF_MTCH_PCT": np.where(status == 99, 0.0, rng.uniform(0.9, 1.0, n)),
            "WOB": rng.integers(-10_000, 19_000, n).astype("datetime64[D]"),
            "GNDR_CD": rng.choice(np.array([1, 2], np.int32), n),
            "LSOA2011_CD": rng.choice(np.array(["W01000001", "W01000002", "W01001958"]), n),
        },
        schema=ALF_FILE_SCHEMA,
    )
    alf_manifest = Manifest(
        format=manifest.format, kind="alf", dataset="EDDS", submission_id=manifest.submission_id,
        recipient_zone="bank", created=manifest.created, provider="linkage",
        spec_name=manifest.spec_name, spec_version=manifest.spec_version,
        spec_hash=manifest.spec_hash, files=[], extra={"register_version": "bench"},
    )  # fmt: skip
    seal_folder(
        root / "alf", alf_manifest, {ALF_FILE_NAME: ("ALF", alf)},
        load_recipient(keys["bank"].recipient),
    )  # fmt: skip


def _plaintext() -> None:
    """Encryption off, for the comparison only: the same code paths with no key given."""
    import duckdb

    from justicelink.crypto import at_rest

    def attach(con: duckdb.DuckDBPyConnection, path: Path, alias: str, key: bytes, *,
               read_only: bool = False) -> None:  # fmt: skip
        con.execute(f"ATTACH '{path}' AS \"{alias}\"" + (" (READ_ONLY)" if read_only else ""))

    at_rest.enable = lambda con: None  # type: ignore[assignment]
    at_rest.attach = attach  # type: ignore[assignment]
    at_rest.add_parquet_key = lambda con, name, key: None  # type: ignore[assignment]
    at_rest.parquet_write_options = lambda name: "ROW_GROUP_SIZE 122880"  # DuckDB's default
    at_rest.parquet_read_options = lambda name: "binary_as_string = false"  # the default


def _best(run, times: int = 3) -> float:  # type: ignore[no-untyped-def]
    walls = []
    for _ in range(times):
        t = time.perf_counter()
        run()
        walls.append(time.perf_counter() - t)
    return min(walls)


def child(root: Path, mode: str) -> dict[str, float]:
    import pandas  # noqa: F401  DuckDB's Arrow scan imports it on first use
    import pyarrow.dataset  # noqa: F401

    if mode == "plain":
        _plaintext()
    from justicelink import bank, projects
    from justicelink.formats import ProjectGrant
    from justicelink.workspace import ProjectSession

    out = root / mode
    (out / "bank").mkdir(parents=True)
    import shutil

    shutil.copytree(root / "bank" / "keys", out / "bank" / "keys")
    t = time.perf_counter()
    loaded = bank.load(root / "sub" / "bank", root / "alf", out / "bank", refresh_date=VERSION)
    load_s = time.perf_counter() - t
    cols = bank.read_schema(out / "bank", "EDDS", VERSION, "EDDS").names
    grant = ProjectGrant(project_id="0042", title="bench", datasets={"EDDS": {"EDDS": cols}})
    t = time.perf_counter()
    p = projects.provision(grant, [bank.describe(out / "bank", "EDDS")], out / "projects")
    provision_s = time.perf_counter() - t
    key = projects.at_rest_key(out / "projects", "0042") if mode == "encrypted" else b""
    with ProjectSession("0042", p.store, p.workspace, key=key) as s:
        group_s = _best(lambda: s.query(GROUP_BY.format(v=VERSION)))
        join_s = _best(lambda: s.query(JOIN.format(v=VERSION)))
    files = sorted((out / "bank" / "datasets").rglob("*.parquet"))
    try:  # the comparison is honest: plain files open without a key, encrypted ones do not
        pq.read_metadata(files[0])
        assert mode == "plain", "an encrypted bank file opened without its key"
    except OSError:
        assert mode == "encrypted", "a plain bank file could not be read"
    sizes = sum(f.stat().st_size for f in files)
    return {
        "rows": loaded.rows["EDDS"], "load": load_s, "provision": provision_s,
        "group_by": group_s, "join": join_s, "parquet_mib": sizes / 2**20,
        "store_mib": p.store.stat().st_size / 2**20,
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--make", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.make:
        make_submission(Path(args.make[0]), int(args.make[1]))
        return
    if args.child:
        print(json.dumps(child(Path(args.child[0]), args.child[1])))
        return
    print(f"machine: {platform.machine()}, {platform.python_version()}, cores: 2 (shared)")
    print("| rows | at rest | bank load (s) | provision (s) | GROUP BY (s) | join (s) "
          "| bank Parquet (MiB) | store (MiB) | peak RSS (MiB) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            me = [sys.executable, __file__]
            subprocess.run([*me, "--make", tmp, str(n)], check=True, capture_output=True)
            for mode in ("plain", "encrypted"):
                res = subprocess.run(
                    [*me, "--child", tmp, mode], capture_output=True, text=True
                )  # fmt: skip
                if res.returncode:
                    print(res.stderr[-3000:])
                    raise SystemExit(1)
                r = json.loads(res.stdout.strip().splitlines()[-1])
                print(
                    f"| {r['rows']:,} | {mode} | {r['load']:.2f} | {r['provision']:.2f} "
                    f"| {r['group_by']:.3f} | {r['join']:.3f} | {r['parquet_mib']:.1f} "
                    f"| {r['store_mib']:.1f} | {r['rss']:,.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
