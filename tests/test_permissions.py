"""The permission layer, tested from its registry: every registered action refuses the wrong
role, a non-member, a token without its scope, a revoked token and an expired token, through
the real facade on a real demo home, and each refusal is audited and changes nothing else.
A new action gets these tests for free."""

from __future__ import annotations

import inspect
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from signin import sign_in

from justicelink.control import (
    ACTIONS,
    Actor,
    Application,
    PermissionRefused,
    Resource,
    Role,
    Scope,
    allowed,
    permissions_markdown,
    role_scopes,
)
from justicelink.control.permissions import MEMBER, SELF, Kind, Permit
from justicelink.formats import RefusedError
from justicelink.platform import VERBS, Namespace, Platform

DOCS = Path(__file__).resolve().parents[1] / "docs"
DEMO_ROLES = {"ada": Role.ADMIN, "pat": Role.DATA_PROVIDER, "lina": Role.LINKAGE_OPERATOR,
              "dana": Role.DATA_MANAGER, "gita": Role.GOVERNANCE, "rhys": Role.RESEARCHER,
              "olwen": Role.OUTPUT_CHECKER}  # fmt: skip
assert set(DEMO_ROLES.values()) == set(Role), "the tests sign in as someone of every role"
GRANT_TABLES = ("users", "api_tokens", "projects", "project_members", "project_datasets",
                "decisions", "output_requests", "output_files", "output_reviews")  # fmt: skip


def _resource(kind: Kind) -> Resource:
    today = date.today()
    return Resource(kind, "0001" if kind == Kind.PROJECT else "x", owner="rhys", project_id="0001",
                    project_state="provisioned", applicant="rowan", members=frozenset({"rhys"}),
                    start_date=date(today.year - 1, 1, 1), end_date=date(today.year + 1, 1, 1),
                    author="rowan")  # fmt: skip


def _actor(role: Role, name: str = "rhys", scopes: frozenset[Scope] | None = None) -> Actor:
    return Actor(name, role, role_scopes(role) if scopes is None else scopes, "t")


# -- the registry, as pure functions ----------------------------------------------------------
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_action_allows_its_roles_and_refuses_the_others(action: str) -> None:
    act = ACTIONS[action]
    res = _resource(act.kind)
    for role in Role:
        d = allowed(_actor(role), action, res)
        if role not in act.roles:
            assert not d.allowed and d.rule == "role", (action, role)
            assert f"{action} is for:" in d.message()
        elif not act.roles[role]:
            assert d.allowed, (action, role, d)


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_action_needs_its_scope(action: str) -> None:
    act = ACTIONS[action]
    role = next(iter(act.roles))
    without = role_scopes(role) - {act.scope}
    d = allowed(_actor(role, scopes=without), action, _resource(act.kind))
    assert not d.allowed and d.rule == "scope" and act.scope.value in d.reason


@pytest.mark.parametrize(
    "action", sorted(a for a, x in ACTIONS.items() if any(MEMBER in c for c in x.roles.values()))
)
def test_member_actions_refuse_a_non_member(action: str) -> None:
    act = ACTIONS[action]
    role = next(r for r, c in act.roles.items() if MEMBER in c)
    d = allowed(_actor(role, name="mallory"), action, _resource(act.kind))
    assert not d.allowed and d.rule in ("member", "author")


def test_unregistered_actions_and_wrong_kinds_are_refused() -> None:
    d = allowed(_actor(Role.ADMIN), "bank.drop_everything", Resource.home())
    assert not d.allowed and d.rule == "unregistered" and "default deny" in d.message()
    d = allowed(_actor(Role.DATA_MANAGER), "project.provision", Resource.home())
    assert not d.allowed and d.rule == "kind"


def test_an_actor_is_never_made_from_a_name_and_a_permit_never_by_hand() -> None:
    from dataclasses import replace

    from justicelink.control import ensure
    from justicelink.control.permissions import authenticated

    claimed = _actor(Role.ADMIN, name="ada")  # built by hand, as a caller might
    with pytest.raises(RefusedError, match="ada was not authenticated"):
        ensure(claimed, "user.create", Resource.user("eve"))
    real = authenticated("rhys", Role.RESEARCHER, role_scopes(Role.RESEARCHER), "t")
    with pytest.raises(RefusedError, match="was not authenticated"):
        ensure(replace(real, role=Role.ADMIN), "user.create", Resource.user("eve"))
    permit = ensure(real, "account.show", Resource.user("rhys"))
    permit.require("account.show")
    with pytest.raises(RefusedError, match="cannot be used for user.role"):
        permit.require("user.role")
    forged = replace(permit, action="user.role", resource=Resource.user("rowan"))
    with pytest.raises(RefusedError, match="not made by permissions.ensure"):
        forged.require("user.role")
    with pytest.raises(RefusedError, match="not made by permissions.ensure"):
        Permit(real, "user.role", Resource.user("rowan")).require("user.role")


