"""Benchmark: the provider split on an EDDS-shaped extract of growing size.

    .venv/bin/python benchmarks/bench_split.py --rows 100000 1000000 10000000 [--format csv|parquet]

The extract (one row per attendance, with identifiers) is built directly with numpy so the
benchmark measures the split, not the generator. Each size runs in a fresh process; peak memory
is that process's maximum RSS (it includes holding the sealed output in memory before writing).
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
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CHILD = """
import json, resource, sys, time
from pathlib import Path
from justicelink.crypto import ZoneKeys, load_recipient
from justicelink.provider import split
from justicelink.specs import load_spec
tmp = Path(sys.argv[1])
keys = {z: ZoneKeys.create(tmp / z, z) for z in ("provider", "linkage", "bank")}
t = time.perf_counter()
r = split(load_spec("EDDS"), Path(sys.argv[2]), tmp / "out",
          linkage_recipient=load_recipient(keys["linkage"].recipient),
          bank_recipient=load_recipient(keys["bank"].recipient),
          provider_key=keys["provider"].prf_key())
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "rows": r.identifiers_rows,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_extract(path: Path, rows: int, fmt: str) -> None:
    from justicelink.synth import names
    from justicelink.synth.population import nhs_check_digit

    rng = np.random.default_rng(1)
    chunk = 2_000_000
    writer = None
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        base = rng.integers(400_000_000, 700_000_000, n)
        digits = (base[:, None] // 10 ** np.arange(8, -1, -1)) % 10
        check = nhs_check_digit(digits)
        nhs = np.where(check == 10, None, (base * 10 + np.where(check == 10, 0, check)).astype(str))
        dob = rng.integers(-10_000, 19_000, n).astype("datetime64[D]")
        t = pa.table(
            {
                "ATTENDANCE_ID": np.char.add(
                    "E", (np.arange(start, start + n) + 10**10).astype(str)
                ),
                "NHS_NUMBER": pa.array(nhs, pa.string()),
                "FORENAME": rng.choice(np.array(names.FEMALE + names.MALE), n),
                "SURNAME": rng.choice(np.array(names.SURNAMES), n),
                "DOB": np.datetime_as_string(dob),
                "SEX": rng.choice(np.array(["1", "2", "M", "F"]), n),
                "POSTCODE": np.char.add(
                    rng.choice(np.array(["CF10 ", "SA1 ", "NP20 ", "LL57 "]), n),
                    rng.choice(np.array(["1AB", "2CD", "3EF", "4GH"]), n),
                ),
                "ADMIN_ARR_DT": np.datetime_as_string(
                    rng.integers(16_000, 20_000, n).astype("datetime64[D]")
                ),
                "ARRIVAL_MODE": rng.choice(np.array(["1", "2"]), n),
                "DIAG_CD_1": rng.choice(np.array(["14A", "21Z", "03A"]), n),
            }
        )
        if fmt == "csv":
            if writer is None:
                writer = pacsv.CSVWriter(path, t.schema)
            writer.write_table(t)
        else:
            if writer is None:
                writer = pq.ParquetWriter(path, t.schema, compression="zstd")
            writer.write_table(t)
    assert writer is not None
    writer.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    ap.add_argument("--format", choices=("csv", "parquet"), default="csv")
    ap.add_argument("--make", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.make:
        make_extract(Path(args.make[0]), int(args.make[1]), args.make[2])
        return
    print(f"| rows ({args.format}) | wall (s) | rows/s | peak RSS (MiB) |")
    print("|---|---|---|---|")
    for n in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / f"EDDS.{args.format}"
            # build the data in its own process: a child's peak RSS would otherwise start
            # from this process's (Linux keeps ru_maxrss across fork and exec)
            subprocess.run(
                [sys.executable, __file__, "--make", str(src), str(n), args.format], check=True
            )
            out = subprocess.run(
                [sys.executable, "-c", CHILD, tmp, str(src)], capture_output=True, text=True
            )
            if out.returncode:
                print(out.stderr[-2000:])
                raise SystemExit(1)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"| {n:,} | {r['wall']:.1f} | {r['rows'] / r['wall']:,.0f} | {r['rss']:,.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
