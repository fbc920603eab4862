"""A/B tests in the database alone (no workers): the freeze records each recipient's group, the
snapshot sends each group its own message, and a retry of a test's failed keeps their groups."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.engine.deliveries import freeze_audience
from jobs.engine.snapshot import load_snapshot
from models import Campaign, CampaignStatus, Delivery, DeliveryStatus, TargetBot, User, utcnow
from panel import abtest, transitions
from panel.abtest import HOLDOUT, REST, Measure, Split
from panel.content import MessageContent
from tests.support.keys import sealed

SPLIT = Split((30, 30), 20)


async def _test_campaign(session: AsyncSession, users: int) -> Campaign:
    bot = TargetBot(codename="news", sealed_token=sealed("1:x"))
    session.add(bot)
    await session.flush()
    session.add_all(User(bot_id=bot.id, chat_id=5000 + n) for n in range(users))
    campaign = Campaign(bot_id=bot.id, content=MessageContent("Variant A").to_json())
    session.add(campaign)
    await session.flush()
    assert await abtest.configure(
        session,
        campaign.id,
        contents=[MessageContent("Variant B").to_json()],
        split=SPLIT,
        window=timedelta(hours=1),
        measure=Measure.CLICKS,
    )
    return campaign


async def _rows(session: AsyncSession, campaign_id: int) -> list[Delivery]:
    found = await session.scalars(
        select(Delivery).where(Delivery.campaign_id == campaign_id).order_by(Delivery.id)
    )
    return list(found.all())


async def test_the_freeze_records_the_groups_and_the_snapshot_sends_each_its_message(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        campaign = await _test_campaign(session, 200)
        campaign_id, seed = campaign.id, campaign.ab_seed
        started = await freeze_audience(session, campaign_id)
    assert seed is not None
    async with sessionmaker() as session:
        rows = await _rows(session, campaign_id)
        stored = await session.get(Campaign, campaign_id)
        loaded = await load_snapshot(session, campaign_id)
    assert stored is not None and loaded is not None
    groups = Counter(row.variant for row in rows)
    assert {row.chat_id: row.variant for row in rows} == {
        row.chat_id: abtest.assign(seed, row.chat_id, SPLIT) for row in rows
    }
    status_of = {"A": DeliveryStatus.PENDING, "B": DeliveryStatus.PENDING}
    status_of |= {HOLDOUT: DeliveryStatus.HELD_OUT, REST: DeliveryStatus.WAITING}
    assert all(row.status is status_of[str(row.variant)] for row in rows)
    assert started.total == stored.total_recipients == 200 - groups[HOLDOUT]
    assert stored.held_out_count == groups[HOLDOUT]
    # Before the decision the batches send A and B only; then the rest, with the winner's message.
    snapshot = loaded[0]
    assert [(g.variant, g.content["text"], g.link_first_index) for g in snapshot.groups()] == [
        ("A", "Variant A", 0),
        ("B", "Variant B", abtest.LINK_INDEX_STRIDE),
    ]
    async with sessionmaker.begin() as session:
        assert await abtest.decide(session, campaign_id, "b") == groups[REST]
        assert await abtest.decide(session, campaign_id, "A") is None  # decided once
    async with sessionmaker() as session:
        loaded = await load_snapshot(session, campaign_id)
        rows = await _rows(session, campaign_id)
    assert loaded is not None
    assert [(g.variant, g.content["text"]) for g in loaded[0].groups()][-1] == (REST, "Variant B")
    assert all(row.status is DeliveryStatus.PENDING for row in rows if row.variant == REST)
    # A cancel cancels the pending (the released rest with them); the holdout stays held out.
    async with sessionmaker.begin() as session:
        assert await transitions.cancel(session, campaign_id)
    async with sessionmaker() as session:
        statuses = Counter(row.status for row in await _rows(session, campaign_id))
        stored = await session.get(Campaign, campaign_id)
    assert statuses == {
        DeliveryStatus.CANCELLED: 200 - groups[HOLDOUT],
        DeliveryStatus.HELD_OUT: groups[HOLDOUT],
    }
    assert stored is not None and stored.finished_count == stored.total_recipients


async def test_a_retry_of_a_tests_failed_keeps_each_recipients_group(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        parent = await _test_campaign(session, 120)
        await freeze_audience(session, parent.id)
        await abtest.decide(session, parent.id, "B")
        rows = await _rows(session, parent.id)
        for row in rows:  # every one sent reached but a transient failure in each group
            if row.status is DeliveryStatus.PENDING:
                row.status, row.finished_at = DeliveryStatus.SENT, utcnow()
        failed = {}
        for group in ("A", "B", REST):
            row = next(r for r in rows if r.variant == group)
            row.status, row.last_error_code, row.last_error = DeliveryStatus.FAILED, 502, "Bad Gateway"
            failed[row.chat_id] = group
        parent.status = CampaignStatus.COMPLETED
        await session.flush()
        await session.refresh(parent)  # the decision was written past the ORM
        child = Campaign(bot_id=parent.bot_id, content=dict(parent.content), parent_id=parent.id)
        session.add(child)
        await session.flush()
        await abtest.inherit(session, parent, child)
        child_id = child.id
        await freeze_audience(session, child_id)
    async with sessionmaker() as session:
        retried = {row.chat_id: row.variant for row in await _rows(session, child_id)}
        loaded = await load_snapshot(session, child_id)
    assert retried == failed
    assert loaded is not None
    sends = {g.variant: g.content["text"] for g in loaded[0].groups()}
    assert sends == {"A": "Variant A", "B": "Variant B", REST: "Variant B"}
