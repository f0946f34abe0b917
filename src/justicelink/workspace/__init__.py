"""Workspace zone: researchers query their project's views inside the platform."""

from justicelink.workspace.session import DB_ERROR, ProjectSession, QueryRefused, SessionLimits

__all__ = ["DB_ERROR", "ProjectSession", "QueryRefused", "SessionLimits"]
