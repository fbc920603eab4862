"""Inline keyboards of the control bot, built from the typed callback data of `bot.callbacks`."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import (
    AbTestAction,
    AbTestCallback,
    ApprovalAction,
    ApprovalCallback,
    AuditCallback,
    CampaignAction,
    CampaignCallback,
    ComposeAction,
    ComposeCallback,
    LanguageCallback,
    LanguageChoice,
    ProgressAction,
    ProgressCallback,
    ScheduleAction,
    ScheduleCallback,
    SendNowAction,
    SendNowCallback,
    SendOptionCallback,
    SendOptionName,
)
from models import (
    ACTIVE_CAMPAIGN_STATUSES,
    FINAL_CAMPAIGN_STATUSES,
    UNSTARTED_CAMPAIGN_STATUSES,
    Campaign,
    CampaignStatus,
)
from panel import texts
from panel.abtest import Measure
from panel.after_send import can_recall
from panel.audience import Audience
from panel.buttons import Buttons
from panel.progress import progress_buttons
from panel.send_options import SendOptions


def bot_picker(audiences: Sequence[Audience]) -> InlineKeyboardMarkup:
    """One button per target bot, with its audience."""
    builder = InlineKeyboardBuilder()
    for audience in audiences:
        label = audience.bot.codename + (f" (@{audience.bot.username})" if audience.bot.username else "")
        builder.button(
            text=texts.CHOOSE_BOT_BUTTON.format(codename=label, users=audience.available),
            callback_data=ComposeCallback(action=ComposeAction.PICK_BOT, bot_id=audience.bot.id),
        )
    if len(audiences) > 1:  # one announcement through several of them, one copy per person
        builder.button(
            text=texts.CHOOSE_BOTS_BUTTON, callback_data=ComposeCallback(action=ComposeAction.PICK_SEVERAL)
        )
    builder.adjust(1)
    return builder.as_markup()


def bots_toggle(audiences: Sequence[Audience], order: Sequence[int]) -> InlineKeyboardMarkup:
    """One toggle per target bot, numbered in the order they were tapped, then Done."""
    builder = InlineKeyboardBuilder()
    for audience in audiences:
        label = audience.bot.codename + (f" (@{audience.bot.username})" if audience.bot.username else "")
        users = texts.number(audience.available)
        if audience.bot.id in order:
            position = order.index(audience.bot.id) + 1
            text = texts.CHOOSE_BOTS_PICKED.format(position=position, codename=label, users=users)
        else:
            text = texts.CHOOSE_BOT_BUTTON.format(codename=label, users=audience.available)
        builder.button(
            text=text, callback_data=ComposeCallback(action=ComposeAction.TOGGLE_BOT, bot_id=audience.bot.id)
        )
    builder.button(text=texts.BTN_BOTS_DONE, callback_data=ComposeCallback(action=ComposeAction.BOTS_DONE))
    builder.adjust(1)
    return builder.as_markup()


def skip_name() -> InlineKeyboardMarkup:
    """The Skip button of the name step."""
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_SKIP, callback_data=ComposeCallback(action=ComposeAction.SKIP_NAME))
    return builder.as_markup()


def skip_buttons() -> InlineKeyboardMarkup:
    """The Skip button of the buttons step."""
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_SKIP, callback_data=ComposeCallback(action=ComposeAction.SKIP_BUTTONS))
    return builder.as_markup()


def channel_post_modes() -> InlineKeyboardMarkup:
    """How a post forwarded from a channel goes out: as it is, or as a copy."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts.BTN_FORWARD_AS_IS, callback_data=ComposeCallback(action=ComposeAction.FORWARD_POST)
    )
    builder.button(text=texts.BTN_COPY_POST, callback_data=ComposeCallback(action=ComposeAction.COPY_POST))
    builder.adjust(1)
    return builder.as_markup()


def _on_off(value: bool) -> str:
    return texts.OPTION_ON if value else texts.OPTION_OFF


