"""Output requests: what a researcher asks to take out, checked before anyone sees it.

Layout: ``airlock/requests/<project>-<nnnn>/``
    acro/               ACRO's folder as ACRO writes it (outputs, results.json, config.json)
    differencing.json   findings against the project's released tables
    request.json        the state machine (state, reviews, history)
    report.html         self-contained report for the checkers
Released bundles: ``airlock/released/<project>-<nnnn>/`` with ``checksums.sha256``.
The record-level data an output was built from never enters the airlock.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from justicelink.airlock.differencing import against_released
from justicelink.airlock.outputs import OutputBuilder
from justicelink.airlock.workflow import RequestState, reset_reviews, transition
from justicelink.formats import InputError, RefusedError, atomic_dir, sha256_file
from justicelink.reporting import html_table, page

_ID = re.compile(r"^\d{4}-\d{4}$")


@dataclass(frozen=True)
class OutputRequest:
    request_id: str
    project_id: str
    author: str
    folder: Path
    status: str
    report: Path
    outcomes: dict[str, str]


def _requests(airlock_dir: Path) -> Path:
    return Path(airlock_dir) / "requests"


def request_folder(airlock_dir: Path, request_id: str) -> Path:
    if not _ID.match(request_id):
        raise InputError("a request id looks like 0001-0003", column="request")
    folder = _requests(airlock_dir) / request_id
    if not (folder / "request.json").is_file():
        raise RefusedError(f"no output request {request_id}")
    return folder


def _next_id(root: Path, project_id: str) -> str:
    existing = [p.name for p in root.glob(f"{project_id}-*") if p.is_dir()]
    n = max((int(x.rsplit("-", 1)[1]) for x in existing), default=0) + 1
    return f"{project_id}-{n:04d}"


def _csv_files(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / "acro").glob("*.csv") if p.name != "session_summary.csv")


def create_request(
    airlock_dir: Path,
    *,
    project_id: str,
    author: str,
    builder: OutputBuilder,
    title: str,
    description: str,
    sql: str = "",
) -> OutputRequest:
    """Finalise the researcher's ACRO session into a new request (state: pending)."""
    root = _requests(airlock_dir)
    root.mkdir(parents=True, exist_ok=True)
    request_id = _next_id(root, project_id)
    threshold = int(builder.acro.config["safe_threshold"])
    with atomic_dir(root / request_id) as tmp:
        results = builder.finalise(tmp / "acro")
        findings = against_released(
            _csv_files(tmp), Path(airlock_dir) / "released", project_id, threshold
        )
        (tmp / "differencing.json").write_text(
            json.dumps([{**f.__dict__, "message": f.describe()} for f in findings], indent=2) + "\n"
        )
        outcomes: dict[str, str] = {}
        reasons: dict[str, str] = {}
        for uid, out in results["results"].items():
            names = [Path(f["name"]).name for f in out.get("files", [])]
            reasons[uid] = " ".join(
                builder.justifications[n] for n in names if n in builder.justifications
            )
            status = out["status"]
            files = {f["name"] for f in out.get("files", [])}
            if any(f.output in files for f in findings):
                status = "review"  # differencing: a person must look
            outcomes[uid] = status
        state = RequestState(request_id, project_id, author)
        state.outputs = {
            uid: {"status": s, "justification": reasons.get(uid, "")} for uid, s in outcomes.items()
        }
        state.history.append(
            {
                "action": "create",
                "actor": author,
                "title": title,
                "description": description,
                "sql": sql,
            }
        )
        state.save(tmp)
        _write_report(tmp, state, results, findings, title, description, sql)
    folder = root / request_id
    return OutputRequest(
        request_id, project_id, author, folder, state.state, folder / "report.html", outcomes
    )


def act(
    airlock_dir: Path, request_id: str, action: str, actor: str, actor_role: str, **details: Any
) -> str:
    """Apply a state-machine action; for a second review, the platform then decides."""
    folder = request_folder(airlock_dir, request_id)
    state = RequestState.load(folder)
    new = transition(state, action, actor, actor_role, **details)
    if new == "reviewed":
        new = transition(state, "decide", "system", "system")
    state.save(folder)
    _refresh_report(folder, state)
    return new


