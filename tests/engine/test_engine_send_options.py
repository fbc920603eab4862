"""Send options through real worker processes: every message goes silent, protected, with its link
preview, and is pinned in its chat; the pins are counted and summarised."""

from __future__ import annotations

import json
from pathlib import Path

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import CampaignStatus, TargetBot
from panel.queue import enqueue_start
from panel.send_options import LinkPreview, SendOptions
from tests.processes import broadcast_cli
from tests.support.engine import (
    ADMIN_CHAT_ID,
    CONTROL_TOKEN,
    TARGET_TOKEN,
    Workers,
    add_audience,
    assert_counters_match_rows,
    new_campaign,
    wait_for_status,
)
from tgsim.simulator import Simulator
from tgsim.world import UserState

TEXT = "Our new shop: https://example.com/shop"


async def test_a_silent_protected_pinned_campaign(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(
        sessionmaker, sim, active=200, states={UserState.BLOCKED: 10}, first_chat_id=2_000_000
    )
    options = SendOptions(silent=True, protect=True, link_preview=LinkPreview.LARGE, pin=True)
    campaign_id = await new_campaign(sessionmaker, bot_id, text=TEXT, progress=True, options=options)
    workers.start(2)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)

    assert campaign.status is CampaignStatus.COMPLETED, campaign.status_reason
    assert (campaign.successful_sents, campaign.unavailable_count) == (200, 10)
    await assert_counters_match_rows(sessionmaker, campaign_id)
    assert campaign.pinned_count == campaign.successful_sents
    reached = 0
    for chat_id in range(2_000_000, 2_000_210):
        chat = sim.chat(TARGET_TOKEN, chat_id)
        if not chat.bot_messages:
            continue
        reached += 1
        (message,) = chat.bot_messages
        assert (message.text, message.disable_notification, message.protect_content) == (TEXT, True, True)
        assert message.link_preview_options == {"prefer_large_media": True}
        assert chat.pinned == [message.message_id], chat_id
    assert reached == 200
    summary = await sim.wait_for_message(CONTROL_TOKEN, ADMIN_CHAT_ID, lambda m: "finished" in (m.text or ""))
    assert "📌 Pinned: 200" in (summary.text or "")


async def test_a_failed_pin_does_not_fail_the_delivery(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    # Each user deletes the message the moment it arrives: its pin finds nothing
    # ("message to pin not found").
    bot_id = await add_audience(sessionmaker, sim, active=20, first_chat_id=2_100_000)
    target_chats = sim.world.bots[TARGET_TOKEN].chats
    notify = sim.world.on_change

    def delete_at_once() -> None:
        for log in target_chats.values():
            log.messages.clear()
        notify()

    sim.world.on_change = delete_at_once
    campaign_id = await new_campaign(sessionmaker, bot_id, options=SendOptions(pin=True))
    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)

    assert campaign.status is CampaignStatus.COMPLETED, campaign.status_reason
    assert (campaign.successful_sents, campaign.failed_sents) == (20, 0)
    assert campaign.pinned_count == 0
    assert all(sim.chat(TARGET_TOKEN, chat_id).pinned == [] for chat_id in range(2_100_000, 2_100_020))


async def test_the_cli_creates_a_campaign_with_its_options_and_shows_them(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
    tmp_path: Path,
    cli_env: dict[str, str],
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=15, first_chat_id=2_200_000)
    async with sessionmaker() as session:
        target = await session.get(TargetBot, bot_id)
        assert target is not None
    flags = ("--silent", "--protect", "--pin", "--link-preview", "above")
    create = ("campaigns", "create", "--bot", target.codename, "--text", TEXT)
    code, out, err = await broadcast_cli(*create, *flags, env=cli_env, cwd=tmp_path)
    assert code == 0, err
    campaign_id = int(out.strip())

    code, out, err = await broadcast_cli(
        "campaigns", "status", str(campaign_id), "--json", env=cli_env, cwd=tmp_path
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["options"] == {"silent": True, "protect": True, "link_preview": "above", "pin": True}
    assert report["pinned"] == 0
    code, _, err = await broadcast_cli(*create, "--link-preview", "huge", env=cli_env, cwd=tmp_path)
    assert code == 2 and "invalid choice: 'huge'" in err

    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert (campaign.status, campaign.successful_sents, campaign.pinned_count) == (
        CampaignStatus.COMPLETED,
        15,
        15,
    )
    message = sim.chat(TARGET_TOKEN, 2_200_000).bot_messages[0]
    assert message.link_preview_options == {"show_above_text": True}
    code, out, _ = await broadcast_cli("campaigns", "status", str(campaign_id), env=cli_env, cwd=tmp_path)
    assert "options: silent, protected, link preview above, pin (15 pinned)" in out
    code, out, _ = await broadcast_cli(
        "campaigns", "status", str(campaign_id), "--json", env=cli_env, cwd=tmp_path
    )
    assert json.loads(out)["pinned"] == 15