def send_option_toggles(
    options: SendOptions, *, offer_link_preview: bool, track_links: bool | None = None
) -> list[tuple[str, SendOptionName]]:
    """(text with its state, option) of each send-option toggle; the link preview only for a text
    message with a link; tracked links (`track_links`: their state) only when offered."""
    toggles = [(texts.BTN_OPTION_SILENT.format(state=_on_off(options.silent)), SendOptionName.SILENT)]
    if offer_link_preview:
        state = texts.LINK_PREVIEW_LABELS[options.link_preview.value]
        toggles.append((texts.BTN_OPTION_LINK_PREVIEW.format(state=state), SendOptionName.LINK_PREVIEW))
    toggles.append((texts.BTN_OPTION_PROTECT.format(state=_on_off(options.protect)), SendOptionName.PROTECT))
    toggles.append((texts.BTN_OPTION_PIN.format(state=_on_off(options.pin)), SendOptionName.PIN))
    if track_links is not None:
        toggles.append(
            (texts.BTN_OPTION_TRACK_LINKS.format(state=_on_off(track_links)), SendOptionName.TRACK_LINKS)
        )
    return toggles


def summary_actions(
    options: SendOptions | None = None,
    *,
    offer_link_preview: bool = False,
    audience_filter: str | None = None,
    track_links: bool | None = None,
    topic: str | None = None,
    unsubscribe_button: bool = False,
) -> InlineKeyboardMarkup:
    """The buttons under a composed message's summary card: the send-option toggles, one a row,
    then the next steps."""
    builder = InlineKeyboardBuilder()
    toggles = send_option_toggles(
        options or SendOptions(), offer_link_preview=offer_link_preview, track_links=track_links
    )
    for text, option in toggles:
        builder.button(text=text, callback_data=SendOptionCallback(option=option))
    who = texts.AUDIENCE_EVERYONE if not audience_filter else texts.AUDIENCE_SEGMENT
    builder.button(text=who, callback_data=ComposeCallback(action=ComposeAction.AUDIENCE))
    # Opt-outs by topic: the campaign's topic, and (with one) the unsubscribe button's toggle.
    builder.button(
        text=texts.BTN_TOPIC.format(topic=topic or texts.TOPIC_NONE),
        callback_data=ComposeCallback(action=ComposeAction.TOPIC),
    )
    if topic:
        builder.button(
            text=texts.BTN_UNSUBSCRIBE_TOGGLE.format(state="on" if unsubscribe_button else "off"),
            callback_data=ComposeCallback(action=ComposeAction.UNSUBSCRIBE_BUTTON),
        )
    for text, action in (
        (texts.BTN_SEND_NOW, ComposeAction.SEND_NOW),
        (texts.BTN_SCHEDULE, ComposeAction.SCHEDULE),
        (texts.BTN_TEST, ComposeAction.TEST),
        (texts.BTN_EDIT, ComposeAction.EDIT),
        (texts.BTN_SAVE, ComposeAction.SAVE),
        (texts.BTN_DISCARD, ComposeAction.DISCARD),
    ):
        builder.button(text=text, callback_data=ComposeCallback(action=action))
    builder.adjust(*([1] * (len(toggles) + 2 + bool(topic))), 2)
    return builder.as_markup()


def _row(*buttons: tuple[str, CallbackData]) -> InlineKeyboardMarkup:
    """One row of callback buttons."""
    builder = InlineKeyboardBuilder()
    for text, data in buttons:
        builder.button(text=text, callback_data=data)
    return builder.as_markup()


def confirm_send(campaign_id: int) -> InlineKeyboardMarkup:
    """Confirm / Not now under a send-now confirmation."""
    return _row(
        (texts.BTN_CONFIRM, SendNowCallback(action=SendNowAction.CONFIRM, campaign_id=campaign_id)),
        (texts.BTN_NOT_NOW, SendNowCallback(action=SendNowAction.ABORT, campaign_id=campaign_id)),
    )


def ask_approval(campaign_id: int) -> InlineKeyboardMarkup:
    """Ask for approval / Not now, in place of Confirm when a second admin must approve first."""
    return _row(
        (texts.BTN_ASK_APPROVAL, SendNowCallback(action=SendNowAction.ASK_APPROVAL, campaign_id=campaign_id)),
        (texts.BTN_NOT_NOW, SendNowCallback(action=SendNowAction.ABORT, campaign_id=campaign_id)),
    )


def approval_request(campaign_id: int) -> InlineKeyboardMarkup:
    """Approve / Reject under an approval request."""
    return _row(
        (texts.BTN_APPROVE, ApprovalCallback(action=ApprovalAction.APPROVE, campaign_id=campaign_id)),
        (texts.BTN_REJECT, ApprovalCallback(action=ApprovalAction.REJECT, campaign_id=campaign_id)),
    )


