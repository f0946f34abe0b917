"""Benchmark: synthetic world generation at growing population sizes (every dataset).

    .venv/bin/python benchmarks/bench_synth.py --people 10000 100000 1000000

Each size runs in a fresh process; peak memory is that process's maximum RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
from pathlib import Path
from justicelink.synth import generate
t = time.perf_counter()
r = generate(Path(sys.argv[1]), people=int(sys.argv[2]), seed=1, progress=False)
wall = time.perf_counter() - t
rows = sum(v for k, v in r.counts.items() if "." in k)
size = sum(p.stat().st_size for p in Path(sys.argv[1]).rglob("*") if p.is_file())
print(json.dumps({"wall": wall, "rows": rows, "mib": size / 2**20,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = ap.parse_args()
    print("| people | wall (s) | peak RSS (MiB) | extract rows | on disk (MiB) | rows/s |")
    print("|---|---|---|---|---|---|")
    for n in args.people:
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(Path(tmp) / "w"), str(n)],
                capture_output=True,
                text=True,
                check=True,
            )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"| {n:,} | {r['wall']:.1f} | {r['rss']:,.0f} | {r['rows']:,} | {r['mib']:,.0f} | "
            f"{r['rows'] / r['wall']:,.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
