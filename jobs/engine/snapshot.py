"""What a batch reads about its campaign once, at its start: the sending parameters."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.engine.media_upload import target_album_file_ids, target_file_id
from models import Campaign, CampaignStatus, TargetBot
from panel import abtest
from panel.campaigns import effective_rate
from panel.send_options import SendOptions


@dataclass(frozen=True, slots=True)
class CampaignSnapshot:
    """What a batch needs to know about its campaign, read once at the start."""

    campaign_id: int
    bot_id: int
    name: str | None
    created_by: int | None
    sealed_token: str
    bot_codename: str
    """The target bot's token as stored (encrypted); the engine context opens it to send."""
    rate_per_s: int
    paid: bool
    content: dict[str, Any]
    """The stored message (`MessageContent.to_json()`, plus the target bots' file ids)."""
    options: SendOptions = field(default_factory=SendOptions)
    """Silent, protected, link preview, pin after sending."""
    track_links: bool | None = None
    """The campaign's choice of tracked links (None: the default; `panel.links.tracking_on`)."""
    # ---- A/B tests (issue 17, `panel.abtest`)
    variant: str | None = None
    """The test group this snapshot sends (`Delivery.variant`); None: not a test, every row."""
    link_first_index: int = 0
    """Where this message's tracked link indexes start (each variant has its own range)."""
    variant_messages: tuple[tuple[str, dict[str, Any], SendOptions], ...] = ()
    """A test's variants: label, message and send options, A first (empty: not a test)."""
    winner: str | None = None

    def groups(self) -> list[CampaignSnapshot]:
        """What a batch sends, one snapshot per test group: the campaign itself when it is no
        test; else each variant, and the rest (with the winner's message) once it is chosen."""
        if not self.variant_messages:
            return [self]
        labels = [label for label, _, _ in self.variant_messages]
        if self.winner is not None:
            labels.append(abtest.REST)
        return [self._of_group(label) for label in labels]

    def _of_group(self, group: str) -> CampaignSnapshot:
        source = self.winner if group == abtest.REST else group
        for label, content, options in self.variant_messages:
            if label == source:
                return replace(
                    self,
                    content=content,
                    options=options,
                    variant=group,
                    link_first_index=abtest.LABELS.index(label) * abtest.LINK_INDEX_STRIDE,
                )
        raise ValueError(f"campaign {self.campaign_id} has no variant {source}")

    @property
    def media(self) -> dict[str, Any] | None:
        """The stored media (the control bot's file), if the message has any."""
        media = self.content.get("media")
        return media if isinstance(media, dict) else None

    @property
    def album(self) -> list[dict[str, Any]]:
        """The stored album items (the control bot's files), empty if the message is no album."""
        album = self.content.get("album")
        return [item for item in album if isinstance(item, dict)] if isinstance(album, list) else []

    @property
    def target_album_file_ids(self) -> list[str] | None:
        """The target bot's own file ids of the album items, once a send has passed them on."""
        return target_album_file_ids(self.content, self.bot_id)

    @property
    def target_file_id(self) -> str | None:
        """The target bot's own file id of the media, once a send has passed the file on."""
        return target_file_id(self.content, self.bot_id)


async def load_snapshot(
    session: AsyncSession, campaign_id: int
) -> tuple[CampaignSnapshot, CampaignStatus] | None:
    """The campaign's sending parameters and its current status."""
    row = (
        await session.execute(
            select(Campaign, TargetBot)
            .join(TargetBot, TargetBot.id == Campaign.bot_id)
            .where(Campaign.id == campaign_id)
        )
    ).first()
    if row is None:
        return None
    campaign, bot = row
    options = SendOptions.from_json(campaign.send_options)
    variants: tuple[tuple[str, dict[str, Any], SendOptions], ...] = ()
    if campaign.ab_seed is not None:
        variants = tuple(
            (
                variant.label,
                dict(campaign.content or {}) if variant.content is None else dict(variant.content),
                options if variant.send_options is None else SendOptions.from_json(variant.send_options),
            )
            for variant in await abtest.variants_of(session, campaign.id)
        )
    snapshot = CampaignSnapshot(
        campaign_id=campaign.id,
        bot_id=bot.id,
        name=campaign.name,
        created_by=campaign.created_by,
        sealed_token=bot.sealed_token,
        bot_codename=bot.codename,
        rate_per_s=effective_rate(bot, campaign.content or {}),
        paid=bot.paid_broadcast and effective_rate(bot, campaign.content or {}) > 30,
        content=dict(campaign.content or {}),
        options=options,
        track_links=campaign.track_links,
        variant_messages=variants,
        winner=campaign.ab_winner,
    )
    return snapshot, campaign.status