def confirm_time(campaign_id: int) -> InlineKeyboardMarkup:
    """Confirm / Change under an understood send time."""
    return _row(
        (texts.BTN_CONFIRM, ScheduleCallback(action=ScheduleAction.CONFIRM, campaign_id=campaign_id)),
        (texts.BTN_CHANGE, ScheduleCallback(action=ScheduleAction.CHANGE, campaign_id=campaign_id)),
    )


def campaign_picker(campaigns: Sequence[Campaign], *, for_schedule: bool) -> InlineKeyboardMarkup:
    """One button per campaign, for /sendnow or /schedule without a number."""
    builder = InlineKeyboardBuilder()
    for campaign in campaigns:
        label = texts.LIST_BUTTON.format(campaign_id=campaign.id, name=campaign.name or texts.UNNAMED)
        data: CallbackData
        if for_schedule:
            data = ScheduleCallback(action=ScheduleAction.PICK, campaign_id=campaign.id)
        else:
            data = SendNowCallback(action=SendNowAction.PICK, campaign_id=campaign.id)
        builder.button(text=label, callback_data=data)
    builder.adjust(1)
    return builder.as_markup()


def campaign_list(campaigns: Sequence[Campaign], *, page: int, has_next: bool) -> InlineKeyboardMarkup:
    """Open buttons for a page of campaigns, then the page arrows."""
    builder = InlineKeyboardBuilder()
    for campaign in campaigns:
        builder.button(
            text=texts.LIST_BUTTON.format(campaign_id=campaign.id, name=campaign.name or texts.UNNAMED),
            callback_data=CampaignCallback(action=CampaignAction.OPEN, campaign_id=campaign.id, page=page),
        )
    sizes = [1] * len(campaigns)
    arrows = 0
    if page > 0:
        builder.button(
            text=texts.BTN_PREV, callback_data=CampaignCallback(action=CampaignAction.PAGE, page=page - 1)
        )
        arrows += 1
    if has_next:
        builder.button(
            text=texts.BTN_NEXT, callback_data=CampaignCallback(action=CampaignAction.PAGE, page=page + 1)
        )
        arrows += 1
    if arrows:
        sizes.append(arrows)
    if sizes:
        builder.adjust(*sizes)
    return builder.as_markup()


_CARD_ACTIONS: dict[CampaignStatus, tuple[tuple[str, CampaignAction], ...]] = {
    CampaignStatus.DRAFT: (
        (texts.BTN_SEND_NOW, CampaignAction.SEND_NOW),
        (texts.BTN_SCHEDULE, CampaignAction.SCHEDULE),
        (texts.BTN_DUPLICATE, CampaignAction.DUPLICATE),
        (texts.BTN_DELETE, CampaignAction.DELETE),
    ),
    CampaignStatus.SCHEDULED: (
        (texts.BTN_SEND_NOW, CampaignAction.SEND_NOW),
        (texts.BTN_RESCHEDULE, CampaignAction.SCHEDULE),
        (texts.BTN_UNSCHEDULE, CampaignAction.UNSCHEDULE),
        (texts.BTN_DUPLICATE, CampaignAction.DUPLICATE),
    ),
    CampaignStatus.SENDING: (
        (texts.BTN_PAUSE, CampaignAction.PAUSE),
        (texts.BTN_CANCEL_CAMPAIGN, CampaignAction.CANCEL),
        (texts.BTN_DUPLICATE, CampaignAction.DUPLICATE),
    ),
    CampaignStatus.PAUSED: (
        (texts.BTN_RESUME, CampaignAction.RESUME),
        (texts.BTN_CANCEL_CAMPAIGN, CampaignAction.CANCEL),
        (texts.BTN_DUPLICATE, CampaignAction.DUPLICATE),
    ),
}


