"""Every inline button's payload: typed callback data with an Enum action and bounded ids.

The control bot's conversations and cards use them all; the workers post the progress message
with `ProgressCallback`'s data (rendered without aiogram by `panel.progress`).
"""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from panel.campaigns import MAX_ROW_ID

# Ids and pages in callback data are bounded: data outside the bounds (forged, or from a broken
# client) does not unpack, so no handler's filter matches and a stale-button handler answers it.
# A list page times the page size must stay a valid OFFSET; no list gets anywhere near this.
MAX_PAGE = 2**31 - 1


class ComposeAction(enum.StrEnum):
    """Buttons of the /new conversation."""

    PICK_BOT = "bot"
    SKIP_NAME = "skip"
    SKIP_BUTTONS = "nobtn"
    SEND_NOW = "send"
    SCHEDULE = "sched"
    TEST = "test"
    EDIT = "edit"
    SAVE = "save"
    DISCARD = "drop"
    FORWARD_POST = "fwd"
    COPY_POST = "copy"
    AUDIENCE = "aud"
    # ---- several bots, one copy per person (issue 15)
    PICK_SEVERAL = "bots"
    TOGGLE_BOT = "tgl"
    BOTS_DONE = "done"
    # ---- opt-outs by topic (issue 15)
    TOPIC = "topic"
    UNSUBSCRIBE_BUTTON = "unsub"


class ComposeCallback(CallbackData, prefix="cmp"):
    """A tap in the /new conversation; `bot_id` only for PICK_BOT and TOGGLE_BOT."""

    action: ComposeAction
    bot_id: int = Field(default=0, ge=0, le=MAX_ROW_ID)


class SendOptionName(enum.StrEnum):
    """The toggles of send options on the compose summary card (`panel.send_options`)."""

    SILENT = "silent"
    LINK_PREVIEW = "link_preview"
    PROTECT = "protect"
    PIN = "pin"
    TRACK_LINKS = "track_links"  # tracked links (panel/links.py)


class SendOptionCallback(CallbackData, prefix="opt"):
    """A tap on a send-option toggle of the compose summary card."""

    option: SendOptionName


class SendNowAction(enum.StrEnum):
    """Buttons of the send-now confirmation."""

    PICK = "pick"
    CONFIRM = "ok"
    ABORT = "no"
    ASK_APPROVAL = "ask"


class SendNowCallback(CallbackData, prefix="snd"):
    """A tap on a send-now confirmation or the list of drafts to send."""

    action: SendNowAction
    campaign_id: int = Field(ge=0, le=MAX_ROW_ID)


class ScheduleAction(enum.StrEnum):
    """Buttons of the /schedule conversation."""

    PICK = "pick"
    CONFIRM = "ok"
    CHANGE = "change"


class ScheduleCallback(CallbackData, prefix="sch"):
    """A tap in the /schedule conversation."""

    action: ScheduleAction
    campaign_id: int = Field(ge=0, le=MAX_ROW_ID)


class CampaignAction(enum.StrEnum):
    """Buttons of the campaign list and a campaign's card."""

    PAGE = "page"
    OPEN = "open"
    SEND_NOW = "send"
    SCHEDULE = "sched"
    UNSCHEDULE = "unsched"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    CANCEL_CONFIRM = "cancel_yes"
    DUPLICATE = "dup"
    DELETE = "del"
    DELETE_CONFIRM = "del_yes"
    EDIT_BUTTONS = "btn"
    REMOVE_BUTTONS = "btn_del"
    RECALL = "recall"
    RECALL_CONFIRM = "recall_yes"
    RETRY = "retry"
    RETRY_CONFIRM = "retry_yes"
    RETRY_WITH_UNCONFIRMED = "retry_unc"
    # ---- edit sent messages (issue 14)
    EDIT_SENT = "edit"
    EDIT_SENT_BUTTONS = "edit_btn"
    EDIT_SENT_TEXT = "edit_txt"
    EDIT_SENT_CONFIRM = "edit_yes"
    EDIT_SENT_ABORT = "edit_no"
    # ---- expiry, "Delete after…" (issue 14)
    EXPIRY = "expiry"
    # ---- A/B tests (issue 17)
    AB_TEST = "ab"


