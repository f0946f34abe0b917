"""The facade: one ``Platform`` per authenticated actor, with the platform's verbs grouped by
task (``platform.projects.provision``, ``platform.airlock.release``, ...).

Every path goes through it: the CLI, the demo, the notebook API, the analyses and the web
portal. A ``Platform`` is made only by authenticating (``Platform.login`` with a password,
``Platform.connect`` with a token, ``Platform.signed_in`` with the stored sign-in); each verb
calls ``ensure`` before any side effect (see ``verbs.verb``), and everything it does is audited
under that actor. It holds one control-plane connection for its lifetime.

The trust boundary is the process, not this object: anyone who can read a home's files can
bypass every check here, so in a deployment only operators have the host, and everyone else
reaches the platform through the portal and its API, which run this same facade.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any

from justicelink.control import Actor, ControlPlane, Permit, Resource, check_username, ensure
from justicelink.formats import RefusedError
from justicelink.platform import credentials
from justicelink.platform.home import Home
from justicelink.witness import Witness

SIGN_IN_HOURS = 12.0
TOKEN_ID = re.compile(r"^[0-9a-f]{16}$")


def open_control_plane(home: Home) -> ControlPlane:
    """SQLite in the home by default; JUSTICELINK_CONTROL_URL selects a server database
    (e.g. postgresql+psycopg://user@host/db). The witness is the home's witness zone."""
    return ControlPlane.open(
        home.control,
        Witness.open(home.witness),
        url=os.environ.get("JUSTICELINK_CONTROL_URL") or None,
    )


class Platform:
    def __init__(self, home: Home, cp: ControlPlane, actor: Actor) -> None:
        from justicelink.platform.accounts import Account, Tokens, Users
        from justicelink.platform.airlock import Airlock
        from justicelink.platform.analyses import Analyses
        from justicelink.platform.audit import Audit
        from justicelink.platform.data import Bank, Catalogue, Linkage, Provider
        from justicelink.platform.governance import Applications, Projects
        from justicelink.platform.workspace import Workspace

        self.home = home
        self.cp = cp
        self.actor = actor
        self.account = Account(self)
        self.users = Users(self)
        self.tokens = Tokens(self)
        self.catalogue = Catalogue(self)
        self.provider = Provider(self)
        self.linkage = Linkage(self)
        self.bank = Bank(self)
        self.applications = Applications(self)
        self.projects = Projects(self)
        self.workspace = Workspace(self)
        self.airlock = Airlock(self)
        self.analyses = Analyses(self)
        self.audit = Audit(self)

    # -- making a home, signing in -------------------------------------------------------------
    @staticmethod
    def init(root: Path, admin: str, display_name: str, password: str) -> Home:
        """Make a new platform home with its first account, an admin. The one way to make a
        home; nothing else creates one."""
        home = Home.create(root)
        witness = Witness.create(home.witness)
        cp = open_control_plane(home)
        try:
            cp.bootstrap_admin(admin, display_name, password)
            cp.record(f"user:{admin}", "home.init", "home", witness_key=witness.public_key_hex)
        finally:
            cp.close()
        home.write_marker()
        return home

    @classmethod
    def login(
        cls, root: Path, username: str, password: str, *, hours: float = SIGN_IN_HOURS,
        label: str = "sign-in",
    ) -> tuple[Platform, str]:  # fmt: skip
        """Sign in with a password; returns the platform (acting through the new sign-in token)
        and the token (scoped to the user's role, expiring after ``hours``)."""
        home = Home.open(root)
        cp = open_control_plane(home)
        try:
            by_password = cp.check_password(username, password)
            signing_in = cls(home, cp, by_password)
            token = signing_in.tokens.create(username, days=hours / 24, label=label)
            actor = cp.authenticate(token)
        except BaseException:
            cp.close()
            raise
        return cls(home, cp, actor), token

    @classmethod
    def connect(cls, root: Path, token: str) -> Platform:
        home = Home.open(root)
        cp = open_control_plane(home)
        try:
            actor = cp.authenticate(token)
        except BaseException:
            cp.close()
            raise
        return cls(home, cp, actor)

    @classmethod
    def signed_in(cls, root: Path) -> Platform:
        """The person signed in to this home (``justicelink login``, or JUSTICELINK_TOKEN)."""
        home = Home.open(root)
        found = credentials.load(home.home_id)
        if found is None:
            raise RefusedError(
                f"nobody is signed in to {home.root}: run `justicelink login --home {home.root} "
                f"USER` (or set {credentials.TOKEN_ENV})"
            )
        return cls.connect(home.root, found[0])

    def close(self) -> None:
        self.cp.close()

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the check, the record -----------------------------------------------------------------
    @property
    def today(self) -> date:
        return date.today()

    def ensure(self, action: str, resource: Resource) -> Permit:
        """The permission check every verb makes before any side effect: the token must still
        be current, then the registry must allow the action."""
        if self.actor.token_id is not None:
            problem = self.cp.token_problem(self.actor.token_id)
            if problem:
                raise RefusedError(
                    f"{problem}: sign in again with `justicelink login --home {self.home.root} "
                    f"{self.actor.username}`"
                )
        return ensure(self.actor, action, resource, today=self.today)

    def record(self, action: str, obj: str, **details: Any) -> int:
        return self.cp.record(self.actor, action, obj, **details)

    # -- resources -----------------------------------------------------------------------------
    def project_resource(self, project_id: str) -> Resource:
        rec = self.cp.project(project_id)
        if rec is None:
            raise RefusedError(f"no project {project_id}")
        return rec.resource()  # its state today (expired after the end date); nothing written

    def request_resource(self, request_id: str) -> Resource:
        req = self.cp.request(request_id)
        if req is None:
            raise RefusedError(f"no output request {request_id}")
        proj = self.cp.project(req.project_id)
        assert proj is not None
        return req.resource(proj)

    def token_resource(self, token_id: str) -> Resource:
        if not TOKEN_ID.match(token_id):
            raise RefusedError("a token id is 16 hexadecimal digits (the part after 'jl_')")
        t = self.cp.token(token_id)
        return Resource.token(token_id, t.username if t else None)

    def user_resource(self, username: str) -> Resource:
        return Resource.user(check_username(username))
