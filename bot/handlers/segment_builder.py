"""/segments new: a segment built with buttons for the common rules (languages the users speak,
activity, joining, the bots' opt-out topics) and typed rules for the rest, its count per bot
shown live after each change, then saved by name like `/segments NAME RULE`.

The conditions are kept in the conversation's state; every one is ANDed, and the rule they
make is the same text form the rest of the panel reads (`panel.segments`), checked on each change.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.callbacks import BuilderAction, BuilderCallback
from bot.edits import edit_text
from bot.states import SegmentBuilder
from models import BotTopic, User, utcnow
from panel import audit, texts
from panel.audit import Actor, AuditAction
from panel.bots import bot_summaries
from panel.roles import Access
from panel.segments import SegmentError, count_segment, parse_segment, save_segment

LANGUAGES_SHOWN = 6
TOPICS_SHOWN = 6
ACTIVE_PERIODS = ("7d", "30d", "90d")
INACTIVE_PERIODS = ("30d", "90d")
JOINED_PERIODS = ("7d", "30d")
MAX_TYPED = 10


def _rule(parts: dict[str, Any]) -> str:
    """The rule text of the builder's conditions, in a fixed order."""
    clauses = []
    if parts.get("languages"):
        clauses.append(f"language in ({', '.join(parts['languages'])})")
    if parts.get("active"):
        clauses.append(f"active within {parts['active']}")
    if parts.get("inactive"):
        clauses.append(f"not active within {parts['inactive']}")
    if parts.get("joined"):
        clauses.append(f"joined after {parts['joined']}")
    clauses.extend(f"subscribed {topic}" for topic in parts.get("topics", []))
    clauses.extend(f"({typed})" for typed in parts.get("typed", []))
    return " and ".join(clauses)


async def _languages(session: AsyncSession, scope: frozenset[int] | None) -> list[tuple[str, int]]:
    """The languages the available users of the admin's bots speak most, with their counts."""
    query = (
        select(func.lower(User.language_code), func.count())
        .where(User.is_unavailable.is_(False), User.language_code.is_not(None))
        .group_by(func.lower(User.language_code))
        .order_by(func.count().desc(), func.lower(User.language_code))
        .limit(LANGUAGES_SHOWN)
    )
    if scope is not None:
        query = query.where(User.bot_id.in_(scope))
    return [(str(code), int(count)) for code, count in await session.execute(query) if code]


async def _topics(session: AsyncSession, scope: frozenset[int] | None) -> list[str]:
    """The opt-out topics of the admin's bots, by name."""
    query = select(BotTopic.topic).distinct().order_by(BotTopic.topic).limit(TOPICS_SHOWN)
    if scope is not None:
        query = query.where(BotTopic.bot_id.in_(scope))
    return [str(name) for name in await session.scalars(query)]


