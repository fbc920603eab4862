"""/audit [id]: the audit log, newest first, ten entries a page (all, or one campaign's)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keyboards
from bot.callbacks import AuditCallback
from bot.edits import edit_text
from bot.prompts import parse_campaign_id
from panel import audit, texts
from panel.roles import Access


async def _page(
    sessionmaker: async_sessionmaker[AsyncSession],
    campaign_id: int,
    before_id: int,
    timezone: str,
    scope: frozenset[int] | None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of entries older than `before_id` (0: the newest), and its buttons."""
    async with sessionmaker() as session:
        found = await audit.entries(
            session,
            campaign_id=campaign_id or None,
            before_id=before_id or None,
            bot_ids=scope,
            limit=audit.PAGE_SIZE + 1,
        )
    page, more = found[: audit.PAGE_SIZE], len(found) > audit.PAGE_SIZE
    title = (
        texts.AUDIT_TITLE_CAMPAIGN.format(campaign_id=campaign_id) if campaign_id else texts.AUDIT_TITLE_ALL
    )
    if not page:
        empty = (
            texts.AUDIT_EMPTY_CAMPAIGN.format(campaign_id=campaign_id) if campaign_id else texts.AUDIT_EMPTY
        )
        return f"{title}\n\n{empty}", keyboards.audit_pages(
            campaign_id, older_than=None, newest=not before_id
        )
    lines = [
        texts.AUDIT_LINE.format(
            when=texts.when_local(entry.at, timezone),
            who=audit.actor_of(entry).describe(),
            what=audit.describe(entry),
        )
        for entry in page
    ]
    markup = keyboards.audit_pages(
        campaign_id, older_than=page[-1].id if more else None, newest=not before_id
    )
    return title + "\n\n" + "\n".join(lines), markup


async def show_audit(
    message: Message,
    command: CommandObject,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_timezone: str,
    access: Access,
) -> None:
    """`/audit`: the newest entries (of the admin's scope); `/audit 12`: those of campaign #12."""
    campaign_id = parse_campaign_id(command)
    if isinstance(campaign_id, str):
        await message.answer(texts.AUDIT_USAGE.format(value=campaign_id[:32]))
        return
    text, markup = await _page(sessionmaker, campaign_id or 0, 0, admin_timezone, access.bot_ids)
    await message.answer(text, reply_markup=markup)


async def turn_page(
    query: CallbackQuery,
    callback_data: AuditCallback,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_timezone: str,
    access: Access,
) -> None:
    """◀ Older / ⏮ Newest: the page replaces the one tapped."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    text, markup = await _page(
        sessionmaker, callback_data.campaign_id, callback_data.before_id, admin_timezone, access.bot_ids
    )
    await edit_text(query.message, text, reply_markup=markup)


def create_router() -> Router:
    """The /audit handlers, on a new router (each dispatcher gets its own)."""
    router = Router(name="audit")
    router.message.register(show_audit, Command("audit"))
    router.callback_query.register(turn_page, AuditCallback.filter())
    return router
