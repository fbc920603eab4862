"""The live progress message and the final summary, sent through the control bot.

At most one edit per campaign every `progress_interval_s` across all workers (a Redis lock),
none when the text did not change; a 429 on an edit holds the lock for `retry_after`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.context import EngineContext
from jobs.engine import deliveries
from jobs.engine.route import Outage
from jobs.engine.sendclient import BotAPIError, BotAPINetworkError
from models import Campaign, CampaignStatus, TargetBot
from panel import groups, i18n, texts
from panel.admins import language_of
from panel.campaigns import Counters, get_campaign
from panel.exports import outcome_series
from panel.progress import ProgressView, SummaryView, progress_markup, render_progress, render_summary
from panel.report_chart import OutcomeSeries, draw_report_chart

logger = logging.getLogger(__name__)

FINAL_EDIT_WAIT_S = 120.0
"""How long the final edit waits for its turn (edit interval, or a 429 on the previous edit)."""


CHART_TIMEOUT_S = 120.0
"""How long the report chart under the summary may take (read, draw, upload) before it is dropped."""


async def _send_report_chart(ectx: EngineContext, campaign: Campaign, chat_id: int) -> None:
    """The report chart of an ended campaign as a photo, under its summary; failures are logged."""
    try:
        await asyncio.wait_for(_draw_and_send_chart(ectx, campaign, chat_id), CHART_TIMEOUT_S)
    except Exception:  # a timeout included
        logger.exception("campaign %s: report chart not sent", campaign.id)


async def _draw_and_send_chart(ectx: EngineContext, campaign: Campaign, chat_id: int) -> None:
    bot = ectx.control_bot
    if bot is None:
        return

    async def read(session: AsyncSession) -> OutcomeSeries:
        return await outcome_series(session, campaign)

    series = await ectx.in_transaction(read)
    name = f" “{campaign.name}”" if campaign.name else ""
    with i18n.speaking(await admin_language(ectx, chat_id)):  # the thread runs in this context too
        png = await asyncio.to_thread(draw_report_chart, series)
        caption = texts.REPORT_CHART_CAPTION.format(campaign_id=campaign.id, name=name)
    await bot.upload(
        "sendPhoto",
        {"chat_id": chat_id, "caption": caption},
        field="photo",
        data=png,
        filename=f"campaign-{campaign.id}.png",
        timeout_s=CHART_TIMEOUT_S,
    )


def _lock_key(ectx: EngineContext, campaign_id: int) -> str:
    return ectx.keys.progress(campaign_id, "lock")


def _text_key(ectx: EngineContext, campaign_id: int) -> str:
    return ectx.keys.progress(campaign_id, "text")


def _sample_key(ectx: EngineContext, campaign_id: int) -> str:
    return ectx.keys.progress(campaign_id, "sample")


async def _load_with_group(ectx: EngineContext, campaign_id: int) -> tuple[Campaign | None, tuple[str, ...]]:
    """The campaign and, for one of a group, the lines naming its bot and each bot's share."""

    async def read(session: AsyncSession) -> tuple[Campaign | None, tuple[str, ...]]:
        campaign = await get_campaign(session, campaign_id)
        if campaign is None:
            return None, ()
        return campaign, await groups.group_lines(session, campaign)

    return await ectx.in_transaction(read)


async def _measured_rate(ectx: EngineContext, campaign: Campaign) -> float | None:
    """Finished recipients per second since the previous sample (kept in Redis)."""
    now = time.time()
    finished = Counters.of(campaign).finished
    key = _sample_key(ectx, campaign.id)
    previous = await ectx.redis.hgetall(key)  # type: ignore[misc]
    await ectx.redis.hset(key, mapping={"t": now, "finished": finished})  # type: ignore[misc]
    await ectx.redis.expire(key, 86400)
    if not previous:
        return None
    then, done_then = float(previous[b"t"]), int(previous[b"finished"])
    if now - then < 0.5:
        return None
    return max(finished - done_then, 0) / (now - then)