class CampaignCallback(CallbackData, prefix="cpg"):
    """A tap in /campaigns; `page` is the list page to go back to."""

    action: CampaignAction
    campaign_id: int = Field(default=0, ge=0, le=MAX_ROW_ID)
    page: int = Field(default=0, ge=0, le=MAX_PAGE)


class ProgressAction(enum.StrEnum):
    """Buttons under a campaign's live progress message."""

    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    CANCEL_CONFIRM = "cancel_yes"
    CANCEL_ABORT = "cancel_no"


class ProgressCallback(CallbackData, prefix="pg"):
    """A tap on a progress message button (data with an id no row can have does not unpack)."""

    action: ProgressAction
    campaign_id: int = Field(ge=0, le=MAX_ROW_ID)


class ApprovalAction(enum.StrEnum):
    """Buttons of an approval request sent to the approvers."""

    APPROVE = "ok"
    REJECT = "no"


class ApprovalCallback(CallbackData, prefix="apr"):
    """A tap on an approval request."""

    action: ApprovalAction
    campaign_id: int = Field(ge=0, le=MAX_ROW_ID)


class AuditCallback(CallbackData, prefix="aud"):
    """A page of /audit: entries older than `before_id` (0: the newest), of one campaign or all (0)."""

    campaign_id: int = Field(default=0, ge=0, le=MAX_ROW_ID)
    before_id: int = Field(default=0, ge=0, le=MAX_ROW_ID)


class RecallAction(enum.StrEnum):
    """Buttons under a recall's live progress message (`panel.after_send.recall_markup`)."""

    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"


class RecallCallback(CallbackData, prefix="rcl"):
    """A tap on a recall's progress message."""

    action: RecallAction
    action_id: int = Field(ge=0, le=MAX_ROW_ID)


# ---- edit sent messages (issue 14)


class EditAction(enum.StrEnum):
    """Buttons under an edit's live progress message (`panel.sent_edits.edit_markup`)."""

    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"


class EditCallback(CallbackData, prefix="edt"):
    """A tap on an edit's progress message."""

    action: EditAction
    action_id: int = Field(ge=0, le=MAX_ROW_ID)


# ---- the guided segment builder (issue 15)


class BuilderAction(enum.StrEnum):
    """Buttons of the segment builder (`/segments new`)."""

    LANGUAGE = "lang"
    ACTIVE = "act"
    INACTIVE = "idle"
    JOINED = "new"
    TOPIC = "topic"
    UNDO = "undo"
    SAVE = "save"
    CANCEL = "quit"


class BuilderCallback(CallbackData, prefix="sgb"):
    """A tap in the segment builder; `value` is a language code, a period like 30d or a topic."""

    action: BuilderAction
    value: str = Field(default="", max_length=32, pattern=r"^[A-Za-z0-9_-]*$")


# ---- the admin's language (issue 16)


class LanguageChoice(enum.StrEnum):
    """The languages of the /language buttons (`panel.i18n.LANGUAGES`)."""

    ENGLISH = "en"
    RUSSIAN = "ru"


class LanguageCallback(CallbackData, prefix="lng"):
    """A tap on one of the /language buttons: speak `language` with this admin from now on."""

    language: LanguageChoice


# ---- A/B tests (issue 17)


class AbTestAction(enum.StrEnum):
    """The taps of an A/B test: its measure while it is set up, its winner from the card."""

    MEASURE = "measure"
    PICK = "pick"


class AbTestCallback(CallbackData, prefix="abt"):
    """`value`: the measure (`panel.abtest.Measure`) or the winning variant's label."""

    action: AbTestAction
    campaign_id: int = Field(ge=1, le=MAX_ROW_ID)
    value: str = Field(min_length=1, max_length=24)
