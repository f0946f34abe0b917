"""`workspace sql/tables`, `analyses run`, and the airlock's verbs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from justicelink.cli.common import (
    FormatOpt,
    HomeOpt,
    emit,
    err_console,
    refusals,
    say,
    signed_in,
)

workspace_app = typer.Typer(help="Researcher workspace.", no_args_is_help=True)
analyses_app = typer.Typer(help="Family-justice analyses.", no_args_is_help=True)
airlock_app = typer.Typer(help="Airlock: output requests.", no_args_is_help=True)


def _sql(query: str | None, file: Path | None) -> str:
    if query is not None and file is not None:
        raise ValueError("give the SQL as an argument or with --file, not both")
    if file is not None:
        return sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    if query is None:
        raise ValueError("no SQL given: pass it as an argument, or --file PATH (- for stdin)")
    return sys.stdin.read() if query == "-" else query


# SQL can begin with a `--` comment: such an argument is SQL, not an unknown option
@workspace_app.command("sql", context_settings={"ignore_unknown_options": True})
@refusals
def workspace_sql(
    query: Annotated[str | None, typer.Argument(help="SQL, or - for standard input.")] = None,
    project: Annotated[str, typer.Option("--project")] = "",
    file: Annotated[Path | None, typer.Option("--file", help="Read the SQL from a file (- for stdin).")] = None,
    home: HomeOpt = Path("demo-home"),
    fmt: FormatOpt = None,
) -> None:  # fmt: skip
    """Run SQL in a project's workspace; prints CSV in a pipe (every query audited). At most
    1,000 rows are printed (keep bulk results in a workspace table)."""
    from justicelink.workspace import for_screen

    if not project:
        raise ValueError("--project is required")
    sql = _sql(query, file)
    with signed_in(home) as p:
        table = p.workspace.query(project, sql)
    shown = for_screen(table)
    notice = shown.notice() if shown.cut else None
    emit(shown.columns, shown.rows, fmt, footer=notice)
    if notice:
        err_console.print(notice, markup=False)


@workspace_app.command("tables")
@refusals
def workspace_tables(
    project: str, home: HomeOpt = Path("demo-home"), fmt: FormatOpt = None
) -> None:
    """A project's tables (store and workspace) with their columns and types."""
    with signed_in(home) as p:
        tables = p.workspace.tables(project)
    emit(["table", "column", "type"],
         [(t, c, ty) for t, cols in tables.items() for c, ty in cols], fmt)  # fmt: skip


@analyses_app.command("run")
@refusals
def analyses_run(
    project: str,
    name: Annotated[
        str, typer.Argument(help="all, or one analysis (see docs/analyses.md).")
    ] = "all",
    home: HomeOpt = Path("demo-home"),
) -> None:
    """Run the analyses in a project (as a member); outputs go to the airlock; report in the workspace."""
    names = None if name == "all" else (name,)
    with signed_in(home) as p:
        report, requests = p.analyses.run(project, names)
    say(f"report {report}; airlock requests {requests}")


@airlock_app.command("run-example")
@refusals
def airlock_example(
    project: Annotated[str, typer.Option("--project")] = "0001", home: HomeOpt = Path("demo-home")
) -> None:
    """Run the example analysis and submit it to the airlock (a researcher on the project)."""
    with signed_in(home) as p:
        req = p.analyses.example(project)
    say(f"request {req.request_id}: {req.state}; ACRO outcomes {req.outcomes}; report {req.report}")


@airlock_app.command("list")
@refusals
def airlock_list(home: HomeOpt = Path("demo-home"), fmt: FormatOpt = None) -> None:
    """A checker's queue, or a researcher's own requests."""
    with signed_in(home) as p:
        reqs = p.airlock.list()
    emit(["request", "project", "author", "state", "round", "reviews", "title"],
         [(r.request_id, r.project_id, r.author, r.state, r.round, len(r.current_reviews()), r.title)
          for r in reqs], fmt)  # fmt: skip


@airlock_app.command("show")
@refusals
def airlock_show(request: str, home: HomeOpt = Path("demo-home"), fmt: FormatOpt = None) -> None:
    """A request's state, outputs and reviews (its author and output checkers only; audited)."""
    with signed_in(home) as p:
        r = p.airlock.view(request)
    say(
        f"request {r.request_id} (project {r.project_id}, author {r.author}): {r.state}, round {r.round}"
    )
    emit(["file", "output", "ACRO / differencing status", "sha256", "justification"],
         [(f.name, f.output, f.status, f.sha256[:12], f.justification) for f in r.files], fmt)  # fmt: skip
    for v in r.reviews:
        say(f"round {v.round}: review by {v.checker}: {v.vote} — {v.comment}")


@airlock_app.command("review")
@refusals
def airlock_review(
    request: str,
    vote: Annotated[str, typer.Option("--vote", help="approve, return or reject")],
    comment: Annotated[str, typer.Option("--comment")] = "",
    home: HomeOpt = Path("demo-home"),
) -> None:
    """An output checker's review (two different checkers; never the author)."""
    with signed_in(home) as p:
        state = p.airlock.review(request, vote, comment)
    say(f"request {request}: {state}")


@airlock_app.command("release")
@refusals
def airlock_release(request: str, home: HomeOpt = Path("demo-home")) -> None:
    """Write an approved request's outputs, with checksums: the only way out."""
    with signed_in(home) as p:
        dest = p.airlock.release(request)
    say(f"request {request} released to {dest}")


@airlock_app.command("submit")
@refusals
def airlock_submit(request: str, home: HomeOpt = Path("demo-home")) -> None:
    """Submit a pending request, or resubmit a returned one (its author)."""
    with signed_in(home) as p:
        state = p.airlock.submit(request)
    say(f"request {request}: {state}")


@airlock_app.command("withdraw")
@refusals
def airlock_withdraw(request: str, home: HomeOpt = Path("demo-home")) -> None:
    """Withdraw a pending or returned request (its author)."""
    with signed_in(home) as p:
        state = p.airlock.withdraw(request)
    say(f"request {request}: {state}")


@airlock_app.command("update")
@refusals
def airlock_update(
    request: str,
    name: Annotated[str, typer.Argument(help="The output file to replace, e.g. output_0_0.csv.")],
    file: Annotated[Path, typer.Option("--file", help="The new content (from your workspace).")],
    home: HomeOpt = Path("demo-home"),
) -> None:
    """Replace an output file of a pending or returned request (its author); checkers see it
    again from the start when it is resubmitted."""
    content = file.read_bytes()
    with signed_in(home) as p:
        state = p.airlock.update(request, name, content)
    say(f"request {request}: {name} replaced; {state}")
