"""The `justicelink` command: a verb group per zone, thin over the Python APIs."""

from __future__ import annotations

import csv
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from justicelink import bank as bank_zone
from justicelink import platform as pf
from justicelink.formats import JusticelinkError, RefusedError

F = TypeVar("F", bound=Callable[..., Any])
console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    help="justicelink: secure, anonymised linkage for family-justice research.",
    no_args_is_help=True,
)
provider_app = typer.Typer(help="Data provider: dataset specs and the split.", no_args_is_help=True)
linkage_app = typer.Typer(help="Trusted third party: register and matching.", no_args_is_help=True)
register_app = typer.Typer(help="The population register (spine).", no_args_is_help=True)
bank_app = typer.Typer(help="Databank: loads and catalogue.", no_args_is_help=True)
control_app = typer.Typer(help="Control plane: users, governance, audit.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
project_app = typer.Typer(help="Projects: provisioning.", no_args_is_help=True)
workspace_app = typer.Typer(help="Researcher workspace.", no_args_is_help=True)
airlock_app = typer.Typer(help="Airlock: output requests.", no_args_is_help=True)
app.add_typer(provider_app, name="provider")
app.add_typer(linkage_app, name="linkage")
linkage_app.add_typer(register_app, name="register")
app.add_typer(bank_app, name="bank")
app.add_typer(control_app, name="control")
control_app.add_typer(audit_app, name="audit")
app.add_typer(project_app, name="project")
app.add_typer(workspace_app, name="workspace")
app.add_typer(airlock_app, name="airlock")

HomeOpt = Annotated[
    Path, typer.Option("--home", help="Platform home folder.", envvar="JUSTICELINK_HOME")
]


def refusals(fn: F) -> F:
    """Turn a deliberate refusal into a clear message and exit code 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (JusticelinkError, ValueError, FileExistsError) as exc:
            err_console.print(f"[red]refused:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


@app.command()
@refusals
def demo(
    home: Annotated[Path, typer.Option("--home", help="Folder for the demo platform home.")] = Path(
        "demo-home"
    ),
    people: Annotated[
        int, typer.Option("--people", help="Size of the synthetic population.")
    ] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 20150401,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing demo home.")] = False,
) -> None:
    """Run the whole pipeline on synthetic data and print where the report is."""
    from justicelink.demo import run_demo

    run_demo(home, people=people, seed=seed, force=force, console=console)


@app.command()
@refusals
def synth(
    out: Annotated[Path, typer.Option("--out", help="Output folder (must not exist).")],
    people: Annotated[int, typer.Option("--people")] = 100_000,
    seed: Annotated[int, typer.Option("--seed")] = 20150401,
    start_year: Annotated[int, typer.Option("--start-year")] = 2015,
    end_year: Annotated[int, typer.Option("--end-year")] = 2024,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="TOML with [calibration] and [errors.<DATASET>]."),
    ] = None,
) -> None:
    """Generate a synthetic register, provider extracts and the truth behind them."""
    from justicelink.synth import generate, load_config

    res = generate(
        out, people=people, seed=seed, start_year=start_year, end_year=end_year,
        config=load_config(config),
    )  # fmt: skip
    console.print_json(json.dumps({"out": str(res.out), **res.counts}))


@provider_app.command("specs")
@refusals
def provider_specs(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the full data dictionary as Markdown.")
    ] = False,
) -> None:
    """List the shipped dataset specs (name, version, tables)."""
    from justicelink.specs import available_specs, load_spec
    from justicelink.specs.markdown import specs_markdown

    if markdown:
        sys.stdout.write(specs_markdown())
        return
    t = Table("name", "version", "title", "tables")
    for name in available_specs():
        s = load_spec(name)
        t.add_row(s.dataset, s.version, s.title, ", ".join(x.name for x in s.tables))
    console.print(t)


@provider_app.command("split")
@refusals
def provider_split(
    spec: Annotated[str, typer.Option("--spec", help="Spec name (e.g. CAFW) or a spec file.")],
    input: Annotated[Path, typer.Option("--input", help="A table file, or a folder of them.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (must not exist or be empty).")],
    linkage_recipient: Annotated[
        str, typer.Option("--linkage-recipient", help="age1... key, or a file holding one.")
    ],
    bank_recipient: Annotated[
        str, typer.Option("--bank-recipient", help="age1... key, or a file holding one.")
    ],
    provider_dir: Annotated[
        Path,
        typer.Option(
            "--provider-dir",
            envvar="JUSTICELINK_PROVIDER_DIR",
            help="Provider zone folder (its keys/).",
        ),
    ] = Path("provider"),
    encoding: Annotated[str, typer.Option("--encoding")] = "utf-8",
    delimiter: Annotated[str, typer.Option("--delimiter")] = ",",
) -> None:
    """Split an extract into identifiers (to the TTP) and content (to the bank)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from justicelink.crypto import ZoneKeys, load_recipient
    from justicelink.provider import split
    from justicelink.specs import load_spec

    keys = ZoneKeys.create(provider_dir, "provider")
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(f"splitting {spec}", total=None)
        res = split(
            load_spec(spec), input, out,
            linkage_recipient=load_recipient(linkage_recipient), bank_recipient=load_recipient(bank_recipient),
            provider_key=keys.prf_key(), encoding=encoding, delimiter=delimiter,
            on_rows=lambda n: bar.advance(task, n),
        )  # fmt: skip
    t = Table("table", "rows", "nulls", "invalid identifiers set to null")
    for name, info in res.report["tables"].items():
        nulls = sum(int(c["nulls"]) for c in info["columns"].values())
        invalid = sum(int(c.get("invalid_set_to_null", 0)) for c in info["columns"].values())
        t.add_row(name, f"{info['rows']:,}", f"{nulls:,}", f"{invalid:,}")
    console.print(t)
    console.print(
        f"submission {res.submission_id}: {res.identifiers_rows:,} identifier rows -> {out}"
    )


@register_app.command("load")
@refusals
def register_load(path: Path, home: HomeOpt = Path("demo-home")) -> None:
    """Load the population register from PATH as a new version."""
    from justicelink.crypto import ZoneKeys
    from justicelink.linkage import load_register

    keys = ZoneKeys.create(pf.Home(home).linkage, "linkage")
    v = load_register(path, pf.Home(home).linkage, keys.prf_key())
    console.print(f"register version {v.version}: {v.people:,} people")


@linkage_app.command("match")
@refusals
def linkage_match(
    register: Annotated[
        Path,
        typer.Option(
            "--register",
            help="REG: person_id, nhs_number, forename, surname, previous_surname, dob, sex, postcode.",
        ),
    ],
    records: Annotated[
        Path,
        typer.Option(
            "--records", help="RECS: system_id, nhs_number, forename, surname, dob, sex, postcode."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="OUT (Parquet, or CSV by extension).")],
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the quality report (HTML) here.")
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="system_id, person_id: score P/R/F1 in the report."),
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="Save the trained Splink model (JSON) here.")
    ] = None,
    splink_only: Annotated[
        bool, typer.Option("--splink-only", help="Skip the deterministic stages (plain Splink).")
    ] = False,
) -> None:
    """Match RECS to REG (the generic contract): one output row per record."""
    from justicelink.linkage import match_files

    with err_console.status("matching (deterministic stages, then Splink)..."):
        r = match_files(
            register,
            records,
            out,
            report=report,
            truth=truth,
            model_path=model,
            deterministic=not splink_only,
        )
    t = Table("ALF_STS_CD", "records")
    for k, v in sorted(r.counts.items()):
        t.add_row(str(k), f"{v:,}")
    console.print(t)
    console.print(
        f"{sum(r.counts.values()):,} records -> {out}" + (f"; report {report}" if report else "")
    )


