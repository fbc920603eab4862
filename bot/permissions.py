"""What each button and command of the control bot needs: a permission, and the campaign or bot
it acts on (checked against the admin's scope by the admin middleware)."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import Update

from bot.callbacks import (
    AbTestAction,
    AbTestCallback,
    ApprovalCallback,
    AuditCallback,
    BuilderCallback,
    CampaignAction,
    CampaignCallback,
    ComposeAction,
    ComposeCallback,
    EditCallback,
    LanguageCallback,
    ProgressCallback,
    RecallCallback,
    ScheduleCallback,
    SendNowCallback,
)
from bot.prompts import MAX_ID_DIGITS
from panel.campaigns import is_row_id
from panel.roles import Permission

CAMPAIGN_ACTIONS: dict[CampaignAction, Permission] = {
    CampaignAction.PAGE: Permission.VIEW,
    CampaignAction.OPEN: Permission.VIEW,
    CampaignAction.SEND_NOW: Permission.SEND,
    CampaignAction.SCHEDULE: Permission.COMPOSE,
    CampaignAction.UNSCHEDULE: Permission.COMPOSE,
    CampaignAction.PAUSE: Permission.SEND,
    CampaignAction.RESUME: Permission.SEND,
    CampaignAction.CANCEL: Permission.SEND,
    CampaignAction.CANCEL_CONFIRM: Permission.SEND,
    CampaignAction.DUPLICATE: Permission.COMPOSE,
    CampaignAction.DELETE: Permission.COMPOSE,
    CampaignAction.DELETE_CONFIRM: Permission.COMPOSE,
    CampaignAction.EDIT_BUTTONS: Permission.COMPOSE,
    CampaignAction.REMOVE_BUTTONS: Permission.COMPOSE,
    CampaignAction.RECALL: Permission.SEND,
    CampaignAction.RECALL_CONFIRM: Permission.SEND,
    CampaignAction.RETRY: Permission.SEND,
    CampaignAction.RETRY_CONFIRM: Permission.SEND,
    CampaignAction.RETRY_WITH_UNCONFIRMED: Permission.SEND,
    # Changing what recipients already have is a sender's act, like a recall.
    CampaignAction.EDIT_SENT: Permission.SEND,
    CampaignAction.EDIT_SENT_BUTTONS: Permission.SEND,
    CampaignAction.EDIT_SENT_TEXT: Permission.SEND,
    CampaignAction.EDIT_SENT_CONFIRM: Permission.SEND,
    CampaignAction.EDIT_SENT_ABORT: Permission.SEND,
    CampaignAction.EXPIRY: Permission.SEND,
    CampaignAction.AB_TEST: Permission.COMPOSE,
}

COMMANDS: dict[str, Permission] = {
    "new": Permission.COMPOSE,
    "sendnow": Permission.SEND,
    "schedule": Permission.COMPOSE,
    "campaigns": Permission.VIEW,
    "report": Permission.VIEW,
    "export": Permission.VIEW,
    "audit": Permission.VIEW,
    "segments": Permission.VIEW,
    "topics": Permission.VIEW,
    "admins": Permission.MANAGE,
}
"""Commands not listed (/start, /help, /cancel, /language) need nothing beyond being an admin."""

COMMANDS_WITH_CAMPAIGN = frozenset({"sendnow", "schedule", "report", "export", "audit"})


@dataclass(frozen=True, slots=True)
class Requirement:
    """What an update needs: a permission, over a campaign's bot, a recall's, or a bot."""

    permission: Permission
    campaign_id: int | None = None
    recall_id: int | None = None
    bot_id: int | None = None


def _from_callback(data: str) -> Requirement:
    prefix = data.split(":", 1)[0]
    try:
        if prefix == CampaignCallback.__prefix__:
            tap = CampaignCallback.unpack(data)
            return Requirement(CAMPAIGN_ACTIONS.get(tap.action, Permission.MANAGE), tap.campaign_id or None)
        if prefix == ProgressCallback.__prefix__:
            return Requirement(Permission.SEND, ProgressCallback.unpack(data).campaign_id)
        if prefix == SendNowCallback.__prefix__:
            return Requirement(Permission.SEND, SendNowCallback.unpack(data).campaign_id or None)
        if prefix == ScheduleCallback.__prefix__:
            return Requirement(Permission.COMPOSE, ScheduleCallback.unpack(data).campaign_id or None)
        if prefix == RecallCallback.__prefix__:
            return Requirement(Permission.SEND, recall_id=RecallCallback.unpack(data).action_id)
        if prefix == EditCallback.__prefix__:  # an edit's progress: like a recall's
            return Requirement(Permission.SEND, recall_id=EditCallback.unpack(data).action_id)
        if prefix == ApprovalCallback.__prefix__:
            return Requirement(Permission.SEND, ApprovalCallback.unpack(data).campaign_id)
        if prefix == AuditCallback.__prefix__:
            return Requirement(Permission.VIEW, AuditCallback.unpack(data).campaign_id or None)
        if prefix == ComposeCallback.__prefix__:
            compose = ComposeCallback.unpack(data)
            needed = Permission.SEND if compose.action is ComposeAction.SEND_NOW else Permission.COMPOSE
            return Requirement(needed, bot_id=compose.bot_id or None)
        if prefix == AbTestCallback.__prefix__:  # setting a draft's test up; picking a winner: sending
            test = AbTestCallback.unpack(data)
            needed = Permission.SEND if test.action is AbTestAction.PICK else Permission.COMPOSE
            return Requirement(needed, test.campaign_id)
        if prefix == "opt":  # the send options of the compose card
            return Requirement(Permission.COMPOSE)
        if prefix == BuilderCallback.__prefix__:  # the segment builder
            return Requirement(Permission.COMPOSE)
        if prefix == LanguageCallback.__prefix__:  # every admin picks their own language
            LanguageCallback.unpack(data)
            return Requirement(Permission.VIEW)
    except (TypeError, ValueError):
        return Requirement(Permission.VIEW)  # data no button has: the handlers answer it
    return Requirement(Permission.MANAGE)  # a button this table does not know: owners only


def _from_command(text: str) -> Requirement | None:
    head, _, rest = text.partition(" ")
    name = head[1:].split("@", 1)[0].lower()
    permission = COMMANDS.get(name)
    if permission is None:
        return None
    if name == "segments" and rest.strip():
        permission = Permission.COMPOSE  # saving a segment
    if name == "topics" and rest.strip():
        permission = Permission.MANAGE  # a bot's topics are its settings, like adding the bot
    campaign_id = None
    digits = rest.strip().removeprefix("#")
    if (
        name in COMMANDS_WITH_CAMPAIGN
        and digits.isascii()
        and digits.isdigit()
        and len(digits) <= MAX_ID_DIGITS
    ):
        campaign_id = int(digits) if is_row_id(int(digits)) else None
    return Requirement(permission, campaign_id)


def requirement(update: Update) -> Requirement | None:
    """What `update` needs, or None when being an admin is enough (typing in a step, /help)."""
    if update.callback_query is not None:
        return _from_callback(update.callback_query.data or "")
    if update.message is not None and (update.message.text or "").startswith("/"):
        return _from_command(update.message.text or "")
    return None
