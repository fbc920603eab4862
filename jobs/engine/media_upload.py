"""Passing a campaign's media on to its target bot, once per campaign, under a Redis lock.

File ids belong to one bot, and a bot can only upload a file by sending it, so the first send
of a media campaign uploads the bytes (fetched through the control bot) to a real recipient,
recorded like any send, and every later send reuses the file id Telegram answered with, stored
in the campaign. One worker at a time does it (the lock); the others wait for the id. A
recipient that cannot be reached (blocked, 5xx) passes the upload on to the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.context import EngineContext
from jobs.engine.results import DeliveryResult, Outcome
from jobs.engine.sendclient import BotAPI, BotAPIError, BotAPINetworkError
from models import Campaign
from panel import texts
from panel.content import BotApiCall, sent_file_id, upload_name

logger = logging.getLogger(__name__)

UPLOAD_LOCK_MS = 60_000
"""How long a worker passing the media on keeps the others waiting if it dies meanwhile."""
UPLOAD_WAIT_S = 0.5
UPLOAD_TIMEOUT_S = 300.0
"""An upload of up to 20 MB may take minutes on a slow link; a timeout leaves its recipient unconfirmed."""


def target_album_file_ids(content: dict[str, Any], bot_id: int) -> list[str] | None:
    """The file ids the target bot `bot_id` has for the campaign's album items, in order."""
    found = (content.get("target_album_file_ids") or {}).get(str(bot_id))
    return [str(file_id) for file_id in found] if isinstance(found, list) and all(found) else None


def target_file_id(content: dict[str, Any], bot_id: int) -> str | None:
    """The file id the target bot `bot_id` has for the campaign's media (file ids belong to one bot)."""
    found = (content.get("target_file_ids") or {}).get(str(bot_id))
    return str(found) if found else None


class MediaUpload:
    """One batch's part in passing the media of campaign `campaign_id` on to target bot `bot_id`.

    `file_id` is the target bot's id once known; `error` says why the campaign must pause (the
    file cannot be fetched, or every upload failed), after which the batch stops.
    """

    def __init__(self, ectx: EngineContext, *, campaign_id: int, bot_id: int, media: dict[str, Any]) -> None:
        self.ectx = ectx
        self.campaign_id = campaign_id
        self.bot_id = bot_id
        self.media = media
        self.kind = str(media.get("kind", "document"))
        self.file_id: str | None = None
        self.error: str | None = None
        self._data: bytes | None = None
        self._failures = 0

    async def stored_file_id(self) -> str | None:
        """The target bot's file id if another batch has stored it meanwhile."""

        async def read(session: AsyncSession) -> str | None:
            content = await session.scalar(select(Campaign.content).where(Campaign.id == self.campaign_id))
            return target_file_id(content or {}, self.bot_id)

        return await self.ectx.in_transaction(read)

    async def store_file_id(self, file_id: str) -> None:
        """Keep the target bot's file id in the campaign, for every later send."""

        async def store(session: AsyncSession) -> None:
            campaign = await session.get(Campaign, self.campaign_id, with_for_update=True)
            if campaign is None:
                return
            content = dict(campaign.content or {})
            content["target_file_ids"] = {
                **(content.get("target_file_ids") or {}),
                str(self.bot_id): file_id,
            }
            campaign.content = content

        await self.ectx.in_transaction(store)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[bool]:
        """This worker's turn to upload, under the campaign's lock: True while it is held.

        False: a live worker uploads (after waiting a moment), or a dead one's lock was just
        taken away (ask again at once).
        """
        redis, worker_id = self.ectx.redis, self.ectx.worker_id
        lock = self.ectx.keys.media_upload(self.campaign_id)
        if not await redis.set(lock, worker_id, nx=True, px=UPLOAD_LOCK_MS):
            holder = await redis.get(lock)
            if holder is not None and not await redis.exists(self.ectx.keys.worker(holder.decode())):
                await redis.delete(lock)  # its worker died mid-upload: take over
            else:
                await asyncio.sleep(UPLOAD_WAIT_S)
            yield False
            return
        try:
            yield True
        finally:
            with contextlib.suppress(Exception):
                if await redis.get(lock) == worker_id.encode():
                    await redis.delete(lock)

    async def fetch(self) -> bool:
        """Have the media's bytes (fetched through the control bot once); False if not yet, or never."""
        if self._data is not None:
            return True
        self._data = await self._download()
        return self._data is not None

    async def _download(self) -> bytes | None:
        """The media's bytes through the control bot, or None (the campaign pauses, or it is tried again)."""
        control = self.ectx.control_bot
        if control is None:
            self.error = texts.FILE_NO_CONTROL_BOT
            return None
        try:
            return await control.download(str(self.media.get("file_id", "")))
        except (BotAPIError, BotAPINetworkError) as exc:
            if isinstance(exc, BotAPIError) and exc.error_code < 500 and exc.error_code != 429:
                self.error = exc.description  # the file is gone or too big: trying again won't help
                return None
            logger.warning("campaign %s: fetching the file failed (%s); trying again", self.campaign_id, exc)
            await asyncio.sleep(UPLOAD_WAIT_S)
            return None

    async def send(self, bot: BotAPI, call: BotApiCall, chat_id: int, *, request_timeout_s: float) -> Any:
        """Send the message with the file's bytes to `chat_id`; the answer's file id becomes `file_id`."""
        assert self._data is not None
        message = await bot.upload(
            call.method,
            {"chat_id": chat_id, **call.params},
            field=call.file_field or self.kind,
            data=self._data,
            filename=upload_name(self.kind, self.media.get("file_name")),
            timeout_s=max(UPLOAD_TIMEOUT_S, request_timeout_s),
        )
        self.file_id = sent_file_id(message, self.kind)
        return message

    def done(self) -> None:
        """The target bot has its file id: the bytes are no longer needed."""
        self._data = None

    def failed(self, result: DeliveryResult, *, is_content: bool, limit: int) -> None:
        """An upload that gave no file id; after `limit` of them the campaign pauses.

        Timeouts, 5xx: each costs a recipient (unconfirmed) or a retry; a file that never goes
        through must not use up the audience. Unreachable recipients pass it on for free,
        content errors pause by their streak, and a send that never left (Telegram out of
        reach: the row went back as it was) is no failure of the file's.
        """
        if result.outcome in (Outcome.UNAVAILABLE, Outcome.RELEASE) or is_content:
            return
        self._failures += 1
        if self._failures >= limit:
            self.error = texts.UPLOADS_FAILED.format(
                count=self._failures, error=result.error or result.outcome.value
            )


