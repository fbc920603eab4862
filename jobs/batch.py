"""Sending one batch: a range of delivery rows of one campaign, paced by the token's limit.

Senders take a send slot first, then a recipient: rows are claimed just in time, in small
groups, so a worker killed at any moment leaves at most its in-flight requests (and one small
claimed group) ambiguous. Results are written in bulk every `flush_interval_s` or `flush_size`
results, together with the counters. The campaign status is re-read every
`status_check_interval_s`: a pause or cancel stops new sends, in-flight ones still get recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.context import EngineContext, worker_key
from jobs.engine import deliveries
from jobs.engine.deliveries import DeliveryResult, Outcome, Recipient
from jobs.engine.sendclient import BotAPI, BotAPIError, BotAPINetworkError, PreparedSend
from jobs.outcomes import Answer, Verdict, classify
from jobs.progress import notify_admin, update_progress
from models import Campaign, CampaignStatus, TargetBot, utcnow
from panel import texts
from panel.campaigns import effective_rate
from panel.content import BotApiCall, bot_api_call, sent_file_id, upload_name
from panel.keys import RedisKeys

logger = logging.getLogger(__name__)

CLAIM_HORIZON_S = 0.15
"""A claimed group holds about this much sending time, so few claimed rows wait unsent.
(0.05 s made 200 claim transactions a second at 1,000/s: 25% of the worker's CPU.)"""
MIN_CLAIM = 4
"""Slow batches claim a few rows at a time all the same (one transaction, not one per send)."""
FLUSH_MIN = 10
FLUSH_MAX_AGE_S = 1.0
UPLOAD_LOCK_MS = 60_000
"""How long a worker passing the media on keeps the others waiting if it dies meanwhile."""
UPLOAD_WAIT_S = 0.5
UPLOAD_TIMEOUT_S = 300.0
"""An upload of up to 20 MB may take minutes on a slow link; a timeout leaves its recipient unconfirmed."""
IN_FLIGHT_S = 0.4
"""A batch runs enough senders to keep this much sending time in flight (slow answers, the tail)."""


@dataclass(frozen=True, slots=True)
class CampaignSnapshot:
    """What a batch needs to know about its campaign, read once at the start."""

    campaign_id: int
    bot_id: int
    name: str | None
    created_by: int | None
    token: str
    rate_per_s: int
    paid: bool
    content: dict[str, Any]
    """The stored message (`MessageContent.to_json()`, plus the target bots' file ids)."""

    @property
    def media(self) -> dict[str, Any] | None:
        """The stored media (the control bot's file), if the message has any."""
        media = self.content.get("media")
        return media if isinstance(media, dict) else None

    @property
    def target_file_id(self) -> str | None:
        """The target bot's own file id of the media, once a send has passed the file on."""
        return target_file_id(self.content, self.bot_id)


async def load_snapshot(
    session: AsyncSession, campaign_id: int
) -> tuple[CampaignSnapshot, CampaignStatus] | None:
    """The campaign's sending parameters and its current status."""
    row = (
        await session.execute(
            select(Campaign, TargetBot)
            .join(TargetBot, TargetBot.id == Campaign.bot_id)
            .where(Campaign.id == campaign_id)
        )
    ).first()
    if row is None:
        return None
    campaign, bot = row
    snapshot = CampaignSnapshot(
        campaign_id=campaign.id,
        bot_id=bot.id,
        name=campaign.name,
        created_by=campaign.created_by,
        token=bot.token,
        rate_per_s=effective_rate(bot),
        paid=bot.paid_broadcast and effective_rate(bot) > 30,
        content=dict(campaign.content or {}),
    )
    return snapshot, campaign.status


def target_file_id(content: dict[str, Any], bot_id: int) -> str | None:
    """The file id the target bot `bot_id` has for the campaign's media (file ids belong to one bot)."""
    found = (content.get("target_file_ids") or {}).get(str(bot_id))
    return str(found) if found else None


class BatchRun:
    """One execution of a batch job on this worker."""

    def __init__(self, ectx: EngineContext, snapshot: CampaignSnapshot, first_id: int, last_id: int) -> None:
        self.ectx = ectx
        self.settings = ectx.settings
        self.snapshot = snapshot
        self.first_id = first_id
        self.last_id = last_id
        self.bot: BotAPI = ectx.target_bot(snapshot.token)
        self.rate_key = ectx.limiter.key_for(snapshot.token)
        self.pace_per_s = snapshot.rate_per_s * self.settings.pacing_factor
        self.file_id = snapshot.target_file_id
        self.prepared: PreparedSend | None = None
        if snapshot.media is None or self.file_id is not None:
            call = self._send_call(self.file_id)
            self.prepared = PreparedSend(call.method, call.params)
        self.upload_data: bytes | None = None
        self.upload_failures = 0
        self.file_error: str | None = None
        self.pool: deque[Recipient] = deque()
        self.results: list[DeliveryResult] = []
        self.streak: list[DeliveryResult] = []
        self.drained = False
        self.refill_task: asyncio.Task[None] | None = None
        self.stopping = False
        self.status = CampaignStatus.SENDING
        self.content_paused: str | None = None
        self.unauthorized = False
        self.claim_lock = asyncio.Lock()
        self.flush_lock = asyncio.Lock()
        self.flush_wanted = asyncio.Event()
        self.recorded_final = 0
        self.oldest_result_at = math.inf
        self.failure: Exception | None = None

    def _send_call(self, file_id: str | None) -> BotApiCall:
        return bot_api_call(self.snapshot.content, file_id=file_id, paid_broadcast=self.snapshot.paid)

    # ------------------------------------------------------------------ control

    def should_stop(self) -> bool:
        """Whether senders must not start new sends."""
        return self.stopping

    async def _read_status(self) -> CampaignStatus | None:
        async def read(session: AsyncSession) -> CampaignStatus | None:
            status = await session.scalar(
                select(Campaign.status).where(Campaign.id == self.snapshot.campaign_id)
            )
            return None if status is None else CampaignStatus(status)

        async def read_now() -> CampaignStatus | None:
            return await self.ectx.in_transaction(read)

        # Shared by this process's batches of the campaign; fresh enough to stop within a second.
        max_age_s = self.settings.status_check_interval_s / 2
        return await self.ectx.shared_read(("status", self.snapshot.campaign_id), max_age_s, read_now)

    async def _watch_status(self) -> None:
        while True:
            await asyncio.sleep(self.settings.status_check_interval_s)
            try:
                status = await self._read_status()
            except Exception as exc:  # the database is away for longer than in_transaction waits
                logger.warning(
                    "campaign %s: status check failed (%s); trying again", self.snapshot.campaign_id, exc
                )
                continue
            if status is not CampaignStatus.SENDING:
                self.status = status or CampaignStatus.CANCELLED
                self.stopping = True
                return

    # ------------------------------------------------------------------ main loop

    async def run(self) -> None:
        """Send every pending row of the range, unless the campaign stops first.

        Whatever happens (a database gone for minutes, a cancelled job), claimed rows that were
        not sent go back to pending and every result is recorded before this returns or raises.
        """
        self.ectx.active_batches[self.rate_key] += 1
        watcher = asyncio.create_task(self._watch_status())
        flusher = asyncio.create_task(self._flush_loop())
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
                self.drained = False
                senders = min(
                    pending, max(self.settings.send_concurrency, math.ceil(self.pace_per_s * IN_FLIGHT_S))
                )
                await asyncio.gather(*(self._sender() for _ in range(senders)))
                if self.failure is not None:
                    raise self.failure
                await self._flush()
        finally:
            try:
                for task in (watcher, flusher):
                    task.cancel()
                for task in (watcher, flusher):
                    try:
                        await task
                    except asyncio.CancelledError:
                        pass
                    except Exception:
                        logger.exception("campaign %s: batch helper task failed", self.snapshot.campaign_id)
            finally:
                self.ectx.active_batches[self.rate_key] -= 1
                await asyncio.shield(self._finish())

    async def _pending(self) -> tuple[int, datetime | None]:
        async def count(session: AsyncSession) -> tuple[int, datetime | None]:
            due = await deliveries.next_due_at(
                session, self.snapshot.campaign_id, self.first_id, self.last_id
            )
            if due is None:
                return 0, None
            pending = await deliveries.pending_count(
                session, self.snapshot.campaign_id, self.first_id, self.last_id
            )
            return pending, due

        return await self.ectx.in_transaction(count)

    async def _sleep_until(self, due: datetime) -> None:
        seconds = (due - utcnow()).total_seconds()
        await asyncio.sleep(min(max(seconds, 0.01), self.settings.status_check_interval_s))

    async def _sender(self) -> None:
        try:
            while not self.stopping:
                if not self.pool:
                    if self.drained:
                        return
                    await self._refill()
                    if not self.pool:
                        return
                # The recipient is taken at the slot's time (a claimed row, already in memory):
                # nothing stands between the slot and the request.
                recipient = await self.ectx.limiter.acquire_for(
                    self.rate_key, self.pace_per_s, self._take, should_stop=self._sender_done
                )
                if recipient is None:
                    return
                await self._send_one(recipient)
        except Exception as exc:
            self._fail(exc)

    def _sender_done(self) -> bool:
        """Whether a queued sender can leave: the batch stops, or has no row left to claim."""
        return self.stopping or (self.drained and not self.pool)

    def _take(self) -> Recipient | None:
        """The next claimed recipient, at a send slot's time; claims more before the pool runs dry."""
        if self.stopping or not self.pool:
            return None
        recipient = self.pool.popleft()
        running = self.refill_task is not None and not self.refill_task.done()
        if len(self.pool) * 4 <= self._claim_size() and not self.drained and not running:
            self.refill_task = asyncio.create_task(self._refill())
        return recipient

    def _fail(self, exc: Exception) -> None:
        """Stop the batch after an error its senders cannot work around (the run re-raises it)."""
        if self.failure is None:
            logger.warning(
                "campaign %s: batch stops: %s: %s", self.snapshot.campaign_id, type(exc).__name__, exc
            )
            self.failure = exc
        self.stopping = True

    def _in_flight(self, recipient: Recipient, error: str = deliveries.WORKER_LOST) -> DeliveryResult:
        """The result of a send cut short: unconfirmed, or a retry when at-least-once."""
        if self.settings.at_least_once:
            return self._retry_or_fail(recipient, Answer(Verdict.AMBIGUOUS, None, error))
        return DeliveryResult(recipient, Outcome.UNCONFIRMED, error=error)

    def _claim_size(self) -> int:
        """Rows to claim at once: this process's batches of the token share ~CLAIM_HORIZON_S of sends."""
        share = self.pace_per_s * CLAIM_HORIZON_S / max(self.ectx.active_batches[self.rate_key], 1)
        return max(MIN_CLAIM, min(self.settings.send_concurrency, math.ceil(share)))

    async def _refill(self) -> None:
        """Claim the next rows of the range into the pool (one claim at a time)."""
        async with self.claim_lock:
            if self.stopping or self.drained or len(self.pool) * 4 > self._claim_size():
                return

            async def claim(session: AsyncSession) -> list[Recipient]:
                return await deliveries.claim(
                    session,
                    self.snapshot.campaign_id,
                    self.first_id,
                    self.last_id,
                    worker_id=self.ectx.worker_id,
                    limit=self._claim_size(),
                )

            try:
                claimed = await self.ectx.in_transaction(claim)
            except Exception as exc:
                self._fail(exc)
                return
            if not claimed:
                self.drained = True
                return
            self.pool.extend(claimed)

    # ------------------------------------------------------------------ media: passing the file on

    async def _pass_file_on(self) -> None:
        """One step towards the target bot's own file id for the campaign's media.

        File ids belong to one bot, and a bot can only upload a file by sending it, so the first
        send of a media campaign uploads the bytes (fetched through the control bot) to a real
        recipient, recorded like any send, and every later send reuses the file id Telegram
        answered with, stored in the campaign. One worker at a time does it (a Redis lock); the
        others wait for the id. A recipient that cannot be reached (blocked, 5xx) passes the
        upload on to the next one.
        """
        file_id = await self._stored_file_id()
        if file_id is not None:
            self._use_file(file_id)
            return
        lock = RedisKeys(self.settings.queue_name).media_upload(self.snapshot.campaign_id)
        if not await self.ectx.redis.set(lock, self.ectx.worker_id, nx=True, px=UPLOAD_LOCK_MS):
            holder = await self.ectx.redis.get(lock)
            if holder is not None and not await self.ectx.redis.exists(worker_key(holder.decode())):
                await self.ectx.redis.delete(lock)  # its worker died mid-upload: take over
            else:
                await asyncio.sleep(UPLOAD_WAIT_S)
            return
        try:
            if self.upload_data is None:
                self.upload_data = await self._download()
                if self.upload_data is None:
                    return
            if not self.pool:
                await self._refill()
                if not self.pool:
                    await asyncio.sleep(UPLOAD_WAIT_S)  # another worker holds the rows that are due
                    return
            granted = await self.ectx.limiter.acquire(
                self.rate_key, self.pace_per_s, should_stop=self.should_stop
            )
            if not granted:
                return
            result, is_content = await self._send_one(self.pool.popleft())
            await self._flush()
            if self.file_id is not None:
                await self._store_file_id(self.file_id)
                self._use_file(self.file_id)
            elif result.outcome is not Outcome.UNAVAILABLE and not is_content:
                # Timeouts, 5xx: each costs a recipient (unconfirmed) or a retry; a file that never
                # goes through must not use up the audience. (Content errors pause by their streak.)
                self.upload_failures += 1
                if self.upload_failures >= self.settings.content_error_streak:
                    self._stop_for_file(
                        texts.UPLOADS_FAILED.format(
                            count=self.upload_failures, error=result.error or result.outcome.value
                        )
                    )
        finally:
            with contextlib.suppress(Exception):
                if await self.ectx.redis.get(lock) == self.ectx.worker_id.encode():
                    await self.ectx.redis.delete(lock)

    def _use_file(self, file_id: str) -> None:
        self.file_id = file_id
        call = self._send_call(file_id)
        self.prepared = PreparedSend(call.method, call.params)
        self.upload_data = None

    async def _stored_file_id(self) -> str | None:
        async def read(session: AsyncSession) -> str | None:
            content = await session.scalar(
                select(Campaign.content).where(Campaign.id == self.snapshot.campaign_id)
            )
            return target_file_id(content or {}, self.snapshot.bot_id)

        return await self.ectx.in_transaction(read)

    async def _store_file_id(self, file_id: str) -> None:
        async def store(session: AsyncSession) -> None:
            campaign = await session.get(Campaign, self.snapshot.campaign_id, with_for_update=True)
            if campaign is None:
                return
            content = dict(campaign.content or {})
            content["target_file_ids"] = {
                **(content.get("target_file_ids") or {}),
                str(self.snapshot.bot_id): file_id,
            }
            campaign.content = content

        await self.ectx.in_transaction(store)

    async def _download(self) -> bytes | None:
        """The media's bytes through the control bot, or None (the campaign pauses, or it is tried again)."""
        media = self.snapshot.media or {}
        control = self.ectx.control_bot
        if control is None:
            self._stop_for_file(texts.FILE_NO_CONTROL_BOT)
            return None
        try:
            return await control.download(str(media.get("file_id", "")))
        except (BotAPIError, BotAPINetworkError) as exc:
            if isinstance(exc, BotAPIError) and exc.error_code < 500 and exc.error_code != 429:
                self._stop_for_file(exc.description)  # the file is gone or too big: trying again won't help
                return None
            logger.warning(
                "campaign %s: fetching the file failed (%s); trying again", self.snapshot.campaign_id, exc
            )
            await asyncio.sleep(UPLOAD_WAIT_S)
            return None

    def _stop_for_file(self, error: str) -> None:
        self.file_error = error
        self.stopping = True

    # ------------------------------------------------------------------ one send

    async def _send_one(self, recipient: Recipient) -> tuple[DeliveryResult, bool]:
        """Deliver to one recipient and queue the result for recording (and whether it is a content error)."""
        try:
            result, is_content = await self._deliver(recipient)
        except BaseException:
            # Cut short mid-request (shutdown, a bug): the message may have gone out.
            self._add(self._in_flight(recipient), is_content=False)
            raise
        self._add(result, is_content=is_content)
        return result, is_content

    async def _send(self, chat_id: int) -> Any:
        if self.prepared is not None:
            return await self.bot.call_raw(self.prepared.method, self.prepared.body(chat_id))
        # The first send of a media campaign from this worker uploads the file (`_pass_file_on`).
        media = self.snapshot.media or {}
        kind = str(media.get("kind", "document"))
        call = self._send_call(None)
        filename = upload_name(kind, media.get("file_name"))
        assert self.upload_data is not None
        message = await self.bot.upload(
            call.method,
            {"chat_id": chat_id, **call.params},
            field=call.file_field or kind,
            data=self.upload_data,
            filename=filename,
            timeout_s=max(UPLOAD_TIMEOUT_S, self.settings.request_timeout_s),
        )
        self.file_id = sent_file_id(message, kind)
        return message

    async def _deliver(self, recipient: Recipient) -> tuple[DeliveryResult, bool]:
        """Send to one recipient until there is an outcome (429s are waited out, not counted)."""
        chat_id = recipient.chat_id
        while True:
            try:
                message = await self._send(chat_id)
            except Exception as exc:
                answer = classify(exc)
            else:
                message_id = message.get("message_id") if isinstance(message, dict) else None
                return DeliveryResult(recipient, Outcome.SENT, message_id=message_id), False
            if answer.verdict is Verdict.FLOOD:
                try:
                    await self.ectx.limiter.pause(self.rate_key, answer.retry_after_s)
                    granted = await self.ectx.limiter.acquire(
                        self.rate_key, self.pace_per_s, should_stop=self.should_stop
                    )
                except Exception as exc:  # Redis away: this recipient was not reached (429)
                    self._fail(exc)
                    granted = False
                if not granted:
                    return DeliveryResult(recipient, Outcome.RELEASE), False
                continue
            return self._result(recipient, answer), answer.verdict is Verdict.CONTENT

    def _result(self, recipient: Recipient, answer: Answer) -> DeliveryResult:
        verdict = answer.verdict
        code, description = answer.error_code, answer.description
        if verdict is Verdict.UNAVAILABLE:
            return DeliveryResult(recipient, Outcome.UNAVAILABLE, error_code=code, error=description)
        if verdict is Verdict.MIGRATED:
            return DeliveryResult(recipient, Outcome.MIGRATED, new_chat_id=answer.new_chat_id)
        if verdict is Verdict.AMBIGUOUS:
            if self.settings.at_least_once:
                return self._retry_or_fail(recipient, answer)
            return DeliveryResult(recipient, Outcome.UNCONFIRMED, error_code=code, error=description)
        if verdict is Verdict.TRANSIENT:
            return self._retry_or_fail(recipient, answer)
        if verdict is Verdict.UNAUTHORIZED:
            self.unauthorized = True
            self.stopping = True
            return DeliveryResult(recipient, Outcome.FAILED, error_code=code, error=description)
        return DeliveryResult(recipient, Outcome.FAILED, error_code=code, error=description)

    def _retry_or_fail(self, recipient: Recipient, answer: Answer) -> DeliveryResult:
        attempts = recipient.attempts + 1
        if attempts >= self.settings.max_attempts:
            return DeliveryResult(
                recipient, Outcome.FAILED, error_code=answer.error_code, error=answer.description
            )
        return DeliveryResult(
            recipient,
            Outcome.RETRY,
            error_code=answer.error_code,
            error=answer.description,
            retry_at=deliveries.backoff(attempts, self.settings.retry_backoff_s),
        )

    # ------------------------------------------------------------------ content-error streak

    def _add(self, result: DeliveryResult, *, is_content: bool) -> None:
        """Queue a result for recording; a run of identical content errors pauses the campaign."""
        if is_content:
            if self.content_paused is not None:
                self.results.append(_released(result))
            elif self.streak and self.streak[-1].error != result.error:
                self.results.extend(self.streak)
                self.streak = [result]
            else:
                self.streak.append(result)
                if len(self.streak) >= self.settings.content_error_streak:
                    self.content_paused = result.error
                    self.stopping = True
                    self.results.extend(_released(r) for r in self.streak)
                    self.streak = []
        else:
            if self.streak:
                self.results.extend(self.streak)
                self.streak = []
            self.results.append(result)
        if self.oldest_result_at == math.inf and self.results:
            self.oldest_result_at = asyncio.get_running_loop().time()
        if len(self.results) >= self.settings.flush_size:
            self.flush_wanted.set()

    # ------------------------------------------------------------------ recording

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.flush_wanted.wait(), self.settings.flush_interval_s)
            self.flush_wanted.clear()
            # A slow campaign writes a few results at a time, not one transaction per send, unless
            # the oldest has waited FLUSH_MAX_AGE_S (what a kill would leave unconfirmed).
            if 0 < len(self.results) < FLUSH_MIN and loop.time() - self.oldest_result_at < FLUSH_MAX_AGE_S:
                continue
            try:
                await self._flush()
            except Exception as exc:  # results are kept for the next flush
                logger.warning(
                    "campaign %s: recording results failed (%s); trying again", self.snapshot.campaign_id, exc
                )
                await asyncio.sleep(self.settings.flush_interval_s)

    async def _flush(self) -> None:
        async with self.flush_lock:
            if not self.results:
                return
            batch, self.results = self.results, []
            self.oldest_result_at = math.inf
            campaign_id = self.snapshot.campaign_id

            async def record(session: AsyncSession) -> deliveries.Recorded:
                recorded = await deliveries.record_results(
                    session, campaign_id, batch, worker_id=self.ectx.worker_id
                )
                if self.status in deliveries.STOPPED_CAMPAIGN_STATUSES:
                    await deliveries.cancel_leftovers(session, campaign_id)
                return recorded

            try:
                recorded = await self.ectx.in_transaction(record)
            except BaseException:
                self.results[:0] = batch  # keep them for the next try
                self.oldest_result_at = 0.0
                raise
        if recorded.returned_to_pending:
            self.drained = False
        if any(recorded.final.values()):
            self.recorded_final += sum(recorded.final.values())
            self.ectx.spawn(update_progress(self.ectx, campaign_id))

    async def _finish(self) -> None:
        """Record everything left: results, the streak, and unsent claimed rows back to pending."""
        if self.refill_task is not None:
            with contextlib.suppress(BaseException):
                await self.refill_task  # its claimed rows join the pool, released below
        self.results.extend(self.streak)
        self.streak = []
        self.results.extend(DeliveryResult(recipient, Outcome.RELEASE) for recipient in self.pool)
        self.pool.clear()
        campaign_id = self.snapshot.campaign_id
        if self.unauthorized:
            await self._flush()

            async def fail(session: AsyncSession) -> bool:
                return await deliveries.fail_campaign(session, campaign_id, texts.FAILED_UNAUTHORIZED_REASON)

            await self.ectx.in_transaction(fail)
            self.status = CampaignStatus.FAILED
        name = f" “{self.snapshot.name}”" if self.snapshot.name else ""
        if self.file_error is not None:
            await self._pause_and_tell(
                texts.PAUSED_FILE_REASON.format(error=self.file_error),
                texts.NOTICE_PAUSED_FILE.format(campaign_id=campaign_id, name=name, error=self.file_error),
            )
        if self.content_paused is not None:
            await self._pause_and_tell(
                texts.PAUSED_CONTENT_REASON.format(error=self.content_paused),
                texts.NOTICE_PAUSED_CONTENT.format(
                    campaign_id=campaign_id,
                    name=name,
                    streak=self.settings.content_error_streak,
                    error=self.content_paused,
                ),
            )
        await self._flush()

    async def _pause_and_tell(self, reason: str, notice: str) -> None:
        """Pause the campaign with `reason` (unless it stopped meanwhile) and tell its admin."""
        campaign_id = self.snapshot.campaign_id

        async def pause(session: AsyncSession) -> bool:
            return await deliveries.pause_with_reason(session, campaign_id, reason)

        if await self.ectx.in_transaction(pause):
            self.status = CampaignStatus.PAUSED
            await notify_admin(self.ectx, self.snapshot.created_by, notice)
            self.ectx.spawn(update_progress(self.ectx, campaign_id, final=True))


def _released(result: DeliveryResult) -> DeliveryResult:
    return DeliveryResult(result.recipient, Outcome.RELEASE, error_code=result.error_code, error=result.error)