@linkage_app.command("run")
@refusals
def linkage_run(
    submission: Path,
    bank_recipient: Annotated[str, typer.Option("--bank-recipient")],
    home: HomeOpt = Path("demo-home"),
) -> None:
    """Match a submission's identifiers and write the ALF file for the bank."""
    from justicelink.crypto import load_recipient
    from justicelink.linkage import run_submission

    r = run_submission(submission, pf.Home(home).linkage, load_recipient(bank_recipient))
    console.print(f"{r.rows:,} records; by status {r.by_status}; ALF file at {r.outbox}")


@bank_app.command("load")
@refusals
def bank_load(
    submission: Path, alf_file: Path, home: HomeOpt = Path("demo-home"),
    refresh_date: Annotated[str | None, typer.Option("--refresh-date", help="YYYYMMDD")] = None,
) -> None:  # fmt: skip
    """Load a content submission joined to its ALF file as a new dated refresh."""
    r = bank_zone.load(submission, alf_file, pf.Home(home).bank, refresh_date=refresh_date)
    console.print(f"{r.dataset} refresh {r.version}: {r.rows}; linkage rate {r.linkage_rate:.1%}")


@bank_app.command("catalogue")
@refusals
def bank_catalogue(
    home: HomeOpt = Path("demo-home"),
    dictionary: Annotated[
        str | None, typer.Option("--dictionary", help="Show this dataset's data dictionary.")
    ] = None,
) -> None:
    """Datasets, versions, tables, row counts and linkage rates (or one dataset's dictionary)."""
    if dictionary:
        t = Table("table", "column", "class", "type", "description")
        for r in bank_zone.dictionary(dictionary):
            t.add_row(r["table"], r["column"], r["class"], r["type"], r["description"])
        console.print(t)
        return
    t = Table("dataset", "version", "table", "rows", "linked (1,4,39)")
    for v in bank_zone.versions(pf.Home(home).bank):
        for table, rows in sorted(v.info["rows"].items()):
            t.add_row(v.dataset, v.version, table, f"{rows:,}", f"{v.info['linkage']['rate']:.1%}")
    console.print(t)


