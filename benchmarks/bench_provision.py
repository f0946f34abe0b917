"""Benchmark: provisioning a project (re-keying under the project key) at growing table sizes.

    .venv/bin/python benchmarks/bench_provision.py --rows 100000 1000000 10000000

Two shapes of bank table, written straight to a bank folder:
- ``WLGP.GP_EVENT_CLEANSED``: an event table, ~20 events per patient, keys LOCAL_NUM_E, PRAC_CD_E;
- ``EDDS.EDDS``: one row per attendance with ALF_E (~3 attendances per person) and a unique
  ATTENDANCE_ID_E, so nearly every row needs its own keyed pseudonym.
Each run is a fresh process; rows/s counts rows written to the project store.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa

CHILD = """
import json, resource, sys, time
from pathlib import Path
from justicelink.bank import describe, read_schema
from justicelink.formats import ProjectGrant
from justicelink.projects import provision
import pandas, pyarrow.dataset  # noqa: F401  DuckDB's Arrow scan imports both on first use (0.4 s)
tmp, ds, table = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
cols = read_schema(tmp / "bank", ds, "20260101", table).names
grant = ProjectGrant(project_id="0042", title="bench", datasets={ds: {table: cols}})
t = time.perf_counter()
p = provision(grant, [describe(tmp / "bank", ds)], tmp / "projects")
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "rows": sum(p.tables.values()), "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_bank(root: Path, shape: str, rows: int) -> tuple[str, str]:
    rng = np.random.default_rng(3)
    ds, table = ("WLGP", "GP_EVENT_CLEANSED") if shape == "events" else ("EDDS", "EDDS")
    folder = root / "bank" / "datasets" / ds / "20260101"
    folder.mkdir(parents=True)
    big = np.iinfo(np.int64).max
    if shape == "events":
        patients = rng.integers(0, big, max(1, rows // 20))
        t = pa.table({
            "LOCAL_NUM_E": rng.choice(patients, rows),
            "PRAC_CD_E": rng.choice(rng.integers(0, big, 500), rows),
            "EVENT_CD": rng.choice(np.array(["246..", "22K..", "E2B..", "H06.."]), rows),
            "EVENT_VAL": rng.normal(25, 5, rows),
            "EVENT_DT": rng.integers(16_000, 20_000, rows).astype("datetime64[D]"),
            "AVAIL_FROM_DT": np.full(rows, np.datetime64("2026-01-01")),
        })  # fmt: skip
    else:
        people = rng.integers(0, big, max(1, rows // 3))
        t = pa.table({
            "ALF_E": rng.choice(people, rows), "ALF_STS_CD": rng.choice(np.array([1, 4, 39, 99], np.int32), rows),
            "ALF_MTCH_PCT": rng.random(rows), "WOB": rng.integers(0, 19_000, rows).astype("datetime64[D]"),
            "GNDR_CD": rng.choice(np.array([1, 2], np.int32), rows), "LSOA2011_CD": rng.choice(np.array(["W01000001", "W01000002"]), rows),
            "ATTENDANCE_ID_E": rng.permutation(rows).astype(np.int64) * 7919 + 11, "ADMIN_ARR_DT": rng.integers(16_000, 20_000, rows).astype("datetime64[D]"),
            "ARRIVAL_MODE": rng.choice(np.array(["1", "2"]), rows), "DIAG_CD_1": rng.choice(np.array(["14A", "03A"]), rows),
            "AVAIL_FROM_DT": np.full(rows, np.datetime64("2026-01-01")),
        })  # fmt: skip
    # written as the bank writes its tables: DuckDB-encrypted Parquet under the bank's key
    import duckdb

    from justicelink.crypto import ZoneKeys, at_rest

    key = ZoneKeys.create(root / "bank", "bank", prf=False).at_rest_key(create=True)
    con = duckdb.connect()
    at_rest.enable(con)
    at_rest.add_parquet_key(con, "bank", key)
    con.register("t", t)
    con.execute(
        f"COPY t TO '{folder / f'{table}.parquet'}' "
        f"(FORMAT parquet, COMPRESSION zstd, {at_rest.parquet_write_options('bank')})"
    )
    con.close()
    keyed = ["LOCAL_NUM_E", "PRAC_CD_E"] if shape == "events" else ["ALF_E", "ATTENDANCE_ID_E"]
    distinct = {c: len(np.unique(t.column(c).to_numpy())) for c in keyed}  # as the bank records
    (folder / "version.json").write_text(
        json.dumps({"rows": {table: rows}, "distinct": {table: distinct}})
    )
    return ds, table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    ap.add_argument("--make", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.make:
        print(*make_bank(Path(args.make[0]), args.make[1], int(args.make[2])))
        return
    print("| table | rows | wall (s) | rows/s | peak RSS (MiB) |")
    print("|---|---|---|---|---|")
    for shape in ("events", "person records"):
        for n in args.rows:
            with tempfile.TemporaryDirectory() as tmp:
                # build the data in its own process: a child's peak RSS would otherwise start
                # from this process's (Linux keeps ru_maxrss across fork and exec)
                gen = subprocess.run(
                    [sys.executable, __file__, "--make", tmp, shape, str(n)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                ds, table = gen.stdout.split()
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, tmp, ds, table], capture_output=True, text=True
                )
            if out.returncode:
                print(out.stderr[-2000:])
                raise SystemExit(1)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"| {ds}.{table} ({shape}) | {n:,} | {r['wall']:.1f} | {r['rows'] / r['wall']:,.0f} | {r['rss']:,.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
