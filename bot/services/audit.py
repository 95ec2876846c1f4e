"""The audit log: who did what to which object."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog


def audit(
    session: AsyncSession,
    action: str,
    *,
    actor: int | None = None,
    object_type: str | None = None,
    object_id: object = None,
    **details: Any,
) -> None:
    """Add an audit row to the caller's transaction."""
    session.add(AuditLog(actor_user_id=actor, action=action, object_type=object_type,
                         object_id=None if object_id is None else str(object_id), details=details))