def _view(
    campaign: Campaign, rate: float | None, outage: Outage | None = None, group_lines: tuple[str, ...] = ()
) -> ProgressView:
    # An outage is told while it lasts, and afterwards if the campaign was sending during it.
    during = outage is not None and (
        outage.until is None or campaign.started_at is None or outage.until >= campaign.started_at
    )
    return ProgressView(
        campaign_id=campaign.id,
        name=campaign.name,
        status=campaign.status,
        counters=Counters.of(campaign),
        rate_per_s=rate,
        reason=campaign.status_reason,
        unreachable_since=outage.since if outage is not None and during else None,
        unreachable_until=outage.until if outage is not None and during else None,
        group_lines=group_lines,
    )


async def _outage(ectx: EngineContext, campaign: Campaign) -> Outage | None:
    """The outage of the campaign's token's route now, else its last one (`jobs.engine.route`)."""

    async def sealed_token(session: AsyncSession) -> str | None:
        return await session.scalar(select(TargetBot.sealed_token).where(TargetBot.id == campaign.bot_id))

    sealed = await ectx.in_transaction(sealed_token)
    if sealed is None:
        return None
    try:
        return await ectx.route.last_outage(ectx.open_token(sealed))
    except Exception as exc:  # the progress message goes on without it
        logger.debug("campaign %s: route state not read: %s", campaign.id, exc)
        return None


async def admin_language(ectx: EngineContext, chat_id: int | None) -> str:
    """The language to write to the admin of `chat_id` in (English when there is nobody)."""
    if chat_id is None:
        return i18n.ENGLISH

    async def read(session: AsyncSession) -> str:
        return await language_of(session, chat_id)

    return await ectx.in_transaction(read)


async def send_progress_message(ectx: EngineContext, campaign_id: int) -> None:
    """Post the progress message of a campaign that has a progress chat and none yet."""
    bot = ectx.control_bot
    campaign, group_lines = await _load_with_group(ectx, campaign_id)
    if bot is None or campaign is None or campaign.progress_chat_id is None or campaign.progress_message_id:
        return
    with i18n.speaking(await admin_language(ectx, campaign.progress_chat_id)):
        text = render_progress(_view(campaign, None, group_lines=group_lines))
        markup = progress_markup(campaign.id, campaign.status)
    try:
        message = await bot.send_message(campaign.progress_chat_id, text, **_markup(markup))
    except (BotAPIError, BotAPINetworkError) as exc:
        logger.warning("campaign %s: progress message not sent: %s", campaign_id, exc)
        return

    async def store(session: AsyncSession) -> None:
        await session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.progress_message_id.is_(None))
            .values(progress_message_id=int(message["message_id"]))
            .execution_options(synchronize_session=False)
        )

    await ectx.in_transaction(store)
    await ectx.redis.set(_text_key(ectx, campaign_id), _digest(text, campaign.status), ex=86400)


def _markup(markup: dict[str, Any] | None) -> dict[str, Any]:
    """`reply_markup=...` when there are buttons; an edit without it removes them."""
    return {} if markup is None else {"reply_markup": markup}


def _digest(text: str, status: CampaignStatus) -> str:
    return hashlib.sha1(f"{status}\n{text}".encode()).hexdigest()


async def _take_edit_turn(ectx: EngineContext, campaign_id: int, interval_ms: int, *, wait: bool) -> bool:
    """Take the campaign's edit slot (one edit per interval across workers); `wait` for it if busy."""
    deadline = time.monotonic() + FINAL_EDIT_WAIT_S
    while True:
        if await ectx.redis.set(_lock_key(ectx, campaign_id), b"1", nx=True, px=interval_ms):
            return True
        if not wait or time.monotonic() > deadline:
            return False
        remaining_ms = await ectx.redis.pttl(_lock_key(ectx, campaign_id))
        await asyncio.sleep(min(max(remaining_ms, 50), 5000) / 1000)


