"""Reading a campaign's delivery ledger out: the CSV export and the report chart's series.

Both stream the ledger with a server-side cursor (`yield_per`): a campaign of a million
recipients goes out a chunk at a time, never whole in memory. Functions take an `AsyncSession`
and never commit; the caller owns the transaction (asyncpg's cursors need one open).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import UNSUCCESSFUL_DELIVERY_STATUSES, Campaign, Delivery, DeliveryStatus
from models.tables import LinkClick, LinkTargetRow
from panel import texts
from panel.block_rate import block_rate, render_block_rate
from panel.campaign_events import Span, sending_events
from panel.campaigns import MAX_ROW_ID, CampaignError
from panel.link_stats import click_stats, render_clicks
from panel.progress import SummaryView, render_summary
from panel.report_chart import CHART_OUTCOMES, OutcomeSeries, bucket_size_s

EXPORT_COLUMNS: tuple[str, ...] = (
    "chat_id",
    "status",
    "error_code",
    "error",
    "attempts",
    "finished_at",
    "telegram_message_id",
    "telegram_message_ids",
    "variant",
    "clicked",
)
"""The CSV header. Columns are only ever appended, so a spreadsheet built on these keeps working.
`variant`: the recipient's A/B test group (A-D, holdout, rest; empty when it is no test);
`clicked`: 1 when the recipient opened any of the campaign's tracked links, else 0."""

MAX_CAPTION_CHARS = 1024
"""Telegram's limit on a photo's or document's caption, in UTF-16 code units."""

EXPORT_CHUNK_ROWS = 5000
"""Rows fetched per round trip and written per yielded chunk."""


async def exportable_campaign(session: AsyncSession, campaign_id: int) -> Campaign:
    """The campaign whose ledger can be exported or charted; `CampaignError` (for the admin) when
    there is no such campaign or it has no deliveries yet (a draft, a scheduled campaign)."""
    campaign = await session.get(Campaign, campaign_id) if 0 < campaign_id <= MAX_ROW_ID else None
    if campaign is None:
        raise CampaignError(texts.REPORT_NO_CAMPAIGN.format(campaign_id=campaign_id))
    has_rows = await session.scalar(select(Delivery.id).where(Delivery.campaign_id == campaign_id).limit(1))
    if has_rows is None:
        raise CampaignError(
            texts.REPORT_NO_DELIVERIES.format(campaign_id=campaign_id, status=campaign.status.value)
        )
    return campaign


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _message_ids(ids: Sequence[int] | None) -> str:
    return " ".join(str(message_id) for message_id in ids) if ids else ""


def _csv_row(row: Any) -> tuple[object, ...]:
    chat_id, status, error_code, error, attempts, finished_at, message_id, message_ids, variant, clicked = row
    return (
        chat_id,
        DeliveryStatus(status).value,
        "" if error_code is None else error_code,
        error or "",
        attempts,
        _iso(finished_at),
        "" if message_id is None else message_id,
        _message_ids(message_ids),
        variant or "",
        1 if clicked else 0,
    )


