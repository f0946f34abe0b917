"""Output requests' files: what a researcher asks to take out, checked before anyone sees it.

Layout: ``airlock/requests/<project>-<nnnn>/``
    acro/               ACRO's folder as ACRO writes it (outputs, results.json, config.json)
    differencing.json   findings against the project's released tables
    report.html         self-contained report for the checkers
Released bundles: ``airlock/released/<project>-<nnnn>/`` with ``checksums.sha256`` and the
audit head the release was witnessed at (``audit-head.json``).

The airlock keeps files only. A request's state, reviews and the checksum of every file as it
was checked live in the control plane; a release copies only files whose checksum is still the
one recorded there, so editing a file in this folder after review stops the release. The
record-level data an output was built from never enters the airlock.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from justicelink.airlock.differencing import Finding, against_released
from justicelink.airlock.outputs import OutputBuilder
from justicelink.formats import InputError, OutputFile, RefusedError, atomic_dir, sha256_file
from justicelink.reporting import html_table, page

_ID = re.compile(r"^\d{4}-\d{4}$")
RESULTS = "results.json"


@dataclass(frozen=True)
class PreparedRequest:
    request_id: str
    folder: Path
    files: list[OutputFile]

    @property
    def outcomes(self) -> dict[str, str]:
        return {f.output: f.status for f in self.files if f.output != "results"}


@dataclass(frozen=True)
class RequestView:
    """What the checkers' report shows: given by the platform from the control plane."""

    request_id: str
    project_id: str
    project_schema: str
    author: str
    state: str
    title: str
    description: str
    sql: str
    files: list[OutputFile]
    reviews: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)


def _requests(airlock_dir: Path) -> Path:
    return Path(airlock_dir) / "requests"


def request_folder(airlock_dir: Path, request_id: str) -> Path:
    if not _ID.match(request_id):
        raise InputError("a request id looks like 0001-0003", column="request")
    folder = _requests(airlock_dir) / request_id
    if not (folder / "acro" / RESULTS).is_file():
        raise RefusedError(f"output request {request_id} has no files in the airlock")
    return folder


def _csv_files(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / "acro").glob("*.csv") if p.name != "session_summary.csv")


def prepare_request(
    airlock_dir: Path, request_id: str, project_id: str, builder: OutputBuilder
) -> PreparedRequest:
    """Finalise the researcher's ACRO session into the request's folder, run differencing,
    and return every file with its checksum and status (for the control plane to record)."""
    root = _requests(airlock_dir)
    root.mkdir(parents=True, exist_ok=True)
    threshold = int(builder.acro.config["safe_threshold"])
    if (root / request_id).exists():
        raise RefusedError(
            f"output request {request_id} is being created by another session; try again"
        )
    with atomic_dir(root / request_id) as tmp:
        results = builder.finalise(tmp / "acro")
        findings = against_released(
            _csv_files(tmp), Path(airlock_dir) / "released", project_id, threshold
        )
        (tmp / "differencing.json").write_text(
            json.dumps([{**f.__dict__, "message": f.describe()} for f in findings], indent=2) + "\n"
        )
        flagged = {f.output for f in findings}
        files: list[OutputFile] = []
        for uid, out in results["results"].items():
            names = [Path(f["name"]).name for f in out.get("files", [])]
            reason = " ".join(
                builder.justifications[n] for n in names if n in builder.justifications
            )
            status = out["status"]
            if any(f["name"] in flagged for f in out.get("files", [])):
                status = "review"  # differencing: a person must look
            for n in names:
                files.append(OutputFile(n, uid, status, sha256_file(tmp / "acro" / n), reason))
        files.append(OutputFile(RESULTS, "results", "pass", sha256_file(tmp / "acro" / RESULTS)))
    return PreparedRequest(request_id, root / request_id, files)


def replace_output(airlock_dir: Path, request_id: str, name: str, content: bytes) -> str:
    """The author replaces one output file (the platform has checked the request may change);
    returns the new file's SHA-256."""
    folder = request_folder(airlock_dir, request_id)
    target = folder / "acro" / Path(name).name
    if not target.is_file() or target.name == RESULTS:
        raise RefusedError(f"request {request_id} has no output file {Path(name).name}")
    tmp = target.with_name(f".tmp-{target.name}")
    tmp.write_bytes(content)
    tmp.replace(target)
    return sha256_file(target)


