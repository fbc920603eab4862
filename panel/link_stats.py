"""Tracked links in the database: each campaign's link targets, the clicks, and their counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models import Base
from models.tables import LinkClick, LinkTargetRow
from panel import texts
from panel.links import LinkTarget, is_tracked_url


async def save_targets(session: AsyncSession, campaign_id: int, targets: Sequence[LinkTarget]) -> None:
    """Keep where each tracked link of a campaign leads; a second call (another batch, a retry)
    changes nothing: the first targets stay, as the links already sent point at them."""
    if not targets:
        return
    rows = [
        {"campaign_id": campaign_id, "link_index": t.link_index, "url": t.url, "label": t.label}
        for t in targets
    ]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(dialect.insert(LinkTargetRow).values(rows).on_conflict_do_nothing())


async def load_targets(session: AsyncSession, campaign_id: int) -> dict[int, str]:
    """Where each tracked link of a campaign leads, by index (empty: none kept)."""
    rows = await session.execute(
        select(LinkTargetRow.link_index, LinkTargetRow.url).where(LinkTargetRow.campaign_id == campaign_id)
    )
    return {int(index): str(url) for index, url in rows.all()}


@dataclass(frozen=True, slots=True)
class Click:
    """One recorded open of a tracked link."""

    campaign_id: int
    chat_id: int
    link_index: int
    clicked_at: datetime


async def record_clicks(session: AsyncSession, clicks: Sequence[Click]) -> None:
    """Insert clicks in one statement."""
    if clicks:
        await session.execute(
            insert(Base.metadata.tables[LinkClick.__tablename__]),  # Core: no ORM bookkeeping per row
            [
                {
                    "campaign_id": c.campaign_id,
                    "chat_id": c.chat_id,
                    "link_index": c.link_index,
                    "clicked_at": c.clicked_at,
                }
                for c in clicks
            ],
        )


@dataclass(frozen=True, slots=True)
class LinkCount:
    """The clicks of one tracked link: people who opened it, and opens in all."""

    link_index: int
    url: str
    label: str | None
    unique: int
    total: int


@dataclass(frozen=True, slots=True)
class ClickStats:
    """A campaign's clicks: per link, and over all its links (a person counted once)."""

    links: tuple[LinkCount, ...]
    unique: int
    total: int

    def to_json(self) -> dict[str, Any]:
        """The form of `campaigns status --json` and the report."""
        return {
            "unique": self.unique,
            "total": self.total,
            "links": [
                {"index": c.link_index, "label": c.label, "url": c.url, "unique": c.unique, "total": c.total}
                for c in self.links
            ],
        }


async def click_stats(session: AsyncSession, campaign_id: int) -> ClickStats:
    """Counts of a campaign's clicks, per link (every kept link, clicked or not) and in all."""
    per_link = {
        int(index): (int(unique), int(total))
        for index, unique, total in (
            await session.execute(
                select(LinkClick.link_index, func.count(distinct(LinkClick.chat_id)), func.count())
                .where(LinkClick.campaign_id == campaign_id)
                .group_by(LinkClick.link_index)
            )
        ).all()
    }
    targets = (
        await session.execute(
            select(LinkTargetRow.link_index, LinkTargetRow.url, LinkTargetRow.label)
            .where(LinkTargetRow.campaign_id == campaign_id)
            .order_by(LinkTargetRow.link_index)
        )
    ).all()
    links = tuple(
        LinkCount(int(index), str(url), label, *per_link.get(int(index), (0, 0)))
        for index, url, label in targets
        if is_tracked_url(str(url))
    )
    unique = await session.scalar(
        select(func.count(distinct(LinkClick.chat_id))).where(LinkClick.campaign_id == campaign_id)
    )
    return ClickStats(
        links=links, unique=int(unique or 0), total=sum(total for _, total in per_link.values())
    )


MAX_SHOWN_URL_CHARS = 40


def render_clicks(stats: ClickStats) -> str | None:
    """The clicks of a campaign for its card and its report, or None when it tracks no link."""
    if not stats.links:
        return None
    lines = [texts.CLICKS_TOTAL.format(unique=texts.number(stats.unique), total=texts.number(stats.total))]
    for link in stats.links:
        url = link.url if len(link.url) <= MAX_SHOWN_URL_CHARS else link.url[: MAX_SHOWN_URL_CHARS - 1] + "…"
        label = link.label if link.label is not None else texts.CLICKS_TEXT_LINK.format(url=url)
        lines.append(
            texts.CLICKS_LINK.format(
                label=label, unique=texts.number(link.unique), total=texts.number(link.total)
            )
        )
    return "\n".join(lines)
