"""Approval messages that leave the control bot for other admins: the request each approver
gets, and the decision the asker hears. Shared by the chat's handlers and the CLI, which both
ask and decide."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot import keyboards, views
from panel import i18n, texts
from panel.audience import CampaignView

logger = logging.getLogger(__name__)


def who(user_id: int | None) -> str:
    """An asker or approver as a message names them (`admin 7001`, `the CLI`), in the language
    spoken now."""
    return texts.APPROVAL_WHO_ADMIN.format(user_id=user_id) if user_id is not None else texts.APPROVAL_WHO_CLI


async def send_requests(
    bot: Bot,
    view: CampaignView,
    deciders: Iterable[int],
    *,
    asker: str | None,
    timezone: str,
    languages: Mapping[int, str],
) -> list[int]:
    """Send the request card with Approve / Reject to each decider, in their language
    (`languages`, English for one not in it); the ones it reached. `asker` None: the CLI asks."""
    campaign_id = view.campaign.id
    reached = []
    for decider in deciders:
        with i18n.speaking(languages.get(decider, i18n.ENGLISH)):  # each reads it in their language
            request = texts.APPROVAL_REQUEST.format(
                asker=asker if asker is not None else who(None),
                campaign_id=campaign_id,
                card=views.campaign_card(view, timezone=timezone),
            )
            markup = keyboards.approval_request(campaign_id)
        try:
            await bot.send_message(decider, request, reply_markup=markup)
            reached.append(decider)
        except TelegramAPIError as error:  # an approver who never started the control bot
            logger.warning("approval request for #%s not delivered to %s: %s", campaign_id, decider, error)
    return reached


async def tell_asker(
    bot: Bot,
    asker: int | None,
    campaign_id: int,
    *,
    approver: int | None,
    rejected_because: str | None,
    language: str,
) -> bool:
    """Tell the asker (when an admin asked) what was decided, in their `language`; whether the
    message went out."""
    if asker is None:
        return False
    with i18n.speaking(language):
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
