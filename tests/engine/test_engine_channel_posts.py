"""A channel post through real worker processes (and the CLI): forwarded and copied to every recipient."""

from __future__ import annotations

from pathlib import Path

from arq.connections import ArqRedis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Campaign, CampaignStatus, TargetBot
from panel.buttons import parse_buttons
from panel.content import ChannelPost, MessageContent
from panel.queue import enqueue_start
from panel.send_options import SendOptions
from tests.processes import broadcast_cli
from tests.support.engine import TARGET_TOKEN, Workers, add_audience, new_campaign, wait_for_status
from tgsim.simulator import Simulator

CHANNEL = -1001234567890
BOLD = {"type": "bold", "offset": 0, "length": 3}
RECIPIENTS = 60


async def test_a_forwarded_and_a_copied_post_reach_every_recipient(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    # forwardMessage has no paid broadcast: the bot goes at Telegram's free rate.
    bot_id = await add_audience(sessionmaker, sim, active=RECIPIENTS, rate_per_s=25)
    sim.add_channel(CHANNEL, title="News", readers=[TARGET_TOKEN])
    post_id = sim.add_channel_post(CHANNEL, "Big news today", entities=[BOLD])
    forward = MessageContent("Big news today", channel_post=ChannelPost(CHANNEL, post_id))
    forward_id = await new_campaign(
        sessionmaker, bot_id, content=forward.to_json(), options=SendOptions(protect=True)
    )
    copy = MessageContent(
        "Big news today",
        buttons=parse_buttons("Read - https://example.com/news"),
        channel_post=ChannelPost(CHANNEL, post_id, "copy"),
    )
    copy_id = await new_campaign(
        sessionmaker, bot_id, content=copy.to_json(), options=SendOptions(silent=True)
    )
    workers.start(2)
    await enqueue_start(pool, forward_id, queue_name=queue_name)
    forwarded = await wait_for_status(sessionmaker, forward_id, workers=workers)
    await enqueue_start(pool, copy_id, queue_name=queue_name)
    copied = await wait_for_status(sessionmaker, copy_id, workers=workers)

    for campaign in (forwarded, copied):
        assert campaign.status is CampaignStatus.COMPLETED, campaign.status_reason
        assert (campaign.successful_sents, campaign.failed_sents) == (RECIPIENTS, 0)
    for chat_id in range(1_000_000, 1_000_000 + RECIPIENTS):
        first, second = sim.chat(TARGET_TOKEN, chat_id).bot_messages
        assert (first.text, first.entities, second.text, second.entities) == (
            "Big news today",
            [BOLD],
            "Big news today",
            [BOLD],
        )
        assert first.forward_origin is not None, chat_id
        assert (first.forward_origin["chat"]["id"], first.forward_origin["message_id"]) == (CHANNEL, post_id)
        assert first.protect_content and not first.url_buttons
        assert second.forward_origin is None and second.disable_notification
        assert second.url_buttons == [[("Read", "https://example.com/news")]]


async def test_the_command_line_checks_the_channel_with_the_target_bot_then_copies_the_post(
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
    sim.add_channel(CHANNEL, title="News")
    post_id = sim.add_channel_post(CHANNEL, "Big news today")
    create = ("campaigns", "create", "--bot", target.codename, f"--forward={CHANNEL}:{post_id}")

    code, out, err = await broadcast_cli(*create, "--copy", env=cli_env, cwd=tmp_path)
    assert (code, out) == (1, "")
    assert "cannot read channel -1001234567890 (Bad Request: chat not found)" in err
    assert "nothing was created" in err
    code, out, err = await broadcast_cli(
        *create, "--button", "Read - https://example.com", env=cli_env, cwd=tmp_path
    )
    assert (code, err.strip()) == (1, "broadcast: A forwarded post can't have buttons; copy it instead.")
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Campaign)) == 0

    sim.set_channel_reader(TARGET_TOKEN, CHANNEL, True)
    code, out, err = await broadcast_cli(
        *create, "--copy", "--button", "Read - https://example.com", env=cli_env, cwd=tmp_path
    )
    assert code == 0, err
    campaign_id = int(out.strip())
    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert (campaign.status, campaign.successful_sents) == (CampaignStatus.COMPLETED, 20)
    for chat_id in range(1_000_000, 1_000_020):
        (message,) = sim.chat(TARGET_TOKEN, chat_id).bot_messages
        assert (message.text, message.forward_origin) == ("Big news today", None)
        assert message.url_buttons == [[("Read", "https://example.com")]]
