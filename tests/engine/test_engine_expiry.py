"""Expiry ("Delete after…") through real worker processes: the recall starts on its own when the
delay after the sending is up, after a worker restart too, once, with a note to the admin; the
pinned message goes with it. And the delay's rules: 1 to 47 hours, within Telegram's 48."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from arq.connections import ArqRedis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import ActionKind, ActionStatus, Campaign, CampaignAction, CampaignStatus, TargetBot, utcnow
from panel import after_send, texts
from panel.audit import CLI
from panel.expiry import ExpiryError, ExpiryOutcome, check_expiry, parse_span, set_expiry
from panel.queue import enqueue_start
from panel.send_options import SendOptions
from tests.processes import broadcast_cli
from tests.support.engine import (
    ADMIN_CHAT_ID,
    CONTROL_TOKEN,
    TARGET_TOKEN,
    Workers,
    add_audience,
    get_campaign,
    new_campaign,
    read,
    wait_for_status,
    wait_until,
)
from tgsim.simulator import Simulator

FIRST_CHAT = 1_000_000


def test_the_delay_is_read_like_the_schedule_and_kept_within_48_hours() -> None:
    assert parse_span("6h") == timedelta(hours=6)
    assert parse_span("in 1h 30m") == timedelta(minutes=90)
    assert parse_span("90 min") == timedelta(minutes=90)
    assert parse_span("tomorrow 9:00") is None and parse_span("6 parsecs") is None
    assert check_expiry(timedelta(hours=6), sending_takes=timedelta(minutes=5)) == timedelta(hours=6)
    with pytest.raises(ExpiryError, match="1 to 47 hours"):
        check_expiry(timedelta(minutes=30), sending_takes=timedelta(0))
    with pytest.raises(ExpiryError, match="1 to 47 hours"):
        check_expiry(timedelta(hours=48), sending_takes=timedelta(0))
    # 47 hours after a sending of 2 hours: the first recipients' copies would be 49 hours old.
    with pytest.raises(ExpiryError, match="at most 46 h"):
        check_expiry(timedelta(hours=47), sending_takes=timedelta(hours=2))


async def test_expiry_recalls_the_campaign_on_time_after_a_worker_restart(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=30)
    campaign_id = await new_campaign(
        sessionmaker, bot_id, text="Offer ends tonight", options=SendOptions(pin=True)
    )
    later_id = await new_campaign(sessionmaker, bot_id, text="Not yet")
    for found in (campaign_id, later_id):
        assert await set_expiry(sessionmaker, found, timedelta(hours=1), actor=CLI) == (
            ExpiryOutcome.SET,
            None,
        )
    (first,) = workers.start(1)
    for found in (campaign_id, later_id):
        await enqueue_start(pool, found, queue_name=queue_name)
        campaign = await wait_for_status(sessionmaker, found, workers=workers, timeout_s=60)
        assert campaign.status is CampaignStatus.COMPLETED and campaign.successful_sents == 30
    assert all(sim.chat(TARGET_TOKEN, chat_id).pinned for chat_id in range(FIRST_CHAT, FIRST_CHAT + 30))
    # Not due: the crons leave both alone; an ended campaign's expiry can't change any more.
    assert await set_expiry(sessionmaker, campaign_id, timedelta(hours=2), actor=CLI) == (
        ExpiryOutcome.ENDED,
        None,
    )

    # The worker goes down; while it is down, the first campaign's hour passes.
    workers.kill(first)
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(completed_at=utcnow() - timedelta(hours=1, seconds=1))
        )
    workers.start(1)

    async def recalled() -> CampaignAction | None:
        async with sessionmaker() as session:
            action = await after_send.latest_recall(session, campaign_id)
        return action if action is not None and action.summary_sent_at is not None else None

    action = await wait_until(recalled, timeout_s=60, what="the expiry's recall ended", logs=workers)
    assert action.status is ActionStatus.COMPLETED and action.progress_chat_id == ADMIN_CHAT_ID
    for chat_id in range(FIRST_CHAT, FIRST_CHAT + 30):
        chat = sim.chat(TARGET_TOKEN, chat_id)
        # Deleted and unpinned with it; the other campaign's message stays.
        texts_left = [m.text for m in chat.bot_messages]
        assert texts_left == ["Not yet"] and chat.pinned == [], chat_id
    note = await sim.wait_for_message(CONTROL_TOKEN, ADMIN_CHAT_ID, lambda m: (m.text or "").startswith("⌛"))
    assert note.text == texts.NOTICE_EXPIRED.format(
        campaign_id=campaign_id, name="", after=texts.duration(timedelta(hours=1))
    )
    assert (await get_campaign(sessionmaker, campaign_id)).expiry_started_at is not None
    assert (await get_campaign(sessionmaker, later_id)).expiry_started_at is None
    recalls = await read(
        sessionmaker,
        lambda s: s.scalar(select(func.count()).where(CampaignAction.kind == ActionKind.RECALL)),
    )
    assert recalls == 1  # once, however many crons looked
    assert sim.stats(TARGET_TOKEN).deletes == 30


async def test_expire_after_from_the_cli(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=5)
    name = str(
        await read(sessionmaker, lambda s: s.scalar(select(TargetBot.codename).where(TargetBot.id == bot_id)))
    )
    code, out, err = await broadcast_cli(
        "campaigns", "create", "--bot", name, "--text", "Flash sale", "--expire-after", "6h",
        env=cli_env, cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, err
    campaign_id = int(out.strip())
    code, out, err = await broadcast_cli(
        "campaigns", "status", str(campaign_id), "--json", env=cli_env, cwd=tmp_path
    )
    assert code == 0, err
    report = json.loads(out)
    assert (report["expire_after_s"], report["expiry_started_at"]) == (6 * 3600, None)

    for typed, said in (
        ("50h", "1 to 47 hours"),
        ("soon", "is no span"),
    ):
        code, out, err = await broadcast_cli(
            "campaigns", "create", "--bot", name, "--text", "x", "--expire-after", typed,
            env=cli_env, cwd=tmp_path,
        )  # fmt: skip
        assert code == 1 and said in err, err
    async with sessionmaker() as session:
        assert (await session.scalar(select(func.count()).select_from(Campaign))) == 1  # nothing more