def campaign_card(
    campaign: Campaign, *, page: int, retryable: int | None = None, ab_labels: str = ""
) -> InlineKeyboardMarkup:
    """The actions valid in the campaign's state, then Refresh and Back; `retryable`: the count
    on "Retry failed" when the campaign may be retried (None: no such button); `ab_labels`: the
    variants of an A/B test (a button each to pick the winner while it sends without one)."""
    builder = InlineKeyboardBuilder()
    actions = _CARD_ACTIONS.get(campaign.status, ((texts.BTN_DUPLICATE, CampaignAction.DUPLICATE),))
    # Telegram allows no buttons on an album: they go in its follow-up message, when it has one.
    content = campaign.content
    if campaign.status is CampaignStatus.DRAFT and (not content.get("album") or content.get("text")):
        actions += ((texts.BTN_EDIT_BUTTONS, CampaignAction.EDIT_BUTTONS),)
        if Buttons.from_json(campaign.content.get("buttons")):
            actions += ((texts.BTN_REMOVE_BUTTONS, CampaignAction.REMOVE_BUTTONS),)
    if campaign.status not in UNSTARTED_CAMPAIGN_STATUSES and can_recall(campaign.successful_sents):
        actions += ((texts.BTN_RECALL, CampaignAction.RECALL),)
    if retryable is not None:
        actions += ((texts.BTN_RETRY.format(count=texts.number(retryable)), CampaignAction.RETRY),)
    if campaign.status not in UNSTARTED_CAMPAIGN_STATUSES and campaign.successful_sents > 0:
        actions += ((texts.BTN_EDIT_SENT, CampaignAction.EDIT_SENT),)  # edit sent messages (issue 14)
    if campaign.status not in FINAL_CAMPAIGN_STATUSES | {CampaignStatus.DRAFT}:
        actions += ((texts.BTN_EXPIRY, CampaignAction.EXPIRY),)  # expiry, "Delete after…" (issue 14)
    if campaign.status is CampaignStatus.DRAFT and campaign.parent_id is None:
        actions += ((texts.BTN_AB_TEST, CampaignAction.AB_TEST),)  # A/B tests (issue 17)
    for text, action in actions:
        builder.button(
            text=text, callback_data=CampaignCallback(action=action, campaign_id=campaign.id, page=page)
        )
    if campaign.status in ACTIVE_CAMPAIGN_STATUSES and campaign.ab_winner is None:
        for label in ab_labels:
            builder.button(
                text=texts.BTN_AB_PICK.format(label=label),
                callback_data=AbTestCallback(action=AbTestAction.PICK, campaign_id=campaign.id, value=label),
            )
    builder.button(
        text=texts.BTN_REFRESH,
        callback_data=CampaignCallback(action=CampaignAction.OPEN, campaign_id=campaign.id, page=page),
    )
    builder.button(text=texts.BTN_BACK, callback_data=CampaignCallback(action=CampaignAction.PAGE, page=page))
    builder.adjust(2)
    return builder.as_markup()


def card_confirm(campaign_id: int, *, page: int, action: CampaignAction) -> InlineKeyboardMarkup:
    """ "Yes" (cancel or delete) / "No" (back to the card) for a destructive card action."""
    builder = InlineKeyboardBuilder()
    yes_text = {
        CampaignAction.DELETE_CONFIRM: texts.BTN_YES_DELETE,
        CampaignAction.RECALL_CONFIRM: texts.BTN_YES_RECALL,
    }.get(action, texts.BTN_YES_CANCEL)
    builder.button(
        text=yes_text, callback_data=CampaignCallback(action=action, campaign_id=campaign_id, page=page)
    )
    builder.button(
        text=texts.BTN_NO,
        callback_data=CampaignCallback(action=CampaignAction.OPEN, campaign_id=campaign_id, page=page),
    )
    return builder.as_markup()


def progress_cancel_confirm(campaign_id: int) -> InlineKeyboardMarkup:
    """ "Yes, cancel" / "No" under a progress message."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts.BTN_YES_CANCEL,
        callback_data=ProgressCallback(action=ProgressAction.CANCEL_CONFIRM, campaign_id=campaign_id),
    )
    builder.button(
        text=texts.BTN_NO,
        callback_data=ProgressCallback(action=ProgressAction.CANCEL_ABORT, campaign_id=campaign_id),
    )
    return builder.as_markup()


def progress_keyboard(campaign_id: int, status: CampaignStatus) -> InlineKeyboardMarkup | None:
    """The progress message's buttons as an aiogram `InlineKeyboardMarkup`, for the control bot."""
    buttons = progress_buttons(campaign_id, status)
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data) for text, data in buttons]]
    )