user_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (scoped, expiring).", no_args_is_help=True)
application_app = typer.Typer(help="Project applications.", no_args_is_help=True)
control_app.add_typer(user_app, name="user")
control_app.add_typer(token_app, name="token")
control_app.add_typer(application_app, name="application")
ActorOpt = Annotated[str, typer.Option("--as", help="Who is doing this (audited).")]


def _cp(home: Path):  # type: ignore[no-untyped-def]
    return pf.Home(home).control_plane()


@user_app.command("add")
@refusals
def user_add(
    username: str,
    role: Annotated[
        str,
        typer.Option("--role", help="data_manager, governance, researcher, output_checker, admin"),
    ],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    as_user: ActorOpt,
    home: HomeOpt = Path("demo-home"),
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read a password from standard input.")
    ] = False,
) -> None:
    """Create a user (optionally with a password, hashed with argon2id)."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    cp = _cp(home)
    try:
        first_admin = as_user == "bootstrap" and not cp.users_by_role() and role == "admin"
        if not first_admin and cp.role(as_user) != "admin":
            raise RefusedError(f"{as_user} is not an admin; only admins create users")
        cp.add_user(username, role, name, actor=as_user, password=password)
    finally:
        cp.close()
    console.print(f"user {username} ({role}) created")


@token_app.command("create")
@refusals
def token_create(
    username: str,
    scope: Annotated[list[str], typer.Option("--scope", help="Repeat for several scopes.")],
    as_user: ActorOpt,
    days: Annotated[float, typer.Option("--days")] = 30.0,
    home: HomeOpt = Path("demo-home"),
) -> None:
    """Create an API token; it is printed once and stored only as a hash."""
    cp = _cp(home)
    try:
        if cp.role(as_user) != "admin" and as_user != username:
            raise RefusedError("only an admin creates tokens for someone else")
        token = cp.create_token(username, scope, days=days, actor=as_user)
    finally:
        cp.close()
    console.print(token, highlight=False, soft_wrap=True)


@token_app.command("revoke")
@refusals
def token_revoke(token_id: str, as_user: ActorOpt, home: HomeOpt = Path("demo-home")) -> None:
    """Revoke a token by its id (the part after 'jl_')."""
    cp = _cp(home)
    try:
        cp.revoke_token(token_id, actor=as_user)
    finally:
        cp.close()
    console.print(f"token {token_id} revoked")


@application_app.command("submit")
@refusals
def application_submit(file: Path, as_user: ActorOpt, home: HomeOpt = Path("demo-home")) -> None:
    """Submit an application from a TOML file (title, purpose, lay_summary, start_date, end_date,
    researchers, and [datasets.<CODE>] tables = [columns])."""
    import tomllib
    from datetime import date as _date

    from justicelink.control import Application

    raw = tomllib.loads(file.read_text(encoding="utf-8"))
    try:
        app_ = Application(
            title=raw["title"], purpose=raw["purpose"], lay_summary=raw["lay_summary"],
            datasets={ds: {t: list(c) for t, c in tables.items()} for ds, tables in raw["datasets"].items()},
            researchers=list(raw.get("researchers", [])),
            start_date=_date.fromisoformat(str(raw["start_date"])), end_date=_date.fromisoformat(str(raw["end_date"])),
        )  # fmt: skip
    except KeyError as exc:
        raise typer.BadParameter(f"{file}: missing {exc.args[0]!r}") from None
    cp = _cp(home)
    try:
        pid = cp.submit(as_user, app_)
    finally:
        cp.close()
    console.print(f"application submitted as project {pid}")


@control_app.command("decide")
@refusals
def control_decide(
    project: str,
    decision: Annotated[str, typer.Option("--decision", help="approve, reject or request_changes")],
    reason: Annotated[str, typer.Option("--reason")],
    as_user: ActorOpt,
    home: HomeOpt = Path("demo-home"),
) -> None:
    """Record a governance decision (never on your own application)."""
    cp = _cp(home)
    try:
        status = cp.decide(project, as_user, decision, reason)
    finally:
        cp.close()
    console.print(f"project {project}: {status}")


@audit_app.command("show")
@refusals
def audit_show(
    home: HomeOpt = Path("demo-home"), last: Annotated[int, typer.Option("--last")] = 20
) -> None:
    """The most recent audit entries."""
    cp = _cp(home)
    try:
        entries = cp.audit_entries()[-last:]
    finally:
        cp.close()
    t = Table("seq", "at", "actor", "action", "object")
    for e in entries:
        t.add_row(str(e["seq"]), e["at"][:19], e["actor"], e["action"], e["object"])
    console.print(t)


@audit_app.command("verify")
@refusals
def audit_verify(home: HomeOpt = Path("demo-home")) -> None:
    """Check the audit chain; exit 1 if any entry was edited or deleted."""
    cp = pf.Home(home).control_plane()
    try:
        v = cp.verify_audit()
    finally:
        cp.close()
    if v.ok:
        console.print(f"[green]audit log intact[/]: {v.entries} entries")
    else:
        err_console.print(f"[red]audit log broken[/]: {v.problem}")
        raise typer.Exit(1)


@project_app.command("provision")
@refusals
def project_provision(
    project: str, home: HomeOpt = Path("demo-home"),
    as_user: Annotated[str, typer.Option("--as", help="Data manager doing it (audited).")] = "system",
    refresh: Annotated[bool, typer.Option("--refresh", help="Move pins to the latest versions.")] = False,
) -> None:  # fmt: skip
    """Provision an approved project's tables under its own key."""
    p = pf.provision_project(pf.Home(home), project, as_user, refresh=refresh)
    console.print(f"project {project}: {len(p.tables)} tables pinned to {p.pins}")


