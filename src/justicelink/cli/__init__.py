"""The `justicelink` command: a verb group per zone, thin over the platform facade.

Every verb that touches a platform home acts as the person signed in to it (`justicelink
login`), through the facade's permission check; none decides a rule itself.
"""

from __future__ import annotations

from typing import Annotated

import typer

from justicelink.cli import accounts, data, governance, research

CONTEXT = {"help_option_names": ["-h", "--help"]}


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"justicelink {version('justicelink')}")
        raise typer.Exit()


app = typer.Typer(
    help="justicelink: secure, anonymised linkage for family-justice research.",
    no_args_is_help=True,
    context_settings=CONTEXT,
    rich_markup_mode=None,
)


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """justicelink: secure, anonymised linkage for family-justice research."""
    from justicelink.formats import private_files
    from justicelink.logsetup import quiet_libraries

    private_files()
    quiet_libraries()


accounts.register(app)
app.registered_commands += data.app.registered_commands
app.add_typer(data.provider_app, name="provider")
app.add_typer(data.linkage_app, name="linkage")
app.add_typer(data.bank_app, name="bank")
governance.control_app.add_typer(accounts.user_app, name="user")
governance.control_app.add_typer(accounts.token_app, name="token")
app.add_typer(governance.control_app, name="control")
app.add_typer(governance.project_app, name="project")
app.add_typer(research.workspace_app, name="workspace")
app.add_typer(research.analyses_app, name="analyses")
app.add_typer(research.airlock_app, name="airlock")

__all__ = ["app"]