async def _screen(
    sessionmaker: async_sessionmaker[AsyncSession], parts: dict[str, Any], access: Access
) -> tuple[str, InlineKeyboardMarkup]:
    """The builder's message: its rule, the count per bot now, and the buttons."""
    rule = _rule(parts)
    async with sessionmaker() as session:
        bots = [item.bot for item in await bot_summaries(session, bot_ids=access.bot_ids)]
        counts = await count_segment(session, [bot.id for bot in bots], rule)
        languages = await _languages(session, access.bot_ids)
        topics = await _topics(session, access.bot_ids)
    per_bot = " · ".join(f"{bot.codename} {texts.number(counts[bot.id])}" for bot in bots) or "no bots yet"
    text = "\n".join(
        (
            texts.BUILDER_TITLE,
            texts.BUILDER_RULE.format(rule=rule or texts.BUILDER_EVERYONE),
            texts.BUILDER_COUNTS.format(counts=per_bot),
            "",
            texts.BUILDER_HINT,
        )
    )
    chosen = set(parts.get("languages", []))
    builder = InlineKeyboardBuilder()
    for code, count in languages:
        label = texts.BTN_BUILDER_LANGUAGE_ON if code in chosen else texts.BTN_BUILDER_LANGUAGE
        builder.button(
            text=label.format(code=code, count=texts.number(count)),
            callback_data=BuilderCallback(action=BuilderAction.LANGUAGE, value=code[:16]),
        )
    rows = [3] * (len(languages) // 3) + ([len(languages) % 3] if len(languages) % 3 else [])
    for action, label, periods in (
        (BuilderAction.ACTIVE, texts.BTN_BUILDER_ACTIVE, ACTIVE_PERIODS),
        (BuilderAction.INACTIVE, texts.BTN_BUILDER_INACTIVE, INACTIVE_PERIODS),
        (BuilderAction.JOINED, texts.BTN_BUILDER_JOINED, JOINED_PERIODS),
    ):
        for period in periods:
            builder.button(
                text=label.format(period=period), callback_data=BuilderCallback(action=action, value=period)
            )
        rows.append(len(periods))
    subscribed = set(parts.get("topics", []))
    for topic in topics:
        label = texts.BTN_BUILDER_TOPIC_ON if topic in subscribed else texts.BTN_BUILDER_TOPIC
        builder.button(
            text=label.format(topic=topic),
            callback_data=BuilderCallback(action=BuilderAction.TOPIC, value=topic),
        )
    rows += [3] * (len(topics) // 3) + ([len(topics) % 3] if len(topics) % 3 else [])
    for action, label in (
        (BuilderAction.UNDO, texts.BTN_BUILDER_UNDO),
        (BuilderAction.SAVE, texts.BTN_BUILDER_SAVE),
        (BuilderAction.CANCEL, texts.BTN_BUILDER_CANCEL),
    ):
        builder.button(text=label, callback_data=BuilderCallback(action=action))
    rows.append(3)
    builder.adjust(*rows)
    return text, builder.as_markup()


async def start(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    access: Access,
) -> None:
    """/segments new: an empty builder (everyone), live count included."""
    parts: dict[str, Any] = {"order": []}
    text, markup = await _screen(sessionmaker, parts, access)
    shown = await message.answer(text, reply_markup=markup)
    await state.set_state(SegmentBuilder.building)
    await state.set_data({"builder": parts, "builder_message": shown.message_id})


def _period_start(period: str) -> str:
    amount = int(period[:-1])
    span = timedelta(days=amount) if period.endswith("d") else timedelta(hours=amount)
    return (utcnow() - span).date().isoformat()


def _apply(parts: dict[str, Any], tap: BuilderCallback) -> None:
    """The builder's conditions after a tap on a condition button."""
    order: list[str] = parts.setdefault("order", [])
    if tap.action in (BuilderAction.LANGUAGE, BuilderAction.TOPIC):
        kind = "language" if tap.action is BuilderAction.LANGUAGE else "topic"
        chosen: list[str] = parts.setdefault(f"{kind}s", [])
        if tap.value in chosen:
            chosen.remove(tap.value)
            order.remove(f"{kind}:{tap.value}")
        else:
            chosen.append(tap.value)
            order.append(f"{kind}:{tap.value}")
        return
    key = {
        BuilderAction.ACTIVE: "active",
        BuilderAction.INACTIVE: "inactive",
        BuilderAction.JOINED: "joined",
    }[tap.action]
    if tap.action is BuilderAction.JOINED:
        parts[key] = _period_start(tap.value)
    else:
        parts[key] = tap.value
    if key in order:
        order.remove(key)
    order.append(key)


def _undo(parts: dict[str, Any]) -> bool:
    """Take back the condition added last; False when there is none."""
    order: list[str] = parts.get("order", [])
    if not order:
        return False
    last = order.pop()
    if last.startswith(("language:", "topic:")):
        kind, value = last.split(":", 1)
        parts[f"{kind}s"].remove(value)
    elif last == "typed":
        parts["typed"].pop()
    else:
        parts.pop(last, None)
    return True


async def tap(
    query: CallbackQuery,
    callback_data: BuilderCallback,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    access: Access,
) -> None:
    """A condition, Undo, Save or Cancel; the message shows the new rule and count."""
    data = await state.get_data()
    message = query.message
    if (
        await state.get_state() != SegmentBuilder.building.state
        or not isinstance(message, Message)
        or data.get("builder_message") != message.message_id
    ):
        await query.answer(texts.BUILDER_GONE, show_alert=True)
        return
    parts: dict[str, Any] = data["builder"]
    action = callback_data.action
    if action is BuilderAction.CANCEL:
        await state.clear()
        await query.answer()
        await edit_text(message, texts.BUILDER_CANCELLED)
        return
    if action is BuilderAction.SAVE:
        await query.answer()
        await state.set_state(SegmentBuilder.waiting_name)
        await message.answer(texts.BUILDER_ASK_NAME.format(rule=_rule(parts) or texts.BUILDER_EVERYONE))
        return
    if action is BuilderAction.UNDO:
        if not _undo(parts):
            await query.answer(texts.BUILDER_NOTHING_TO_UNDO)
            return
    elif action in (BuilderAction.ACTIVE, BuilderAction.INACTIVE, BuilderAction.JOINED) and (
        callback_data.value not in ACTIVE_PERIODS + INACTIVE_PERIODS + JOINED_PERIODS
    ):
        await query.answer(texts.BUILDER_GONE, show_alert=True)
        return
    else:
        _apply(parts, callback_data)
    await query.answer()
    await state.update_data(builder=parts)
    text, markup = await _screen(sessionmaker, parts, access)
    await edit_text(message, text, reply_markup=markup)


async def typed(
    message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession], access: Access
) -> None:
    """A typed rule, ANDed with the rest once it parses; a mistake names its position."""
    rule = (message.text or "").strip()
    data = await state.get_data()
    parts: dict[str, Any] = data["builder"]
    try:
        parse_segment(rule)
        if len(parts.get("typed", [])) >= MAX_TYPED:
            raise SegmentError(1, f"a builder takes at most {MAX_TYPED} typed rules; save and combine them")
    except SegmentError as error:
        await message.answer(texts.BUILDER_TYPED_REFUSED.format(reason=error))
        return
    parts.setdefault("typed", []).append(rule)
    parts.setdefault("order", []).append("typed")
    text, markup = await _screen(sessionmaker, parts, access)
    shown = await message.answer(text, reply_markup=markup)  # below the typed rule, where the admin looks
    await state.update_data(builder=parts, builder_message=shown.message_id)


async def not_text(message: Message) -> None:
    """A photo, sticker... while building."""
    await message.answer(texts.BUILDER_NOT_TEXT)


async def named(
    message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession], access: Access
) -> None:
    """The name: saved (replacing one of that name) with its counts; a bad name is asked again."""
    name = (message.text or "").strip()
    data = await state.get_data()
    rule = _rule(data["builder"])
    try:
        async with sessionmaker.begin() as session:
            if not rule:
                raise SegmentError(1, "the segment has no condition yet: add one first (/cancel)")
            segment = await save_segment(session, name, rule, created_by=message.chat.id)
            details = {"name": segment.name, "rule": segment.expression}
            await audit.record(
                session, Actor.chat(message.chat.id), AuditAction.SAVE_SEGMENT, details=details
            )
            bots = [item.bot for item in await bot_summaries(session, bot_ids=access.bot_ids)]
            counts = await count_segment(session, [bot.id for bot in bots], segment.expression)
    except SegmentError as error:
        await message.answer(texts.BUILDER_NAME_REFUSED.format(reason=error))
        return
    await state.clear()
    per_bot = ", ".join(f"{bot.codename} {texts.number(counts[bot.id])}" for bot in bots) or "no bots yet"
    await message.answer(
        texts.SEGMENT_SAVED.format(name=segment.name, rule=segment.expression, counts=per_bot)
    )


async def back_to_building(
    message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession], access: Access
) -> None:
    """/cancel while naming: back to the builder, its conditions kept."""
    data = await state.get_data()
    await state.set_state(SegmentBuilder.building)
    text, markup = await _screen(sessionmaker, data["builder"], access)
    shown = await message.answer(text, reply_markup=markup)
    await state.update_data(builder_message=shown.message_id)


def create_router() -> Router:
    """The segment builder's handlers, on a new router (before /segments NAME RULE)."""
    router = Router(name="segment_builder")
    router.message.register(start, Command("segments", magic=F.args.regexp(r"^\s*new\s*$")))
    router.message.register(back_to_building, SegmentBuilder.waiting_name, Command("cancel"))
    router.callback_query.register(tap, BuilderCallback.filter())
    router.message.register(typed, SegmentBuilder.building, F.text, ~F.text.startswith("/"))
    router.message.register(not_text, SegmentBuilder.building, ~F.text)
    router.message.register(named, SegmentBuilder.waiting_name, F.text, ~F.text.startswith("/"))
    return router