class AlbumUpload(MediaUpload):
    """Passing an album's files on to the target bot: one sendMediaGroup with every item's bytes
    (each file uploaded once), whose answer gives the target bot's file id of each item.

    `file_ids` holds them once known (`file_id` stays None: the album has no single file)."""

    def __init__(
        self, ectx: EngineContext, *, campaign_id: int, bot_id: int, items: list[dict[str, Any]]
    ) -> None:
        super().__init__(ectx, campaign_id=campaign_id, bot_id=bot_id, media=items[0])
        self.items = items
        self.file_ids: list[str] | None = None
        self._files: list[bytes] | None = None

    async def stored_file_ids(self) -> list[str] | None:
        """The target bot's file ids if another batch has stored them meanwhile."""

        async def read(session: AsyncSession) -> list[str] | None:
            content = await session.scalar(select(Campaign.content).where(Campaign.id == self.campaign_id))
            return target_album_file_ids(content or {}, self.bot_id)

        return await self.ectx.in_transaction(read)

    async def store_file_ids(self, file_ids: list[str]) -> None:
        """Keep the target bot's file ids in the campaign, for every later send."""

        async def store(session: AsyncSession) -> None:
            campaign = await session.get(Campaign, self.campaign_id, with_for_update=True)
            if campaign is None:
                return
            content = dict(campaign.content or {})
            content["target_album_file_ids"] = {
                **(content.get("target_album_file_ids") or {}),
                str(self.bot_id): list(file_ids),
            }
            campaign.content = content

        await self.ectx.in_transaction(store)

    async def fetch(self) -> bool:
        """Have every item's bytes (each fetched through the control bot once); False if not yet, or never."""
        files = self._files if self._files is not None else []
        for item in self.items[len(files) :]:
            self.media = item
            data = await self._download()
            if data is None:
                self._files = files
                return False
            files.append(data)
        self._files = files
        return True

    async def send(self, bot: BotAPI, call: BotApiCall, chat_id: int, *, request_timeout_s: float) -> Any:
        """Send the album with every item's bytes to `chat_id`; the answer's file ids become `file_ids`."""
        assert self._files is not None
        files = [
            (part, data, upload_name(str(item.get("kind", "document")), item.get("file_name")))
            for part, data, item in zip(call.upload_fields, self._files, self.items, strict=True)
            if part is not None
        ]
        messages = await bot.upload_files(
            call.method,
            {"chat_id": chat_id, **call.params},
            files=files,
            timeout_s=max(UPLOAD_TIMEOUT_S, request_timeout_s),
        )
        if isinstance(messages, list) and len(messages) == len(self.items):
            found = [
                sent_file_id(m, str(item.get("kind", "")))
                for m, item in zip(messages, self.items, strict=True)
            ]
            if all(found):
                self.file_ids = [str(file_id) for file_id in found]
        return messages

    def done(self) -> None:
        """The target bot has its file ids: the bytes are no longer needed."""
        self._files = None
