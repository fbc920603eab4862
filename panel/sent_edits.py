"""After the send: editing a campaign's delivered messages, for the control bot, the CLI and workers.

An edit is a `CampaignAction` of kind `edit` carrying the new message and the one it replaced;
asking for one replaces the campaign's content in the same transaction, so recipients not
reached yet get the new version, and the workers edit every delivered message through the
token's limiter (`jobs.edit`). The edits of a campaign are its content history. Here: what an
edit may change (`edited_content`), the Bot API calls that apply it in one chat (`edit_calls`),
asking for one (`edit`), and the texts of its confirmation, progress and summary.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    ACTIVE_CAMPAIGN_STATUSES,
    ActionKind,
    ActionStatus,
    Campaign,
    CampaignAction,
    DeliveryStatus,
    TargetBot,
)
from models.tables import Delivery
from panel import audit, campaigns, texts
from panel.after_send import RecallCounts, latest_recall
from panel.audit import Actor, AuditAction
from panel.buttons import Buttons
from panel.claims import claim_once, release_claim
from panel.content import ContentError, MessageContent, reply_markup_params
from panel.greetings import PERSONALISED_KEY, GreetingError, personalise, rendered
from panel.keys import RedisKeys
from panel.progress import percent, progress_bar

logger = logging.getLogger(__name__)

JOB_EDIT = "edit_campaign"
EDIT_CALLBACK_PREFIX = "edt"
"""`EditCallback`'s prefix (bot/callbacks.py); its actions are `EditAction`'s values."""
EDIT_CLAIM_TTL_S = 60
CONTENT_EDIT_TTL_S = 7 * 86400
"""How long a batch can see that its campaign was edited (no batch runs that long)."""
FREE_RATE_PER_S = 30
"""Edits are no paid broadcast: they go at most at the free rate of the token."""


class EditError(ValueError):
    """An edit that does not fit the campaign's message; the text says why, for the admin."""


class EditOutcome(enum.StrEnum):
    """What happened when an admin asked to edit a campaign's sent messages."""

    STARTED = "started"
    RUNNING = "running"  # an edit of it runs already
    NOTHING_SENT = "nothing_sent"
    RECALLED = "recalled"
    REFUSED = "refused"  # the new content does not fit (see the EditError)
    MISSING = "missing"
    AB_TEST = "ab_test"  # its recipients got different variants: one edit can't fit them all


@dataclass(frozen=True, slots=True)
class EditPreview:
    """What an edit of a campaign would do now."""

    campaign_id: int
    editable: int
    """Chats whose message was delivered (and has a message id to edit)."""
    calls_each: int
    """Edit requests one chat takes (an album's captioned item and its follow-up)."""
    rate_per_s: int
    still_sending: bool

    @property
    def duration(self) -> timedelta:
        """How long the edits take at the bot's rate."""
        return timedelta(seconds=round(self.editable * max(self.calls_each, 1) / max(self.rate_per_s, 1)))


# ---------------------------------------------------------------- what an edit changes


def _caption_index(album: Sequence[Mapping[str, Any]]) -> int:
    """The album item that carries the caption: the first with one, else the first."""
    for index, item in enumerate(album):
        if item.get("caption"):
            return index
    return 0


