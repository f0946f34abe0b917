"""Workspace zone: researchers query their project's views inside the platform."""

from justicelink.workspace.session import ProjectSession, QueryRefused, SessionLimits

__all__ = ["ProjectSession", "QueryRefused", "SessionLimits"]
