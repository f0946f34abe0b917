"""Benchmark: accuracy of ``justicelink linkage match`` and of a plain Splink pipeline, side by
side, on tasks built from public or generated data (``linkage_tasks.py``; issue #15).

    python benchmarks/bench_accuracy.py build DIR            # writes DIR/<task>/ for every task
    python benchmarks/bench_accuracy.py run DIR [--tasks febrl1 world-nds ...]

``run`` links each task with each pipeline in a fresh process (so the wall time covers start-up,
reading the files, training, prediction and writing the output):

- ``justicelink``: ``justicelink linkage match --register ... --records ... --out ...`` (the
  deterministic stages, then Splink, then assignment);
- ``plain-splink``: ``plain_splink.py``, the Splink 5 pipeline a user would write from the
  Splink documentation, on the same fields;
- ``justicelink-splink-only`` (on request): ``linkage match --splink-only``.

Both are scored against the task's truth: a record is linked if it has a person id (for
justicelink, also a status in the research filter, 1, 4 or 39); precision is the share of
linked records linked to their true person, recall the share of records whose person is on
the register that are linked to them. It prints one markdown table and writes the results as
JSON (``DIR/results.json`` unless ``--json`` says otherwise), with justicelink's counts by
status and its scores under the loose filter (1, 4, 39, 35) beside the table's.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(SRC))

import linkage_tasks  # noqa: E402

from justicelink.linkage.evaluate import Accuracy  # noqa: E402

PIPELINES = ("justicelink", "plain-splink", "justicelink-splink-only")
DEFAULT_PIPELINES = ("justicelink", "plain-splink")


# precision, recall and F1 as justicelink's own quality report counts them
Score = Accuracy


def score(truth: dict[str, str | None], links: dict[str, str | None]) -> Score:
    """``truth``: system_id -> true person_id (None: not on the register); ``links``:
    system_id -> linked person_id (None: not linked). Records missing from ``links`` count as
    not linked."""
    linked = correct = 0
    for sid, true in truth.items():
        got = links.get(sid)
        if got is not None:
            linked += 1
            correct += got == true
    return Score(len(truth), linked, correct, sum(t is not None for t in truth.values()))


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def read_truth(path: Path) -> dict[str, str | None]:
    return {r["system_id"]: r["person_id"] or None for r in _read_csv(path)}


def read_justicelink(
    path: Path, statuses: tuple[int, ...] | None = None
) -> tuple[dict[str, str | None], dict[str, int]]:
    """Links from a justicelink OUT file (linked: a person id and a status in ``statuses``,
    by default the research filter 1, 4, 39) and the counts by status."""
    from justicelink.formats import RESEARCH_FILTER

    keep = RESEARCH_FILTER if statuses is None else statuses
    links: dict[str, str | None] = {}
    counts: dict[str, int] = {}
    for r in _read_csv(path):
        status = r["alf_sts_cd"]
        counts[status] = counts.get(status, 0) + 1
        ok = status.isdigit() and int(status) in keep and bool(r["person_id"])
        links[r["system_id"]] = r["person_id"] if ok else None
    return links, dict(sorted(counts.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0))


def read_plain(path: Path) -> dict[str, str | None]:
    return {r["system_id"]: r["person_id"] or None for r in _read_csv(path)}


def _env() -> dict[str, str]:
    paths = [str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def _command(pipeline: str, folder: Path, out: Path) -> list[str]:
    files = ["--register", str(folder / "register.csv"), "--records", str(folder / "records.csv")]
    if pipeline == "plain-splink":
        return [sys.executable, str(HERE / "plain_splink.py"), *files, "--out", str(out)]
    cmd = [sys.executable, "-m", "justicelink.cli", "linkage", "match", *files, "--out", str(out)]
    return [*cmd, "--splink-only"] if pipeline == "justicelink-splink-only" else cmd


def run_one(folder: Path, pipeline: str, timeout: float) -> dict[str, Any]:
    out = folder / f"out-{pipeline}.csv"
    out.unlink(missing_ok=True)
    cmd = _command(pipeline, folder, out)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"pipeline": pipeline, "ok": False, "error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    result: dict[str, Any] = {
        "pipeline": pipeline,
        "command": " ".join(cmd),
        "wall_s": round(wall, 2),
        "exit_code": p.returncode,
    }
    if p.returncode or not out.is_file():
        tail = (p.stderr or p.stdout).strip().splitlines()[-15:]
        return {**result, "ok": False, "error": "\n".join(tail)}
    truth = read_truth(folder / "truth.csv")
    if pipeline == "plain-splink":
        links, extra = read_plain(out), {"summary": p.stdout.strip().splitlines()[-1:]}
    else:
        from justicelink.formats import LOOSE_FILTER

        links, counts = read_justicelink(out)
        # the loose filter (1, 4, 39, 35) also counts 0.5 <= p < 0.9, the threshold plain
        # Splink links at: reported beside the table, not in it
        loose = score(truth, read_justicelink(out, LOOSE_FILTER)[0])
        extra = {"status_counts": counts, "loose_filter": loose.as_dict()}
    missing = len(set(truth) - set(links))
    s = score(truth, links)
    return {**result, "ok": True, **s.as_dict(), "records_missing_from_output": missing, **extra}


def _machine() -> dict[str, Any]:
    import duckdb
    import splink

    mem = None
    try:
        with open("/proc/meminfo") as f:
            kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        mem = f"{kib / 2**20:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return {
        "cores": os.cpu_count(),
        "memory": mem,
        "machine": platform.machine(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "splink": splink.__version__,
        "date": dt.date.today().isoformat(),
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| task | records | register | pipeline | wall s | precision | recall | F1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        head = f"| {r['task']} | {r['task_records']:,} | {r['task_register']:,} | {r['pipeline']} |"
        if r["ok"]:
            lines.append(
                f"{head} {r['wall_s']:.1f} | {r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} |"
            )
        else:
            first = r["error"].splitlines()[-1] if r.get("error") else "failed"
            lines.append(f"{head} {r.get('wall_s', 0):.1f} | failed: {first} | | |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> None:
    root: Path = args.dir
    tasks = args.tasks or [t for t in linkage_tasks.TASKS if (root / t / "truth.csv").is_file()]
    if not tasks:
        raise SystemExit(f"no task folders under {root}: run `build {root}` first")
    rows: list[dict[str, Any]] = []
    for t in tasks:
        folder = root / t
        info = json.loads((folder / "task.json").read_text())
        for pipeline in args.pipelines:
            print(f"{t}: {pipeline} ...", flush=True)
            r = run_one(folder, pipeline, args.timeout)
            row = {
                "task": t,
                "task_records": info["records"],
                "task_register": info["register"],
                "task_on_register": info["on_register"],
                "task_fields": info["fields"],
                **r,
            }
            rows.append(row)
            if r["ok"]:
                print(
                    f"{t}: {pipeline} {r['wall_s']:.1f} s, precision {r['precision']:.4f}, "
                    f"recall {r['recall']:.4f}, F1 {r['f1']:.4f} ({r['linked']:,} linked, "
                    f"{r['correct']:,} correct, {r['matchable']:,} on the register)"
                    + (
                        f"; with status 35 (loose filter): precision {r['loose_filter']['precision']:.4f}, "
                        f"recall {r['loose_filter']['recall']:.4f}, F1 {r['loose_filter']['f1']:.4f}"
                        if "loose_filter" in r
                        else ""
                    ),
                    flush=True,
                )
            else:
                print(f"{t}: {pipeline} FAILED (exit {r.get('exit_code')}):\n{r['error']}", flush=True)  # fmt: skip
    md = table(rows)
    print()
    print(md)
    out = args.json or root / "results.json"
    out.write_text(json.dumps({"machine": _machine(), "results": rows, "table": md}, indent=2) + "\n")  # fmt: skip
    print(f"\nresults: {out}")


def build(args: argparse.Namespace) -> None:
    linkage_tasks.build(
        args.dir, args.tasks, register=args.register, records=args.records,
        held_out=args.held_out, seed=args.seed, progress=lambda s: print(s, flush=True),
    )  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="Write every task folder.")
    linkage_tasks.add_build_arguments(b)
    r = sub.add_parser("run", help="Link and score every task with every pipeline.")
    r.add_argument("dir", type=Path)
    r.add_argument("--tasks", nargs="+", choices=linkage_tasks.TASKS, help="Default: every task built under DIR.")  # fmt: skip
    r.add_argument("--pipelines", nargs="+", choices=PIPELINES, default=list(DEFAULT_PIPELINES))
    r.add_argument("--json", type=Path, help="Results file (default DIR/results.json).")
    r.add_argument("--timeout", type=float, default=3600.0, help="Seconds per pipeline run.")
    args = ap.parse_args()
    build(args) if args.cmd == "build" else run(args)


if __name__ == "__main__":
    main()
