"""Benchmark: the five family-justice analyses on demo projects of growing size.

    .venv/bin/python benchmarks/bench_analyses.py --people 100000 1000000

For each size a demo home is built first (synthetic world, split, linkage, bank, provisioning:
not timed here; see bench_demo). Then, each in a fresh process so that the peak RSS is the
analyses' own, every analysis runs alone through the platform, airlock submission and report
included, and finally all five together, as `make demo` runs them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, resource, sys, time
from pathlib import Path
from justicelink.platform import Platform
root, names = Path(sys.argv[1]), tuple(sys.argv[2].split(","))
password = (root / "demo-passwords" / "rhys").read_text().strip()
rhys, _ = Platform.login(root, "rhys", password, hours=1)
t = time.perf_counter()
rhys.analyses.run("0001", names)
print(json.dumps({"wall": time.perf_counter() - t, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

BUILD = """
import sys
from pathlib import Path
from rich.console import Console
from justicelink.demo import run_demo
run_demo(Path(sys.argv[1]), people=int(sys.argv[2]), seed=11, console=Console(quiet=True))
"""


def main() -> None:
    from justicelink.platform import ANALYSES

    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, nargs="+", default=[100_000, 1_000_000])
    args = ap.parse_args()
    print("| people | analysis | wall (s) | peak RSS (MiB) |")
    print("|---|---|---|---|")
    for n in args.people:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp) / "home"
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", BUILD, str(home), str(n)], check=True)
            print(
                f"<!-- demo home for {n:,} people built in {time.perf_counter() - t:.0f} s -->",
                flush=True,
            )
            for names in [*[(a,) for a in ANALYSES], ANALYSES]:
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, str(home), ",".join(names)],
                    capture_output=True,
                    text=True,
                )
                if out.returncode:
                    print(out.stderr[-2000:])
                    raise SystemExit(1)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                label = "all five" if len(names) > 1 else names[0]
                print(f"| {n:,} | {label} | {r['wall']:.1f} | {r['rss']:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
