"""`justicelink demo`: one real pass through every zone on synthetic data.

The demo makes a home the way an operator does (``justicelink init``), creates one account per
role with a random password (kept in ``DIR/demo-passwords/<user>``, mode 0600, so a person can
sign in as any of them afterwards), and then every step is done by the person whose job it is,
signed in with their password exactly as ``justicelink login`` does: the provider delivers, the
linkage operator links, the data manager loads and provisions, researchers apply, the panel
decides, checkers review and release. At the end everyone signs out.

Every step prints its time; at the end the report's path. ``DIR/demo.json`` tells other tools
where everything is.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console

from justicelink.control import Application
from justicelink.formats import RefusedError, project_schema, workspace_schema, write_json_atomic
from justicelink.platform import MARKER, Home, Platform
from justicelink.platform.data import has_people
from justicelink.synth import DATASETS, generate

T = TypeVar("T")

ADMIN = ("ada", "Ada Admin")
DEMO_USERS = (
    ("pat", "data_provider", "Pat Provider"),
    ("lina", "linkage_operator", "Lina Linkage-Operator"),
    ("dana", "data_manager", "Dana Data-Manager"),
    ("gita", "governance", "Gita Governance"),
    ("gareth", "governance", "Gareth Governance"),
    ("rhys", "researcher", "Rhys Researcher"),
    ("rowan", "researcher", "Rowan Researcher"),
    ("olwen", "output_checker", "Olwen Output-Checker"),
    ("owain", "output_checker", "Owain Output-Checker"),
)
PASSWORDS = "demo-passwords"


def prepare_home(root: Path, force: bool) -> None:
    root = Path(root)
    if root.exists() and any(root.iterdir()):
        if not force:
            raise RefusedError(
                f"{root} already holds a platform home; refusing to mix two runs. "
                "Choose an empty folder, or pass --force to replace this demo home."
            )
        if not (root / MARKER).is_file():
            raise RefusedError(
                f"{root} is not empty and is not a justicelink home; --force only replaces a "
                "demo home, never another folder"
            )
        shutil.rmtree(root)


def _write_password(root: Path, user: str, password: str | None = None) -> str:
    folder = root / PASSWORDS
    folder.mkdir(mode=0o700, exist_ok=True)
    password = password or secrets.token_urlsafe(18)
    fd = os.open(folder / user, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    return password


def application(
    title: str, datasets: dict[str, dict[str, list[str]]], researchers: list[str]
) -> Application:
    today = date.today()
    return Application(
        title=title,
        purpose=f"{title}: research into how the family justice system works for children and families.",
        lay_summary="We will count and describe children and families in family court, using anonymised data only.",
        datasets=datasets,
        researchers=researchers,
        start_date=today.replace(day=1),
        end_date=date(today.year + 2, today.month, 1),
    )


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

    root = Path(root)
    prepare_home(root, force)
    refresh = date.today().strftime("%Y%m%d")
    signed_in: dict[str, Platform] = {}

    def accounts() -> None:
        ada_pw = secrets.token_urlsafe(18)
        Platform.init(root, ADMIN[0], ADMIN[1], ada_pw)
        _write_password(root, ADMIN[0], ada_pw)
        ada, _ = Platform.login(root, ADMIN[0], ada_pw, label="demo")
        signed_in[ADMIN[0]] = ada
        for username, role, name in DEMO_USERS:
            ada.users.create(username, role, name, password=_write_password(root, username))
        for username, _, _ in DEMO_USERS:
            pw = (root / PASSWORDS / username).read_text().strip()
            signed_in[username], _ = Platform.login(root, username, pw, label="demo")

    step(1, "platform home, accounts for every role, everyone signed in (audited)", accounts)
    home = Home.open(root)
    as_ = signed_in.__getitem__
    try:

        def synth() -> Any:
            out = home.provider / "extracts"
            res = generate(out, people=people, seed=seed, progress=False)
            shutil.move(str(out / "truth"), str(home.truth))
            return res

        world = step(2, f"synthetic register and extracts ({people:,} people)", synth)
        splits = step(
            3, f"provider: split {len(DATASETS)} extracts, sealed to the linkage and bank zones",
            lambda: {ds: as_("pat").provider.deliver(ds, world.out / ds) for ds in DATASETS},
        )  # fmt: skip

        def link() -> dict[str, Any]:
            lina = as_("lina")
            lina.linkage.load_register(world.register_dir)
            # reference data (no person table) has no identifiers to link
            return {
                ds: lina.linkage.run(s.submission_id) for ds, s in splits.items() if has_people(ds)
            }

        runs = step(4, "trusted third party: match identifiers to the register", link)
        loads = step(
            5, "bank: load content with ALFs under the bank's key",
            lambda: {ds: as_("dana").bank.load(s.submission_id, refresh_date=refresh)
                     for ds, s in splits.items()},
        )  # fmt: skip

        def govern() -> dict[str, Any]:
            rhys, rowan = as_("rhys"), as_("rowan")
            p1 = rhys.applications.submit(
                application(
                    "Children and newborns in care proceedings in Wales",
                    {ds: rhys.catalogue.columns(ds) for ds in DATASETS},
                    ["rhys"],
                )
            )
            cafw = ["CAFCASS_ALF", "CAFCASS_APPLICATION", "CAFCASS_APPLICATIONSERVICEUSERS"]
            p2 = rowan.applications.submit(
                application(
                    "Cafcass Cymru case pathways",
                    {"CAFW": rowan.catalogue.columns("CAFW", cafw)},
                    ["rowan"],
                )
            )
            as_("gita").applications.decide(
                p1, "approve", "Public benefit clear; datasets and columns proportionate."
            )
            as_("gareth").applications.decide(p2, "approve", "Minimal dataset; approved.")
            dana = as_("dana")
            return {"newborns": p1, "pathways": p2,
                    "provisioned": {p: dana.projects.provision(p) for p in (p1, p2)}}  # fmt: skip

        gov = step(6, "researchers apply, the panel approves, the data manager provisions", govern)
        pids = {"newborns": gov["newborns"], "pathways": gov["pathways"]}

        def airlock_flow() -> Any:
            rhys = as_("rhys")
            req = rhys.analyses.example(pids["newborns"])
            as_("olwen").airlock.review(
                req.request_id, "approve", "Counts of 10 or more; suppression applied."
            )
            as_("owain").airlock.review(req.request_id, "approve", "Agree; no differencing risk.")
            as_("olwen").airlock.release(req.request_id)
            report, requests = rhys.analyses.run(pids["newborns"])
            return req, report, requests

        req, analyses_report, analyses_requests = step(
            7, "researcher analyses, ACRO checks, two checkers approve, release", airlock_flow
        )
        users = as_("ada").users.list()
        audit_ok = as_("gita").audit.verify()
    finally:
        for p in signed_in.values():
            try:
                p.account.logout()
            finally:
                p.close()
    by_role: dict[str, list[str]] = {}
    for u in users:
        by_role.setdefault(u.role.value, []).append(u.username)
    summary = {
        "home": str(home.root.resolve()),
        "people": people,
        "seed": seed,
        "projects": {
            pid: {
                "schema": project_schema(pid),
                "workspace_schema": workspace_schema(pid),
                "store": str(p.store),
                "tables": p.tables,
                "pins": p.pins,
                "researchers": ["rhys"] if pid == pids["newborns"] else ["rowan"],
            }
            for pid, p in gov["provisioned"].items()
        },
        "users": by_role,
        "passwords": str((home.root / PASSWORDS).resolve()),
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
    write_json_atomic(home.root / "demo.json", summary)
    console.print(f"Airlock report (released table): {summary['report']}")
    console.print(
        f"Sign in as any demo user: justicelink login --home {root} rhys --password-stdin "
        f"< {root}/{PASSWORDS}/rhys"
    )
    console.print(
        f"Demo finished in {summary['seconds']} s. Report: [bold]{summary['analyses_report']}[/]"
    )
    return summary
