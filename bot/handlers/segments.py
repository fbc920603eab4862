"""/segments: list the saved segments with their counts per bot, or save one
(`/segments NAME RULE`); the rule language is `panel.segments`'."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from panel import audit, texts
from panel.audit import Actor, AuditAction
from panel.bots import bot_summaries
from panel.roles import Access
from panel.segments import SegmentError, count_segment, list_segments, save_segment

EXAMPLE = "language in (ru, uk) and active within 30d"


async def _counts(session: AsyncSession, rule: str, scope: frozenset[int] | None) -> str:
    bots = [item.bot for item in await bot_summaries(session, bot_ids=scope)]
    counts = await count_segment(session, [bot.id for bot in bots], rule)
    return ", ".join(f"{bot.codename} {texts.number(counts[bot.id])}" for bot in bots) or "no bots yet"


async def segments(
    message: Message, command: CommandObject, sessionmaker: async_sessionmaker[AsyncSession], access: Access
) -> None:
    """Without arguments, the saved segments and how many each selects (in the bots of the admin's
    scope); with `NAME RULE`, save one."""
    name, _, rule = (command.args or "").strip().partition(" ")
    if not name:
        async with sessionmaker() as session:
            saved = await list_segments(session)
            if not saved:
                await message.answer(texts.SEGMENTS_NONE.format(example=EXAMPLE))
                return
            lines = [
                texts.SEGMENT_LINE.format(
                    name=s.name,
                    rule=s.expression,
                    counts=await _counts(session, s.expression, access.bot_ids),
                )
                for s in saved
            ]
        await message.answer(texts.SEGMENTS_LIST.format(lines="\n".join(lines)))
        return
    try:
        async with sessionmaker.begin() as session:
            segment = await save_segment(session, name, rule, created_by=message.chat.id)
            details = {"name": segment.name, "rule": segment.expression}
            await audit.record(
                session, Actor.chat(message.chat.id), AuditAction.SAVE_SEGMENT, details=details
            )
            counts = await _counts(session, segment.expression, access.bot_ids)
    except SegmentError as error:
        await message.answer(texts.SEGMENT_REFUSED.format(reason=str(error)))
        return
    await message.answer(
        texts.SEGMENT_SAVED.format(name=segment.name, rule=segment.expression, counts=counts)
    )


def create_router() -> Router:
    """The /segments handlers, on a new router."""
    router = Router(name="segments")
    router.message.register(segments, Command("segments"))
    return router
