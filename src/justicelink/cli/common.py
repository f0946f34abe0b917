"""What every verb of the command line shares: refusals as messages, the home option, the
signed-in platform, and output that reads well on a terminal and parses well in a pipe.

Nothing here decides who may do what: every verb goes through the platform facade, which
checks and audits. Heavy libraries are imported inside the verbs that use them, so
``justicelink --help`` starts quickly.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from justicelink.formats import JusticelinkError

if TYPE_CHECKING:
    from justicelink.platform import Platform

F = TypeVar("F", bound=Callable[..., Any])
# soft_wrap: never break a path or value across lines, on a terminal or in a pipe
console = Console(soft_wrap=True, highlight=False)
err_console = Console(stderr=True, soft_wrap=True, highlight=False)

HomeOpt = Annotated[
    Path,
    typer.Option("--home", help="Platform home folder (made by `justicelink init`).",
                 envvar="JUSTICELINK_HOME"),
]  # fmt: skip


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


FormatOpt = Annotated[
    Format | None,
    typer.Option(
        "--format", help="table (default on a terminal), csv (default in a pipe) or json."
    ),
]


def say(text: str) -> None:
    """A plain message: printed as written (no markup, no wrapping)."""
    console.print(text, markup=False)


def refusals(fn: F) -> F:
    """Turn a deliberate refusal into a clear message and exit code 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (JusticelinkError, ValueError, FileExistsError) as exc:
            _refused(str(exc))
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            _refused(f"{where}{exc.strerror or type(exc).__name__}")
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            # a bug, or a clash no rule foresaw (e.g. two writers at once): say so plainly,
            # without the error's text (it can quote data); the facade has audited it
            if os.environ.get("JUSTICELINK_DEBUG"):
                raise
            err_console.print("failed:", style="red", end=" ", markup=False)
            err_console.print(
                f"an unexpected {type(exc).__name__} stopped this command (recorded in the audit "
                "log as failed); run it again, and report it if it happens again "
                "(JUSTICELINK_DEBUG=1 shows the details)",
                markup=False,
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _refused(message: str) -> None:
    err_console.print("refused:", style="red", end=" ", markup=False)
    err_console.print(message, markup=False)
    raise typer.Exit(2)


@contextmanager
def signed_in(home: Path) -> Iterator[Platform]:
    """The person signed in to ``home`` (their stored sign-in, or JUSTICELINK_TOKEN)."""
    from justicelink.platform import Platform

    with Platform.signed_in(home) as p:
        yield p


def read_password(stdin: bool, prompt: str = "Password") -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise ValueError("no terminal to ask for a password on: pass --password-stdin")
    return typer.prompt(prompt, hide_input=True)


def emit(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fmt: Format | None,
    footer: str | None = None,
) -> None:
    """A table: drawn on a terminal; CSV (``\\n`` line ends) or JSON in a pipe or on request.
    ``footer`` is a last line under a drawn table (CSV and JSON stay data only)."""
    fmt = fmt or (Format.table if sys.stdout.isatty() else Format.csv)
    if fmt == Format.json:
        sys.stdout.write(json.dumps([dict(zip(columns, r, strict=True)) for r in rows],
                                    indent=2, default=str) + "\n")  # fmt: skip
    elif fmt == Format.csv:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        w.writerows(["" if v is None else v for v in r] for r in rows)
        sys.stdout.write(buf.getvalue())
    else:
        from rich.table import Table

        t = Table(*columns)
        for r in rows:
            t.add_row(*("" if v is None else str(v) for v in r))
        console.print(t, markup=False)
        if footer:
            say(footer)


def emit_object(obj: dict[str, Any], fmt: Format | None) -> None:
    """One record: JSON on request, else ``key: value`` lines."""
    if fmt == Format.json:
        sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")
        return
    for k, v in obj.items():
        say(f"{k}: {v if not isinstance(v, list | dict) else json.dumps(v, default=str)}")
