"""Who may use the control bot: `ADMIN_IDS` plus the `admins` table."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Admin


class AdminError(ValueError):
    """An admin record that cannot be saved; the text says why."""


def check_timezone(name: str) -> str:
    """Return `name` if it is an IANA time zone, else raise `AdminError`."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise AdminError(f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin") from None
    return name


async def add_admin(
    session: AsyncSession, user_id: int, *, display_name: str | None = None, timezone: str | None = None
) -> Admin:
    """Add an admin, or update the name and time zone of an existing one."""
    if user_id <= 0:
        raise AdminError("a Telegram user id is a positive number")
    if timezone is not None:
        check_timezone(timezone)
    admin = await session.get(Admin, user_id)
    if admin is None:
        admin = Admin(user_id=user_id, display_name=display_name, timezone=timezone)
        session.add(admin)
    else:
        if display_name is not None:
            admin.display_name = display_name
        if timezone is not None:
            admin.timezone = timezone
    await session.flush()
    return admin


async def list_admins(session: AsyncSession) -> Sequence[Admin]:
    """Admins stored in the database, by user id."""
    return (await session.execute(select(Admin).order_by(Admin.user_id))).scalars().all()


async def is_admin(session: AsyncSession, user_id: int, configured_ids: Iterable[int]) -> bool:
    """Whether `user_id` may use the control bot."""
    if user_id in set(configured_ids):
        return True
    return await session.get(Admin, user_id) is not None


async def admin_timezone(session: AsyncSession, user_id: int, default: str) -> str:
    """The IANA time zone dates are shown in for `user_id`."""
    admin = await session.get(Admin, user_id)
    return admin.timezone if admin is not None and admin.timezone else default
