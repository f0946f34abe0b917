"""Benchmark: the whole demo pipeline at growing population sizes.

Run on demand (never in the test suite):

    .venv/bin/python benchmarks/bench_demo.py --people 10000 100000 1000000

Each size runs in a fresh subprocess so peak memory (ru_maxrss) is per run. Prints a Markdown
table with the wall time of every step, for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
from pathlib import Path
from rich.console import Console
from justicelink.demo import run_demo
t = time.perf_counter()
summary = run_demo(Path(sys.argv[1]), people=int(sys.argv[2]), console=Console(file=sys.stderr))
summary["wall"] = time.perf_counter() - t
summary["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(summary))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = ap.parse_args()
    rows = []
    for n in args.people:
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(Path(tmp) / "home"), str(n)],
                capture_output=True,
                text=True,
                check=True,
            )
        s = json.loads(out.stdout.strip().splitlines()[-1])
        cafw = s["datasets"]["CAFW"]
        rows.append(
            f"| {n:,} | {s['wall']:.1f} | {s['peak_rss_mib']:,.0f} | "
            f"{cafw['rows']['CAFCASS_ALF']:,} | {s['datasets']['NCCH']['rows']['CHILD_BIRTHS']:,} | "
            f"{cafw['linkage_rate']:.1%} |"
        )
        print(rows[-1], flush=True)
    print()
    print(
        f"Machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{resource.getpagesize()}-byte pages"
    )
    print(
        "| people | demo wall (s) | peak RSS (MiB) | Cafcass people | births | CAFW linked (1,4,39) |"
    )
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
