"""`justicelink demo`: one real pass through every zone on synthetic data.

Every step prints its time; at the end the report's path. ``DIR/demo.json`` tells other tools
where everything is.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console

from justicelink import platform as pf
from justicelink.formats import RefusedError
from justicelink.synth import DATASETS, generate

T = TypeVar("T")

DEMO_USERS = (
    ("ada", "admin", "Ada Admin"),
    ("dana", "data_manager", "Dana Data-Manager"),
    ("gita", "governance", "Gita Governance"),
    ("gareth", "governance", "Gareth Governance"),
    ("rhys", "researcher", "Rhys Researcher"),
    ("rowan", "researcher", "Rowan Researcher"),
    ("olwen", "output_checker", "Olwen Output-Checker"),
    ("owain", "output_checker", "Owain Output-Checker"),
)


def prepare_home(root: Path, force: bool) -> pf.Home:
    root = Path(root)
    if root.exists() and any(root.iterdir()):
        if not force:
            raise RefusedError(
                f"{root} already holds a platform home; refusing to mix two runs. "
                "Choose an empty folder, or pass --force to replace this demo home."
            )
        if not (root / pf.MARKER).is_file():
            raise RefusedError(
                f"{root} is not empty and is not a justicelink home; --force only replaces a "
                "demo home, never another folder"
            )
        shutil.rmtree(root)
    home = pf.Home(root)
    home.init()
    return home


def run_demo(
    root: Path,
    *,
    people: int = 100_000,
    seed: int = 20150401,
    force: bool = False,
    console: Console | None = None,
) -> dict[str, Any]:
    console = console or Console()
    t_all = time.perf_counter()

    def step(n: int, label: str, fn: Callable[[], T]) -> T:
        t = time.perf_counter()
        with console.status(f"[{n}/7] {label}…"):
            out = fn()
        console.print(f"[green]✓[/] [{n}/7] {label} [dim]({time.perf_counter() - t:.1f} s)[/]")
        return out

    home = prepare_home(root, force)
    refresh = date.today().strftime("%Y%m%d")

    def synth() -> Any:
        out = home.provider / "extracts"
        res = generate(out, people=people, seed=seed, progress=False)
        shutil.move(str(out / "truth"), str(home.truth))
        return res

    world = step(1, f"synthetic register and extracts ({people:,} people)", synth)

    def split() -> dict[str, Any]:
        return {ds: pf.split_and_deliver(home, ds, world.out / ds) for ds in DATASETS}

    splits = step(
        2, f"split {len(DATASETS)} extracts, encrypted to the linkage and bank zones", split
    )

    def link() -> dict[str, Any]:
        from justicelink import linkage
        from justicelink.crypto import ZoneKeys

        linkage.load_register(
            world.register_dir, home.linkage, ZoneKeys.open(home.linkage, "linkage").prf_key()
        )
        # reference data (no person table) has no identifiers to link
        return {
            ds: pf.link_and_deliver(home, s.submission_id)
            for ds, s in splits.items()
            if pf.has_people(ds)
        }

    runs = step(3, "trusted third party: match identifiers to the register", link)
    loads = step(
        4,
        "bank: load content with ALFs under the bank's key",
        lambda: {ds: pf.load_into_bank(home, s.submission_id, refresh) for ds, s in splits.items()},
    )

    def govern() -> dict[str, str]:
        cp = home.control_plane()
        try:
            for username, role, name in DEMO_USERS:
                cp.add_user(username, role, name, actor="ada")
            p1 = cp.submit(
                "rhys",
                pf.application(
                    "Children and newborns in care proceedings in Wales",
                    {ds: pf.all_columns(home, ds) for ds in DATASETS},
                    ["rhys"],
                ),
            )
            p2 = cp.submit(
                "rowan",
                pf.application(
                    "Cafcass Cymru case pathways",
                    {
                        "CAFW": pf.all_columns(
                            home,
                            "CAFW",
                            [
                                "CAFCASS_ALF",
                                "CAFCASS_APPLICATION",
                                "CAFCASS_APPLICATIONSERVICEUSERS",
                            ],
                        )
                    },
                    ["rowan"],
                ),
            )
            cp.decide(
                p1, "gita", "approve", "Public benefit clear; datasets and columns proportionate."
            )
            cp.decide(p2, "gareth", "approve", "Minimal dataset; approved.")
            return {"newborns": p1, "pathways": p2}
        finally:
            cp.close()

    pids = step(5, "control plane: users, applications, approvals (audited)", govern)
    provisioned = step(
        6,
        "provision two projects, each under its own key (ALF_PE)",
        lambda: {pid: pf.provision_project(home, pid, "dana") for pid in pids.values()},
    )

    def airlock_flow() -> Any:
        req = pf.run_example_analysis(home, pids["newborns"], "rhys")
        pf.airlock_review(
            home, req.request_id, "olwen", "approve", "Counts of 10 or more; suppression applied."
        )
        pf.airlock_review(home, req.request_id, "owain", "approve", "Agree; no differencing risk.")
        pf.airlock_release(home, req.request_id, "olwen")
        return req

    req = step(7, "researcher query, ACRO checks, two checkers approve, release", airlock_flow)
    analyses_report, analyses_requests = pf.run_family_justice_analyses(
        home, pids["newborns"], "rhys"
    )
    cp = home.control_plane()
    try:
        users = cp.users_by_role()
        audit_ok = cp.verify_audit()
    finally:
        cp.close()
    summary = {
        "home": str(home.root.resolve()),
        "people": people,
        "seed": seed,
        "projects": {
            pid: {
                "schema": f"SAIL{pid}V",
                "workspace_schema": f"SAILW{pid}V",
                "store": str(p.store),
                "tables": p.tables,
                "pins": p.pins,
                "researchers": ["rhys"] if pid == pids["newborns"] else ["rowan"],
            }
            for pid, p in provisioned.items()
        },
        "users": users,
        "datasets": {
            ds: {"version": r.version, "rows": r.rows, "linkage_rate": round(r.linkage_rate, 4)}
            for ds, r in loads.items()
        },
        "submissions": {ds: s.submission_id for ds, s in splits.items()},
        "linkage": {ds: {str(k): v for k, v in r.by_status.items()} for ds, r in runs.items()},
        "airlock_request": req.request_id,
        "released": str((home.airlock / "released" / req.request_id).resolve()),
        "report": str(req.report.resolve()),
        "analyses_report": str(analyses_report.resolve()),
        "analyses_requests": analyses_requests,
        "audit": {"entries": audit_ok.entries, "verified": audit_ok.ok},
        "seconds": round(time.perf_counter() - t_all, 1),
    }
    pf.write_demo_json(home, summary)
    console.print(f"Airlock report (released table): {summary['report']}")
    console.print(
        f"Demo finished in {summary['seconds']} s. Report: [bold]{summary['analyses_report']}[/]"
    )
    return summary
