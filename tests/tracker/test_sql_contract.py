"""The README's SQL contract for bots not written in Python runs as written, on both databases."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.support.control import NEWS_USERS, add_target_bots
from tests.tracker.test_tracker import row

README = Path(__file__).resolve().parents[2] / "README.md"


def contract() -> list[str]:
    section = README.read_text(encoding="utf-8").split("## Keeping the users table true", 1)[1]
    section = section.split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.S)


async def test_upsert_block_and_unblock_as_the_readme_writes_them(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    upsert, block, unblock = contract()
    bot_id = (await add_target_bots(sessionmaker, with_shop=False))["news"]
    chat_id = NEWS_USERS[0]
    key = {"bot_id": bot_id, "chat_id": chat_id, "now": datetime.now(UTC)}
    names = {"username": "ann", "first_name": "Ann", "last_name": None, "language_code": "de"}
    async with engine.begin() as conn:
        await conn.execute(text(upsert), {**key, **names})
    user = await row(sessionmaker, bot_id, chat_id)
    assert user is not None and (user.first_name, user.language_code) == ("Ann", "de") and user.last_seen_at
    async with engine.begin() as conn:
        await conn.execute(text(block), key)
    user = await row(sessionmaker, bot_id, chat_id)
    assert user is not None and user.is_unavailable and user.unavailable_reason == "blocked"
    async with engine.begin() as conn:
        await conn.execute(text(unblock), key)
    user = await row(sessionmaker, bot_id, chat_id)
    assert user is not None and not user.is_unavailable and user.unavailable_reason is None