def update_output(
    airlock_dir: Path, request_id: str, actor: str, name: str, content: bytes
) -> None:
    """The author replaces one output file: every review so far is void."""
    folder = request_folder(airlock_dir, request_id)
    state = RequestState.load(folder)
    target = folder / "acro" / Path(name).name
    if not target.is_file():
        raise RefusedError(f"request {request_id} has no output file {name}")
    reset_reviews(state, actor, name)
    target.write_bytes(content)
    state.save(folder)
    _refresh_report(folder, state)


def release(airlock_dir: Path, request_id: str, actor: str, actor_role: str) -> Path:
    """Copy an approved request's outputs out, with checksums. The only way out."""
    folder = request_folder(airlock_dir, request_id)
    state = RequestState.load(folder)
    if state.state != "approved":
        raise RefusedError(
            f"request {request_id} is {state.state}; only approved requests are released"
        )
    results = json.loads((folder / "acro" / "results.json").read_text())
    allowed: set[str] = set()
    for uid, out in results["results"].items():
        # failed outputs never leave; ACRO's secondary-risk working files say so in their name
        if state.outputs.get(uid, {}).get("status") == "fail" or "DONT_RELEASE" in uid:
            continue
        allowed |= {f["name"] for f in out.get("files", [])}
    dest = Path(airlock_dir) / "released" / request_id
    with atomic_dir(dest) as tmp:
        for name in sorted(allowed | {"results.json"}):
            src = folder / "acro" / Path(name).name
            if src.is_file():
                shutil.copy2(src, tmp / src.name)
        shutil.copy2(folder / "report.html", tmp / "report.html")
        sums = [f"{sha256_file(p)}  {p.name}" for p in sorted(tmp.iterdir()) if p.is_file()]
        (tmp / "checksums.sha256").write_text("\n".join(sums) + "\n")
    transition(state, "release", actor, actor_role, destination=str(dest))
    state.save(folder)
    _refresh_report(folder, state)
    return dest


def _table_html(path: Path) -> str:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return html_table(rows[0], rows[1:]) if rows else ""


def _write_report(
    folder: Path,
    state: RequestState,
    results: dict,
    findings: list,
    title: str,
    description: str,
    sql: str,
) -> None:
    outputs = []
    for uid, out in results["results"].items():
        summary = "; ".join(
            f"{check}: {n}"
            for f in out.get("files", [])
            for check, n in f.get("sdc", {}).get("summary", {}).items()
            if n
        )
        outputs.append((uid, out["type"], out["properties"].get("method", ""), state.outputs[uid]["status"], summary or "—",
                        " ".join(out.get("comments", [])) + " " + state.outputs[uid]["justification"]))  # fmt: skip
    tables = "".join(f"<h3>{escape(p.name)}</h3>{_table_html(p)}" for p in _csv_files(folder))
    diff = (
        "<ul>"
        + "".join(f"<li class='review'>{escape(f.describe())}</li>" for f in findings)
        + "</ul>"
        if findings
        else "<p class='pass'>No released table of this project combines with these outputs to disclose a small group.</p>"
    )
    history = html_table(
        ["at", "actor", "action", "from", "to"],
        [
            (
                h.get("at", ""),
                h.get("actor", ""),
                h.get("action", ""),
                h.get("from", ""),
                h.get("to", ""),
            )
            for h in state.history
        ],
    )
    html = page(
        title,
        [
            ("Request", f"<p>{escape(description)}</p><p>State: <b>{escape(state.state)}</b>. "
                        "Nothing leaves the platform until two output checkers (never the author) approve it.</p>"),
            ("Disclosure control (ACRO)", html_table(["output", "type", "method", "status", "checks failed (cells)", "comments"], outputs)),
            ("Differencing against released tables", diff),
            ("Outputs (as they would be released)", tables),
            ("Reviews and history", history),
            ("Query", f"<pre>{escape(sql)}</pre>"),
        ],
        subtitle=f"Project SAIL{state.project_id}V · request {state.request_id} · author {state.author}",
    )  # fmt: skip
    (folder / "report.html").write_text(html, encoding="utf-8")


def _refresh_report(folder: Path, state: RequestState) -> None:
    created = next((h for h in state.history if h.get("action") == "create"), {})
    results = json.loads((folder / "acro" / "results.json").read_text())
    findings_raw = json.loads((folder / "differencing.json").read_text())
    from justicelink.airlock.differencing import Finding

    findings = [
        Finding(f["output"], f["released"], f["where"], f["difference"]) for f in findings_raw
    ]
    _write_report(
        folder,
        state,
        results,
        findings,
        created.get("title", state.request_id),
        created.get("description", ""),
        created.get("sql", ""),
    )
