"""The live progress message of an after-send action (a recall or an edit) in the admin's chat,
edited as its steps settle (at most once per `progress_interval_s` across workers), and the
summary once it ends."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.context import EngineContext
from jobs.engine.sendclient import BotAPIError, BotAPINetworkError
from jobs.progress import admin_language
from jobs.steps import ActionTarget, read_counts, read_target
from models import ActionKind, CampaignAction
from panel import i18n
from panel.after_send import RecallCounts, recall_markup, render_recall_progress, render_recall_summary
from panel.claims import claim_once
from panel.sent_edits import edit_markup, render_edit_progress, render_edit_summary

logger = logging.getLogger(__name__)

PROGRESS_TTL_S = 86400


def _progress(target: ActionTarget, counts: RecallCounts) -> tuple[str, dict[str, Any] | None]:
    """The progress message's text and buttons, for the action's kind."""
    if target.kind is ActionKind.EDIT:
        text = render_edit_progress(target.campaign_id, target.name, target.status, counts)
        return text, edit_markup(target.action_id, target.status)
    text = render_recall_progress(target.campaign_id, target.name, target.status, counts)
    return text, recall_markup(target.action_id, target.status)


def _progress_key(ectx: EngineContext, action_id: int, part: str) -> str:
    return ectx.keys.recall_progress(action_id, part)


async def send_progress_message(ectx: EngineContext, action_id: int) -> None:
    """Post the live progress message of a recall (once, by whichever run gets here first)."""
    bot = ectx.control_bot
    target = await read_target(ectx, action_id)
    if bot is None or target is None or target.progress_chat_id is None or target.progress_message_id:
        return
    if not await claim_once(
        ectx.redis, f"recall-progress:{action_id}", ttl_s=PROGRESS_TTL_S, namespace=ectx.settings.queue_name
    ):
        return
    counts = await read_counts(ectx, action_id)
    with i18n.speaking(await admin_language(ectx, target.progress_chat_id)):
        text, markup = _progress(target, counts)
    try:
        message = await bot.call(
            "sendMessage",
            {
                "chat_id": target.progress_chat_id,
                "text": text,
                **({"reply_markup": markup} if markup else {}),
            },
        )
    except (BotAPIError, BotAPINetworkError) as exc:
        logger.warning("recall %s: progress message not sent: %s", action_id, exc)
        return

    async def store(session: AsyncSession) -> None:
        await session.execute(
            update(CampaignAction)
            .where(CampaignAction.id == action_id, CampaignAction.progress_message_id.is_(None))
            .values(progress_message_id=int(message["message_id"]))
            .execution_options(synchronize_session=False)
        )

    await ectx.in_transaction(store)


async def update_progress(ectx: EngineContext, action_id: int, *, final: bool = False) -> None:
    """Edit the recall's progress message, at most once per `progress_interval_s` across workers
    (the final edit always), and only when its text changed."""
    bot = ectx.control_bot
    if bot is None:
        return
    interval_ms = max(int(ectx.settings.progress_interval_s * 1000), 1)
    lock = _progress_key(ectx, action_id, "lock")
    if not final and not await ectx.redis.set(lock, b"1", nx=True, px=interval_ms):
        return
    target = await read_target(ectx, action_id)
    if target is None or target.progress_chat_id is None or not target.progress_message_id:
        return
    counts = await read_counts(ectx, action_id)
    with i18n.speaking(await admin_language(ectx, target.progress_chat_id)):
        text, markup = _progress(target, counts)
    last_key = _progress_key(ectx, action_id, "text")
    shown = f"{target.status}\n{text}"
    if await ectx.redis.get(last_key) == shown.encode():
        return
    params: dict[str, Any] = {
        "chat_id": target.progress_chat_id,
        "message_id": target.progress_message_id,
        "text": text,
    }
    if markup is not None:
        params["reply_markup"] = markup
    try:
        await bot.call("editMessageText", params)
    except BotAPIError as exc:
        if exc.retry_after_s is not None:
            await ectx.redis.set(lock, b"1", px=int(exc.retry_after_s * 1000) + interval_ms)
            if final:
                await asyncio.sleep(exc.retry_after_s)
                await update_progress(ectx, action_id, final=True)
            return
        if "message is not modified" not in exc.description:
            logger.warning("recall %s: progress edit refused: %s", action_id, exc.description)
            return
    except BotAPINetworkError as exc:
        logger.warning("recall %s: progress edit failed: %s", action_id, exc)
        return
    await ectx.redis.set(last_key, shown, ex=PROGRESS_TTL_S)


async def send_summary(ectx: EngineContext, action_id: int) -> None:
    """The final edit of the progress message, and the summary message of an ended recall."""
    await update_progress(ectx, action_id, final=True)
    target = await read_target(ectx, action_id)
    bot = ectx.control_bot
    if target is None or bot is None or target.progress_chat_id is None:
        return
    render = render_edit_summary if target.kind is ActionKind.EDIT else render_recall_summary
    counts = await read_counts(ectx, action_id)
    with i18n.speaking(await admin_language(ectx, target.progress_chat_id)):
        text = render(target.campaign_id, target.name, target.status, counts)
    try:
        await bot.send_message(target.progress_chat_id, text)
    except (BotAPIError, BotAPINetworkError) as exc:
        logger.warning("recall %s: summary not sent: %s", action_id, exc)
