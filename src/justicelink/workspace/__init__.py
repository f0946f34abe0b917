"""Workspace zone: researchers query their project's views inside the platform."""

from justicelink.workspace.limits import SCREEN_CELLS, SCREEN_CHARS, SCREEN_ROWS, SCREEN_VALUE_CHARS
from justicelink.workspace.screen import Screen, for_screen
from justicelink.workspace.session import DB_ERROR, ProjectSession, QueryRefused, SessionLimits

__all__ = [
    "DB_ERROR",
    "SCREEN_CELLS",
    "SCREEN_CHARS",
    "SCREEN_ROWS",
    "SCREEN_VALUE_CHARS",
    "ProjectSession",
    "QueryRefused",
    "Screen",
    "SessionLimits",
    "for_screen",
]