def retry_confirm(campaign_id: int, *, page: int, retryable: int, unconfirmed: int) -> InlineKeyboardMarkup:
    """Send to the failed / also the unconfirmed (only if there are some) / No, under a retry's question."""
    builder = InlineKeyboardBuilder()
    if retryable:
        builder.button(
            text=texts.BTN_RETRY_CONFIRM.format(count=texts.number(retryable)),
            callback_data=CampaignCallback(
                action=CampaignAction.RETRY_CONFIRM, campaign_id=campaign_id, page=page
            ),
        )
    if unconfirmed:
        builder.button(
            text=texts.BTN_RETRY_WITH_UNCONFIRMED.format(count=texts.number(unconfirmed)),
            callback_data=CampaignCallback(
                action=CampaignAction.RETRY_WITH_UNCONFIRMED, campaign_id=campaign_id, page=page
            ),
        )
    builder.button(
        text=texts.BTN_NO,
        callback_data=CampaignCallback(action=CampaignAction.OPEN, campaign_id=campaign_id, page=page),
    )
    builder.adjust(1)
    return builder.as_markup()


def audit_pages(campaign_id: int, *, older_than: int | None, newest: bool) -> InlineKeyboardMarkup | None:
    """◀ Older (entries before `older_than`) and ⏮ Newest, as they apply; None when neither does."""
    builder = InlineKeyboardBuilder()
    if older_than is not None:
        builder.button(
            text=texts.BTN_AUDIT_OLDER,
            callback_data=AuditCallback(campaign_id=campaign_id, before_id=older_than),
        )
    if not newest:
        builder.button(text=texts.BTN_AUDIT_NEWEST, callback_data=AuditCallback(campaign_id=campaign_id))
    return builder.as_markup() if older_than is not None or not newest else None


# ---- edit sent messages (issue 14)


def _card_button(
    builder: InlineKeyboardBuilder, text: str, action: CampaignAction, campaign_id: int, page: int
) -> None:
    builder.button(
        text=text, callback_data=CampaignCallback(action=action, campaign_id=campaign_id, page=page)
    )


def edit_sent_prompt(
    campaign_id: int, *, page: int, grid: bool, text_allowed: bool = True
) -> InlineKeyboardMarkup:
    """Under the question for the corrected message: switch between text and buttons, or cancel."""
    builder = InlineKeyboardBuilder()
    if not grid:
        _card_button(
            builder, texts.BTN_EDIT_SENT_BUTTONS, CampaignAction.EDIT_SENT_BUTTONS, campaign_id, page
        )
    elif text_allowed:
        _card_button(builder, texts.BTN_EDIT_SENT_TEXT, CampaignAction.EDIT_SENT_TEXT, campaign_id, page)
    _card_button(builder, texts.BTN_EDIT_CANCEL, CampaignAction.EDIT_SENT_ABORT, campaign_id, page)
    return builder.as_markup()


def edit_sent_confirm(campaign_id: int, *, page: int, count: int) -> InlineKeyboardMarkup:
    """ "Yes, edit N" / "Cancel" under an edit's preview."""
    builder = InlineKeyboardBuilder()
    _card_button(
        builder,
        texts.BTN_YES_EDIT.format(count=texts.number(count)),
        CampaignAction.EDIT_SENT_CONFIRM,
        campaign_id,
        page,
    )
    _card_button(builder, texts.BTN_EDIT_CANCEL, CampaignAction.EDIT_SENT_ABORT, campaign_id, page)
    return builder.as_markup()


def language_picker() -> InlineKeyboardMarkup:
    """English / Русский under /language, each language named in itself."""
    builder = InlineKeyboardBuilder()
    for code, name in texts.LANGUAGE_BUTTONS:
        builder.button(text=name, callback_data=LanguageCallback(language=LanguageChoice(code)))
    return builder.as_markup()


# ---- A/B tests (issue 17)


def ab_measures(campaign_id: int) -> InlineKeyboardMarkup:
    """What makes the winner of an A/B test being set up."""
    builder = InlineKeyboardBuilder()
    for text, measure in (
        (texts.BTN_AB_MEASURE_CLICKS, Measure.CLICKS),
        (texts.BTN_AB_MEASURE_CLICKS_BLOCKS, Measure.CLICKS_MINUS_BLOCKS),
    ):
        builder.button(
            text=text,
            callback_data=AbTestCallback(
                action=AbTestAction.MEASURE, campaign_id=campaign_id, value=measure.value
            ),
        )
    builder.adjust(1)
    return builder.as_markup()