async def update_progress(ectx: EngineContext, campaign_id: int, *, final: bool = False) -> None:
    """Edit the progress message if the interval allows and the text changed (final: always try)."""
    bot = ectx.control_bot
    if bot is None:
        return
    interval_ms = max(int(ectx.settings.progress_interval_s * 1000), 1)
    if not await _take_edit_turn(ectx, campaign_id, interval_ms, wait=final):
        return
    campaign, group_lines = await _load_with_group(ectx, campaign_id)
    if campaign is None or campaign.progress_chat_id is None or campaign.progress_message_id is None:
        return
    rate = None if final else await _measured_rate(ectx, campaign)
    outage = await _outage(ectx, campaign) if campaign.status is CampaignStatus.SENDING else None
    with i18n.speaking(await admin_language(ectx, campaign.progress_chat_id)):
        text = render_progress(_view(campaign, rate, outage, group_lines))
        markup = progress_markup(campaign.id, campaign.status)
    digest = _digest(text, campaign.status)
    if await ectx.redis.get(_text_key(ectx, campaign_id)) == digest.encode():
        return
    try:
        await bot.edit_message_text(
            text=text,
            chat_id=campaign.progress_chat_id,
            message_id=campaign.progress_message_id,
            **_markup(markup),
        )
    except BotAPIError as exc:
        if exc.retry_after_s is not None:
            await ectx.redis.set(
                _lock_key(ectx, campaign_id), b"1", px=int(exc.retry_after_s * 1000) + interval_ms
            )
            if final:  # the last state must get through: wait the pause out, then try again
                await update_progress(ectx, campaign_id, final=True)
            return
        if "message is not modified" not in exc.description:
            logger.warning("campaign %s: progress edit refused: %s", campaign_id, exc.description)
            return
    except BotAPINetworkError as exc:
        logger.warning("campaign %s: progress edit failed: %s", campaign_id, exc)
        return
    await ectx.redis.set(_text_key(ectx, campaign_id), digest, ex=86400)


async def send_summary(ectx: EngineContext, campaign_id: int) -> None:
    """Final edit of the progress message and the summary message of an ended campaign."""
    campaign, group_lines = await _load_with_group(ectx, campaign_id)
    if campaign is None:
        return

    async def errors(session: AsyncSession) -> list[tuple[str, int]]:
        return await deliveries.error_breakdown(session, campaign_id)

    breakdown = await ectx.in_transaction(errors)
    await update_progress(ectx, campaign_id, final=True)
    bot = ectx.control_bot
    if bot is None or campaign.progress_chat_id is None:
        return
    with i18n.speaking(await admin_language(ectx, campaign.progress_chat_id)):
        text = render_summary(SummaryView.of(campaign, breakdown, group_lines=group_lines))
    try:
        await bot.send_message(campaign.progress_chat_id, text)
    except (BotAPIError, BotAPINetworkError) as exc:
        logger.warning("campaign %s: summary not sent: %s", campaign_id, exc)
    # After the text, in the background: the job that ended the campaign (a batch, the
    # reconcile cron) goes on at once, and a chart that fails costs the admin nothing else.
    ectx.spawn(_send_report_chart(ectx, campaign, campaign.progress_chat_id))
    with contextlib.suppress(Exception):
        await ectx.redis.delete(
            _lock_key(ectx, campaign_id), _text_key(ectx, campaign_id), _sample_key(ectx, campaign_id)
        )


async def notify_admin(ectx: EngineContext, chat_id: int | None, text: str) -> None:
    """Tell an admin something through the control bot; failures are logged, not raised."""
    if ectx.control_bot is None or chat_id is None:
        logger.info("no control bot or admin to tell: %s", text)
        return
    try:
        await ectx.control_bot.send_message(chat_id, text)
    except (BotAPIError, BotAPINetworkError) as exc:
        logger.warning("could not tell admin %s: %s", chat_id, exc)
