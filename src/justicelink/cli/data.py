"""Verbs that move data: the demo, synthetic data, the provider's split and delivery, the
register and linkage, bank loads and the catalogue."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from justicelink.cli.common import (
    FormatOpt,
    HomeOpt,
    console,
    emit,
    err_console,
    refusals,
    say,
    signed_in,
)

provider_app = typer.Typer(
    help="Data provider: dataset specs, the split, delivery.", no_args_is_help=True
)
linkage_app = typer.Typer(help="Trusted third party: register and matching.", no_args_is_help=True)
register_app = typer.Typer(help="The population register (spine).", no_args_is_help=True)
bank_app = typer.Typer(help="Databank: loads and catalogue.", no_args_is_help=True)
linkage_app.add_typer(register_app, name="register")
app = typer.Typer()


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
    fmt: FormatOpt = None,
) -> None:
    """List the shipped dataset specs (name, version, tables)."""
    from justicelink.specs import available_specs, load_spec
    from justicelink.specs.markdown import specs_markdown

    if markdown:
        sys.stdout.write(specs_markdown())
        return
    specs = [load_spec(name) for name in available_specs()]
    emit(["name", "version", "title", "tables"],
         [(s.dataset, s.version, s.title, ", ".join(x.name for x in s.tables)) for s in specs], fmt)  # fmt: skip


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
    rows = []
    for name, info in res.report["tables"].items():
        nulls = sum(int(c["nulls"]) for c in info["columns"].values())
        invalid = sum(int(c.get("invalid_set_to_null", 0)) for c in info["columns"].values())
        rows.append((name, info["rows"], nulls, invalid))
    emit(["table", "rows", "nulls", "invalid identifiers set to null"], rows, None)
    say(f"submission {res.submission_id}: {res.identifiers_rows:,} identifier rows -> {out}")
    for warning in res.report.get("warnings", []):
        say(f"warning: {warning}")


@provider_app.command("deliver")
@refusals
def provider_deliver(
    dataset: Annotated[str, typer.Option("--dataset", help="Spec name, e.g. CAFW.")],
    input: Annotated[Path, typer.Option("--input", help="A table file, or a folder of them.")],
    home: HomeOpt = Path("demo-home"),
) -> None:
    """Split an extract on the platform host and deliver its sealed files to the linkage and
    bank inboxes (a data provider's action)."""
    with signed_in(home) as p:
        res = p.provider.deliver(dataset, input)
    say(f"submission {res.submission_id}: {res.identifiers_rows:,} identifier rows delivered")


@register_app.command("load")
@refusals
def register_load(path: Path, home: HomeOpt = Path("demo-home")) -> None:
    """Load the population register from PATH as a new version (the linkage operator)."""
    with signed_in(home) as p:
        v = p.linkage.load_register(path)
    say(f"register version {v.version}: {v.people:,} people")


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
    emit(["ALF_STS_CD", "records"], sorted(r.counts.items()), None)
    for note in r.notes:  # what the matcher chose for this data (fields, blocking, posterior)
        if note.startswith(("fields compared", "left out", "wide blocking", "posterior")):
            say(note)
    say(f"{sum(r.counts.values()):,} records -> {out}" + (f"; report {report}" if report else ""))


@linkage_app.command("run")
@refusals
def linkage_run(
    submission: Annotated[str, typer.Argument(help="A submission id, or its folder.")],
    home: HomeOpt = Path("demo-home"),
    bank_recipient: Annotated[
        str | None,
        typer.Option("--bank-recipient", help="Must be the home's bank key, if given."),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Relink every record and retrain, even when a refresh could reuse the earlier run.",
        ),
    ] = False,
) -> None:
    """Match a submission's identifiers and send its ALF file to the bank (the linkage operator).

    A refresh of a dataset already linked against the current register version links only its
    new and changed records, and says what changed."""
    with signed_in(home) as p:
        if bank_recipient is not None:
            from justicelink.crypto import ZoneKeys, load_recipient

            given = str(load_recipient(bank_recipient))
            if given != str(load_recipient(ZoneKeys.open(p.home.bank, "bank").recipient)):
                raise ValueError(
                    "--bank-recipient is not this home's bank key; ALF files go only there"
                )
        r = p.linkage.run(submission, full=full)
    say(f"{r.rows:,} records; by status {r.by_status}; ALF file at {r.outbox}")
    if r.refresh is not None:
        say(f"linkage: {r.refresh['mode']}")
        changed = {k: v for k, v in r.refresh.items() if k != "mode"}
        if len(changed) > 1:
            say(
                "changes since the earlier run: "
                + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in changed.items())
            )


@bank_app.command("load")
@refusals
def bank_load(
    submission: Annotated[str, typer.Argument(help="A submission id, or its content folder.")],
    alf_file: Annotated[
        Path | None, typer.Argument(help="Its ALF folder (default: the bank inbox's).")
    ] = None,
    home: HomeOpt = Path("demo-home"),
    refresh_date: Annotated[str | None, typer.Option("--refresh-date", help="YYYYMMDD")] = None,
) -> None:
    """Load a content submission joined to its ALF file as a new dated refresh (a data manager)."""
    with signed_in(home) as p:
        r = p.bank.load(submission, alf_file, refresh_date=refresh_date)
    say(f"{r.dataset} refresh {r.version}: {r.rows}; linkage rate {r.linkage_rate:.1%}")


@bank_app.command("catalogue")
@refusals
def bank_catalogue(
    home: HomeOpt = Path("demo-home"),
    dictionary: Annotated[
        str | None, typer.Option("--dictionary", help="Show this dataset's data dictionary.")
    ] = None,
    fmt: FormatOpt = None,
) -> None:
    """Datasets, versions, tables, row counts and linkage rates (or one dataset's dictionary)."""
    from justicelink.formats import RESEARCH_FILTER, status_list

    with signed_in(home) as p:
        if dictionary:
            rows = p.catalogue.dictionary(dictionary)
            emit(["table", "column", "class", "type", "description"],
                 [(r["table"], r["column"], r["class"], r["type"], r["description"]) for r in rows], fmt)  # fmt: skip
            return
        versions = p.catalogue.versions()
    linked = f"linked {status_list(RESEARCH_FILTER)}"
    emit(["dataset", "version", "table", "rows", linked],
         [(v.dataset, v.version, table, rows, f"{v.info['linkage']['rate']:.4f}")
          for v in versions for table, rows in sorted(v.info["rows"].items())], fmt)  # fmt: skip
