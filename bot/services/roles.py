"""Staff roles: from config (fixed) and from the database (granted and revoked at run time).

An operator or secretary granted in the database may be limited to a territory and everything below it; an
admin and every role listed in config act everywhere (a small district needs no limits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.audit import audit
from bot.services.territories import ancestors
from storage.models import StaffRole, Territory, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    SECRETARY = "secretary"


LIMITABLE = (Role.OPERATOR, Role.SECRETARY)


class RoleError(ValueError):
    """A grant that cannot be made: an unknown territory, or a territory for a role that has none."""


@dataclass(frozen=True)
class RoleEntry:
    user_id: int
    role: Role
    source: str  # "config" or "database"
    territory_kato: str | None = None  # None: everywhere
    granted_by: int | None = None
    granted_at: datetime | None = None


@dataclass(frozen=True)
class Reach:
    """Where someone acts in a role: everywhere (``root`` None) or a territory and everything below it."""

    root: str | None

    @property
    def everywhere(self) -> bool:
        return self.root is None


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

    async def reach(self, user_id: int, role: Role) -> Reach | None:
        """Where ``user_id`` acts as ``role`` (None: not at all). An admin, a config role and a database
        grant without a territory reach everywhere."""
        if self.in_config(user_id, Role.ADMIN) or self.in_config(user_id, role):
            return Reach(None)
        async with self._sessions() as s:
            rows = (await s.execute(select(StaffRole.role, StaffRole.territory_kato).where(
                StaffRole.user_id == user_id, StaffRole.role.in_([Role.ADMIN.value, role.value])))).all()
        if not rows:
            return None
        if any(r == Role.ADMIN.value or kato is None for r, kato in rows):
            return Reach(None)
        return Reach(rows[0][1])

    async def covers(self, user_id: int, role: Role, kato: str | None) -> bool:
        """Whether ``user_id`` may act as ``role`` on something of territory ``kato`` (None: no territory,
        which only those reaching everywhere may handle)."""
        reach = await self.reach(user_id, role)
        if reach is None or reach.everywhere:
            return reach is not None
        if kato is None:
            return False
        async with self._sessions() as s:
            return reach.root in await ancestors(s, kato)

    async def grant(self, user_id: int, role: Role, by: int | None = None, territory: str | None = None) -> bool:
        """Grant a role in the database, limited to ``territory`` and below when given (operators and
        secretaries only); a new territory replaces the old one. False when nothing changed."""
        if territory is not None and role not in LIMITABLE:
            raise RoleError("only operators and secretaries can be limited to a territory")
        async with self._sessions() as s, s.begin():
            if territory is not None and await s.get(Territory, territory) is None:
                raise RoleError(f"territory {territory} is not loaded")
            row = await s.scalar(select(StaffRole).where(StaffRole.user_id == user_id,
                                                         StaffRole.role == role.value))
            if row is not None and row.territory_kato == territory:
                return False
            if row is None:
                s.add(StaffRole(user_id=user_id, role=role.value, granted_by=by, territory_kato=territory))
            else:
                row.territory_kato, row.granted_by, row.granted_at = territory, by, utcnow()
            audit(s, "role.grant", actor=by, object_type="staff_role", object_id=user_id, role=role.value,
                  territory=territory)
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
                out.append(RoleEntry(row.user_id, Role(row.role), "database", row.territory_kato,
                                     row.granted_by, row.granted_at))
        return out

    async def staff_ids(self) -> set[int]:
        return {e.user_id for e in await self.list()}
