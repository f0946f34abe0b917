"""Benchmark: the TTP's matching cascade (deterministic + Splink) and plain Splink, on synthetic
records with known truth, against a register with address and surname history.

    .venv/bin/python benchmarks/bench_linkage.py scale --register 3000000 --records 10000 100000 1000000
    .venv/bin/python benchmarks/bench_linkage.py scale --register 30000000 --records 10000000 --plain-max 0
    .venv/bin/python benchmarks/bench_linkage.py cafcass --people 1000000

``scale``: an ED-like extract (one record per attendance; the EDDS error model) drawn from a
register of the given size. The data are generated in one process and linked in a fresh one, so
the wall time covers the whole TTP job (register load with ALFs, deterministic stages, Splink
training and prediction, assignment, output) and the peak RSS is the linkage process's alone.
``cafcass``: the Cafcass Cymru person records of a synthetic world, reported by status code and
for adults without an NHS number.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

GEN_CHILD = r"""
import sys
from pathlib import Path
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
from justicelink.synth.population import make_places, make_register
from justicelink.synth.generate import _write_register
from justicelink.synth.config import DEFAULT_ERRORS
from justicelink.synth.errors import person_records
tmp, n_reg, n_rec = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(7)
places = make_places(rng, n_reg)
reg = make_register(rng, n_reg, 2015, 2024, places)
_write_register(tmp / "register", reg, places)
idx = rng.integers(0, n_reg, n_rec)
when = np.datetime64("2016-01-01") + rng.integers(0, 9 * 365, n_rec).astype("timedelta64[D]")
when = np.maximum(when, reg.dob[idx])
child = (when - reg.dob[idx]).astype(np.int64) < 16 * 365
cols, flags = person_records(rng, DEFAULT_ERRORS["EDDS"], reg, places, idx, when, is_child=child, is_newborn=np.zeros(n_rec, bool))
pq.write_table(pa.table({
    "system_id": np.arange(1, n_rec + 1), "nhs_number": pa.array(cols["nhs"], pa.string()),
    "forename": pa.array(cols["forename"], pa.string()), "surname": pa.array(cols["surname"], pa.string()),
    "dob": cols["dob"], "sex": cols["sex"].astype(np.int32), "postcode": pa.array(cols["postcode"], pa.string()),
}), tmp / "recs.parquet")
pq.write_table(pa.table({"system_id": np.arange(1, n_rec + 1), "person_id": reg.person_id[idx]}), tmp / "truth.parquet")
"""

LINK_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
import duckdb
from justicelink.linkage import current_version, load_register
from justicelink.linkage.cascade import run_cascade
from justicelink.linkage.evaluate import accuracy
tmp, mode = Path(sys.argv[1]), sys.argv[2]
t0 = time.perf_counter()
if mode == "repeat":  # a second run against the version the first run loaded (and prepared)
    v = current_version(tmp / "linkage-cascade")
else:
    v = load_register(tmp / "register", tmp / f"linkage-{mode}", b"k" * 32)
t_load = time.perf_counter() - t0
con = duckdb.connect(config={"memory_limit": "3GB", "temp_directory": str(tmp / "spill")})
con.execute(f"CREATE TEMP TABLE rec AS SELECT * FROM read_parquet('{tmp}/recs.parquet')")
res = run_cascade(con, "rec", f"read_parquet('{v.person}')", register=v, deterministic=(mode != "splink-only"))
con.execute(f"COPY (SELECT system_id, person_id, alf_sts_cd FROM matched) TO '{tmp}/out-{mode}.parquet'")
wall = time.perf_counter() - t0
acc = accuracy(con, "matched", f"read_parquet('{tmp}/truth.parquet')")["all"]
print(json.dumps({"wall": wall, "load": t_load, "f1": acc.f1, "precision": acc.precision, "recall": acc.recall,
    "counts": {str(k): v for k, v in res.counts.items()}, "pairs": res.pairs,
    "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

# plain Splink (benchmarks/plain_splink.py) on the same records and the register with one
# (current) postcode per person: the fields of the generic contract
PLAIN_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
import duckdb
sys.path.insert(0, sys.argv[2])
import plain_splink
tmp = Path(sys.argv[1])
con = duckdb.connect()
con.execute(
    "COPY (SELECT p.person_id, p.nhs_number, p.forename, p.surname, p.previous_surname, "
    "CAST(p.dob AS VARCHAR) AS dob, p.sex, a.postcode "
    f"FROM read_parquet('{tmp}/register/WDS_PERSON.parquet') p LEFT JOIN ("
    "SELECT person_id, arg_max(postcode, from_date) AS postcode "
    f"FROM read_parquet('{tmp}/register/WDS_ADDRESS.parquet') GROUP BY 1) a USING (person_id)) "
    f"TO '{tmp}/reg_contract.parquet'"
)
con.execute(
    "COPY (SELECT system_id, nhs_number, forename, surname, CAST(dob AS VARCHAR) AS dob, sex, postcode "
    f"FROM read_parquet('{tmp}/recs.parquet')) TO '{tmp}/recs_contract.parquet'"
)
con.close()
t0 = time.perf_counter()
r = plain_splink.link(tmp / "reg_contract.parquet", tmp / "recs_contract.parquet")
wall = time.perf_counter() - t0
con = duckdb.connect()
truth = dict(con.execute(
    f"SELECT CAST(system_id AS VARCHAR), CAST(person_id AS VARCHAR) FROM read_parquet('{tmp}/truth.parquet')"
).fetchall())
linked = {k: v for k, v in r.links.items() if v is not None}
ok = sum(1 for k, v in linked.items() if truth.get(k) == v)
p, rc = ok / max(len(linked), 1), ok / max(sum(v is not None for v in truth.values()), 1)
print(json.dumps({"wall": wall, "f1": 2 * p * rc / (p + rc) if p + rc else 0, "precision": p, "recall": rc,
    "pairs": r.pairs, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _child(code: str, *argv: str, timeout: float) -> dict | None:
    try:
        out = subprocess.run(
            [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        print(f"  (timed out after {timeout:.0f} s)", flush=True)
        return None
    if out.returncode:
        last = out.stderr.strip().splitlines()[-1][:300] if out.stderr.strip() else out.returncode
        print(f"  (failed: {last})", flush=True)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def scale(args: argparse.Namespace) -> None:
    print(f"Register: {args.register:,} people (with address and surname history).")
    print(
        "| records | pipeline | wall (s) | of which register load and preparation (s) "
        "| peak RSS (MiB) | pairs scored | precision | recall | F1 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    here = str(Path(__file__).resolve().parent)
    for n in args.records:
        with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
            gen = subprocess.run(
                [sys.executable, "-c", GEN_CHILD, tmp, str(args.register), str(n)],
                capture_output=True,
                text=True,
            )
            if gen.returncode:
                print(gen.stderr[-3000:])
                raise SystemExit(1)
            runs = [("cascade, first run (load + prepare + match)", LINK_CHILD, (tmp, "cascade")),
                    ("cascade, repeated run (prepared register)", LINK_CHILD, (tmp, "repeat"))]  # fmt: skip
            if n <= args.plain_max:
                runs.append(("plain Splink, same fields", PLAIN_CHILD, (tmp, here)))
            for label, code, argv in runs:
                r = _child(code, *argv, timeout=args.timeout)
                if r is None:
                    print(f"| {n:,} | {label} | – | – | – | – | – | – | – |", flush=True)
                    continue
                load = f"{r['load']:.1f}" if "load" in r else "–"
                print(
                    f"| {n:,} | {label} | {r['wall']:.1f} | {load} | {r['rss']:,.0f} | {r['pairs']:,} | "
                    f"{r['precision']:.5f} | {r['recall']:.5f} | {r['f1']:.5f} |",
                    flush=True,
                )


def cafcass(args: argparse.Namespace) -> None:
    import duckdb

    from justicelink.formats import LOOSE_FILTER
    from justicelink.linkage import load_register
    from justicelink.linkage.cascade import run_cascade
    from justicelink.linkage.contract import _clean_sql
    from justicelink.linkage.evaluate import accuracy
    from justicelink.synth import generate

    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        w = generate(
            tmp / "w", people=args.people, seed=args.seed, datasets=("CAFW",), progress=False
        )
        v = load_register(w.register_dir, tmp / "linkage", b"k" * 32)
        con = duckdb.connect()
        con.execute(
            f"""CREATE TEMP TABLE rec_raw AS SELECT row_number() OVER () AS system_id,
                row_number() OVER () AS __iid, PERSON_ID,
                NHS_NUMBER AS nhs_number, FORENAME AS forename, SURNAME AS surname,
                strftime(strptime(DOB, '%d/%m/%Y'), '%Y-%m-%d') AS dob, SEX AS sex, POSTCODE AS postcode
                FROM read_csv('{w.extracts["CAFW"]}/CAFCASS_PERSON.csv', all_varchar = true)"""
        )
        con.execute(f"CREATE TEMP TABLE rec AS {_clean_sql('rec', 'system_id', False)}")
        con.execute(
            f"""CREATE TEMP TABLE truth AS SELECT r.system_id, t.register_person_id AS person_id,
                   date_sub('year', CAST(r.dob AS DATE), DATE '2020-01-01') >= 18 AS adult,
                   r.nhs_number IS NULL AS no_nhs
                FROM rec_raw r JOIN read_parquet('{w.truth_dir}/CAFW_CAFCASS_PERSON.parquet') t
                ON t.record_id = r.PERSON_ID"""
        )
        for mode in ("cascade", "splink-only"):
            res = run_cascade(
                con,
                "rec",
                f"read_parquet('{v.person}')",
                register=v,
                deterministic=mode == "cascade",
            )
            overall = accuracy(con, "matched", "truth")["all"]
            adults = accuracy(con, "matched", "truth", where="t.adult AND t.no_nhs")["all"]
            by = accuracy(con, "matched", "truth", group_by="r.alf_sts_cd", statuses=LOOSE_FILTER)
            print(f"{mode}: counts {res.counts}; pairs {res.pairs:,}")
            print(f"  overall {json.dumps(overall.as_dict())}")
            print(f"  adults without an NHS number {json.dumps(adults.as_dict())}")
            for k, a in by.items():
                print(f"  status {k}: {json.dumps(a.as_dict())}")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("scale")
    s.add_argument("--register", type=int, default=3_000_000)
    s.add_argument("--records", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    s.add_argument(
        "--plain-max", type=int, default=1_000_000, help="largest size for the plain Splink run"
    )
    s.add_argument("--timeout", type=float, default=1800, help="seconds allowed per run")
    s.add_argument("--tmp", default=None, help="folder for the generated data (default: /tmp)")
    c = sub.add_parser("cafcass")
    c.add_argument("--people", type=int, default=1_000_000)
    c.add_argument("--seed", type=int, default=20150401)
    args = ap.parse_args()
    scale(args) if args.cmd == "scale" else cafcass(args)


if __name__ == "__main__":
    main()
