"""URL buttons through real worker processes: every recipient gets exactly the campaign's buttons."""

from __future__ import annotations

import json
from pathlib import Path

from arq.connections import ArqRedis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Campaign, CampaignStatus, TargetBot
from panel.buttons import parse_buttons
from panel.content import Media, MessageContent
from panel.queue import enqueue_start
from tests.processes import broadcast_cli
from tests.support.engine import (
    ADMIN_CHAT_ID,
    CONTROL_TOKEN,
    TARGET_TOKEN,
    Workers,
    add_audience,
    new_campaign,
    wait_for_status,
)
from tgsim.simulator import Simulator

GRID = "Read more - https://example.com/post | Shop - https://shop.example\nNews - https://t.me/news"
ROWS = [
    [("Read more", "https://example.com/post"), ("Shop", "https://shop.example")],
    [("News", "https://t.me/news")],
]


async def test_a_campaign_with_buttons_reaches_every_recipient_with_exactly_those_buttons(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=120)
    buttons = parse_buttons(GRID)
    text_id = await new_campaign(
        sessionmaker, bot_id, content=MessageContent("Spring sale", buttons=buttons).to_json()
    )
    sent = sim.send_message(CONTROL_TOKEN, ADMIN_CHAT_ID, photo=b"\xff\xd8\xff\xe0 photo" * 50)
    media = Media.from_json({"kind": "photo", **sent["photo"][-1]})
    photo = MessageContent("Caption", media=media, buttons=buttons).to_json()
    photo_id = await new_campaign(sessionmaker, bot_id, content=photo)
    workers.start(2)
    await enqueue_start(pool, text_id, queue_name=queue_name)
    text_campaign = await wait_for_status(sessionmaker, text_id, workers=workers)
    await enqueue_start(pool, photo_id, queue_name=queue_name)
    photo_campaign = await wait_for_status(sessionmaker, photo_id, workers=workers)

    for campaign in (text_campaign, photo_campaign):
        assert campaign.status is CampaignStatus.COMPLETED, campaign.status_reason
        assert (campaign.successful_sents, campaign.failed_sents) == (120, 0)
    for chat_id in range(1_000_000, 1_000_120):
        messages = sim.chat(TARGET_TOKEN, chat_id).bot_messages
        assert [(m.text, m.caption, m.media_kind) for m in messages] == [
            ("Spring sale", None, None),
            (None, "Caption", "photo"),
        ]
        assert [m.url_buttons for m in messages] == [ROWS, ROWS], chat_id


async def test_the_command_line_creates_a_campaign_with_buttons_and_refuses_a_bad_grid(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
    tmp_path: Path,
    cli_env: dict[str, str],
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=20)
    async with sessionmaker() as session:
        target = await session.get(TargetBot, bot_id)
        assert target is not None
        before = await session.scalar(select(func.count()).select_from(Campaign))
    create = ("campaigns", "create", "--bot", target.codename, "--text", "Spring sale")

    code, out, err = await broadcast_cli(
        *create,
        "--button",
        "Read more - https://example.com/post",
        "--button",
        "Shop -",
        env=cli_env,
        cwd=tmp_path,
    )
    assert (code, out) == (1, "")
    assert err.strip() == "broadcast: line 2: `Shop -` has no link"
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Campaign)) == before

    rows = GRID.splitlines()
    code, out, err = await broadcast_cli(
        *create, "--button", rows[0], "--button", rows[1], env=cli_env, cwd=tmp_path
    )
    assert code == 0, err
    campaign_id = int(out.strip())
    code, out, err = await broadcast_cli(
        "campaigns", "status", str(campaign_id), "--json", env=cli_env, cwd=tmp_path
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["buttons"] == [[{"text": text, "url": url} for text, url in row] for row in ROWS]
    assert report["content"]["kind"] == "text" and report["content"]["text"] == "Spring sale"

    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert (campaign.status, campaign.successful_sents) == (CampaignStatus.COMPLETED, 20)
    for chat_id in range(1_000_000, 1_000_020):
        (message,) = sim.chat(TARGET_TOKEN, chat_id).bot_messages
        assert (message.text, message.url_buttons) == ("Spring sale", ROWS)
