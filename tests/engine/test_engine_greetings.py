"""A personalised campaign through real workers: every recipient's own name, the bold kept in place."""

from __future__ import annotations

from pathlib import Path

from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import CampaignStatus, TargetBot, User
from panel.content import MessageContent, utf16_length
from panel.greetings import PERSONALISED_KEY
from panel.queue import enqueue_start
from tests.processes import broadcast_cli
from tests.support.engine import (
    TARGET_TOKEN,
    Workers,
    add_audience,
    assert_counters_match_rows,
    new_campaign,
    wait_for_status,
)
from tgsim.simulator import Simulator

NAMES = [("Ann", "ann"), ("😀Zoë", None), ("山田", "yamada"), (None, None), ("👨‍👩‍👧 Family", "fam")]


async def test_each_recipient_gets_their_own_name_and_the_formatting_stays_on_its_words(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=50)
    async with sessionmaker.begin() as session:
        users = (await session.execute(select(User).where(User.bot_id == bot_id).order_by(User.id))).scalars()
        expected: dict[int, str] = {}
        for index, user in enumerate(users):
            user.first_name, user.username = NAMES[index % len(NAMES)]
            name = user.first_name or "friend"
            expected[user.chat_id] = f"Hi {name}, big news for {user.username or 'you'}"
    text = "Hi {first_name|friend}, big news for {username|you}"
    bold = {"type": "bold", "offset": text.index("big"), "length": 3}
    content = {**MessageContent(text, (bold,)).to_json(), PERSONALISED_KEY: True}
    campaign_id = await new_campaign(sessionmaker, bot_id, content=content)

    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    campaign = await wait_for_status(sessionmaker, campaign_id)
    assert campaign.status is CampaignStatus.COMPLETED and campaign.successful_sents == 50
    await assert_counters_match_rows(sessionmaker, campaign_id)
    for chat_id, wanted in expected.items():
        (message,) = sim.chat(TARGET_TOKEN, chat_id).bot_messages
        assert message.text == wanted
        offset = utf16_length(wanted[: wanted.index("big")])
        assert message.entities == [{"type": "bold", "offset": offset, "length": 3}], wanted


async def test_a_campaign_created_in_the_cli_greets_each_recipient(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    queue_name: str,
    tmp_path: Path,
    cli_env: dict[str, str],
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=3)
    async with sessionmaker.begin() as session:
        users = list((await session.execute(select(User).where(User.bot_id == bot_id))).scalars())
        users[0].first_name, users[1].first_name = "Ann", "😀"
        bot = await session.get(TargetBot, bot_id)
        assert bot is not None
        codename = bot.codename
    code, out, err = await broadcast_cli(
        "campaigns",
        "create",
        "--bot",
        codename,
        "--text",
        "Hi {first_name|there} {{:}}",
        env=cli_env,
        cwd=tmp_path,
    )
    assert code == 0, err
    campaign_id = int(out)
    code, _, err = await broadcast_cli("campaigns", "send", str(campaign_id), env=cli_env, cwd=tmp_path)
    assert code == 0, err
    workers.start(1)
    assert (await wait_for_status(sessionmaker, campaign_id)).status is CampaignStatus.COMPLETED
    got = [sim.chat(TARGET_TOKEN, user.chat_id).bot_messages[0].text for user in users]
    assert got == ["Hi Ann {:}", "Hi 😀 {:}", "Hi there {:}"]
