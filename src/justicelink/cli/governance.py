"""`control application`, `control decide`, `control audit`, `project provision/revoke`, and
the generated pages of rules (`control permissions`, `control machines`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from justicelink.cli.common import (
    FormatOpt,
    HomeOpt,
    emit,
    emit_object,
    err_console,
    refusals,
    say,
    signed_in,
)

if TYPE_CHECKING:
    from justicelink.control import Application

control_app = typer.Typer(help="Control plane: accounts, governance, audit.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained, witnessed audit log.", no_args_is_help=True)
application_app = typer.Typer(help="Project applications.", no_args_is_help=True)
project_app = typer.Typer(help="Projects: provisioning and revocation.", no_args_is_help=True)
control_app.add_typer(audit_app, name="audit")
control_app.add_typer(application_app, name="application")


def _application(file: Path) -> Application:
    import tomllib
    from datetime import date

    from justicelink.control import Application

    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{file}: not valid TOML ({exc})") from None
    try:
        return Application(
            title=raw["title"], purpose=raw["purpose"], lay_summary=raw["lay_summary"],
            datasets={ds: {t: list(c) for t, c in tables.items()} for ds, tables in raw["datasets"].items()},
            researchers=list(raw.get("researchers", [])),
            start_date=date.fromisoformat(str(raw["start_date"])), end_date=date.fromisoformat(str(raw["end_date"])),
        )  # fmt: skip
    except KeyError as exc:
        raise ValueError(f"{file}: missing {exc.args[0]!r}") from None


@application_app.command("submit")
@refusals
def application_submit(file: Path, home: HomeOpt = Path("demo-home")) -> None:
    """Submit an application from a TOML file (title, purpose, lay_summary, start_date, end_date,
    researchers, and [datasets.<CODE>] tables = [columns])."""
    app_ = _application(file)
    with signed_in(home) as p:
        pid = p.applications.submit(app_)
    say(f"application submitted as project {pid}")


@application_app.command("resubmit")
@refusals
def application_resubmit(project: str, file: Path, home: HomeOpt = Path("demo-home")) -> None:
    """Revise an application the panel returned for changes."""
    app_ = _application(file)
    with signed_in(home) as p:
        state = p.applications.resubmit(project, app_)
    say(f"project {project}: {state}")


@application_app.command("list")
@refusals
def application_list(home: HomeOpt = Path("demo-home"), fmt: FormatOpt = None) -> None:
    """Applications you may see: all of them for the panel, data managers and admins."""
    with signed_in(home) as p:
        apps = p.applications.list()
    emit(["project", "state", "applicant", "start", "end", "datasets", "title"],
         [(a.project_id, a.state, a.applicant, a.start_date, a.end_date, " ".join(sorted(a.datasets)),
           a.title) for a in apps], fmt)  # fmt: skip


@application_app.command("show")
@refusals
def application_show(
    project: str, home: HomeOpt = Path("demo-home"), fmt: FormatOpt = None
) -> None:
    """One application: what it asks for, its members, its decisions and state."""
    with signed_in(home) as p:
        a = p.applications.show(project)
    emit_object({"project": a.project_id, "state": a.state, "title": a.title,
                 "applicant": a.applicant, "members": list(a.members),
                 "start_date": str(a.start_date), "end_date": str(a.end_date),
                 "purpose": a.purpose, "lay_summary": a.lay_summary, "datasets": a.datasets,
                 "decisions": list(a.decisions)}, fmt)  # fmt: skip


@control_app.command("decide")
@refusals
def control_decide(
    project: str,
    decision: Annotated[str, typer.Option("--decision", help="approve, reject or request_changes")],
    reason: Annotated[str, typer.Option("--reason")],
    home: HomeOpt = Path("demo-home"),
) -> None:
    """Record a governance decision (never on your own application)."""
    with signed_in(home) as p:
        state = p.applications.decide(project, decision, reason)
    say(f"project {project}: {state}")


@control_app.command("permissions")
def control_permissions(
    markdown: Annotated[bool, typer.Option("--markdown", help="As docs/permissions.md.")] = False,
) -> None:
    """Every registered action: who may do it, with which scope, under which conditions."""
    from justicelink.control import ACTIONS, permissions_markdown

    if markdown:
        sys.stdout.write(permissions_markdown())
        return
    emit(["action", "acts on", "scope", "roles"],
         [(a.name, a.kind.value, a.scope.value, " ".join(r.value for r in a.roles))
          for a in ACTIONS.values()], None)  # fmt: skip


@control_app.command("machines")
def control_machines() -> None:
    """The state machines (as docs/state-machines.md)."""
    from justicelink.control import state_machines_markdown

    sys.stdout.write(state_machines_markdown())


@audit_app.command("show")
@refusals
def audit_show(
    home: HomeOpt = Path("demo-home"),
    last: Annotated[int, typer.Option("--last")] = 20,
    obj: Annotated[str | None, typer.Option("--object", help="e.g. project:0001")] = None,
    fmt: FormatOpt = None,
) -> None:
    """The most recent audit entries (the panel's and admins' view)."""
    with signed_in(home) as p:
        entries = p.audit.entries(obj)[-last:]
    emit(["seq", "at", "actor", "on_behalf_of", "action", "object", "details"],
         [(e.seq, e.at[:19], e.actor, e.on_behalf_of or "", e.action, e.object, e.details)
          for e in entries], fmt)  # fmt: skip


@audit_app.command("verify")
@refusals
def audit_verify(
    home: HomeOpt = Path("demo-home"),
    quote: Annotated[
        list[Path] | None,
        typer.Option("--quote", help="An audit-head.json kept from a release (repeatable)."),
    ] = None,
) -> None:
    """Check the chain, its witness, the tables that grant access and every quoted head (the
    home's releases, and --quote files kept elsewhere); exit 1 on any problem."""
    with signed_in(home) as p:
        v = p.audit.verify(quote or None)
    if v.ok:
        say(f"audit log intact: {v.entries} entries, witnessed to entry {v.witnessed}")
        return
    err_console.print("audit log broken:", style="red", markup=False)
    for problem in v.problems:
        err_console.print(f"- {problem}", markup=False)
    raise typer.Exit(1)


@project_app.command("provision")
@refusals
def project_provision(
    project: str,
    home: HomeOpt = Path("demo-home"),
    refresh: Annotated[bool, typer.Option("--refresh", help="Move pins to the latest versions.")] = False,
) -> None:  # fmt: skip
    """Provision an approved project's tables under its own key (a data manager)."""
    with signed_in(home) as p:
        r = p.projects.provision(project, refresh=refresh)
    say(f"project {project}: {len(r.tables)} tables pinned to {r.pins}")


@project_app.command("revoke")
@refusals
def project_revoke(
    project: str,
    reason: Annotated[str, typer.Option("--reason")],
    home: HomeOpt = Path("demo-home"),
) -> None:
    """Revoke a project: no more sessions; its store and key are withdrawn (the panel)."""
    with signed_in(home) as p:
        moved = p.projects.revoke(project, reason)
    say(f"project {project} revoked; store and key removed"
        + (f"; workspace moved to {moved}" if moved else ""))  # fmt: skip
