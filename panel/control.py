"""What the control bot does, as plain functions: audiences, starting, resuming, one-time claims.

The control bot's handlers stay thin by calling these. Functions that take a session never
commit; the ones that take a sessionmaker are whole use cases and commit their own work.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import UNSTARTED_CAMPAIGN_STATUSES, Campaign, TargetBot, User
from panel import campaigns as lifecycle
from panel import transitions
from panel.bots import bot_summaries
from panel.queue import enqueue_resume, enqueue_start

logger = logging.getLogger(__name__)

KEY_PREFIX = "bot"
# Long enough to absorb double taps and two admins confirming together; short enough that a
# start lost with a stopped worker can be confirmed again (the engine's start is a CAS anyway).
START_CLAIM_TTL_S = 60


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a campaign through `bot` would reach now, and how long sending takes."""

    bot: TargetBot
    available: int
    excluded: int
    rate_per_s: int
    duration: timedelta


@dataclass(frozen=True, slots=True)
class CampaignView:
    """A campaign with its target bot and current audience, for cards and confirmations."""

    campaign: Campaign
    audience: Audience


class StartOutcome(enum.StrEnum):
    """What happened when an admin confirmed "send now"."""

    STARTED = "started"
    ALREADY_CLAIMED = "already_claimed"
    MOVED_ON = "moved_on"
    MISSING = "missing"


def bot_label(bot: TargetBot) -> str:
    """How a target bot is named to admins: `news (@news_bot)`."""
    return f"{bot.codename} (@{bot.username})" if bot.username else bot.codename


def _audience(bot: TargetBot, *, users: int, available: int) -> Audience:
    rate = lifecycle.effective_rate(bot)
    return Audience(
        bot=bot,
        available=available,
        excluded=max(users - available, 0),
        rate_per_s=rate,
        duration=lifecycle.estimate_duration(available, rate),
    )


async def audience_of(session: AsyncSession, bot: TargetBot, platform: str = "telegram") -> Audience:
    """The audience of `bot` now: available users, those left out, and the sending time."""
    users, available = (
        await session.execute(
            select(func.count(), func.count().filter(User.is_unavailable.is_(False))).where(
                User.bot_id == bot.id, User.platform == platform
            )
        )
    ).one()
    return _audience(bot, users=int(users), available=int(available or 0))


async def bot_audiences(session: AsyncSession) -> list[Audience]:
    """Every target bot with its audience, by codename (one query for all of them)."""
    return [
        _audience(item.bot, users=item.users, available=item.available)
        for item in await bot_summaries(session)
    ]


async def campaign_view(session: AsyncSession, campaign_id: int) -> CampaignView | None:
    """The campaign `campaign_id` with its bot and audience, or None if it does not exist."""
    campaign = await lifecycle.get_campaign(session, campaign_id)
    if campaign is None:
        return None
    bot = await lifecycle.get_bot(session, campaign.bot_id)
    if bot is None:  # pragma: no cover - the foreign key forbids it
        return None
    return CampaignView(campaign=campaign, audience=await audience_of(session, bot, campaign.platform))


async def startable_campaigns(session: AsyncSession, *, limit: int = 10) -> Sequence[Campaign]:
    """Drafts and scheduled campaigns, newest first: what "send now" can pick from."""
    found, _ = await lifecycle.list_campaigns(session, statuses=UNSTARTED_CAMPAIGN_STATUSES, limit=limit)
    return found


async def claim_once(redis: Redis, key: str, *, ttl_s: int, namespace: str) -> bool:
    """Whether this caller is the first to claim `key` (within `ttl_s`); later callers get False.

    `namespace` is the deployment's queue name, so deployments sharing a Redis stay apart.
    """
    return bool(await redis.set(f"{namespace}:{KEY_PREFIX}:{key}", "1", nx=True, ex=ttl_s))


async def release_claim(redis: Redis, key: str, *, namespace: str) -> None:
    """Forget a claim, so the action can be tried again."""
    await redis.delete(f"{namespace}:{KEY_PREFIX}:{key}")


async def start_now(
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    arq_pool: ArqRedis,
    campaign_id: int,
    *,
    progress_chat_id: int,
    queue_name: str,
) -> StartOutcome:
    """Start a draft or scheduled campaign now, with its live progress in `progress_chat_id`.

    A repeated confirmation (double tap, two admins) starts it once: the first caller claims
    the start in Redis, and the engine's own start is a compare-and-set as well.
    """
    if not await claim_once(redis, f"start:{campaign_id}", ttl_s=START_CLAIM_TTL_S, namespace=queue_name):
        return StartOutcome.ALREADY_CLAIMED
    try:
        async with sessionmaker() as session, session.begin():
            campaign = await lifecycle.get_campaign(session, campaign_id)
            if campaign is None:
                outcome = StartOutcome.MISSING
            elif campaign.status not in UNSTARTED_CAMPAIGN_STATUSES:
                outcome = StartOutcome.MOVED_ON
            else:
                await lifecycle.set_progress_target(session, campaign_id, progress_chat_id)
                outcome = StartOutcome.STARTED
        if outcome is StartOutcome.STARTED:
            await enqueue_start(arq_pool, campaign_id, queue_name=queue_name)
            logger.info("campaign %s: start requested, progress to chat %s", campaign_id, progress_chat_id)
        else:
            await release_claim(redis, f"start:{campaign_id}", namespace=queue_name)
        return outcome
    except BaseException:
        await release_claim(redis, f"start:{campaign_id}", namespace=queue_name)
        raise


async def resume_now(
    sessionmaker: async_sessionmaker[AsyncSession], arq_pool: ArqRedis, campaign_id: int, *, queue_name: str
) -> bool:
    """Let a paused campaign send again; False if it is not paused (any more) or does not exist."""
    if not lifecycle.is_row_id(campaign_id):
        return False
    async with sessionmaker() as session, session.begin():
        resumed = await transitions.resume(session, campaign_id)
    if resumed:
        await enqueue_resume(arq_pool, campaign_id, queue_name=queue_name)
        logger.info("campaign %s: resume requested", campaign_id)
    return resumed
