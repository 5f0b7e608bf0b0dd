"""Who is acting: a staff user, an API key's holder, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from urbanbrain.core.errors import UrbanBrainError


@dataclass(frozen=True)
class Principal:
    kind: str  # user | api_key | system
    id: int | None
    name: str
    role: str
    scope: str  # all | department | street | community
    permissions: frozenset[str] = field(default_factory=frozenset)
    department_id: int | None = None
    area_code: str | None = None
    department_code: str | None = None

    @property
    def actor(self) -> str:
        """The name written into the audit log."""
        return f"{self.kind}:{self.name}"

    def can(self, permission: str) -> bool:
        return permission in self.permissions or "*" in self.permissions

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise UrbanBrainError("auth.forbidden", role=self.role, permission=permission)


SYSTEM = Principal(
    kind="system", id=None, name="system", role="system", scope="all", permissions=frozenset({"*"})
)