@project_app.command("revoke")
@refusals
def project_revoke(
    project: str,
    reason: Annotated[str, typer.Option("--reason")],
    as_user: ActorOpt,
    home: HomeOpt = Path("demo-home"),
) -> None:
    """Revoke a project: no more sessions; its store and key are withdrawn."""
    moved = pf.revoke_project(pf.Home(home), project, as_user, reason)
    console.print(
        f"project {project} revoked; store and key removed"
        + (f"; workspace moved to {moved}" if moved else "")
    )


@workspace_app.command("sql")
@refusals
def workspace_sql(
    query: str,
    home: HomeOpt = Path("demo-home"),
    project: Annotated[str, typer.Option("--project")] = "",
    as_user: Annotated[str, typer.Option("--as", help="Researcher running the query.")] = "",
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="JUSTICELINK_TOKEN",
            help="API token (scope workspace:query); must belong to --as.",
        ),
    ] = None,
) -> None:
    """Run SQL in a project's workspace as a researcher; prints CSV."""
    if not project or not as_user:
        raise typer.BadParameter("--project and --as are required")
    h = pf.Home(home)
    if token is not None:
        cp = h.control_plane()
        try:
            owner = cp.authenticate(token, "workspace:query")
        finally:
            cp.close()
        if owner != as_user:
            raise RefusedError(f"the token belongs to {owner}, not {as_user}")
    with pf.open_session(h, project, as_user) as session:
        table = pf.audited_query(h, session, as_user, query)
    w = csv.writer(sys.stdout)
    w.writerow(table.column_names)
    for row in zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True):
        w.writerow(row)


