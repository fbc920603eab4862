"""Who may use the control bot: `ADMIN_IDS` plus the `admins` table."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Sequence

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models import Admin, AdminLanguage, utcnow
from panel import audit, i18n
from panel.audit import Actor, AuditAction


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


async def admin_language(session: AsyncSession, user_id: int) -> AdminLanguage | None:
    """The stored language of `user_id` (chosen, or followed from Telegram); None if none yet."""
    return await session.get(AdminLanguage, user_id)


async def languages_of(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, str]:
    """`language_of` for several admins at once, in one query (English for one unknown)."""
    wanted = list(user_ids)
    rows = await session.execute(
        select(AdminLanguage.user_id, AdminLanguage.language).where(AdminLanguage.user_id.in_(wanted))
    )
    found = {int(user_id): str(language) for user_id, language in rows}
    return {user_id: found.get(user_id, i18n.ENGLISH) for user_id in wanted}


async def language_of(session: AsyncSession, user_id: int) -> str:
    """The language to write to `user_id` in, outside any update of theirs (English if unknown)."""
    row = await session.get(AdminLanguage, user_id)
    return row.language if row is not None else i18n.ENGLISH


async def follow_telegram_language(session: AsyncSession, user_id: int, language: str) -> None:
    """Remember the language of the admin's Telegram client, unless they chose one: the workers
    have no update to read it from. Not an admin's change, so not audited. Two updates of a new
    admin at once both insert: the second finds the row there and leaves it."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(AdminLanguage)
        .values(user_id=user_id, language=language, chosen=False, updated_at=utcnow())
        .on_conflict_do_nothing()
    )
    await session.execute(
        update(AdminLanguage)
        .where(
            AdminLanguage.user_id == user_id,
            AdminLanguage.chosen.is_(False),
            AdminLanguage.language != language,
        )
        .values(language=language, updated_at=utcnow())
    )


async def set_language(session: AsyncSession, user_id: int, language: str, *, actor: Actor) -> None:
    """Store the language `user_id` chose for the control bot, with its audit entry (the caller
    commits both). Raises `AdminError` for a language the bot does not speak."""
    if language not in i18n.LANGUAGES:
        raise AdminError(f"unknown language {language!r}; use one of {', '.join(i18n.LANGUAGES)}")
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    chosen = dialect.insert(AdminLanguage).values(
        user_id=user_id, language=language, chosen=True, updated_at=utcnow()
    )
    await session.execute(
        chosen.on_conflict_do_update(
            index_elements=[AdminLanguage.user_id],
            set_={"language": language, "chosen": True, "updated_at": utcnow()},
        ).execution_options(synchronize_session=False)
    )
    details = {"user_id": user_id, "language": language}
    await audit.record(session, actor, AuditAction.SET_LANGUAGE, details=details)
