"""Composition layer: the platform facade over the zones' public APIs.

``Platform`` (``core``) is the one way in for every interface: sign in, then use its verbs,
each bound to a registered action and checked before any side effect. ``Home`` is a platform
home's folder layout. Zones are used only through their public faces (``justicelink.<zone>``).
"""

from justicelink.platform import accounts, audit, data, governance  # noqa: F401 - bind verbs
from justicelink.platform.airlock import Submitted
from justicelink.platform.analyses import ANALYSES
from justicelink.platform.core import Platform, open_control_plane
from justicelink.platform.home import MARKER, Home
from justicelink.platform.verbs import VERBS, Namespace, verb
from justicelink.platform.workspace import WorkspaceSession

__all__ = [
    "ANALYSES",
    "MARKER",
    "VERBS",
    "Home",
    "Namespace",
    "Platform",
    "Submitted",
    "WorkspaceSession",
    "open_control_plane",
    "verb",
]