def test_permissions_page_is_generated_from_the_registry() -> None:
    assert (DOCS / "permissions.md").read_text() == permissions_markdown(), (
        "docs/permissions.md is stale: run `justicelink control permissions --markdown > "
        "docs/permissions.md`"
    )


# -- the facade, on a real home ---------------------------------------------------------------
def test_every_public_facade_method_is_bound_to_a_registered_action() -> None:
    import justicelink.platform as pf

    unbound = []
    for ns in Namespace.__subclasses__():
        for name, fn in inspect.getmembers(ns, inspect.isfunction):
            if name.startswith("_") and name not in ("_query_in", "_tables_in"):
                continue
            action = getattr(fn, "__action__", None)
            if action is None:
                unbound.append(f"{ns.__name__}.{name}")
            else:
                assert action in ACTIONS
    assert unbound == []
    assert len(VERBS) >= len(ACTIONS), "some registered action has no facade verb"
    assert set(VERBS.values()) == set(ACTIONS), set(ACTIONS) - set(VERBS.values())
    assert pf.Platform  # the facade is importable from its package


def _args(demo: dict[str, Any], fn: Any) -> dict[str, Any]:
    today = date.today()
    values: dict[str, Any] = {
        "project_id": "0001", "request_id": demo["airlock_request"], "username": "rhys",
        "token_id": "0000000000000000", "submission": demo["submissions"]["CAFW"],
        "dataset": "CAFW", "source": Path("/nonexistent"), "extract": Path("/nonexistent"),
        "alf_file": None, "refresh_date": None, "refresh": False, "builder": None,
        "application": Application("t", "p", "l", {"CAFW": {"CAFCASS_ALF": ["ALF_E"]}}, [],
                                   today, date(today.year + 1, 1, 1)),
        "name": "output_0_0.csv", "content": b"x", "vote": "approve", "comment": "c",
        "reason": "r", "decision": "approve", "role": "researcher", "display_name": "X",
        "password": "x" * 16, "scopes": None, "sql": "SELECT 1", "names": None, "title": "t",
        "description": "d", "submit": True, "obj": None, "session": None, "tables": None,
        "days": 1.0, "label": "", "codes": None, "quotes": None, "full": False,
    }  # fmt: skip
    params = [p for p in inspect.signature(fn).parameters if p != "self"]
    missing = [p for p in params if p not in values]
    assert not missing, f"{fn.__qualname__}: give test values for {missing}"
    return {p: values[p] for p in params}


def _verbs() -> list[tuple[str, Any]]:
    out = []
    for ns in Namespace.__subclasses__():
        for name, fn in inspect.getmembers(ns, inspect.isfunction):
            if getattr(fn, "__action__", None):
                out.append((f"{ns.__name__}.{name}", fn))
    return sorted(out, key=lambda x: x[0])


def _namespace(p: Platform, qualname: str) -> Any:
    cls = qualname.split(".")[0]
    return next(v for v in vars(p).values() if type(v).__name__ == cls)


def _snapshot(p: Platform) -> dict[str, list]:
    out = {}
    with p.cp.engine.connect() as conn:
        for t in GRANT_TABLES:
            out[t] = sorted(
                map(tuple, conn.execute(sqlalchemy.text(f"SELECT * FROM {t}"))), key=repr
            )
    return out


def _files(home: Path) -> set[tuple[str, int]]:
    return {(str(f.relative_to(home)), f.stat().st_size) for f in home.rglob("*")
            if f.is_file() and "control" not in f.parts and "witness" not in f.parts}  # fmt: skip


@pytest.fixture(scope="module")
def people(demo_home: Path):
    ps = {u: sign_in(demo_home, u) for u in DEMO_ROLES}
    yield ps
    for p in ps.values():
        p.close()


def _refused_without_change(
    p: Platform, home: Path, qualname: str, fn: Any, rule: str, override: dict | None = None
) -> None:
    demo = json.loads((home / "demo.json").read_text())
    before, files = _snapshot(p), _files(home)
    n = len(p.cp.audit_entries())
    args = {**_args(demo, fn)}
    args.update({k: v for k, v in (override or {}).items() if k in args})
    with pytest.raises(RefusedError) as err:
        getattr(_namespace(p, qualname), fn.__name__)(**args)
    if rule:
        assert isinstance(err.value, PermissionRefused) and err.value.decision.rule == rule, (
            qualname,
            str(err.value),
        )
    assert _snapshot(p) == before, f"{qualname}: a refused action changed a grant table"
    assert _files(home) == files, f"{qualname}: a refused action changed a file"
    new = p.cp.audit_entries()[n:]
    assert [e.action for e in new] == [f"{fn.__action__}.refused"], (qualname, new)
    assert new[0].actor == p.actor.name


