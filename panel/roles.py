"""Roles, scoped per target bot: who may do what to which bot's campaigns.

- `owner`: everything, including admins and bots (the people in ADMIN_IDS are owners).
- `editor`: compose, test, edit drafts, schedule.
- `sender`: start, pause, resume, cancel, recall, retry.
- `viewer`: read cards, lists, reports and exports.

Every role reads. A role holds over every bot, or only over the bots listed for the admin; an
admin sees nothing of the other bots (their campaigns, counts, names), and a button of another
bot's campaign is answered as a stranger's would be.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Admin, AdminBot, TargetBot
from panel import texts


class Role(enum.StrEnum):
    """What an admin may do, over the bots of their scope."""

    OWNER = "owner"
    EDITOR = "editor"
    SENDER = "sender"
    VIEWER = "viewer"


class Permission(enum.StrEnum):
    """One kind of thing an admin can do."""

    VIEW = "view"
    COMPOSE = "compose"
    SEND = "send"
    MANAGE = "manage"
    """Admins and bots: owners only."""


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.EDITOR: frozenset({Permission.VIEW, Permission.COMPOSE}),
    Role.SENDER: frozenset({Permission.VIEW, Permission.SEND}),
    Role.VIEWER: frozenset({Permission.VIEW}),
}

GRANTED_BY: dict[Permission, Role] = {
    Permission.VIEW: Role.VIEWER,
    Permission.COMPOSE: Role.EDITOR,
    Permission.SEND: Role.SENDER,
    Permission.MANAGE: Role.OWNER,
}
"""The least role that grants a permission: the one a refusal names."""


class RoleError(ValueError):
    """A role or scope that cannot be set; the text says why."""


@dataclass(frozen=True, slots=True)
class Access:
    """One admin's role and the bots it covers (None: every bot)."""

    user_id: int
    role: Role
    bot_ids: frozenset[int] | None = None

    def can(self, permission: Permission, bot_id: int | None = None) -> bool:
        """Whether the role grants `permission` (over `bot_id`, when one is named); managing
        admins and bots takes an owner of every bot."""
        if permission is Permission.MANAGE:
            return self.is_owner
        return permission in ROLE_PERMISSIONS[self.role] and (bot_id is None or self.sees(bot_id))

    def sees(self, bot_id: int) -> bool:
        """Whether `bot_id` is in scope."""
        return self.bot_ids is None or bot_id in self.bot_ids

    @property
    def is_owner(self) -> bool:
        """Owners of every bot manage admins and bots."""
        return self.role is Role.OWNER and self.bot_ids is None


def parse_role(value: str) -> Role:
    """A role by name, or `RoleError` listing the names."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise RoleError(
            texts.ROLE_ERROR_UNKNOWN.format(role=repr(value), roles=", ".join(role.value for role in Role))
        ) from None


async def access_of(session: AsyncSession, user_id: int, configured_ids: Iterable[int]) -> Access | None:
    """What `user_id` may do: owners from ADMIN_IDS, else their row; None for a stranger."""
    if user_id in set(configured_ids):
        return Access(user_id, Role.OWNER)
    admin = await session.get(Admin, user_id)
    if admin is None:
        return None
    scope = (await session.scalars(select(AdminBot.bot_id).where(AdminBot.user_id == user_id))).all()
    return Access(user_id, Role(admin.role), frozenset(scope) if scope else None)


async def set_role(
    session: AsyncSession, user_id: int, role: Role, *, bot_codenames: Sequence[str] | None = None
) -> Access:
    """Give an existing admin `role`, over the named bots (None or empty: every bot)."""
    admin = await session.get(Admin, user_id)
    if admin is None:
        raise RoleError(texts.ROLE_ERROR_NOT_ADMIN.format(user_id=user_id))
    bot_ids: list[int] = []
    for codename in bot_codenames or ():
        bot_id = await session.scalar(select(TargetBot.id).where(TargetBot.codename == codename))
        if bot_id is None:
            raise RoleError(texts.ROLE_ERROR_NO_BOT.format(codename=repr(codename)))
        bot_ids.append(bot_id)
    admin.role = role.value
    await session.execute(delete(AdminBot).where(AdminBot.user_id == user_id))
    session.add_all(AdminBot(user_id=user_id, bot_id=bot_id) for bot_id in sorted(set(bot_ids)))
    await session.flush()
    return Access(user_id, role, frozenset(bot_ids) if bot_ids else None)


async def remove_admin(session: AsyncSession, user_id: int) -> bool:
    """Remove an admin (and their scope); False when there was none. ADMIN_IDS stay owners."""
    admin = await session.get(Admin, user_id)
    if admin is None:
        return False
    await session.execute(delete(AdminBot).where(AdminBot.user_id == user_id))
    await session.delete(admin)
    await session.flush()
    return True


async def scope_codenames(session: AsyncSession, access: Access) -> list[str]:
    """The codenames of the bots in scope (empty for every bot)."""
    if access.bot_ids is None:
        return []
    found = await session.scalars(
        select(TargetBot.codename).where(TargetBot.id.in_(access.bot_ids)).order_by(TargetBot.codename)
    )
    return list(found.all())
