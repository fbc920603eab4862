"""/export and /report: a campaign's delivery ledger as a CSV document, its report chart as a photo."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, FSInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.prompts import parse_campaign_id
from models import Campaign
from panel import texts
from panel.campaigns import CampaignError
from panel.exports import export_csv, exportable_campaign, outcome_series, report_summary
from panel.report_chart import draw_report_chart

logger = logging.getLogger(__name__)


async def _campaign(
    message: Message, command: CommandObject, sessionmaker: async_sessionmaker[AsyncSession]
) -> Campaign | None:
    """The campaign named after the command, or None once the admin has been told why not."""
    name = command.command
    campaign_id = parse_campaign_id(command)
    if campaign_id is None:
        await message.answer(texts.REPORT_USAGE.format(command=name))
        return None
    if isinstance(campaign_id, str):
        await message.answer(texts.BAD_CAMPAIGN_ID.format(value=campaign_id[:32], command=name))
        return None
    async with sessionmaker() as session:
        try:
            return await exportable_campaign(session, campaign_id)
        except CampaignError as exc:
            await message.answer(str(exc))
            return None


def _name(campaign: Campaign) -> str:
    return f" “{campaign.name}”" if campaign.name else ""


async def export(
    message: Message, command: CommandObject, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """`/export 12`: the ledger of #12 as a CSV document, written to a temporary file as it streams."""
    campaign = await _campaign(message, command, sessionmaker)
    if campaign is None:
        return
    with tempfile.TemporaryDirectory(prefix="broadcast-export-") as folder:
        path = Path(folder) / f"campaign-{campaign.id}.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            async with sessionmaker() as session:
                async for chunk in export_csv(session, campaign.id):
                    out.write(chunk)
        caption = texts.EXPORT_CAPTION.format(
            campaign_id=campaign.id, name=_name(campaign), rows=campaign.total_recipients
        )
        await message.answer_document(FSInputFile(path, filename=path.name), caption=caption)


async def report(
    message: Message, command: CommandObject, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """`/report 12`: the report chart of #12 with its summary as the caption."""
    campaign = await _campaign(message, command, sessionmaker)
    if campaign is None:
        return
    async with sessionmaker() as session:
        series = await outcome_series(session, campaign)
        summary = await report_summary(session, campaign)
    png = await asyncio.to_thread(draw_report_chart, series)
    photo = BufferedInputFile(png, filename=f"campaign-{campaign.id}.png")
    await message.answer_photo(photo, caption=summary)


def create_router() -> Router:
    """The /export and /report handlers, on a new router (each dispatcher gets its own)."""
    router = Router(name="reports")
    router.message.register(export, Command("export"))
    router.message.register(report, Command("report"))
    return router
