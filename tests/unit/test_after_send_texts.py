"""The recall's progress buttons unpack as the bot's typed callback data; its texts add up."""

from __future__ import annotations

from bot.callbacks import RecallAction, RecallCallback
from models import ActionStatus
from panel import texts
from panel.after_send import (
    RecallCounts,
    RecallPreview,
    message_ids,
    recall_markup,
    render_recall_confirmation,
    render_recall_progress,
)


def _buttons(status: ActionStatus) -> list[tuple[str, str]]:
    markup = recall_markup(7, status)
    if markup is None:
        return []
    return [(button["text"], button["callback_data"]) for row in markup["inline_keyboard"] for button in row]


def test_progress_buttons_are_the_bots_callback_data() -> None:
    assert _buttons(ActionStatus.RUNNING) == [
        (texts.BTN_PAUSE_RECALL, RecallCallback(action=RecallAction.PAUSE, action_id=7).pack()),
        (texts.BTN_CANCEL_RECALL, RecallCallback(action=RecallAction.CANCEL, action_id=7).pack()),
    ]
    assert _buttons(ActionStatus.PAUSED)[0] == (
        texts.BTN_RESUME_RECALL,
        RecallCallback(action=RecallAction.RESUME, action_id=7).pack(),
    )
    assert _buttons(ActionStatus.COMPLETED) == [] and _buttons(ActionStatus.CANCELLED) == []


def test_an_album_delivery_recalls_every_message() -> None:
    assert message_ids(11, [11, 12, 13, 14]) == [11, 12, 13, 14]
    assert message_ids(11, None) == [11]
    assert message_ids(None, None) == []


def test_confirmation_and_progress_say_the_counts() -> None:
    preview = RecallPreview(campaign_id=3, recallable=1200, messages=2400, too_old=35, still_sending=True)
    text = render_recall_confirmation(preview)
    assert "1,200 chats (2,400 messages)" in text and "35 chats got it more than 48 hours ago" in text
    assert texts.RECALL_STOPS_SENDING.strip() in text
    quiet = render_recall_confirmation(
        RecallPreview(campaign_id=3, recallable=5, messages=5, too_old=0, still_sending=False)
    )
    assert "48 hours" not in quiet and "still sending" not in quiet
    progress = render_recall_progress(
        3, "Sale", ActionStatus.RUNNING, RecallCounts(total=10, pending=4, deleted=5, too_old=1)
    )
    assert "6/10 (60%)" in progress and "Deleted: 5" in progress and "too old: 1" in progress