def releasable(files: list[OutputFile]) -> list[OutputFile]:
    """Failed outputs never leave; nor do ACRO's secondary-risk working files (so named)."""
    return [f for f in files if f.status != "fail" and "DONT_RELEASE" not in f.output]


def release(
    airlock_dir: Path, request_id: str, files: list[OutputFile], extra: dict[str, bytes]
) -> Path:
    """Copy the reviewed files out, with checksums: the only way out. Each file must still
    have the checksum recorded when it was checked; ``extra`` files (the audit head) are added."""
    folder = request_folder(airlock_dir, request_id)
    dest = Path(airlock_dir) / "released" / request_id
    if dest.exists():
        raise RefusedError(f"request {request_id} has already been released")
    changed = [
        f.name for f in files if not (folder / "acro" / f.name).is_file()
        or sha256_file(folder / "acro" / f.name) != f.sha256
    ]  # fmt: skip
    if changed:
        raise RefusedError(
            f"request {request_id}: {', '.join(changed)} changed after it was checked; nothing "
            "was released (a changed file must be submitted and reviewed again)"
        )
    with atomic_dir(dest) as tmp:
        for f in releasable(files):
            shutil.copy2(folder / "acro" / f.name, tmp / f.name)
        shutil.copy2(folder / "report.html", tmp / "report.html")
        for name, data in extra.items():
            (tmp / name).write_bytes(data)
        sums = [f"{sha256_file(p)}  {p.name}" for p in sorted(tmp.iterdir()) if p.is_file()]
        (tmp / "checksums.sha256").write_text("\n".join(sums) + "\n")
    return dest


def unrelease(airlock_dir: Path, request_id: str) -> None:
    """Undo a copy whose release could not be recorded (nothing leaves unrecorded)."""
    shutil.rmtree(Path(airlock_dir) / "released" / request_id, ignore_errors=True)


def _table_html(path: Path) -> str:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return html_table(rows[0], rows[1:]) if rows else ""


def write_report(folder: Path, view: RequestView) -> Path:
    """The checkers' self-contained report, from the request's files and the platform's view."""
    results = json.loads((folder / "acro" / RESULTS).read_text())
    findings = [
        Finding(f["output"], f["released"], f["where"], f["difference"])
        for f in json.loads((folder / "differencing.json").read_text())
    ]
    status = {f.output: f for f in view.files}
    outputs = []
    for uid, out in results["results"].items():
        summary = "; ".join(
            f"{check}: {n}"
            for f in out.get("files", [])
            for check, n in f.get("sdc", {}).get("summary", {}).items()
            if n
        )
        rec = status.get(uid)
        outputs.append((uid, out["type"], out["properties"].get("method", ""),
                        rec.status if rec else out["status"], summary or "—",
                        " ".join(out.get("comments", [])) + " " + (rec.justification if rec else "")))  # fmt: skip
    tables = "".join(f"<h3>{escape(p.name)}</h3>{_table_html(p)}" for p in _csv_files(folder))
    diff = (
        "<ul>" + "".join(f"<li class='review'>{escape(f.describe())}</li>" for f in findings) + "</ul>"
        if findings
        else "<p class='pass'>No released table of this project combines with these outputs to disclose a small group.</p>"
    )  # fmt: skip
    reviews = html_table(
        ["round", "checker", "vote", "comment", "at"],
        [(r["round"], r["checker"], r["vote"], r["comment"], r["at"]) for r in view.reviews],
    )
    history = html_table(
        ["at", "actor", "action", "state"],
        [(h["at"], h["actor"], h["action"], h["state"]) for h in view.history],
    )
    html = page(
        view.title,
        [
            ("Request", f"<p>{escape(view.description)}</p><p>State: <b>{escape(view.state)}</b>. "
                        "Nothing leaves the platform until two output checkers (never the author) approve it.</p>"),
            ("Disclosure control (ACRO)", html_table(["output", "type", "method", "status", "checks failed (cells)", "comments"], outputs)),
            ("Differencing against released tables", diff),
            ("Outputs (as they would be released)", tables),
            ("Reviews", reviews),
            ("History (from the audit log)", history),
            ("Query", f"<pre>{escape(view.sql)}</pre>"),
        ],
        subtitle=f"Project {view.project_schema} · request {view.request_id} · author {view.author}",
    )  # fmt: skip
    path = folder / "report.html"
    tmp = path.with_name(".tmp-report.html")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
