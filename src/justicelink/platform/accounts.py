"""Accounts: who is signed in, people and roles, API tokens."""

from __future__ import annotations

from justicelink.control import Permit, TokenRecord, UserRecord
from justicelink.formats import RefusedError
from justicelink.platform.verbs import Namespace, verb


class Account(Namespace):
    @verb("account.show", lambda p: p.user_resource(p.actor.username))
    def whoami(self, permit: Permit) -> dict[str, object]:
        a = permit.actor
        t = self.p.cp.token(a.token_id) if a.token_id else None
        return {"user": a.username, "role": a.role.value, "scopes": sorted(a.scopes),
                "token": a.token_id, "expires": t.expires_at.isoformat() if t else None}  # fmt: skip

    @verb("token.revoke", lambda p: p.token_resource(p.actor.token_id or ""))
    def logout(self, permit: Permit) -> str:
        """Revoke the token this platform acts through (signing out)."""
        self.p.cp.revoke_token(permit)
        return permit.resource.id


class Users(Namespace):
    @verb("user.list")
    def list(self, permit: Permit) -> list[UserRecord]:
        return self.p.cp.users()

    @verb("user.create", lambda p, username, **_: p.user_resource(username))
    def create(
        self, permit: Permit, username: str, role: str, display_name: str,
        password: str | None = None,
    ) -> None:  # fmt: skip
        self.p.cp.create_user(permit, role, display_name, password)

    @verb("user.role", lambda p, username, **_: p.user_resource(username))
    def set_role(self, permit: Permit, username: str, role: str) -> None:
        """Change a role; the person's tokens are revoked (they carry the old role's scopes)."""
        self.p.cp.set_role(permit, role)

    @verb("user.password", lambda p, username, **_: p.user_resource(username))
    def set_password(self, permit: Permit, username: str, password: str) -> None:
        self.p.cp.set_password(permit, password)


class Tokens(Namespace):
    @verb("token.create", lambda p, username, **_: p.user_resource(username))
    def create(
        self, permit: Permit, username: str, scopes: list[str] | None = None, *,
        days: float = 30.0, label: str = "",
    ) -> str:  # fmt: skip
        """A new token for ``username`` (printed once, stored only as a hash)."""
        if self.p.cp.user(username) is None:
            raise RefusedError(f"no user named {username}")
        return self.p.cp.create_token(permit, scopes, days=days, label=label)

    @verb("token.revoke", lambda p, token_id: p.token_resource(token_id))
    def revoke(self, permit: Permit, token_id: str) -> None:
        self.p.cp.revoke_token(permit)

    @verb("token.list", lambda p, username=None: p.user_resource(username or p.actor.username))
    def list(self, permit: Permit, username: str | None = None) -> list[TokenRecord]:
        return self.p.cp.tokens(permit.resource.id)
