"""The CSV export of a ledger read back: quoting, albums, times, chunking and the chart's series."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Campaign, CampaignStatus, Delivery, DeliveryStatus, TargetBot, User
from panel.exports import EXPORT_COLUMNS, export_csv, outcome_series
from tests.support.keys import sealed

START = datetime(2026, 12, 1, 18, 0, 0, 250_000, tzinfo=UTC)


async def ledger_with_oddities(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """A finished campaign of 7 rows: an album, an error with a comma, quotes and a newline, a
    cancelled row with no time; finished over 3 seconds."""
    async with sessionmaker.begin() as session:
        bot = TargetBot(codename="news", sealed_token=sealed("1:x"))
        session.add(bot)
        await session.flush()
        users = [User(bot_id=bot.id, chat_id=100 + n) for n in range(7)]
        session.add_all(users)
        campaign = Campaign(
            bot_id=bot.id, content={"text": "hi"}, status=CampaignStatus.COMPLETED, name="Odd"
        )
        session.add(campaign)
        await session.flush()
        plan: list[dict[str, object]] = [
            {"status": DeliveryStatus.SENT, "telegram_message_id": 11, "at": 0.0},
            {"status": DeliveryStatus.SENT, "telegram_message_id": 21, "telegram_message_ids": [21, 22, 23]},
            {
                "status": DeliveryStatus.FAILED,
                "last_error_code": 400,
                "last_error": 'Bad Request: can\'t parse, "quoted"\nsecond line',
                "at": 1.2,
            },
            {
                "status": DeliveryStatus.UNAVAILABLE,
                "last_error_code": 403,
                "last_error": "Forbidden",
                "at": 1.9,
            },
            {"status": DeliveryStatus.SENT, "telegram_message_id": 31, "at": 2.5},
            {"status": DeliveryStatus.UNCONFIRMED, "at": 2.6},
            {"status": DeliveryStatus.CANCELLED, "at": None},
        ]
        for user, row in zip(users, plan, strict=True):
            at = row.pop("at", 0.5)
            session.add(
                Delivery(
                    campaign_id=campaign.id,
                    user_id=user.id,
                    chat_id=user.chat_id,
                    attempts=1,
                    finished_at=None if at is None else START + timedelta(seconds=float(str(at))),
                    **row,
                )
            )
        return campaign.id


async def test_the_csv_reads_back_as_the_ledger_whatever_the_chunk_size(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    campaign_id = await ledger_with_oddities(sessionmaker)
    outputs = []
    for chunk_rows in (1, 3, 5000):
        async with sessionmaker() as session:
            chunks = [chunk async for chunk in export_csv(session, campaign_id, chunk_rows=chunk_rows)]
        if chunk_rows == 1:
            assert len(chunks) >= 7  # streamed a row at a time, not gathered
        outputs.append("".join(chunks))
    assert outputs[0] == outputs[1] == outputs[2]
    rows = list(csv.reader(io.StringIO(outputs[0], newline="")))
    assert rows[0] == list(EXPORT_COLUMNS)
    assert rows[1:] == [
        ["100", "sent", "", "", "1", "2026-12-01T18:00:00.250000Z", "11", "", "", "0"],
        ["101", "sent", "", "", "1", "2026-12-01T18:00:00.750000Z", "21", "21 22 23", "", "0"],
        [
            "102",
            "failed",
            "400",
            'Bad Request: can\'t parse, "quoted"\nsecond line',
            "1",
            "2026-12-01T18:00:01.450000Z",
            "",
            "",
            "",
            "0",
        ],
        ["103", "unavailable", "403", "Forbidden", "1", "2026-12-01T18:00:02.150000Z", "", "", "", "0"],
        ["104", "sent", "", "", "1", "2026-12-01T18:00:02.750000Z", "31", "", "", "0"],
        ["105", "unconfirmed", "", "", "1", "2026-12-01T18:00:02.850000Z", "", "", "", "0"],
        ["106", "cancelled", "", "", "1", "", "", "", "", "0"],
    ]


async def test_the_chart_series_counts_each_finished_row_in_its_second(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    campaign_id = await ledger_with_oddities(sessionmaker)
    async with sessionmaker() as session:
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None
        series = await outcome_series(session, campaign)
    assert series.start == START and series.bucket_s == 1 and series.name == "Odd"
    assert list(series.counts[DeliveryStatus.SENT]) == [2, 0, 1]
    assert list(series.counts[DeliveryStatus.FAILED]) == [0, 1, 0]
    assert list(series.counts[DeliveryStatus.UNAVAILABLE]) == [0, 1, 0]
    assert list(series.counts[DeliveryStatus.UNCONFIRMED]) == [0, 0, 1]
    assert series.total == 6  # the cancelled row never finished sending: no time, not on the chart
