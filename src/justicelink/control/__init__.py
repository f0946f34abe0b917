"""Control plane: users, roles, applications, approvals and the hash-chained audit log."""

from justicelink.control.schema import ROLES
from justicelink.control.service import Application, ControlPlane

__all__ = ["ROLES", "Application", "ControlPlane"]