@airlock_app.command("run-example")
@refusals
def airlock_example(
    home: HomeOpt = Path("demo-home"),
    project: Annotated[str, typer.Option("--project")] = "0001",
    as_user: Annotated[str, typer.Option("--as")] = "rhys",
) -> None:
    """Run the example analysis as a researcher and submit it to the airlock."""
    req = pf.run_example_analysis(pf.Home(home), project, as_user)
    console.print(
        f"request {req.request_id}: submitted; ACRO outcomes {req.outcomes}; report {req.report}"
    )


analyses_app = typer.Typer(help="Family-justice analyses.", no_args_is_help=True)
app.add_typer(analyses_app, name="analyses")


@analyses_app.command("run")
@refusals
def analyses_run(
    project: str,
    as_user: ActorOpt,
    name: Annotated[str, typer.Argument(help=f"all, or one of: {', '.join(pf.ANALYSES)}")] = "all",
    home: HomeOpt = Path("demo-home"),
) -> None:
    """Run the analyses in a project (as a member); outputs go to the airlock; report in the workspace."""
    names = pf.ANALYSES if name == "all" else (name,)
    report, requests = pf.run_family_justice_analyses(pf.Home(home), project, as_user, names)
    console.print(f"report {report}; airlock requests {requests}")


@airlock_app.command("show")
@refusals
def airlock_show(request: str, as_user: ActorOpt, home: HomeOpt = Path("demo-home")) -> None:
    """A request's state, outputs and reviews (its author and output checkers only; audited)."""
    state = pf.airlock_view(pf.Home(home), request, as_user)
    console.print(
        f"request {state.request_id} (project {state.project_id}, author {state.author}): [bold]{state.state}[/]"
    )
    t = Table("output", "ACRO / differencing status", "justification")
    for uid, o in state.outputs.items():
        t.add_row(uid, o["status"], o.get("justification", ""))
    console.print(t)
    for r in state.reviews:
        console.print(f"review by {r.checker}: {r.vote} — {r.comment}")


@airlock_app.command("review")
@refusals
def airlock_review_cmd(
    request: str,
    vote: Annotated[str, typer.Option("--vote", help="approve, return or reject")],
    as_user: ActorOpt,
    comment: Annotated[str, typer.Option("--comment")] = "",
    home: HomeOpt = Path("demo-home"),
) -> None:
    """An output checker's review (two different checkers; never the author)."""
    state = pf.airlock_review(pf.Home(home), request, as_user, vote, comment)
    console.print(f"request {request}: {state}")


@airlock_app.command("release")
@refusals
def airlock_release_cmd(request: str, as_user: ActorOpt, home: HomeOpt = Path("demo-home")) -> None:
    """Write an approved request's outputs, with checksums: the only way out."""
    dest = pf.airlock_release(pf.Home(home), request, as_user)
    console.print(f"request {request} released to {dest}")


if __name__ == "__main__":  # pragma: no cover
    app()
