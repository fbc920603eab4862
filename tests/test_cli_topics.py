"""`broadcast bots topics` and `campaigns create --topic T --unsubscribe-button`."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from models import Campaign
from panel.db import create_engine, create_sessionmaker
from tests.processes import broadcast_cli
from tests.support.sim import TOKEN
from tgsim.simulator import Simulator


async def _campaigns(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(Campaign)) or 0)
    finally:
        await engine.dispose()


async def test_topics_from_the_cli_and_a_campaign_of_one_with_its_button(
    sim: Simulator, database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url, "TELEGRAM_API_URL": sim.base_url}

    async def cli(*args: str) -> tuple[int, str, str]:
        return await broadcast_cli(*args, env=env, cwd=tmp_path)

    for command in (("db", "upgrade"), ("bots", "add", "--codename", "news", "--token", TOKEN)):
        code, _, err = await cli(*command)
        assert code == 0, err
    assert (await cli("bots", "topics", "news", "add", "news"))[:2] == (0, "news: topic news added\n")
    code, _, err = await cli("bots", "topics", "news", "add", "News")
    assert (code, err) == (1, "broadcast: news has the topic news already\n")
    code, _, err = await cli("bots", "topics", "news", "add", "big!")
    assert code == 1 and "“big!” is no topic name" in err
    assert (await cli("bots", "topics", "news", "list"))[:2] == (0, "news: 0 opted out\n")

    # A topic the bot lacks, or a button without a topic: refused, nothing created.
    for extra, error in (
        (
            ("--topic", "sports"),
            "--topic: news has no topic 'sports' (its topics: news); nothing was created",
        ),
        (("--unsubscribe-button",), "--topic: the unsubscribe button needs a topic (--topic)"),
    ):
        code, out, err = await cli("campaigns", "create", "--bot", "news", "--text", "Hi", *extra)
        assert (code, out) == (1, "")
        assert error in err
    assert await _campaigns(database_url) == 0

    code, out, err = await cli(
        "campaigns", "create", "--bot", "news", "--text", "Hi", "--topic", "news", "--unsubscribe-button"
    )
    assert code == 0, err
    code, status, err = await cli("campaigns", "status", out.strip(), "--json")
    assert code == 0, err
    report = json.loads(status)
    assert (report["topic"], report["unsubscribe_button"]) == ("news", True)
    assert report["content"]["unsubscribe"] == {"topic": "news", "text": "🔕 Unsubscribe from news"}

    assert (await cli("bots", "topics", "news", "remove", "news"))[:2] == (0, "news: topic news removed\n")
    code, _, err = await cli("bots", "topics", "news", "remove", "news")
    assert (code, err) == (1, "broadcast: news has no topic 'news'\n")
