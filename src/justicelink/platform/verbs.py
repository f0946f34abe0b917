"""How a facade method is bound to a registered action: ``@verb(action, resource)``.

The wrapper resolves the resource from the call's arguments, asks the permission layer
(``Platform.ensure``) before the method body runs, and hands the body the resulting permit. A
refusal anywhere in the verb (the permission check, the state machine, a rule in a zone) is
audited as ``<action>.refused`` with its reason, and nothing else is written; an unexpected
error is audited as ``<action>.failed``. A successful read (an action registered with
``reads=True``) is audited here; every other verb records what it did itself. ``VERBS`` lists every bound method, so a test can check
that every public facade method has one.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from justicelink.control import ACTIONS, Permit, Resource
from justicelink.formats import JusticelinkError

if TYPE_CHECKING:
    from justicelink.platform.core import Platform

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound="Namespace")

VERBS: dict[str, str] = {}  # "<Namespace>.<method>" -> action


class Namespace:
    """A group of verbs on the platform (``platform.projects``, ``platform.airlock`` ...)."""

    def __init__(self, platform: Platform) -> None:
        self.p = platform


def safe_reason(exc: BaseException) -> str:
    """A refusal's reason for the audit log: its first line, cut before any quoted value (a
    database error can quote a cell, and cells never go into logs)."""
    return str(exc).strip().splitlines()[0].split("'")[0].split('"')[0][:300] if str(exc) else ""


def verb(
    action: str, resource: Callable[..., Resource] | None = None
) -> Callable[[Callable[Concatenate[S, Permit, P], R]], Callable[Concatenate[S, P], R]]:
    """Bind a facade method to ``action``; ``resource(platform, **arguments)`` names what it
    acts on (default: the home)."""
    if action not in ACTIONS:
        raise ValueError(f"{action} is not a registered action")
    reads = ACTIONS[action].reads

    def deco(fn: Callable[Concatenate[S, Permit, P], R]) -> Callable[Concatenate[S, P], R]:
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
        public = sig.replace(parameters=[params[0], *params[2:]])

        @functools.wraps(fn)
        def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
            bound = public.bind(self, *args, **kwargs)
            bound.apply_defaults()
            named = {k: v for k, v in bound.arguments.items() if k != "self"}
            p = self.p
            obj = "home"
            try:
                res = resource(p, **named) if resource else Resource.home()
                obj = res.name
                permit = p.ensure(action, res)
                out = fn(self, permit, *args, **kwargs)
                if reads:  # a read changes nothing, so the facade records it here
                    p.record(action, obj)
                return out
            except JusticelinkError as exc:
                if not getattr(exc, "audited", False):
                    p.record(f"{action}.refused", obj, reason=safe_reason(exc))
                    exc.audited = True  # type: ignore[attr-defined]
                raise
            except Exception as exc:
                if not getattr(exc, "audited", False):
                    p.record(f"{action}.failed", obj, error=type(exc).__name__)
                    exc.audited = True  # type: ignore[attr-defined]
                raise

        wrapper.__signature__ = public  # type: ignore[attr-defined]
        wrapper.__action__ = action  # type: ignore[attr-defined]
        VERBS[fn.__qualname__] = action
        return wrapper  # type: ignore[return-value]

    return deco
