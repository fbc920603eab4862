"""The tracker keeps the users table true: writes, blocks, unblocks and comebacks, through a real bot."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import User
from tests.support.control import NEWS_TOKEN, NEWS_USERS
from tests.tracker.conftest import TargetBot
from tgsim.simulator import Simulator

ALICE = NEWS_USERS[0]


async def row(sessionmaker: async_sessionmaker[AsyncSession], bot_id: int, chat_id: int) -> User | None:
    async with sessionmaker() as session:
        result: User | None = await session.scalar(
            select(User).where(User.bot_id == bot_id, User.chat_id == chat_id)
        )
        return result


async def until(
    sessionmaker: async_sessionmaker[AsyncSession],
    news: TargetBot,
    check: Callable[[User | None], bool],
    chat_id: int = ALICE,
) -> User | None:
    for _ in range(100):
        found = await row(sessionmaker, news.bot_id, chat_id)
        if check(found):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"never true: {found!r}")


async def test_a_user_who_writes_gets_a_row(
    sim: Simulator, news: TargetBot, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    profile = sim.world.profile(ALICE)
    sim.send_message(NEWS_TOKEN, ALICE, "hi")
    user = await until(sessionmaker, news, lambda u: u is not None and u.last_seen_at is not None)
    assert user is not None
    assert (user.first_name, user.username, user.language_code) == (
        profile.first_name,
        profile.username,
        profile.language_code,
    )
    assert user.last_seen_at is not None and not user.is_unavailable


async def test_block_unblock_and_comeback(
    sim: Simulator, news: TargetBot, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    sim.send_message(NEWS_TOKEN, ALICE, "hi")
    await until(sessionmaker, news, lambda u: u is not None and u.last_seen_at is not None)
    sim.block(NEWS_TOKEN, ALICE)
    blocked = await until(sessionmaker, news, lambda u: u is not None and u.is_unavailable)
    assert blocked is not None and blocked.unavailable_reason == "blocked" and blocked.unavailable_at
    sim.unblock(NEWS_TOKEN, ALICE)
    back = await until(sessionmaker, news, lambda u: u is not None and not u.is_unavailable)
    assert back is not None and back.unavailable_reason is None and back.unavailable_at is None
    # The engine marks them unavailable after a 403; a message from them brings them back.
    async with sessionmaker() as session:
        await session.execute(
            update(User).where(User.chat_id == ALICE).values(is_unavailable=True, unavailable_reason="403")
        )
        await session.commit()
    sim.send_message(NEWS_TOKEN, ALICE, "I'm back")
    again = await until(sessionmaker, news, lambda u: u is not None and not u.is_unavailable)
    assert again is not None and again.first_name == sim.world.profile(ALICE).first_name


async def test_every_user_who_writes_is_recorded(
    sim: Simulator, news: TargetBot, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    for chat_id in NEWS_USERS:
        sim.send_message(NEWS_TOKEN, chat_id, "hi")
    for chat_id in NEWS_USERS:
        await until(sessionmaker, news, lambda u: u is not None and u.last_seen_at is not None, chat_id)
