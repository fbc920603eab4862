"""The chaos run's side of the database: prepare it, give it an audience and a campaign, watch the
campaign's progress, and read the record the audit compares with the simulator's."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.chaos_audit import COUNTER_COLUMNS, DatabaseRecord, DeliveryFact
from bench.chaos_plan import FIRST_CHAT_ID, TARGET_TOKEN, ChaosPlan
from bench.secret import sealed
from models import CampaignStatus, Delivery, DeliveryStatus, TargetBot, User
from panel import campaigns
from panel.content import MessageContent
from panel.db import create_engine, is_sqlite
from panel.migrations import upgrade

logger = logging.getLogger("bench.chaos")

T = TypeVar("T")


async def prepare_database(database_url: str, *, fresh: bool) -> None:
    """Create a PostgreSQL database if missing, empty it when `fresh`, and migrate it to head."""
    if not is_sqlite(database_url):
        url = make_url(database_url)
        admin = create_engine(url.set(database="postgres").render_as_string(hide_password=False))
        try:
            async with admin.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
                exists = await connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
                )
                if not exists:
                    await connection.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
        finally:
            await admin.dispose()
        if fresh:
            engine = create_engine(database_url)
            try:
                async with engine.begin() as connection:
                    await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                    await connection.execute(text("CREATE SCHEMA public"))
            finally:
                await engine.dispose()
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def with_retries(work: Callable[[], Awaitable[T]], *, give_up_s: float = 120.0) -> T:
    """Run a read of the harness again while the database is away (the harness is a client too)."""
    deadline = time.monotonic() + give_up_s
    while True:
        try:
            return await work()
        except Exception as exc:
            if time.monotonic() > deadline:
                raise
            logger.info("harness read failed (%s); retrying", type(exc).__name__)
            await asyncio.sleep(0.5)


async def add_audience(
    sessionmaker: async_sessionmaker[AsyncSession], plan: ChaosPlan
) -> tuple[int, list[int], frozenset[int]]:
    """A paid target bot and its users; returns (bot id, every chat id, the blocked chat ids)."""
    chat_ids = list(range(FIRST_CHAT_ID, FIRST_CHAT_ID + plan.recipients))
    rng = random.Random(plan.seed)
    blocked = frozenset(rng.sample(chat_ids, round(plan.recipients * plan.blocked_share)))
    async with sessionmaker.begin() as session:
        bot = TargetBot(
            codename=f"chaos{uuid.uuid4().hex[:6]}",
            sealed_token=sealed(TARGET_TOKEN),
            rate_per_s=plan.rate_per_s,
            paid_broadcast=True,
        )
        session.add(bot)
        await session.flush()
        bot_id = bot.id
        for start in range(0, len(chat_ids), 5000):
            await session.execute(
                insert(User),
                [{"bot_id": bot_id, "chat_id": chat_id} for chat_id in chat_ids[start : start + 5000]],
            )
    return bot_id, chat_ids, blocked


async def new_campaign(sessionmaker: async_sessionmaker[AsyncSession], bot_id: int) -> int:
    """A DRAFT campaign to the bot's users."""
    async with sessionmaker.begin() as session:
        campaign = await campaigns.create_campaign(
            session,
            bot_id=bot_id,
            content=MessageContent(text="Chaos run: every recipient exactly once"),
            name="chaos",
        )
        return campaign.id


async def read_progress(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int
) -> tuple[CampaignStatus, int, int]:
    """(status, recipients in a final state, total) from the campaign's counters."""
    async with sessionmaker() as session:
        campaign = await campaigns.get_campaign(session, campaign_id)
        assert campaign is not None
        return campaign.status, campaign.finished_count, campaign.total_recipients


async def unfinished_rows(sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int) -> int:
    """Rows still pending or sending."""
    async with sessionmaker() as session:
        counts = await campaigns.delivery_counts(session, campaign_id)
    return counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0)


async def rows_claimed_by_pid(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int, pid: int
) -> int:
    """Rows in `sending` claimed by the worker process `pid` (worker ids read `host:pid:nonce`)."""
    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).where(
                Delivery.campaign_id == campaign_id,
                Delivery.status == DeliveryStatus.SENDING,
                Delivery.claimed_by.like(f"%:{pid}:%"),
            )
        )
    return int(count or 0)


async def read_database_record(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int, bot_id: int
) -> DatabaseRecord:
    """Everything the audit needs from the database."""
    async with sessionmaker() as session:
        campaign = await campaigns.get_campaign(session, campaign_id)
        assert campaign is not None
        result = await session.execute(
            select(Delivery.chat_id, Delivery.user_id, Delivery.status, Delivery.last_error).where(
                Delivery.campaign_id == campaign_id
            )
        )
        deliveries = [DeliveryFact(int(c), int(u), DeliveryStatus(s), e) for c, u, s, e in result.all()]
        users = (
            await session.execute(select(User.chat_id, User.is_unavailable).where(User.bot_id == bot_id))
        ).all()
    return DatabaseRecord(
        campaign_status=CampaignStatus(campaign.status),
        total_recipients=campaign.total_recipients,
        counters={status: int(getattr(campaign, column)) for status, column in COUNTER_COLUMNS.items()},
        deliveries=deliveries,
        audience_users=len(users),
        unavailable_chat_ids=frozenset(int(chat) for chat, unavailable in users if unavailable),
    )
