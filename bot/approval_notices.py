"""Approval messages that leave the control bot for other admins: the request each approver
gets, and the decision the asker hears. Shared by the chat's handlers and the CLI, which both
ask and decide."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot import keyboards, views
from panel import texts
from panel.audience import CampaignView

logger = logging.getLogger(__name__)


def who(user_id: int | None) -> str:
    """An asker or approver as a message names them: `admin 7001`, or `the CLI`."""
    return f"admin {user_id}" if user_id is not None else "the CLI"


async def send_requests(
    bot: Bot, view: CampaignView, deciders: Iterable[int], *, asker: str, timezone: str
) -> list[int]:
    """Send the request card with Approve / Reject to each decider; the ones it reached."""
    campaign_id = view.campaign.id
    request = texts.APPROVAL_REQUEST.format(
        asker=asker, campaign_id=campaign_id, card=views.campaign_card(view, timezone=timezone)
    )
    reached = []
    for decider in deciders:
        try:
            await bot.send_message(decider, request, reply_markup=keyboards.approval_request(campaign_id))
            reached.append(decider)
        except TelegramAPIError as error:  # an approver who never started the control bot
            logger.warning("approval request for #%s not delivered to %s: %s", campaign_id, decider, error)
    return reached


async def tell_asker(
    bot: Bot, asker: int | None, campaign_id: int, *, approver: int | None, rejected_because: str | None
) -> bool:
    """Tell the asker (when an admin asked) what was decided; whether the message went out."""
    if asker is None:
        return False
    if rejected_because is None:
        text = texts.APPROVAL_APPROVED_ASKER.format(campaign_id=campaign_id, approver=who(approver))
    else:
        text = texts.APPROVAL_REJECTED_ASKER.format(
            campaign_id=campaign_id, approver=who(approver), reason=rejected_because
        )
    try:
        await bot.send_message(asker, text)
    except TelegramAPIError as error:
        logger.warning("approval decision for #%s not delivered to %s: %s", campaign_id, asker, error)
        return False
    return True