def _closed() -> list[tuple[str, Any]]:
    """Verbs whose action some role may not take (the others are open to every role, under
    conditions tested below)."""
    return [(q, f) for q, f in _verbs() if set(ACTIONS[f.__action__].roles) != set(Role)]


def _own() -> list[tuple[str, Any]]:
    """Verbs whose action most roles may take only on their own account or token."""
    return [(q, f) for q, f in _verbs()
            if any(SELF in c for c in ACTIONS[f.__action__].roles.values())]  # fmt: skip


@pytest.mark.parametrize("qualname,fn", _closed(), ids=[q for q, _ in _closed()])
def test_every_verb_refuses_the_wrong_role(people, demo_home: Path, qualname: str, fn) -> None:
    act = ACTIONS[fn.__action__]
    wrong = [u for u, r in DEMO_ROLES.items() if r not in act.roles]
    for user in wrong[:2]:
        _refused_without_change(people[user], demo_home, qualname, fn, "role")


def _others() -> list[tuple[str, Any]]:
    return [(q, f) for q, f in _own() if f.__name__ not in ("logout", "whoami")]  # always one's own


@pytest.mark.parametrize("qualname,fn", _others(), ids=[q for q, _ in _others()])
def test_own_account_verbs_refuse_someone_elses(people, demo_home: Path, qualname: str, fn) -> None:
    """rowan's account and tokens are not rhys's (signing out acts on one's own token only)."""
    rowan_token = next(t.token_id for t in people["ada"].tokens.list("rowan"))
    _refused_without_change(people["rhys"], demo_home, qualname, fn, "self",
                            {"username": "rowan", "token_id": rowan_token})  # fmt: skip


@pytest.mark.parametrize("qualname,fn", _verbs(), ids=[q for q, _ in _verbs()])
def test_every_verb_refuses_a_token_without_its_scope(demo_home: Path, qualname: str, fn) -> None:
    act = ACTIONS[fn.__action__]
    user = next(u for u, r in DEMO_ROLES.items() if r in act.roles)
    with sign_in(demo_home, user) as p:
        other = sorted(s.value for s in role_scopes(p.actor.role) - {act.scope})
        assert other, f"{user}'s role has no scope but {act.scope}: a token cannot lack it"
        narrow = p.tokens.create(user, other, days=1)
    with Platform.connect(demo_home, narrow) as p:
        _refused_without_change(p, demo_home, qualname, fn, "scope")


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_every_verb_refuses_a_revoked_or_expired_token(demo_home: Path, how: str) -> None:
    for qualname, fn in _verbs():
        act = ACTIONS[fn.__action__]
        user = next(u for u, r in DEMO_ROLES.items() if r in act.roles)
        with sign_in(demo_home, user) as p:
            tid = p.actor.token_id
            if how == "revoked":
                p.account.logout()
            else:
                _set_expiry(p, tid, "created_at")
            with pytest.raises(RefusedError, match=f"token {how}"):
                getattr(_namespace(p, qualname), fn.__name__)(**_args(json.loads(
                    (demo_home / "demo.json").read_text()), fn))  # fmt: skip
            if how == "expired":  # put the audited expiry back, then sign out properly
                _set_expiry(p, tid, None)
                p.account.logout()


def _set_expiry(p: Platform, token_id: str | None, value: str | None) -> None:
    """Expire a token by editing the database (as time would), or put its expiry back."""
    with p.cp.engine.begin() as conn:
        if value is None:
            audited = next(json.loads(e.details)["expires"] for e in p.cp.audit_entries(f"token:{token_id}")
                           if e.action == "token.create")  # fmt: skip
            from datetime import datetime

            from justicelink.control.schema import api_tokens

            conn.execute(sqlalchemy.update(api_tokens).where(api_tokens.c.token_id == token_id)
                         .values(expires_at=datetime.fromisoformat(audited)))  # fmt: skip
        else:
            conn.execute(sqlalchemy.text(
                f"UPDATE api_tokens SET expires_at = {value} WHERE token_id = :t"), {"t": token_id})  # fmt: skip


@pytest.mark.parametrize("qualname,fn", [(q, f) for q, f in _verbs() if any(
    MEMBER in c for c in ACTIONS[f.__action__].roles.values())], ids=lambda x: x if isinstance(x, str) else "")  # fmt: skip
def test_every_member_verb_refuses_a_non_member(people, demo_home: Path, qualname: str, fn) -> None:
    with sign_in(demo_home, "rowan") as rowan:  # a researcher on project 0002 only
        _refused_without_change(rowan, demo_home, qualname, fn, "")
