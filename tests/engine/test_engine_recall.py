"""Recall through real worker processes and the simulator: every young message deleted once, the
old ones (past Telegram's 48 hours) reported, a campaign still sending stopped first, a worker
SIGKILLed mid-recall costing nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

from arq.connections import ArqRedis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    ActionStatus,
    Campaign,
    CampaignAction,
    CampaignStatus,
    Delivery,
    DeliveryAction,
    DeliveryActionStatus,
    DeliveryStatus,
    User,
    utcnow,
)
from panel import after_send
from panel.after_send import RecallCounts, RecallOutcome
from panel.audit import CLI
from panel.buttons import parse_button_rows
from panel.content import AlbumItem, Media, MessageContent
from panel.queue import enqueue_start
from tests.processes import broadcast_cli
from tests.support.engine import (
    ADMIN_CHAT_ID,
    CONTROL_TOKEN,
    TARGET_TOKEN,
    Workers,
    add_audience,
    delivered_at_least,
    get_campaign,
    new_campaign,
    read,
    rows,
    wait_for_status,
    wait_until,
)
from tgsim.simulator import Simulator

FIRST_CHAT = 1_000_000
HOUR_S = 3600


async def _sent_campaign(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
    *,
    users: int,
) -> int:
    bot_id = await add_audience(sessionmaker, sim, active=users)
    campaign_id = await new_campaign(sessionmaker, bot_id, text="Price: 10 €, wrong")
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers, timeout_s=60)
    assert campaign.status is CampaignStatus.COMPLETED and campaign.successful_sents == users
    return campaign_id


async def _ended_recall(
    sessionmaker: async_sessionmaker[AsyncSession], action_id: int, workers: Workers, *, timeout_s: float = 60
) -> tuple[CampaignAction, RecallCounts]:
    async def probe() -> tuple[CampaignAction, RecallCounts] | None:
        async with sessionmaker() as session:
            action = await after_send.get_action(session, action_id)
            counts = await after_send.recall_counts(session, action_id)
        if action is None or action.summary_sent_at is None:
            return None
        return action, counts

    return await wait_until(probe, timeout_s=timeout_s, what=f"recall {action_id} ended", logs=workers)


def _age_chat_messages(sim: Simulator, chat_ids: range, *, hours: int) -> None:
    """Make the target bot's messages in these chats `hours` older on Telegram's side."""
    bot = sim.world.bots[TARGET_TOKEN]
    for chat_id in chat_ids:
        for message in bot.chats[chat_id].messages.values():
            message.date -= hours * HOUR_S


async def test_recall_deletes_the_young_messages_and_reports_the_old(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    workers.start(2)
    campaign_id = await _sent_campaign(sessionmaker, sim, workers, pool, queue_name, users=200)
    # Half the chats got it 49 hours ago, as the ledger and Telegram both say.
    old = range(FIRST_CHAT, FIRST_CHAT + 100)
    _age_chat_messages(sim, old, hours=49)
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.campaign_id == campaign_id, Delivery.chat_id < FIRST_CHAT + 100)
            .values(finished_at=utcnow() - timedelta(hours=49))
        )
    # Ten more are past the window on Telegram's clock only (the ledger's time was off): the
    # engine learns it from Telegram's answer. One user deleted the chat.
    _age_chat_messages(sim, range(FIRST_CHAT + 100, FIRST_CHAT + 110), hours=49)
    sim.world.bots[TARGET_TOKEN].chats[FIRST_CHAT + 199].messages.clear()

    async with sessionmaker() as session:
        preview = await after_send.recall_preview(session, campaign_id)
    assert preview is not None and (preview.recallable, preview.too_old, preview.messages) == (100, 100, 100)

    outcome, action_id = await after_send.recall(
        sessionmaker,
        pool,
        campaign_id,
        queue_name=queue_name,
        created_by=ADMIN_CHAT_ID,
        progress_chat_id=ADMIN_CHAT_ID,
        actor=CLI,
    )
    assert outcome is RecallOutcome.STARTED and action_id is not None
    action, counts = await _ended_recall(sessionmaker, action_id, workers)

    assert action.status is ActionStatus.COMPLETED
    assert counts == RecallCounts(total=200, deleted=89, gone=1, too_old=110)
    for chat_id in range(FIRST_CHAT + 110, FIRST_CHAT + 199):
        chat = sim.chat(TARGET_TOKEN, chat_id)
        assert chat.bot_messages == [] and chat.deleted == [1], chat_id
    for chat_id in range(FIRST_CHAT, FIRST_CHAT + 110):
        assert [m.text for m in sim.chat(TARGET_TOKEN, chat_id).bot_messages] == ["Price: 10 €, wrong"]
    assert sim.stats(TARGET_TOKEN).deletes == 89
    summary = await sim.wait_for_message(
        CONTROL_TOKEN, ADMIN_CHAT_ID, lambda m: (m.text or "").startswith("✅ Recall of campaign")
    )
    assert "Deleted: 89" in (summary.text or "") and "too old: 110" in (summary.text or "")
    progress = next(
        m
        for m in sim.chat(CONTROL_TOKEN, ADMIN_CHAT_ID).bot_messages
        if m.message_id == action.progress_message_id
    )
    assert "done" in (progress.text or "") and progress.buttons == []

    # A second recall is refused: it is done.
    again, same_id = await after_send.recall(
        sessionmaker, pool, campaign_id, queue_name=queue_name, actor=CLI
    )
    assert (again, same_id) == (RecallOutcome.ALREADY_RECALLED, action_id)


async def test_recall_of_a_sending_campaign_stops_it_first(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=400, rate_per_s=30)
    campaign_id = await new_campaign(sessionmaker, bot_id)
    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    await wait_until(
        lambda: delivered_at_least(sim, 40),
        what="some sent",
        logs=workers,
    )

    outcome, action_id = await after_send.recall(
        sessionmaker, pool, campaign_id, queue_name=queue_name, actor=CLI
    )
    assert outcome is RecallOutcome.STARTED and action_id is not None
    action, counts = await _ended_recall(sessionmaker, action_id, workers)

    assert action.status is ActionStatus.COMPLETED
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert campaign.status is CampaignStatus.CANCELLED and campaign.cancelled_count > 0
    delivered = sim.stats(TARGET_TOKEN).delivered_per_chat
    # Whatever arrived, also what was in flight when the recall began, is gone again.
    assert counts.deleted == campaign.successful_sents == len(delivered) == sim.stats(TARGET_TOKEN).deletes
    assert all(sim.chat(TARGET_TOKEN, chat_id).bot_messages == [] for chat_id in delivered)
    sent_rows = [row for row in await rows(sessionmaker, campaign_id) if row.status is DeliveryStatus.SENT]
    assert len(sent_rows) == counts.total


async def test_a_worker_killed_mid_recall_leaves_no_message_and_deletes_none_twice(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    (victim,) = workers.start(1)  # it sends, then runs the recall alone until it is killed
    users = 300
    campaign_id = await _sent_campaign(sessionmaker, sim, workers, pool, queue_name, users=users)
    sim.set_faults(TARGET_TOKEN, latency_mean_s=0.05, latency_jitter_s=0.02)

    outcome, action_id = await after_send.recall(
        sessionmaker, pool, campaign_id, queue_name=queue_name, actor=CLI
    )
    assert outcome is RecallOutcome.STARTED and action_id is not None

    async def mid_group() -> bool:
        """A third deleted, and the worker holds claimed steps now (a group under way)."""
        if sim.stats(TARGET_TOKEN).deletes < 90:
            return False
        claimed = await read(
            sessionmaker,
            lambda s: s.scalar(
                select(func.count()).where(
                    DeliveryAction.action_id == action_id,
                    DeliveryAction.status == DeliveryActionStatus.CLAIMED,
                )
            ),
        )
        return bool(claimed)

    await wait_until(mid_group, what="a third deleted, a group claimed", logs=workers)
    workers.kill(victim)
    workers.start(1)

    action, counts = await _ended_recall(sessionmaker, action_id, workers, timeout_s=90)

    assert action.status is ActionStatus.COMPLETED
    # Every message deleted, each once (a second delete of one finds it gone, and counts it deleted).
    assert counts == RecallCounts(total=users, deleted=users)
    assert sim.stats(TARGET_TOKEN).deletes == users
    for chat_id in range(FIRST_CHAT, FIRST_CHAT + users):
        chat = sim.chat(TARGET_TOKEN, chat_id)
        assert chat.bot_messages == [] and chat.deleted == [1], chat_id
    # The dead worker held claimed steps: they were tried again, and still counted as deleted.
    attempts = await read(
        sessionmaker,
        lambda s: s.scalars(select(DeliveryAction.attempts).where(DeliveryAction.action_id == action_id)),
    )
    assert max(attempts.all()) == 2


async def test_recall_from_the_cli(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    workers.start(1)
    campaign_id = await _sent_campaign(sessionmaker, sim, workers, pool, queue_name, users=30)
    _age_chat_messages(sim, range(FIRST_CHAT, FIRST_CHAT + 5), hours=49)
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.campaign_id == campaign_id, Delivery.chat_id < FIRST_CHAT + 5)
            .values(finished_at=utcnow() - timedelta(hours=49))
        )

    # Without --yes it only says what it would do.
    code, out, err = await broadcast_cli("campaigns", "recall", str(campaign_id), env=cli_env, cwd=tmp_path)
    assert code == 0, err
    assert (
        "delete its message from 25 chats (25 messages)" in out and "5 chats got it more than 48 hours" in out
    )
    assert "run again with --yes" in out and sim.stats(TARGET_TOKEN).deletes == 0

    code, out, err = await broadcast_cli(
        "campaigns", "recall", str(campaign_id), "--yes", env=cli_env, cwd=tmp_path
    )
    assert code == 0, err
    assert "25 chats, 5 too old to recall" in out
    async with sessionmaker() as session:
        action = await after_send.latest_recall(session, campaign_id)
    assert action is not None
    await _ended_recall(sessionmaker, action.id, workers)

    code, out, err = await broadcast_cli(
        "campaigns", "status", str(campaign_id), "--json", env=cli_env, cwd=tmp_path
    )
    assert code == 0, err
    recall = json.loads(out)["recall"]
    assert (recall["status"], recall["deleted"], recall["too_old"], recall["pending"]) == (
        "completed",
        25,
        5,
        0,
    )
    assert sim.stats(TARGET_TOKEN).deletes == 25

    code, out, err = await broadcast_cli(
        "campaigns", "recall", str(campaign_id), "--yes", env=cli_env, cwd=tmp_path
    )
    assert (code, err.strip()) == (1, f"broadcast: campaign #{campaign_id} was already recalled")
    code, out, err = await broadcast_cli("campaigns", "recall", "999999", "--yes", env=cli_env, cwd=tmp_path)
    assert (code, err.strip()) == (1, "broadcast: there is no campaign #999999")
    code, out, err = await broadcast_cli(
        "campaigns", "recall", str(campaign_id), "--stop", env=cli_env, cwd=tmp_path
    )
    assert (code, err.strip()) == (1, f"broadcast: campaign #{campaign_id} has no running recall to stop")
    code, out, err = await broadcast_cli(
        "campaigns", "recall", str(campaign_id), "--resume", env=cli_env, cwd=tmp_path
    )
    assert (code, err.strip()) == (1, f"broadcast: campaign #{campaign_id} has no paused recall to resume")


async def test_recall_of_an_album_deletes_every_item_and_its_buttons_message(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    items = []
    for kind, data in (("photo", b"\xff\xd8\xff\xe0 one " * 40), ("photo", b"\xff\xd8\xff\xe0 two " * 40)):
        message = sim.send_message(CONTROL_TOKEN, ADMIN_CHAT_ID, media=(kind, data))
        items.append(AlbumItem(Media.from_json({"kind": kind, **message[kind][-1]}), "", ()))
    buttons = parse_button_rows(["Shop - https://shop.example"])
    content = MessageContent("Tap below", album=tuple(items), buttons=buttons).to_json()
    bot_id = await add_audience(sessionmaker, sim, active=20)
    campaign_id = await new_campaign(sessionmaker, bot_id, content=content)
    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers, timeout_s=60)
    assert campaign.successful_sents == 20
    assert len(sim.chat(TARGET_TOKEN, FIRST_CHAT).bot_messages) == 3  # two items, the buttons' message

    async with sessionmaker() as session:
        preview = await after_send.recall_preview(session, campaign_id)
    assert preview is not None and (preview.recallable, preview.messages) == (20, 60)
    outcome, action_id = await after_send.recall(
        sessionmaker, pool, campaign_id, queue_name=queue_name, actor=CLI
    )
    assert outcome is RecallOutcome.STARTED and action_id is not None
    _, counts = await _ended_recall(sessionmaker, action_id, workers)

    assert counts == RecallCounts(total=20, deleted=20)
    for chat_id in range(FIRST_CHAT, FIRST_CHAT + 20):
        chat = sim.chat(TARGET_TOKEN, chat_id)
        assert chat.bot_messages == [] and sorted(chat.deleted) == [1, 2, 3], chat_id
    assert sim.stats(TARGET_TOKEN).deletes == 60


async def test_recall_refusals_and_a_second_recall_while_one_runs(
    sessionmaker: async_sessionmaker[AsyncSession], sim: Simulator, pool: ArqRedis, queue_name: str
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=3)
    scheduled = await new_campaign(sessionmaker, bot_id, text="Later")
    sent = await new_campaign(sessionmaker, bot_id, text="Sent")
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Campaign)
            .where(Campaign.id == scheduled)
            .values(status=CampaignStatus.SCHEDULED, scheduled_at=utcnow() + timedelta(hours=2))
        )
        await session.execute(
            update(Campaign)
            .where(Campaign.id == sent)
            .values(status=CampaignStatus.COMPLETED, successful_sents=3, total_recipients=3)
        )
        users = (await session.execute(select(User.id, User.chat_id).where(User.bot_id == bot_id))).all()
        session.add_all(
            Delivery(
                campaign_id=sent,
                user_id=user_id,
                chat_id=chat_id,
                status=DeliveryStatus.SENT,
                telegram_message_id=1,
                finished_at=utcnow(),
            )
            for user_id, chat_id in users
        )

    # Nothing delivered: refused, and the scheduled campaign is left as it was.
    assert await after_send.recall(sessionmaker, pool, scheduled, queue_name=queue_name, actor=CLI) == (
        RecallOutcome.NOTHING_SENT,
        None,
    )
    assert (await get_campaign(sessionmaker, scheduled)).status is CampaignStatus.SCHEDULED
    assert await after_send.recall(sessionmaker, pool, 999_999, queue_name=queue_name, actor=CLI) == (
        RecallOutcome.MISSING,
        None,
    )

    # Two admins confirm at once: one recall; the other is told about the running one.
    first, second = await asyncio.gather(
        after_send.recall(sessionmaker, pool, sent, queue_name=queue_name, actor=CLI),
        after_send.recall(sessionmaker, pool, sent, queue_name=queue_name, actor=CLI),
    )
    assert sorted([first[0], second[0]]) == [RecallOutcome.RUNNING, RecallOutcome.STARTED]
    async with sessionmaker() as session:
        running = await after_send.latest_recall(session, sent)
    assert running is not None and first[1] in (running.id, None) and second[1] in (running.id, None)
    assert await after_send.recall(sessionmaker, pool, sent, queue_name=queue_name, actor=CLI) == (
        RecallOutcome.RUNNING,
        running.id,
    )
    # Paused counts as running; a stopped one may be asked for again.
    assert await after_send.pause_recall(sessionmaker, running.id)
    assert (await after_send.recall(sessionmaker, pool, sent, queue_name=queue_name, actor=CLI))[
        0
    ] is RecallOutcome.RUNNING
    assert await after_send.cancel_recall(sessionmaker, running.id)
    assert not await after_send.cancel_recall(sessionmaker, running.id)
    again, again_id = await after_send.recall(sessionmaker, pool, sent, queue_name=queue_name, actor=CLI)
    assert again is RecallOutcome.STARTED and again_id != running.id
