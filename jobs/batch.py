"""Sending one batch: a range of delivery rows of one campaign, paced by the token's limit.

The orchestration of one batch job: senders take a send slot of the token (the limiter), then a
recipient claimed just in time (`jobs.engine.claims`), send, and hand the result to the
content-error streak (`jobs.engine.streak`) and the recorder (`jobs.engine.recorder`). A media
campaign first passes its file on to the target bot (`jobs.engine.media_upload`). The campaign
status is re-read every `status_check_interval_s` (`jobs.engine.status_watch`): a pause or
cancel stops new sends, in-flight ones still get recorded.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jobs.context import EngineContext
from jobs.engine import deliveries, results, status_watch
from jobs.engine.claims import ClaimedRecipients
from jobs.engine.flood_log import FloodWaitLog
from jobs.engine.media_upload import UPLOAD_WAIT_S, AlbumUpload, MediaUpload
from jobs.engine.recorder import ResultRecorder
from jobs.engine.results import DeliveryResult, Outcome, Recipient
from jobs.engine.row_outcome import RetryPolicy, cut_short, row_outcome
from jobs.engine.sendclient import BotAPI, BotAPINetworkError, PreparedSend
from jobs.engine.slots import clock
from jobs.engine.snapshot import CampaignSnapshot
from jobs.engine.streak import ContentErrorStreak
from jobs.outcomes import Verdict, classify
from jobs.progress import admin_language, notify_admin, update_progress
from models import STOPPED_CAMPAIGN_STATUSES, CampaignStatus, utcnow
from panel import i18n, metrics, texts
from panel.content import BotApiCall, bot_api_call, follow_up_call
from panel.greetings import Template, album_templates, personal_fields, personal_template, rendered
from panel.links import TrackedLinks, has_links, signer_for, tracked_call_params, tracking_on
from panel.settings import Settings

logger = logging.getLogger(__name__)

IN_FLIGHT_S = 0.4
"""A batch runs enough senders to keep this much sending time in flight (slow answers, the tail)."""
PIN_FLOOD_TRIES = 5
"""A pin answered with 429 is tried again after the pause, at most this many times in all."""


def send_pace(rate_per_s: int, messages_per_send: int, pacing_factor: float) -> float:
    """Recipients a second for a token allowed `rate_per_s` messages a second, when each
    recipient gets `messages_per_send` of them (an album's items and its follow-up).

    Any one second holds up to ceil(pace) evenly spaced sends, so the pace is a whole number of
    sends that fit in the limit, times the margin: 30/s with 4 messages each is 7 x 0.985 a
    second (27.6 messages), not 7.4 (which puts 8 sends, 32 messages, in some seconds)."""
    whole = rate_per_s // messages_per_send
    if whole < 1:  # the limit is below one recipient's messages: as even as it gets
        return rate_per_s * pacing_factor / messages_per_send
    return whole * pacing_factor


# ---------------------------------------------------------------- tracked links (panel/links.py)

UNTRACKED_TEXT_METHODS = frozenset({"copyMessage", "forwardMessage", "sendMediaGroup"})
"""Sends whose text is not the campaign's text (a channel's post, an album's captions)."""


def tracked_links(snapshot: CampaignSnapshot, settings: Settings) -> TrackedLinks | None:
    """The campaign's links rewritten per recipient, or None when it does not track them."""
    if settings.links_base_url is None or not tracking_on(snapshot.track_links, settings):
        return None
    if not has_links(snapshot.content):
        return None
    return TrackedLinks(
        snapshot.content,
        campaign_id=snapshot.campaign_id,
        base_url=settings.links_base_url,
        signer=signer_for(settings),
        first_index=snapshot.link_first_index,
    )


def _tracked_fields(links: TrackedLinks, method: str) -> tuple[str, str] | None:
    """The text and entities fields a tracked send fills per recipient (its text links), if any."""
    if not links.has_text_links or method in UNTRACKED_TEXT_METHODS:
        return None
    return personal_fields(method)


# ---------------------------------------------------------------- one batch


class BatchRun:
    """One execution of a batch job on this worker."""

    def __init__(
        self,
        ectx: EngineContext,
        snapshot: CampaignSnapshot,
        first_id: int,
        last_id: int,
        *,
        edit_mark: bytes | None = None,
        on_drained: Callable[[], None] | None = None,
    ) -> None:
        self.ectx = ectx
        self.edit_mark = edit_mark
        """The campaign's latest edit as read before the snapshot (`panel.sent_edits`)."""
        self.edited = False
        """The campaign was edited while this run sent: it stopped so the batch reads it again."""
        self.settings = ectx.settings
        self.snapshot = snapshot
        metrics.RATE_LIMIT.labels(snapshot.bot_codename).set(snapshot.rate_per_s)
        self.bot: BotAPI = ectx.target_bot(snapshot.sealed_token)
        self.rate_key = ectx.rate_key(snapshot.sealed_token)
        self.token = ectx.open_token(snapshot.sealed_token)
        self.route_down = False
        """Telegram could not be reached (`jobs.engine.route`): the run stopped, its rows untouched."""
        self.links = tracked_links(snapshot, self.settings)
        """The campaign's links through the tracker, each recipient's own (None: not tracked)."""
        self._stored_text = (
            str(snapshot.content.get("text") or ""),
            [
                {key: value for key, value in dict(entity).items() if value is not None}
                for entity in snapshot.content.get("entities") or ()
            ],
        )
        follow_up = follow_up_call(snapshot.content, paid_broadcast=snapshot.paid, options=snapshot.options)
        # An album's items (and its follow-up message with the buttons) each count as one message
        # against the token's limit: one recipient takes as many slots' worth of time.
        self.messages_per_send = max(1, len(snapshot.album) + (follow_up is not None))
        self.pace_per_s = send_pace(snapshot.rate_per_s, self.messages_per_send, self.settings.pacing_factor)
        self.stopping = False
        self.status = CampaignStatus.SENDING
        self.unauthorized = False
        self.failure: Exception | None = None
        self.policy = RetryPolicy(
            at_least_once=self.settings.at_least_once,
            max_attempts=self.settings.max_attempts,
            retry_backoff_s=self.settings.retry_backoff_s,
        )
        template = personal_template(snapshot.content)
        self.template = None if snapshot.album else template
        """The text filled per recipient, for a personalised campaign (else None)."""
        self.follow_up: PreparedSend | None = None
        """An album's follow-up message with its buttons (its text filled per recipient, if personalised)."""
        if follow_up is not None:
            personal = personal_fields(follow_up.method) if template is not None else None
            self.follow_up = self._prepared_send(follow_up, personal)
        self.follow_up_template = template if snapshot.album else None
        self.album_captions = album_templates(snapshot.content)
        """Per item, the caption filled per recipient (a personalised album), else None."""
        self.album_file_ids: list[str] | None = None
        self.prepared: PreparedSend | None = None
        """The request every send makes; None until the target bot has the media's file id."""
        self.media: MediaUpload | None = None
        if snapshot.album:
            album_file_ids = snapshot.target_album_file_ids
            if album_file_ids is None:
                self.media = AlbumUpload(
                    ectx, campaign_id=snapshot.campaign_id, bot_id=snapshot.bot_id, items=snapshot.album
                )
            else:
                self._prepare(None, album_file_ids)
        elif snapshot.media is not None and snapshot.target_file_id is None:
            self.media = MediaUpload(
                ectx, campaign_id=snapshot.campaign_id, bot_id=snapshot.bot_id, media=snapshot.media
            )
        else:
            self._prepare(snapshot.target_file_id)
        self.claims = ClaimedRecipients(
            ectx,
            snapshot.campaign_id,
            first_id,
            last_id,
            rate_key=self.rate_key,
            pace_per_s=self.pace_per_s,
            stopped=self.should_stop,
            on_error=self._fail,
            with_names=template is not None,
            variant=snapshot.variant,
            on_drained=on_drained,
        )
        self.streak = ContentErrorStreak(self.settings.content_error_streak)
        self.recorder = ResultRecorder(
            ectx,
            snapshot.campaign_id,
            campaign_stopped=lambda: self.status in STOPPED_CAMPAIGN_STATUSES,
            on_recorded=self._recorded,
        )
        self.flood_log = FloodWaitLog(ectx, snapshot.campaign_id)

    def _send_call(
        self, file_id: str | None, recipient: Recipient | None = None, file_ids: list[str] | None = None
    ) -> BotApiCall:
        content = self.snapshot.content
        if self.album_captions is not None and recipient is not None:
            content = rendered(content, recipient.names or {})  # albums go at a few a second
        call = bot_api_call(
            content,
            file_id=file_id,
            paid_broadcast=self.snapshot.paid,
            options=self.snapshot.options,
            file_ids=file_ids or (),
        )
        if recipient is not None and self.template is not None:
            text, entities = self.template.render(recipient.names or {})
            text_field, entities_field = personal_fields(call.method)
            params = {key: value for key, value in call.params.items() if key != entities_field}
            params[text_field] = text
            if entities:
                params[entities_field] = entities
            call = BotApiCall(call.method, params, call.file_field, call.upload_fields)
        if recipient is None or self.links is None:
            return call
        fields = _tracked_fields(self.links, call.method)
        params = tracked_call_params(
            self.links,
            call.params,
            recipient.chat_id,
            text_field=fields[0] if fields else None,
            entities_field=fields[1] if fields else None,
        )
        return BotApiCall(call.method, params, call.file_field, call.upload_fields)

    def _prepared_send(self, call: BotApiCall, personal: tuple[str, str] | None) -> PreparedSend:
        """`call` encoded once for every recipient; with tracked links, the fields each recipient
        gets their own of stay out of the encoded part."""
        if self.links is None:
            return PreparedSend(call.method, call.params, personal=personal)
        params = dict(call.params)
        fields = _tracked_fields(self.links, call.method)
        if fields is not None:
            personal = fields
            preview = self.links.preview_options(params) if fields[0] == "text" else None
            if preview is not None:
                params["link_preview_options"] = preview
        varying = ("reply_markup",) if self.links.has_buttons and "reply_markup" in params else ()
        return PreparedSend(call.method, params, personal=personal, varying=varying)

    def _body(self, prepared: PreparedSend, recipient: Recipient, template: Template | None) -> bytes:
        """One recipient's request body of a prepared send: their names, their tracked links."""
        chat_id = recipient.chat_id
        if self.links is None:
            if template is None:
                return prepared.body(chat_id)
            return prepared.body(chat_id, *template.render(recipient.names or {}))
        extra = {"reply_markup": self.links.reply_markup(chat_id)} if prepared.varying else None
        if prepared.personal is None:
            return prepared.body(chat_id, extra=extra)
        text, entities = template.render(recipient.names or {}) if template is not None else self._stored_text
        if self.links.has_text_links and prepared.personal[0] in ("text", "caption"):
            entities = self.links.entities(chat_id, text, entities)
        return prepared.body(chat_id, text, entities, extra)

    def _prepare(self, file_id: str | None, file_ids: list[str] | None = None) -> None:
        self.album_file_ids = file_ids
        call = self._send_call(file_id, file_ids=file_ids)
        personal = personal_fields(call.method) if self.template is not None else None
        self.prepared = self._prepared_send(call, personal)

    def should_stop(self) -> bool:
        """Whether senders must not start new sends."""
        return self.stopping

    # ------------------------------------------------------------------ status watch

    async def _read_status(self) -> CampaignStatus | None:
        return await status_watch.read_status(self.ectx, self.snapshot.campaign_id)

    async def _watch_edits(self) -> None:
        """Stop the run when the campaign's message is edited (its sends would carry the old one)."""
        key = self.ectx.keys.content_edit(self.snapshot.campaign_id)
        while not self.stopping:
            await asyncio.sleep(self.settings.status_check_interval_s)
            try:
                mark = await self.ectx.redis.get(key)
            except Exception as exc:  # Redis away: the edit's run edits what this run sends
                logger.warning("campaign %s: edit check failed (%s)", self.snapshot.campaign_id, exc)
                continue
            if mark != self.edit_mark:
                self.edited = True
                self.stopping = True
                return

    async def _watch_status(self) -> None:
        self.status = await status_watch.until_not_sending(
            self._read_status,
            campaign_id=self.snapshot.campaign_id,
            interval_s=self.settings.status_check_interval_s,
        )
        self.stopping = True

    # ------------------------------------------------------------------ main loop

    async def run(self) -> None:
        """Send every pending row of the range, unless the campaign stops first.

        Whatever happens (a database gone for minutes, a cancelled job), claimed rows that were
        not sent go back to pending and every result is recorded before this returns or raises.
        """
        self.ectx.active_batches[self.rate_key] += 1
        watcher = asyncio.create_task(self._watch_status())
        edits = asyncio.create_task(self._watch_edits())
        flusher = asyncio.create_task(self.recorder.run())
        try:
            while not self.stopping:
                pending, due = await self._pending()
                if not pending:
                    break
                if due is not None and due > utcnow():
                    await self._sleep_until(due)
                    continue
                if self.prepared is None:
                    await self._pass_file_on()
                    continue
                self.claims.drained = False
                senders = min(
                    pending, max(self.settings.send_concurrency, math.ceil(self.pace_per_s * IN_FLIGHT_S))
                )
                await asyncio.gather(*(self._sender() for _ in range(senders)))
                if self.failure is not None:
                    raise self.failure
                await self.recorder.flush()
        finally:
            try:
                for task in (watcher, edits, flusher):
                    task.cancel()
                for task in (watcher, edits, flusher):
                    try:
                        await task
                    except asyncio.CancelledError:
                        pass
                    except Exception:
                        logger.exception("campaign %s: batch helper task failed", self.snapshot.campaign_id)
            finally:
                self.ectx.active_batches[self.rate_key] -= 1
                await self.ectx.finish(self._finish())

    async def _pending(self) -> tuple[int, datetime | None]:
        claims = self.claims

        async def count(session: AsyncSession) -> tuple[int, datetime | None]:
            due = await deliveries.next_due_at(
                session, claims.campaign_id, claims.first_id, claims.last_id, variant=claims.variant
            )
            if due is None:
                return 0, None
            pending = await deliveries.pending_count(
                session, claims.campaign_id, claims.first_id, claims.last_id, variant=claims.variant
            )
            return pending, due

        return await self.ectx.in_transaction(count)

    async def _sleep_until(self, due: datetime) -> None:
        seconds = (due - utcnow()).total_seconds()
        await asyncio.sleep(min(max(seconds, 0.01), self.settings.status_check_interval_s))

    # ------------------------------------------------------------------ pacing hand-off

    async def _sender(self) -> None:
        claims = self.claims
        try:
            while not self.stopping:
                if not claims.pool:
                    if claims.drained:
                        return
                    await claims.refill()
                    if not claims.pool:
                        return
                # The recipient is taken at the slot's time (a claimed row, already in memory):
                # nothing stands between the slot and the request.
                recipient = await self.ectx.limiter.acquire_for(
                    self.rate_key, self.pace_per_s, claims.take, should_stop=self._sender_done
                )
                if recipient is None:
                    return
                await self._send_one(recipient)
        except Exception as exc:
            self._fail(exc)

    def _sender_done(self) -> bool:
        """Whether a queued sender can leave: the batch stops, or has no row left to claim."""
        return self.stopping or self.claims.exhausted()

    def _fail(self, exc: Exception) -> None:
        """Stop the batch after an error its senders cannot work around (the run re-raises it)."""
        if self.failure is None:
            logger.warning(
                "campaign %s: batch stops: %s: %s", self.snapshot.campaign_id, type(exc).__name__, exc
            )
            self.failure = exc
        self.stopping = True

    # ------------------------------------------------------------------ media: passing the file on

    async def _pass_file_on(self) -> None:
        """One step towards the target bot's own file id for the campaign's media
        (`jobs.engine.media_upload`): the first send uploads it, later ones reuse its id."""
        media = self.media
        assert media is not None
        try:
            if isinstance(media, AlbumUpload):
                file_ids = await media.stored_file_ids()
                if file_ids is not None:
                    self._use_files(file_ids)
                    return
            file_id = None if isinstance(media, AlbumUpload) else await media.stored_file_id()
            if file_id is not None:
                self._use_file(file_id)
                return
            async with media.turn() as mine:
                if mine:
                    await self._upload_once(media)
        finally:
            if media.error is not None:
                self.stopping = True

    async def _upload_once(self, media: MediaUpload) -> None:
        """Send to one recipient with the file's bytes, holding the campaign's upload lock."""
        if not await media.fetch():
            return
        claims = self.claims
        if not claims.pool:
            await claims.refill()
            if not claims.pool:
                await asyncio.sleep(UPLOAD_WAIT_S)  # another worker holds the rows that are due
                return
        granted = await self.ectx.limiter.acquire(
            self.rate_key, self.pace_per_s, should_stop=self.should_stop
        )
        if not granted:
            return
        result, is_content = await self._send_one(claims.pool.popleft())
        await self.recorder.flush()
        if isinstance(media, AlbumUpload) and media.file_ids is not None:
            await media.store_file_ids(media.file_ids)
            self._use_files(media.file_ids)
        elif media.file_id is not None:
            await media.store_file_id(media.file_id)
            self._use_file(media.file_id)
        else:
            media.failed(result, is_content=is_content, limit=self.settings.content_error_streak)

    def _use_files(self, file_ids: list[str]) -> None:
        self._prepare(None, file_ids)
        if self.media is not None:
            self.media.done()

    def _use_file(self, file_id: str) -> None:
        self._prepare(file_id)
        if self.media is not None:
            self.media.done()

    # ------------------------------------------------------------------ one send

    async def _send_one(self, recipient: Recipient) -> tuple[DeliveryResult, bool]:
        """Deliver to one recipient and queue the result for recording (and whether it is a content error)."""
        try:
            result, is_content = await self._deliver(recipient)
        except BaseException:
            # Cut short mid-request (shutdown, a bug): the message may have gone out.
            self._add(cut_short(recipient, self.policy), is_content=False)
            raise
        if self.snapshot.options.pin and result.outcome is Outcome.SENT and result.message_id is not None:
            try:
                if await self._pin(recipient.chat_id, result.message_id):
                    result = replace(result, pinned=True)
            except BaseException:
                self._add(result, is_content=is_content)  # delivered: the pin does not change that
                raise
        self._add(result, is_content=is_content)
        return result, is_content

    async def _pin(self, chat_id: int, message_id: int) -> bool:
        """Pin a delivered message in its chat, silently, paced like a send (it counts against the
        token's limit). Whether it was pinned; a pin that fails is logged and never fails the delivery."""
        for _ in range(PIN_FLOOD_TRIES):
            # Not abandoned on a pause or cancel: the message went out, so it gets its pin.
            if not await self.ectx.limiter.acquire(
                self.rate_key, self.pace_per_s, should_stop=lambda: self.unauthorized
            ):
                return False
            try:
                await self.bot.pin_chat_message(chat_id, message_id, disable_notification=True)
            except Exception as exc:
                answer = classify(exc)
                if answer.verdict is Verdict.FLOOD:
                    await self.ectx.limiter.pause(self.rate_key, answer.retry_after_s)
                    self._flood_waited(answer.retry_after_s)
                    continue
                logger.info("campaign %s: pin in chat %s failed: %s", self.snapshot.campaign_id, chat_id, exc)
                return False
            return True
        return False

    async def _send_follow_up(self, recipient: Recipient) -> int | None:
        """The message with an album's buttons, right after the album (its slot was taken with the
        album's). Its message id; a follow-up that fails is logged and never fails the delivery."""
        follow_up = self.follow_up
        assert follow_up is not None
        body = self._body(follow_up, recipient, self.follow_up_template)
        for _ in range(PIN_FLOOD_TRIES):
            try:
                sent = await self.bot.call_raw(follow_up.method, body)
            except Exception as exc:
                answer = classify(exc)
                if answer.verdict is Verdict.FLOOD:
                    await self.ectx.limiter.pause(self.rate_key, answer.retry_after_s)
                    self._flood_waited(answer.retry_after_s)
                    if await self.ectx.limiter.acquire(
                        self.rate_key, self.pace_per_s, should_stop=lambda: self.unauthorized
                    ):
                        continue
                    return None
                logger.info(
                    "campaign %s: follow-up in chat %s failed: %s",
                    self.snapshot.campaign_id,
                    recipient.chat_id,
                    exc,
                )
                return None
            return int(sent["message_id"]) if isinstance(sent, dict) else None
        return None

    async def _send(self, recipient: Recipient) -> Any:
        chat_id = recipient.chat_id
        if self.prepared is not None:
            if self.album_captions is not None:
                call = self._send_call(None, recipient, self.album_file_ids)
                return await self.bot.call(call.method, {"chat_id": chat_id, **call.params})
            return await self.bot.call_raw(
                self.prepared.method, self._body(self.prepared, recipient, self.template)
            )
        # The first send of a media campaign from this worker uploads the file (`_pass_file_on`).
        assert self.media is not None
        return await self.media.send(
            self.bot,
            self._send_call(None, recipient),
            chat_id,
            request_timeout_s=self.settings.request_timeout_s,
        )

    async def _deliver(self, recipient: Recipient) -> tuple[DeliveryResult, bool]:
        """Send to one recipient until there is an outcome (429s are waited out, not counted)."""
        while True:
            sent_at = clock()
            try:
                message = await self._send(recipient)
            except Exception as exc:
                answer = classify(exc)
                if isinstance(exc, BotAPINetworkError):
                    if exc.route:
                        await self._route_failed()
                        if exc.sent_nothing:
                            # Not the recipient's failure: the row goes back as it was, no attempt used.
                            return DeliveryResult(recipient, Outcome.RELEASE), False
                    else:
                        self.ectx.route.answered(self.token)
                else:
                    self._answered(sent_at)
            else:
                self._answered(sent_at)
                if isinstance(message, list):  # an album: one delivery, every item's message id
                    ids = [int(item["message_id"]) for item in message if isinstance(item, dict)]
                    if self.follow_up is not None:
                        follow_up_id = await self._send_follow_up(recipient)
                        ids += [follow_up_id] if follow_up_id is not None else []
                    first = ids[0] if ids else None
                    return DeliveryResult(
                        recipient, Outcome.SENT, message_id=first, message_ids=tuple(ids)
                    ), False
                message_id = message.get("message_id") if isinstance(message, dict) else None
                return DeliveryResult(recipient, Outcome.SENT, message_id=message_id), False
            if answer.verdict is Verdict.FLOOD:
                try:
                    await self.ectx.limiter.pause(self.rate_key, answer.retry_after_s)
                    self._flood_waited(answer.retry_after_s)
                    granted = await self.ectx.limiter.acquire(
                        self.rate_key, self.pace_per_s, should_stop=self.should_stop
                    )
                except Exception as exc:  # Redis away: this recipient was not reached (429)
                    self._fail(exc)
                    granted = False
                if not granted:
                    return DeliveryResult(recipient, Outcome.RELEASE), False
                continue
            if answer.verdict is Verdict.UNAUTHORIZED:
                self.unauthorized = True
                self.stopping = True
            return row_outcome(recipient, answer, self.policy), answer.verdict is Verdict.CONTENT

    def _answered(self, sent_at: float) -> None:
        """Telegram answered a send: the route is up, and its round trip says how jittery it is."""
        self.ectx.route.answered(self.token)
        self.ectx.limiter.answered(self.rate_key, clock() - sent_at)

    async def _route_failed(self) -> None:
        """A send failed in transport: when Telegram can't be reached at all, the run stops."""
        try:
            down = await self.ectx.route.failed(self.token)
        except Exception as exc:  # Redis away too: the batch stops and is tried again
            self._fail(exc)
            return
        if down:
            self.route_down = True
            self.stopping = True

    # ------------------------------------------------------------------ results

    def _add(self, result: DeliveryResult, *, is_content: bool) -> None:
        """Queue a result for recording; a run of identical content errors pauses the campaign."""
        self.recorder.add(self.streak.add(result, is_content=is_content))
        if self.streak.paused_error is not None:
            self.stopping = True

    def _flood_waited(self, retry_after_s: float) -> None:
        metrics.FLOOD_WAITS.labels(self.snapshot.bot_codename).inc()
        metrics.FLOOD_WAIT_SECONDS.labels(self.snapshot.bot_codename).inc(retry_after_s)
        self.flood_log.waited(retry_after_s)

    def _recorded(self, recorded: results.Recorded) -> None:
        for status, count in recorded.final.items():
            if count:
                metrics.SENDS.labels(self.snapshot.bot_codename, status.value).inc(count)
        if recorded.returned_to_pending:
            self.claims.drained = False

    async def _finish(self) -> None:
        """Record everything left: results, the streak, and unsent claimed rows back to pending."""
        released = await self.claims.release_all()
        self.recorder.add(self.streak.drain())
        self.recorder.add(released)
        campaign_id = self.snapshot.campaign_id
        file_error = self.media.error if self.media is not None else None
        content_error = self.streak.paused_error
        if not self.unauthorized and file_error is None and content_error is None:
            await self.recorder.flush()
            return
        # The reasons stored on the campaign and the notices read in its admin's language.
        with i18n.speaking(await admin_language(self.ectx, self.snapshot.created_by)):
            if self.unauthorized:
                await self.recorder.flush()

                async def fail(session: AsyncSession) -> bool:
                    return await deliveries.fail_campaign(
                        session, campaign_id, texts.FAILED_UNAUTHORIZED_REASON
                    )

                await self.ectx.in_transaction(fail)
                self.status = CampaignStatus.FAILED
            name = f" “{self.snapshot.name}”" if self.snapshot.name else ""
            if file_error is not None:
                await self._pause_and_tell(
                    texts.PAUSED_FILE_REASON.format(error=file_error),
                    texts.NOTICE_PAUSED_FILE.format(campaign_id=campaign_id, name=name, error=file_error),
                )
            if content_error is not None:
                await self._pause_and_tell(
                    texts.PAUSED_CONTENT_REASON.format(error=content_error),
                    texts.NOTICE_PAUSED_CONTENT.format(
                        campaign_id=campaign_id,
                        name=name,
                        streak=self.settings.content_error_streak,
                        error=content_error,
                    ),
                )
        await self.recorder.flush()

    async def _pause_and_tell(self, reason: str, notice: str) -> None:
        """Pause the campaign with `reason` (unless it stopped meanwhile) and tell its admin."""
        campaign_id = self.snapshot.campaign_id

        async def pause(session: AsyncSession) -> bool:
            return await deliveries.pause_with_reason(session, campaign_id, reason)

        if await self.ectx.in_transaction(pause):
            self.status = CampaignStatus.PAUSED
            await notify_admin(self.ectx, self.snapshot.created_by, notice)
            self.ectx.spawn(update_progress(self.ectx, campaign_id, final=True))
