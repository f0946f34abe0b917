"""Roles and token scopes: the one place they are named.

A person has one role. A token carries scopes: a token made by ``justicelink login`` carries every
scope its owner's role uses (``ROLE_SCOPES``); a token made with ``control token create --scope``
carries only those asked for, and never more than the role uses. What a role may do is decided
by the permission registry (``permissions.ACTIONS``), not here.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # accounts and roles; no data, no decisions
    DATA_PROVIDER = "data_provider"  # delivers sealed extracts (e.g. Cafcass)
    LINKAGE_OPERATOR = "linkage_operator"  # the trusted third party: register and matching
    DATA_MANAGER = "data_manager"  # bank loads and provisioning
    GOVERNANCE = "governance"  # the panel: decides applications, revokes projects
    RESEARCHER = "researcher"  # applies for projects, works in their workspace
    OUTPUT_CHECKER = "output_checker"  # reviews and releases output requests


class Scope(StrEnum):
    ACCOUNT = "account"  # one's own account: tokens, password, sign-out
    ADMIN = "admin"  # other people's accounts and roles
    CATALOGUE = "catalogue:read"
    PROVIDER = "provider:deliver"
    LINKAGE = "linkage:run"
    BANK = "bank:load"
    PROVISION = "project:provision"
    APPLY = "application:submit"
    GOVERNANCE = "governance:decide"
    WORKSPACE = "workspace:query"
    AIRLOCK_SUBMIT = "airlock:submit"
    AIRLOCK_REVIEW = "airlock:review"
    AUDIT = "audit:read"


ROLES: tuple[str, ...] = tuple(r.value for r in Role)
SCOPES: tuple[str, ...] = tuple(s.value for s in Scope)


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValueError(f"unknown role {value!r}; roles are {', '.join(ROLES)}") from None


def parse_scopes(values: list[str] | tuple[str, ...]) -> frozenset[Scope]:
    unknown = [v for v in values if v not in SCOPES]
    if unknown or not values:
        raise ValueError(f"scopes must be some of {', '.join(SCOPES)}")
    return frozenset(Scope(v) for v in values)
