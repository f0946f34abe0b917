"""Governance: applications and decisions, provisioning and revocation of projects."""

from __future__ import annotations

from pathlib import Path

from justicelink import bank, projects
from justicelink.control import (
    Application,
    Group,
    Permit,
    ProjectAction,
    ProjectRecord,
    allowed,
)
from justicelink.formats import RefusedError
from justicelink.platform.verbs import Namespace, verb


class Applications(Namespace):
    @verb("application.submit")
    def submit(self, permit: Permit, application: Application) -> str:
        """Returns the new project's id."""
        return self.p.cp.submit_application(permit, application)

    @verb("application.resubmit", lambda p, project_id, **_: p.project_resource(project_id))
    def resubmit(self, permit: Permit, project_id: str, application: Application) -> str:
        return self.p.cp.resubmit(permit, application)

    @verb("application.decide", lambda p, project_id, **_: p.project_resource(project_id))
    def decide(self, permit: Permit, project_id: str, decision: str, reason: str) -> str:
        """approve, reject or request_changes, with a reason; returns the new state."""
        return self.p.cp.decide(permit, decision, reason)

    @verb("application.list")
    def list(self, permit: Permit) -> list[ProjectRecord]:
        """Every application the actor may see (``application.show``)."""
        a = permit.actor
        return [
            p
            for p in self.p.cp.projects()
            if allowed(a, "application.show", p.resource(), today=self.p.today).allowed
            or a.username == p.applicant
        ]

    @verb("application.show", lambda p, project_id: p.project_resource(project_id))
    def show(self, permit: Permit, project_id: str) -> ProjectRecord:
        rec = self.p.cp.project(project_id)
        assert rec is not None
        return rec


class Projects(Namespace):
    @verb("project.provision", lambda p, project_id, **_: p.project_resource(project_id))
    def provision(
        self, permit: Permit, project_id: str, *, refresh: bool = False
    ) -> projects.Provisioned:
        """Write the approved tables under the project's own key, pinned to dataset versions."""
        cp = self.p.cp
        cp.check_project_step(project_id, ProjectAction.PROVISION, {Group.DATA_MANAGER})
        grant = cp.grant(project_id)
        holdings = [bank.describe(self.p.home.bank, ds) for ds in grant.datasets]
        result = projects.provision(grant, holdings, self.p.home.projects, refresh=refresh)
        cp.move_project(permit, ProjectAction.PROVISION, {Group.DATA_MANAGER},
                        pins=result.pins, tables=sorted(result.tables), refresh=refresh)  # fmt: skip
        return result

    @verb("project.revoke", lambda p, project_id, **_: p.project_resource(project_id))
    def revoke(self, permit: Permit, project_id: str, reason: str) -> Path | None:
        """No grant, no session, from now on; the store and key are withdrawn at once."""
        if not reason.strip():
            raise RefusedError("a revocation must record its reason")
        cp = self.p.cp
        cp.check_project_step(project_id, ProjectAction.REVOKE, {Group.PANEL})
        cp.move_project(permit, ProjectAction.REVOKE, {Group.PANEL}, reason=reason)
        moved = projects.withdraw(self.p.home.projects, project_id)
        self.p.record("project.withdraw", f"project:{project_id}",
                      workspace_moved_to=str(moved) if moved else None)  # fmt: skip
        return moved