def current_text(content: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The text (or caption) an edit replaces, with its entities."""
    album = content.get("album")
    if isinstance(album, list) and album:
        item = album[_caption_index(album)]
        return str(item.get("caption") or ""), list(item.get("caption_entities") or ())
    return str(content.get("text") or ""), list(content.get("entities") or ())


def is_caption(content: Mapping[str, Any]) -> bool:
    """Whether the campaign's text is a caption (media, album) rather than a message text."""
    return isinstance(content.get("media"), dict) or bool(content.get("album"))


def edited_content(
    content: Mapping[str, Any],
    *,
    text: str | None = None,
    entities: Sequence[Mapping[str, Any]] = (),
    buttons: Buttons | None = None,
) -> dict[str, Any]:
    """The stored message with a new text (a caption for media and albums: the item that carries
    it) and/or new buttons; every other key (the target bots' file ids) kept.

    Raises EditError when the edit does not fit the message: a forwarded post, a copied post's
    text, buttons on an album sent without a follow-up, nothing changed, or a text Telegram would
    refuse (too long, a broken placeholder).
    """
    post = content.get("channel_post")
    if isinstance(post, dict):
        if post.get("mode") != "copy":
            raise EditError(texts.EDIT_MISMATCH_FORWARD)
        if text is not None:
            raise EditError(texts.EDIT_MISMATCH_COPY_TEXT)
    album = content.get("album")
    is_album = isinstance(album, list) and bool(album)
    new = dict(content)
    if buttons is not None:
        if is_album and not content.get("buttons"):
            raise EditError(texts.EDIT_MISMATCH_ALBUM_BUTTONS)
        if is_album and not buttons:
            raise EditError(texts.EDIT_MISMATCH_ALBUM_NO_BUTTONS)
        if buttons:
            new["buttons"] = buttons.to_json()
        else:
            new.pop("buttons", None)
    if text is not None:
        clean = [dict(entity) for entity in entities]
        if is_album:
            assert isinstance(album, list)
            index = _caption_index(album)
            items = [dict(item) for item in album]
            items[index]["caption"], items[index]["caption_entities"] = text, clean
            new["album"] = items
        else:
            new["text"], new["entities"] = text, clean
    try:
        MessageContent.from_json(new)  # the same rules as when it was composed
        if text is not None:  # the new text is read as compose reads it: placeholders filled per recipient
            new = personalise({key: value for key, value in new.items() if key != PERSONALISED_KEY})
    except (ContentError, GreetingError) as error:
        raise EditError(str(error).rstrip(".")) from error
    if _parts(new) == _parts(content):
        raise EditError(texts.EDIT_UNCHANGED)
    return new


def _parts(content: Mapping[str, Any]) -> tuple[Any, ...]:
    """What an edit can change: the texts (captions) and the buttons."""
    album = content.get("album")
    captions = (
        tuple((item.get("caption") or "", repr(item.get("caption_entities") or [])) for item in album)
        if isinstance(album, list)
        else ()
    )
    return (
        str(content.get("text") or ""),
        repr(list(content.get("entities") or [])),
        captions,
        repr(content.get("buttons") or []),
    )


@dataclass(frozen=True, slots=True)
class EditCall:
    """One Bot API edit request for one message of one chat (`params` holds all but `chat_id`)."""

    method: str
    params: dict[str, Any]


def _markup(content: Mapping[str, Any]) -> dict[str, Any]:
    """`reply_markup` with the buttons (the unsubscribe button too), or nothing: an edit that
    leaves it out removes the keyboard."""
    return reply_markup_params(content)


def _formatted(
    text: str, entities: Sequence[Mapping[str, Any]], text_field: str, entities_field: str
) -> dict[str, Any]:
    found: dict[str, Any] = {text_field: text}
    clean = [{key: value for key, value in dict(e).items() if value is not None} for e in entities]
    if clean:
        found[entities_field] = clean
    return found


def edit_calls(
    new: Mapping[str, Any],
    previous: Mapping[str, Any],
    message_ids: Sequence[int],
    values: Mapping[str, str | None] | None = None,
) -> list[EditCall]:
    """The requests that turn one chat's messages (`message_ids`, as the delivery recorded them)
    from `previous` into `new`, rendered for that recipient (`values`: their names).

    A text message: editMessageText (its buttons passed again: Telegram drops a keyboard an edit
    leaves out); media: editMessageCaption; an album: the caption of each item that changed, and
    the follow-up message's text or buttons; buttons alone: editMessageReplyMarkup.
    """
    if not message_ids:
        return []
    mine_new = rendered(new, values or {})
    mine_old = rendered(previous, values or {})
    text_changed = _parts(new)[:3] != _parts(previous)[:3]
    buttons_changed = _parts(new)[3] != _parts(previous)[3]
    markup = _markup(mine_new)
    album = mine_new.get("album")
    calls: list[EditCall] = []
    if isinstance(album, list) and album:
        old_album = mine_old.get("album") or []
        for index, item in enumerate(album):
            old_item = old_album[index] if index < len(old_album) else {}
            same = (item.get("caption") or "", item.get("caption_entities") or []) == (
                old_item.get("caption") or "",
                old_item.get("caption_entities") or [],
            )
            if index < len(message_ids) and not same:
                params = _formatted(
                    str(item.get("caption") or ""),
                    item.get("caption_entities") or (),
                    "caption",
                    "caption_entities",
                )
                calls.append(EditCall("editMessageCaption", {"message_id": message_ids[index], **params}))
        if mine_new.get("buttons") and len(message_ids) > len(album):
            follow_up = message_ids[len(album)]
            if (mine_new.get("text"), mine_new.get("entities")) != (
                mine_old.get("text"),
                mine_old.get("entities"),
            ):
                params = _formatted(
                    str(mine_new.get("text") or ""), mine_new.get("entities") or (), "text", "entities"
                )
                calls.append(EditCall("editMessageText", {"message_id": follow_up, **params, **markup}))
            elif buttons_changed:
                calls.append(EditCall("editMessageReplyMarkup", {"message_id": follow_up, **markup}))
        return calls
    first = message_ids[0]
    if isinstance(mine_new.get("channel_post"), dict):
        return (
            [EditCall("editMessageReplyMarkup", {"message_id": first, **markup})] if buttons_changed else []
        )
    if text_changed:
        if is_caption(mine_new):
            params = _formatted(
                str(mine_new.get("text") or ""), mine_new.get("entities") or (), "caption", "caption_entities"
            )
            return [EditCall("editMessageCaption", {"message_id": first, **params, **markup})]
        params = _formatted(
            str(mine_new.get("text") or ""), mine_new.get("entities") or (), "text", "entities"
        )
        return [EditCall("editMessageText", {"message_id": first, **params, **markup})]
    if buttons_changed:
        return [EditCall("editMessageReplyMarkup", {"message_id": first, **markup})]
    return []


def calls_per_chat(new: Mapping[str, Any], previous: Mapping[str, Any]) -> int:
    """Edit requests one chat takes (for the confirmation's time)."""
    album = previous.get("album")
    ids = list(range(1, 2 + (len(album) if isinstance(album, list) else 0)))
    return max(1, len(edit_calls(new, previous, ids)))


# ---------------------------------------------------------------- asking for one


async def latest_edit(session: AsyncSession, campaign_id: int) -> CampaignAction | None:
    """The campaign's most recent edit (running, done or cancelled), if any."""
    found = await session.scalars(
        select(CampaignAction)
        .where(CampaignAction.campaign_id == campaign_id, CampaignAction.kind == ActionKind.EDIT)
        .order_by(CampaignAction.id.desc())
        .limit(1)
    )
    return found.first()


def _is_open(action: CampaignAction | None) -> bool:
    return action is not None and action.status in (ActionStatus.RUNNING, ActionStatus.PAUSED)


async def edit_preview(
    session: AsyncSession, campaign_id: int, new: Mapping[str, Any] | None = None
) -> EditPreview | None:
    """The counts an edit's confirmation gives; None when there is no such campaign."""
    campaign = await campaigns.get_campaign(session, campaign_id)
    if campaign is None:
        return None
    editable = await session.scalar(
        select(func.count()).where(
            Delivery.campaign_id == campaign_id,
            Delivery.status == DeliveryStatus.SENT,
            Delivery.telegram_message_id.is_not(None),
        )
    )
    rate = await session.scalar(select(TargetBot.rate_per_s).where(TargetBot.id == campaign.bot_id))
    return EditPreview(
        campaign_id=campaign_id,
        editable=int(editable or 0),
        calls_each=1 if new is None else calls_per_chat(new, campaign.content or {}),
        rate_per_s=max(1, min(int(rate or 1), FREE_RATE_PER_S)),
        still_sending=campaign.status in ACTIVE_CAMPAIGN_STATUSES,
    )


async def refusal(session: AsyncSession, campaign_id: int) -> tuple[EditOutcome | None, int | None]:
    """Why a campaign's sent messages cannot be edited now (None: they can), and the id of the
    edit that runs (for its progress) when that is why."""
    preview = await edit_preview(session, campaign_id)
    if preview is None:
        return EditOutcome.MISSING, None
    running = await latest_edit(session, campaign_id)
    if running is not None and _is_open(running):
        return EditOutcome.RUNNING, running.id
    recall = await latest_recall(session, campaign_id)
    if recall is not None and recall.status is not ActionStatus.CANCELLED:
        return EditOutcome.RECALLED, recall.id
    if preview.editable == 0:
        return EditOutcome.NOTHING_SENT, None
    if await session.scalar(select(Campaign.ab_seed).where(Campaign.id == campaign_id)) is not None:
        return EditOutcome.AB_TEST, None
    return None, None


async def enqueue_edit(pool: ArqRedis, action_id: int, *, queue_name: str) -> None:
    """Ask a worker to carry an edit on (any number of runs may help; each is idempotent)."""
    await pool.enqueue_job(JOB_EDIT, action_id, _queue_name=queue_name)


async def edit(
    sessionmaker: async_sessionmaker[AsyncSession],
    pool: ArqRedis,
    campaign_id: int,
    *,
    queue_name: str,
    actor: Actor,
    text: str | None = None,
    entities: Sequence[Mapping[str, Any]] = (),
    buttons: Buttons | None = None,
    created_by: int | None = None,
    progress_chat_id: int | None = None,
) -> tuple[EditOutcome, int | None, str | None]:
    """Edit a campaign's sent messages: commits the edit with the campaign's content replaced
    (recipients not reached yet get the new version), then enqueues the workers' job.

    The outcome, the id of the edit started or running, and for REFUSED the reason. A campaign
    has one edit at a time; a later one edits from what the earlier one left.
    """
    if not campaigns.is_row_id(campaign_id):
        return EditOutcome.MISSING, None, None
    claim = f"edit:{campaign_id}"
    if not await claim_once(pool, claim, ttl_s=EDIT_CLAIM_TTL_S, namespace=queue_name):
        async with sessionmaker() as session:
            running = await latest_edit(session, campaign_id)
        return EditOutcome.RUNNING, None if running is None else running.id, None
    try:
        async with sessionmaker() as session, session.begin():
            refused, other_id = await refusal(session, campaign_id)
            if refused is not None:
                return refused, other_id, None
            campaign = await session.get(Campaign, campaign_id, with_for_update=True)
            if campaign is None:
                return EditOutcome.MISSING, None, None
            previous = dict(campaign.content or {})
            try:
                new = edited_content(previous, text=text, entities=entities, buttons=buttons)
            except EditError as error:
                return EditOutcome.REFUSED, None, str(error)
            action = CampaignAction(
                campaign_id=campaign_id,
                kind=ActionKind.EDIT,
                status=ActionStatus.RUNNING,
                created_by=created_by,
                progress_chat_id=progress_chat_id,
                content=new,
                previous_content=previous,
            )
            session.add(action)
            campaign.content = new
            await session.flush()
            action_id = action.id
            details = {"text": text is not None, "buttons": None if buttons is None else buttons.count}
            await audit.record(
                session,
                actor,
                AuditAction.EDIT_SENT,
                campaign_id=campaign_id,
                bot_id=campaign.bot_id,
                details=details,
            )
    finally:
        await release_claim(pool, claim, namespace=queue_name)
    # Batches running now hold the old version: this tells them to read the campaign again.
    await pool.set(RedisKeys(queue_name).content_edit(campaign_id), str(action_id), ex=CONTENT_EDIT_TTL_S)
    await enqueue_edit(pool, action_id, queue_name=queue_name)
    logger.info("campaign %s: edit %s requested", campaign_id, action_id)
    return EditOutcome.STARTED, action_id, None


async def resume_edit(
    sessionmaker: async_sessionmaker[AsyncSession], pool: ArqRedis, action_id: int, *, queue_name: str
) -> bool:
    """Resume a paused edit: commits RUNNING, then enqueues a run; False when it was not paused.
    (Pausing and stopping are the recall's: `after_send.pause_recall`, `cancel_recall`.)"""
    if not campaigns.is_row_id(action_id):
        return False
    async with sessionmaker() as session, session.begin():
        changed = await session.execute(
            update(CampaignAction)
            .where(
                CampaignAction.id == action_id,
                CampaignAction.kind == ActionKind.EDIT,
                CampaignAction.status == ActionStatus.PAUSED,
            )
            .values(status=ActionStatus.RUNNING)
            .execution_options(synchronize_session=False)
        )
        assert isinstance(changed, CursorResult)
        resumed = bool(changed.rowcount)
    if resumed:
        await enqueue_edit(pool, action_id, queue_name=queue_name)
    return resumed


# ---------------------------------------------------------------- history and counts


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One version of a campaign's message: what was sent first, or an edit."""

    content: dict[str, Any]
    at: datetime | None
    by: int | None
    action_id: int | None
    """None for what was sent first."""


async def content_history(session: AsyncSession, campaign_id: int) -> list[HistoryEntry]:
    """Every version of the campaign's message, oldest first: what was sent first, then each edit
    (who asked, when); just the current message for a campaign never edited."""
    campaign = await campaigns.get_campaign(session, campaign_id)
    if campaign is None:
        return []
    edits = (
        await session.scalars(
            select(CampaignAction)
            .where(CampaignAction.campaign_id == campaign_id, CampaignAction.kind == ActionKind.EDIT)
            .order_by(CampaignAction.id)
        )
    ).all()
    first = edits[0].previous_content if edits else campaign.content
    history = [HistoryEntry(dict(first or {}), campaign.started_at, campaign.created_by, None)]
    history += [HistoryEntry(dict(e.content or {}), e.created_at, e.created_by, e.id) for e in edits]
    return history


def counts_json(counts: RecallCounts) -> dict[str, int]:
    """An edit's counts by name (for `status --json`)."""
    return {
        "total": counts.total,
        "pending": counts.pending,
        "edited": counts.deleted,
        "gone": counts.gone,
        "unavailable": counts.unavailable,
        "failed": counts.failed,
        "cancelled": counts.cancelled,
    }


# ---------------------------------------------------------------- texts


def _name(name: str | None) -> str:
    return f" “{name}”" if name else ""


def pack_edit_callback(action: str, action_id: int) -> str:
    """The callback data of an edit progress button, as `EditCallback(...).pack()` writes it."""
    return f"{EDIT_CALLBACK_PREFIX}:{action}:{action_id}"


def edit_markup(action_id: int, status: ActionStatus) -> dict[str, Any] | None:
    """The edit progress message's `reply_markup`: Pause or Resume, and Stop; none once over."""
    if status is ActionStatus.RUNNING:
        toggle = (texts.BTN_PAUSE_RECALL, pack_edit_callback("pause", action_id))
    elif status is ActionStatus.PAUSED:
        toggle = (texts.BTN_RESUME_RECALL, pack_edit_callback("resume", action_id))
    else:
        return None
    stop = (texts.BTN_CANCEL_EDIT, pack_edit_callback("cancel", action_id))
    return {"inline_keyboard": [[{"text": text, "callback_data": data} for text, data in (toggle, stop)]]}


def _counts_line(counts: RecallCounts) -> str:
    return texts.EDIT_LINE_COUNTS.format(
        edited=texts.number(counts.deleted),
        gone=texts.number(counts.gone),
        unavailable=texts.number(counts.unavailable),
        failed=texts.number(counts.failed),
    )


def render_edit_progress(
    campaign_id: int, name: str | None, status: ActionStatus, counts: RecallCounts
) -> str:
    """The live progress message of an edit."""
    lines = [
        texts.EDIT_TITLE.format(campaign_id=campaign_id, name=_name(name)),
        texts.RECALL_LINE_STATUS.format(status=texts.EDIT_STATUS[status.value]),
        texts.RECALL_LINE_PROGRESS.format(
            bar=progress_bar(counts.finished, counts.total),
            done=texts.number(counts.finished),
            total=texts.number(counts.total),
            percent=percent(counts.finished, counts.total),
        ),
        _counts_line(counts),
    ]
    if counts.cancelled:
        lines.append(texts.RECALL_LINE_CANCELLED.format(cancelled=texts.number(counts.cancelled)))
    return "\n".join(lines)


def render_edit_summary(
    campaign_id: int, name: str | None, status: ActionStatus, counts: RecallCounts
) -> str:
    """The summary of an edit that ended."""
    lines = [
        texts.EDIT_SUMMARY_TITLE.format(
            campaign_id=campaign_id, name=_name(name), status=texts.EDIT_STATUS[status.value]
        ),
        _counts_line(counts),
    ]
    if counts.cancelled:
        lines.append(texts.RECALL_LINE_CANCELLED.format(cancelled=texts.number(counts.cancelled)))
    if counts.gone:
        lines.append(texts.EDIT_SUMMARY_GONE)
    return "\n".join(lines)


def render_edit_confirmation(preview: EditPreview) -> str:
    """The question before an edit: how many messages, and how long at the bot's rate."""
    text = texts.EDIT_CONFIRM.format(
        campaign_id=preview.campaign_id,
        count=preview.editable,
        duration=texts.duration(preview.duration),
    )
    if preview.still_sending:
        text += texts.EDIT_CONFIRM_SENDING
    return text


def render_version(content: Mapping[str, Any]) -> str:
    """One version of the message for the preview: its text (or caption) and its button grid."""
    text, _ = current_text(content)
    buttons = Buttons.from_json(content.get("buttons"))
    return text + (f"\n[{buttons.to_text()}]" if buttons else "")