async def export_csv(
    session: AsyncSession, campaign_id: int, *, chunk_rows: int = EXPORT_CHUNK_ROWS
) -> AsyncIterator[str]:
    """The campaign's ledger as CSV text in chunks (the header first), one row per recipient in
    ledger order; times are ISO 8601 UTC, an album's message ids are separated by spaces."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    clickers = (
        select(LinkClick.chat_id).where(LinkClick.campaign_id == campaign_id).distinct().subquery("clickers")
    )
    statement = (
        select(
            Delivery.chat_id,
            Delivery.status,
            Delivery.last_error_code,
            Delivery.last_error,
            Delivery.attempts,
            Delivery.finished_at,
            Delivery.telegram_message_id,
            Delivery.telegram_message_ids,
            Delivery.variant,
            clickers.c.chat_id.is_not(None),
        )
        .outerjoin(clickers, clickers.c.chat_id == Delivery.chat_id)
        .where(Delivery.campaign_id == campaign_id)
        .order_by(Delivery.id)
        .execution_options(yield_per=chunk_rows)
    )
    result = await session.stream(statement)
    async for partition in result.partitions():
        writer.writerows(_csv_row(row) for row in partition)
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    if out.tell():
        yield out.getvalue()


async def outcome_series(session: AsyncSession, campaign: Campaign) -> OutcomeSeries:
    """Finished recipients of `campaign` per time bucket and outcome, from `finished_at`; the
    bucket is a second, or coarser for a long campaign (see `bucket_size_s`). With them, the
    campaign's pauses and 429 waits and, when it has tracked links, its clicks per bucket."""
    first, last = (
        await session.execute(
            select(func.min(Delivery.finished_at), func.max(Delivery.finished_at)).where(
                Delivery.campaign_id == campaign.id, Delivery.finished_at.is_not(None)
            )
        )
    ).one()
    if first is None or last is None:
        return OutcomeSeries(campaign.id, campaign.name, None, 1, {})
    bucket_s = bucket_size_s((last - first).total_seconds())
    buckets = math.floor((last - first).total_seconds() / bucket_s) + 1
    counts = {outcome: [0] * buckets for outcome in CHART_OUTCOMES}
    statement = (
        select(Delivery.finished_at, Delivery.status)
        .where(Delivery.campaign_id == campaign.id, Delivery.finished_at.is_not(None))
        .execution_options(yield_per=EXPORT_CHUNK_ROWS)
    )
    result = await session.stream(statement)
    async for partition in result.partitions():
        for finished_at, status in partition:
            row_counts = counts.get(DeliveryStatus(status))
            if row_counts is not None and finished_at is not None:
                index = min(int((finished_at - first).total_seconds() // bucket_s), buckets - 1)
                row_counts[index] += 1
    end_s = float(buckets * bucket_s)
    events = await sending_events(session, campaign.id)
    clicks, clicks_later = await _clicks_per_bucket(session, campaign.id, first, bucket_s, buckets)
    return OutcomeSeries(
        campaign.id,
        campaign.name,
        first,
        bucket_s,
        counts,
        pauses=_pause_offsets(events.pauses, first, end_s),
        flood_waits=[
            ((wait.start - first).total_seconds(), (wait.end - wait.start).total_seconds())
            for wait in events.flood_waits
            if wait.end is not None and 0 <= (wait.start - first).total_seconds() < end_s
        ],
        clicks=clicks,
        clicks_later=clicks_later,
    )


def _pause_offsets(pauses: Sequence[Span], start: datetime, end_s: float) -> list[tuple[float, float]]:
    """Each pause as seconds since `start`, cut to the chart's [0, end_s]; an unfinished pause
    lasts to the chart's end, one outside the chart is left out."""
    offsets = []
    for pause in pauses:
        from_s = max((pause.start - start).total_seconds(), 0.0)
        to_s = end_s if pause.end is None else min((pause.end - start).total_seconds(), end_s)
        if from_s < end_s and to_s > from_s:
            offsets.append((from_s, to_s))
    return offsets


async def _clicks_per_bucket(
    session: AsyncSession, campaign_id: int, start: datetime, bucket_s: int, buckets: int
) -> tuple[list[int] | None, int]:
    """Opens of the campaign's tracked links per bucket, and those after the last bucket;
    (None, 0) for a campaign without tracked links."""
    tracked = await session.scalar(
        select(LinkTargetRow.link_index).where(LinkTargetRow.campaign_id == campaign_id).limit(1)
    )
    if tracked is None:
        return None, 0
    clicks = [0] * buckets
    later = 0
    statement = (
        select(LinkClick.clicked_at)
        .where(LinkClick.campaign_id == campaign_id)
        .execution_options(yield_per=EXPORT_CHUNK_ROWS)
    )
    result = await session.stream(statement)
    async for partition in result.partitions():
        for (clicked_at,) in partition:
            index = max(int((clicked_at - start).total_seconds() // bucket_s), 0)
            if index < buckets:
                clicks[index] += 1
            else:
                later += 1
    return clicks, later


async def report_summary(session: AsyncSession, campaign: Campaign, *, error_lines: int = 5) -> str:
    """The campaign's summary (as the final summary message renders it), cut to fit a caption."""
    rows = await session.execute(
        select(Delivery.last_error, func.count())
        .where(
            Delivery.campaign_id == campaign.id,
            Delivery.status.in_(list(UNSUCCESSFUL_DELIVERY_STATUSES)),
        )
        .group_by(Delivery.last_error)
        .order_by(func.count().desc())
        .limit(error_lines)
    )
    text = render_summary(
        SummaryView.of(campaign, ((str(error or "unknown"), int(count)) for error, count in rows.all()))
    )
    clicks = render_clicks(await click_stats(session, campaign.id))  # tracked links
    if clicks:
        text += "\n\n" + clicks
    blocks = render_block_rate(await block_rate(session, campaign))
    if blocks:
        text += "\n" + blocks
    while _utf16_len(text) > MAX_CAPTION_CHARS:  # Telegram counts UTF-16 code units
        text = text[: len(text) - (_utf16_len(text) - MAX_CAPTION_CHARS) // 2 - 2] + "…"
    return text


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
