"""Four-eyes approval: a campaign whose audience reaches its bot's threshold needs a second
admin's yes before it is sent, by hand or by the scheduler.

The approval is of what was shown: a fingerprint of the content, the audience rule and the send
options is kept with it, and a campaign whose fingerprint no longer matches (edited buttons, a
new rule...) is unapproved again. The asker never approves their own request.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Admin, AdminBot, Campaign, TargetBot
from panel import audit, campaigns, groups, texts
from panel.audience import audience_of
from panel.audit import Actor, AuditAction
from panel.roles import ROLE_PERMISSIONS, Permission


class ApprovalState(enum.StrEnum):
    """Where a campaign's approval stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ApprovalError(ValueError):
    """A request or decision that cannot be made; the text says why."""


def fingerprint(campaign: Campaign) -> str:
    """What an approval covers: the message, the audience rule and the send options."""
    covered: dict[str, object] = {
        "content": campaign.content,
        "audience_filter": campaign.audience_filter,
        "send_options": campaign.send_options,
        "bot_id": campaign.bot_id,
    }
    if campaign.topic:  # opt-outs by topic: who is left out, and the button under the message
        covered["topic"] = [campaign.topic, campaign.unsubscribe_button]
    return hashlib.sha256(json.dumps(covered, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Need:
    """Whether a campaign needs approval now, and why."""

    required: bool
    audience: int
    threshold: int
    approved: bool
    state: ApprovalState | None

    @property
    def blocks(self) -> bool:
        """Whether it may not be sent as it is."""
        return self.required and not self.approved


async def need_of(session: AsyncSession, campaign: Campaign) -> Need:
    """Whether `campaign` needs approval (its audience against its bot's threshold) and has it."""
    bot = await campaigns.get_bot(session, campaign.bot_id)
    threshold = bot.approval_threshold if bot is not None else 0
    state = ApprovalState(campaign.approval_state) if campaign.approval_state else None
    approved = state is ApprovalState.APPROVED and campaign.approval_fingerprint == fingerprint(campaign)
    if bot is None or threshold <= 0:
        return Need(False, 0, threshold, approved, state)
    if campaign.group_id is not None:
        # A group's bot is measured by whom it will reach: after earlier bots took their share.
        group = await groups.siblings(session, campaign.id)
        shares = dict(zip([c.id for c in group], await groups.campaign_shares(session, group), strict=True))
        reached = shares[campaign.id].reached
        return Need(reached >= threshold, reached, threshold, approved, state)
    audience = await audience_of(
        session,
        bot,
        campaign.platform,
        content=campaign.content,
        audience_filter=campaign.audience_filter,
        topic=campaign.topic,
    )
    return Need(audience.available >= threshold, audience.available, threshold, approved, state)


async def approvers(
    session: AsyncSession, campaign: Campaign, configured_ids: Iterable[int], *, asker: int | None
) -> list[int]:
    """Everyone who may approve `campaign`: admins who may send for its bot, but not the asker
    (None: the CLI asks)."""
    senders = {role for role, granted in ROLE_PERMISSIONS.items() if Permission.SEND in granted}
    found = set(configured_ids)
    rows = await session.execute(
        select(Admin.user_id, AdminBot.bot_id)
        .outerjoin(AdminBot, AdminBot.user_id == Admin.user_id)
        .where(Admin.role.in_([r.value for r in senders]))
    )
    scopes: dict[int, set[int]] = {}
    for user_id, bot_id in rows:
        scope = scopes.setdefault(user_id, set())
        if bot_id is not None:
            scope.add(bot_id)
    found.update(user_id for user_id, scope in scopes.items() if not scope or campaign.bot_id in scope)
    if asker is not None:
        found.discard(asker)
    return sorted(found)


async def request(session: AsyncSession, campaign_id: int, actor: Actor) -> Campaign:
    """Ask for approval of `campaign_id` (pending until someone else decides)."""
    group = await groups.siblings(session, campaign_id)
    if not group:
        raise ApprovalError(texts.APPROVAL_ERROR_NO_CAMPAIGN.format(campaign_id=campaign_id))
    for sibling in group:  # a group's announcement is approved as one (each bot's copy)
        sibling.approval_state = ApprovalState.PENDING.value
        sibling.approval_requested_by = actor.user_id
        sibling.approval_decided_by = None
        sibling.approval_note = None
        sibling.approval_fingerprint = fingerprint(sibling)
        await audit.record(
            session, actor, AuditAction.ASK_APPROVAL, campaign_id=sibling.id, bot_id=sibling.bot_id
        )
    await session.flush()
    return next(sibling for sibling in group if sibling.id == campaign_id)


async def decide(
    session: AsyncSession, campaign_id: int, actor: Actor, *, approve: bool, note: str | None = None
) -> Campaign:
    """Approve or reject a pending request; never the asker's own, never a changed campaign."""
    campaign = await campaigns.get_campaign(session, campaign_id)
    if campaign is None:
        raise ApprovalError(texts.APPROVAL_ERROR_NO_CAMPAIGN.format(campaign_id=campaign_id))
    if campaign.approval_state != ApprovalState.PENDING.value:
        raise ApprovalError(texts.APPROVAL_ERROR_NOT_WAITING.format(campaign_id=campaign_id))
    if actor.user_id == campaign.approval_requested_by:
        if actor.user_id is None:
            raise ApprovalError(texts.APPROVAL_ERROR_CLI_REQUEST)
        raise ApprovalError(texts.APPROVAL_ERROR_OWN_REQUEST)
    if campaign.approval_fingerprint != fingerprint(campaign):
        raise ApprovalError(texts.APPROVAL_ERROR_CHANGED.format(campaign_id=campaign_id))
    action = AuditAction.APPROVE if approve else AuditAction.REJECT
    details = {"reason": note} if note else None
    for sibling in await groups.siblings(session, campaign_id):  # the group is decided as one
        if sibling.id != campaign_id and (
            sibling.approval_state != ApprovalState.PENDING.value
            or sibling.approval_fingerprint != fingerprint(sibling)
        ):
            continue
        sibling.approval_state = (ApprovalState.APPROVED if approve else ApprovalState.REJECTED).value
        sibling.approval_decided_by = actor.user_id
        sibling.approval_note = note
        await audit.record(
            session, actor, action, campaign_id=sibling.id, bot_id=sibling.bot_id, details=details
        )
    await session.flush()
    return campaign


async def set_threshold(session: AsyncSession, codename: str, threshold: int) -> TargetBot:
    """Campaigns of bot `codename` reaching `threshold` users need approval (0: none do)."""
    if threshold < 0:
        raise ApprovalError("the threshold is a number of users, 0 or more (0: no approval)")
    bot = await campaigns.get_bot_by_codename(session, codename)
    if bot is None:
        raise ApprovalError(f"there is no target bot {codename!r}")
    bot.approval_threshold = threshold
    await session.flush()
    return bot
