"""Staff roles: from config (fixed) and from the database (granted and revoked at run time)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.audit import audit
from storage.models import StaffRole


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    SECRETARY = "secretary"


@dataclass(frozen=True)
class RoleEntry:
    user_id: int
    role: Role
    source: str  # "config" or "database"


class RoleService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], config_roles: dict[Role, list[int]]):
        self._sessions = sessions
        self._config = {role: frozenset(ids) for role, ids in config_roles.items()}

    async def roles_of(self, user_id: int) -> set[Role]:
        found = {role for role, ids in self._config.items() if user_id in ids}
        async with self._sessions() as s:
            rows = await s.scalars(select(StaffRole.role).where(StaffRole.user_id == user_id))
            found.update(Role(r) for r in rows if r in Role._value2member_map_)
        return found

    async def has(self, user_id: int, *roles: Role) -> bool:
        """True when the user holds any of ``roles``; an admin holds every role."""
        mine = await self.roles_of(user_id)
        return Role.ADMIN in mine or any(r in mine for r in roles)

    async def grant(self, user_id: int, role: Role, by: int | None = None) -> bool:
        """Grant a role in the database; False when it was already granted there."""
        async with self._sessions() as s, s.begin():
            exists = await s.scalar(select(StaffRole.id).where(StaffRole.user_id == user_id,
                                                               StaffRole.role == role.value))
            if exists:
                return False
            s.add(StaffRole(user_id=user_id, role=role.value, granted_by=by))
            audit(s, "role.grant", actor=by, object_type="staff_role", object_id=user_id, role=role.value)
        return True

    async def revoke(self, user_id: int, role: Role, by: int | None = None) -> bool:
        """Revoke a database role; config roles stay (edit config.toml for those)."""
        async with self._sessions() as s, s.begin():
            res = await s.execute(delete(StaffRole).where(StaffRole.user_id == user_id,
                                                          StaffRole.role == role.value))
            if not res.rowcount:
                return False
            audit(s, "role.revoke", actor=by, object_type="staff_role", object_id=user_id, role=role.value)
        return True

    def in_config(self, user_id: int, role: Role) -> bool:
        return user_id in self._config.get(role, frozenset())

    async def list(self) -> list[RoleEntry]:
        out = [RoleEntry(uid, role, "config") for role, ids in self._config.items() for uid in sorted(ids)]
        async with self._sessions() as s:
            for row in await s.scalars(select(StaffRole).order_by(StaffRole.role, StaffRole.user_id)):
                out.append(RoleEntry(row.user_id, Role(row.role), "database"))
        return out

    async def staff_ids(self) -> set[int]:
        return {e.user_id for e in await self.list()}
