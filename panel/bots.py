"""Target bots: checking and registering them (after `bot.aiogram_bot.fetch_identity`) and listing them."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import TargetBot, User
from panel.secrets import TokenBox
from panel.settings import looks_like_token

CODENAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
FREE_RATE_CEILING = 30
PAID_RATE_CEILING = 1000


class BotError(ValueError):
    """A target bot that cannot be registered; the text says why."""


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """What Telegram's getMe says about a token."""

    username: str | None
    title: str


@dataclass(frozen=True, slots=True)
class BotSummary:
    """A target bot and the size of its audience."""

    bot: TargetBot
    users: int
    available: int


def check_bot_fields(codename: str, token: str, rate_per_s: int, paid_broadcast: bool) -> None:
    """Raise `BotError` when a field of a new target bot is malformed."""
    if not CODENAME_PATTERN.match(codename):
        raise BotError(
            "codename: use 1-64 lowercase letters, digits, '_' or '-', starting with a letter or digit"
        )
    if not looks_like_token(token):
        raise BotError("token: does not look like a bot token (expected 123456:ABC...)")
    ceiling = PAID_RATE_CEILING if paid_broadcast else FREE_RATE_CEILING
    if not 1 <= rate_per_s <= ceiling:
        hint = "" if paid_broadcast else " (up to 1000 with --paid, for bots with paid broadcasts enabled)"
        raise BotError(f"rate: must be between 1 and {ceiling} messages per second{hint}")


async def add_bot(
    session: AsyncSession,
    *,
    codename: str,
    token: str,
    identity: BotIdentity,
    box: TokenBox,
    rate_per_s: int = FREE_RATE_CEILING,
    paid_broadcast: bool = False,
) -> TargetBot:
    """Register a target bot whose token `identity` was verified for (stored sealed by `box`)."""
    check_bot_fields(codename, token, rate_per_s, paid_broadcast)
    existing = (
        await session.execute(select(TargetBot).where(TargetBot.codename == codename))
    ).scalar_one_or_none()
    if existing is not None:
        raise BotError(f"codename: a bot called {codename!r} already exists")
    bot = TargetBot(
        codename=codename,
        sealed_token=box.seal(token),
        username=identity.username,
        title=identity.title,
        rate_per_s=rate_per_s,
        paid_broadcast=paid_broadcast,
    )
    session.add(bot)
    await session.flush()
    return bot


async def bot_summaries(
    session: AsyncSession, *, bot_ids: Collection[int] | None = None
) -> Sequence[BotSummary]:
    """Every target bot (or those of `bot_ids`, an admin's scope) with its user counts, by codename."""
    available = func.count().filter(User.is_unavailable.is_(False))
    counts = (
        select(User.bot_id, func.count().label("users"), available.label("available"))
        .group_by(User.bot_id)
        .subquery()
    )
    query = (
        select(TargetBot, counts.c.users, counts.c.available)
        .outerjoin(counts, counts.c.bot_id == TargetBot.id)
        .order_by(TargetBot.codename)
    )
    if bot_ids is not None:
        query = query.where(TargetBot.id.in_(list(bot_ids)))
    rows = await session.execute(query)
    return [
        BotSummary(bot=bot, users=int(users or 0), available=int(avail or 0))
        for bot, users, avail in rows.all()
    ]


@dataclass(frozen=True, slots=True)
class Rotation:
    """What `rotate_tokens` did: tokens re-encrypted under the writing key, of how many."""

    rotated: int
    total: int


async def rotate_tokens(session: AsyncSession, box: TokenBox) -> Rotation:
    """Re-encrypt every target bot's token under the box's writing key (in the caller's
    transaction: all or none). A token no key opens raises `TokenError` and nothing changes."""
    bots = (await session.scalars(select(TargetBot).order_by(TargetBot.id))).all()
    rotated = 0
    for bot in bots:
        if not box.is_current(bot.sealed_token):
            bot.sealed_token = box.reseal(bot.sealed_token)
            rotated += 1
    await session.flush()
    return Rotation(rotated=rotated, total=len(bots))
