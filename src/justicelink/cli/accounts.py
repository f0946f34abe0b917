"""`justicelink init`, `login`, `logout`, `whoami`, and `control user` / `control token`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from justicelink.cli.common import (
    FormatOpt,
    HomeOpt,
    emit,
    emit_object,
    read_password,
    refusals,
    say,
    signed_in,
)

user_app = typer.Typer(help="Accounts and roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (scoped, expiring).", no_args_is_help=True)
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("whoami")(whoami)


@refusals
def init(
    home: Annotated[Path, typer.Option("--home", help="An empty or new folder.")],
    admin: Annotated[str, typer.Option("--admin", help="User name of the first admin.")],
    name: Annotated[str, typer.Option("--name", help="The admin's display name.")] = "",
    password_stdin: PasswordStdin = False,
) -> None:
    """Make a new platform home and its first account (an admin)."""
    from justicelink.platform import Platform

    password = read_password(password_stdin, "Password for the new admin")
    Platform.init(home, admin, name or admin, password)
    say(f"platform home {home} made; sign in with: justicelink login --home {home} {admin}")


@refusals
def login(
    username: Annotated[str, typer.Argument(help="Your user name.")],
    home: HomeOpt = Path("demo-home"),
    password_stdin: PasswordStdin = False,
    hours: Annotated[float, typer.Option("--hours", help="How long the sign-in lasts.")] = 12.0,
) -> None:
    """Sign in: stores a token scoped to your role (mode 0600, in your config directory) that
    every later command uses until it expires or you sign out."""
    from justicelink.platform import Platform, credentials

    password = read_password(password_stdin)
    p, token = Platform.login(home, username, password, hours=hours)
    with p:
        info = p.account.whoami()
        path = credentials.save(p.home.home_id, p.home.root, username, token, str(info["expires"]))
    say(
        f"signed in to {home} as {username} ({info['role']}) until {info['expires']}; token in {path}"
    )


@refusals
def logout(home: HomeOpt = Path("demo-home")) -> None:
    """Sign out: revoke your sign-in token and forget it."""
    from justicelink.platform import Home, credentials

    h = Home.open(home)
    with signed_in(home) as p:
        token_id = p.account.logout()
    credentials.forget(h.home_id)
    say(f"signed out; token {token_id} revoked")


@refusals
def whoami(home: HomeOpt = Path("demo-home"), fmt: FormatOpt = None) -> None:
    """Who you are signed in as, your role, your token's scopes and expiry."""
    with signed_in(home) as p:
        emit_object(p.account.whoami(), fmt)


@user_app.command("add")
@refusals
def user_add(
    username: str,
    role: Annotated[str, typer.Option("--role", help="One of the roles in docs/permissions.md.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    home: HomeOpt = Path("demo-home"),
    password_stdin: PasswordStdin = False,
) -> None:
    """Create an account (an admin's action); the password is hashed with argon2id."""
    password = read_password(password_stdin, f"Password for {username}") if password_stdin else None
    with signed_in(home) as p:
        p.users.create(username, role, name, password=password)
    say(f"user {username} ({role}) created")


@user_app.command("role")
@refusals
def user_role(username: str, role: str, home: HomeOpt = Path("demo-home")) -> None:
    """Change a person's role (an admin's action); their tokens are revoked."""
    with signed_in(home) as p:
        p.users.set_role(username, role)
    say(f"user {username} is now {role}; their tokens were revoked")


@user_app.command("password")
@refusals
def user_password(
    username: str, home: HomeOpt = Path("demo-home"), password_stdin: PasswordStdin = False
) -> None:
    """Set a password (your own, or anyone's as an admin)."""
    password = read_password(password_stdin, f"New password for {username}")
    with signed_in(home) as p:
        p.users.set_password(username, password)
    say(f"password of {username} set")


@user_app.command("list")
@refusals
def user_list(home: HomeOpt = Path("demo-home"), fmt: FormatOpt = None) -> None:
    """Accounts and their roles (an admin's view)."""
    with signed_in(home) as p:
        users = p.users.list()
    emit(["user", "role", "name"], [(u.username, u.role.value, u.display_name) for u in users], fmt)


@token_app.command("create")
@refusals
def token_create(
    username: str,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="Repeat for several; default: every scope of their role."),
    ] = None,
    days: Annotated[float, typer.Option("--days")] = 30.0,
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "",
    home: HomeOpt = Path("demo-home"),
) -> None:
    """Create an API token (yours, or anyone's as an admin); printed once, stored as a hash."""
    with signed_in(home) as p:
        token = p.tokens.create(username, scope or None, days=days, label=label)
    say(token)


@token_app.command("revoke")
@refusals
def token_revoke(token_id: str, home: HomeOpt = Path("demo-home")) -> None:
    """Revoke a token by its id (the part after 'jl_')."""
    with signed_in(home) as p:
        p.tokens.revoke(token_id)
    say(f"token {token_id} revoked")


@token_app.command("list")
@refusals
def token_list(
    username: Annotated[str | None, typer.Argument(help="Default: yourself.")] = None,
    home: HomeOpt = Path("demo-home"),
    fmt: FormatOpt = None,
) -> None:
    """A person's tokens: ids, scopes, expiry, whether revoked (never the secrets)."""
    with signed_in(home) as p:
        tokens = p.tokens.list(username)
    emit(["token", "user", "scopes", "created", "expires", "revoked", "label"],
         [(t.token_id, t.username, " ".join(t.scopes), t.created_at.isoformat(timespec="seconds"),
           t.expires_at.isoformat(timespec="seconds"), t.revoked, t.label) for t in tokens], fmt)  # fmt: skip
