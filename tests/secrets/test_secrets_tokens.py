"""Bot tokens and SECRET_KEY stay where they are kept: never in logs, job payloads, chats, CLI
output or errors.

The log test captures every record of a full run (control bot conversation, a test send, an
in-process worker sending a campaign to completion) with the root logger at DEBUG, twice:

- raw records, before any filter, to learn who puts tokens into log records at all. The
  project's own loggers (`bot`, `panel`, `jobs`, `cli`, `tgsim`) must never do so. Third-party
  loggers may: aiosqlite at DEBUG logs each statement with its parameters, so the INSERT of a
  target bot carries its token (seen in this run on SQLite). That happens in production too
  (`broadcast -v` sets the root logger to DEBUG), so
- the text a handler writes, with `panel.logsafe` installed exactly as `cli.main` installs it
  (`logging.basicConfig`, then `logsafe.install()`), must hold no token at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import traceback
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import cast

import pytest
from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.aiogram_bot import fetch_identity
from models import Campaign, CampaignStatus, TargetBot
from panel import logsafe, texts
from panel.bots import BotError
from tests.processes import broadcast_cli as run_broadcast
from tests.support.control import (
    ADMIN_ID,
    CONTROL_TOKEN,
    NEWS_TOKEN,
    NEWS_USERS,
    SHOP_TOKEN,
    ControlBot,
    add_target_bots,
    control_settings,
    engine_worker_running,
)
from tests.support.keys import sealed
from tgsim.simulator import Simulator

TOKENS = (CONTROL_TOKEN, NEWS_TOKEN, SHOP_TOKEN)
OWN_LOGGERS = ("bot", "panel", "jobs", "cli", "tgsim", "tests")
NEW_TOKEN = "400123:AAnewTargetTokenThatMustStaySecret_42"
REFUSED_TOKEN = "400999:AArevokedTokenTelegramRefusesNow-007"


def secrets_in(text: str, tokens: tuple[str, ...] = TOKENS) -> list[str]:
    """Each token, or the secret part of one, found in `text`; and SECRET_KEY's keys, which must
    never show either (each, or its base64 body without the padding)."""
    found = []
    for token in tokens:
        secret = token.split(":", 1)[1]
        if token in text or secret in text:
            found.append(token)
    for key in os.environ["SECRET_KEY"].split(","):
        if key.rstrip("=") in text:
            found.append("SECRET_KEY")
    return found


class RawRecords(logging.Handler):
    """Every record as the logger made it, before any handler's filter rewrites it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.leaks: dict[str, str] = {}
        self.loggers: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        self.loggers.add(record.name.split(".")[0])
        text = record.getMessage()
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        if secrets_in(text):
            self.leaks.setdefault(record.name, text[:300])


@contextlib.contextmanager
def production_logging() -> Iterator[tuple[RawRecords, io.StringIO]]:
    """The root logger at DEBUG with a handler set up as `cli.main` does, plus a raw-record probe."""
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    raw = RawRecords()
    output = io.StringIO()
    root.handlers = []
    logging.basicConfig(
        level=logging.DEBUG, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=output
    )
    logsafe.install()
    # The probe goes first and without the filter, which rewrites records in place.
    root.handlers.insert(0, raw)
    try:
        yield raw, output
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)


class RedisSniffer:
    """Reads every key of the test Redis every few milliseconds and remembers any token found."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.leaks: dict[bytes, bytes] = {}
        self.job_payloads_seen = 0
        self._task: asyncio.Task[None] | None = None

    async def _value(self, key: bytes) -> bytes:
        kind = await self.redis.type(key)
        if kind == b"string":
            return await self.redis.get(key) or b""
        if kind == b"zset":
            return b" ".join(await self.redis.zrange(key, 0, -1))
        # redis-py's stubs type these commands for both clients (`Awaitable[T] | T`, str names).
        name = cast(str, key)
        if kind == b"hash":
            pairs = await cast("Awaitable[dict[bytes, bytes]]", self.redis.hgetall(name))
            return b" ".join(k + b"=" + v for k, v in pairs.items())
        if kind == b"list":
            return b" ".join(await cast("Awaitable[list[bytes]]", self.redis.lrange(name, 0, -1)))
        if kind == b"set":
            return b" ".join(await cast("Awaitable[set[bytes]]", self.redis.smembers(name)))
        return b""

    async def sweep(self) -> None:
        for key in await self.redis.keys("*"):
            value = await self._value(key)
            if key.startswith(b"arq:job:"):
                self.job_payloads_seen += 1
            blob = key + b" " + value
            if secrets_in(blob.decode("utf-8", "replace")):
                self.leaks[key] = blob[:200]

    async def _run(self) -> None:
        while True:
            await self.sweep()
            await asyncio.sleep(0.005)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def test_a_full_run_keeps_tokens_out_of_logs_jobs_and_chats(
    sim: Simulator,
    database_url: str,
    redis_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    arq_pool: ArqRedis,
) -> None:
    arq = arq_pool
    sniffer = RedisSniffer(redis)
    with production_logging() as (raw, output):
        control = ControlBot(
            sim=sim,
            settings=control_settings(sim, database_url, redis_url),
            sessionmaker=sessionmaker,
            redis=redis,
            arq_pool=arq,
        )
        control.bots = await add_target_bots(sessionmaker, with_shop=True)
        await control.start()
        sniffer.start()
        try:
            # Compose, test-send to the admin through the news bot, then confirm a send now.
            picker = await control.say("/new", expect=texts.CHOOSE_BOT)
            await control.press(picker.message_id, next(text for text, _ in picker.buttons if "news" in text))
            await control.reply(after_id=picker.message_id, expect=texts.ASK_MESSAGE)
            await control.skip_buttons(after_id=control.send("Secrets stay secret"))
            card = await control.say("Secret test", expect=texts.COMPOSE_PREVIEW_NOTE)
            before = control.last_id()
            await control.press(card.message_id, texts.BTN_TEST)
            await control.reply(after_id=before, expect="Test sent")
            before = control.last_id()
            await control.press(card.message_id, texts.BTN_SEND_NOW)
            confirm = await control.reply(after_id=before, expect="now?")
            await control.press(confirm.message_id, texts.BTN_CONFIRM)
            # The start job is queued with no worker yet: its payload is read while it waits.
            await sniffer.sweep()
            assert await arq.zcard(control.settings.queue_name) == 1

            async with engine_worker_running(control.settings):
                await control.reply(
                    after_id=confirm.message_id, where=lambda m: "finished" in (m.text or ""), timeout_s=30
                )
            listing = await control.say("/campaigns")
            opened = await control.press(listing.message_id, listing.buttons[0][0])
            assert opened is not None
        finally:
            await sniffer.stop()
            await control.stop()

    async with sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    assert campaign.status is CampaignStatus.COMPLETED and campaign.successful_sents == len(NEWS_USERS)

    # Logs: nothing a handler wrote holds a token, and the project's own records never did.
    written = output.getvalue()
    assert {"aiogram", "arq", "jobs", "panel"} <= raw.loggers, raw.loggers
    assert secrets_in(written) == []
    assert not [name for name in raw.leaks if name.split(".")[0] in OWN_LOGGERS], raw.leaks
    # Redis: job payloads (queued, running, results), conversation state, limiter keys.
    assert sniffer.job_payloads_seen > 0
    assert sniffer.leaks == {}
    # Chats: whatever the admin and the recipients see.
    for token, chat_id in [(CONTROL_TOKEN, ADMIN_ID), (NEWS_TOKEN, ADMIN_ID)] + [
        (NEWS_TOKEN, u) for u in NEWS_USERS
    ]:
        view = sim.chat(token, chat_id)
        seen = " ".join(
            [str(m.text) + str(m.reply_markup) + str(m.entities) for m in view.messages]
            + [str(a.text) for a in view.callback_answers]
        )
        assert secrets_in(seen) == [], (token.split(":")[0], chat_id)


def test_target_bot_repr_has_no_token() -> None:
    bot = TargetBot(id=3, codename="news", sealed_token=sealed(NEWS_TOKEN), username="news_bot")
    assert secrets_in(repr(bot)) == []
    assert secrets_in(str(bot)) == []


async def test_fetch_identity_errors_never_hold_the_token(sim: Simulator) -> None:
    with pytest.raises(BotError) as refused:
        await fetch_identity(REFUSED_TOKEN, api_url=sim.base_url, timeout_s=5)
    with pytest.raises(BotError) as unreachable:
        await fetch_identity(REFUSED_TOKEN, api_url="http://127.0.0.1:9", timeout_s=5)
    for error in (refused.value, unreachable.value):
        rendered = str(error) + repr(error) + "".join(traceback.format_exception(error))
        assert secrets_in(rendered, (REFUSED_TOKEN,)) == [], rendered
    assert "400999:" in str(refused.value)  # the bot id is still there, to tell which token


async def broadcast_cli(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """`broadcast ARGS` in a subprocess: its exit code and everything it printed."""
    code, stdout, stderr = await run_broadcast(*args, env=env, cwd=cwd)
    return code, stdout + stderr


async def test_cli_bots_add_and_list_never_print_a_token(
    sim: Simulator, database_url: str, tmp_path: Path
) -> None:
    sim.add_bot(NEW_TOKEN, username="secret_news_bot", first_name="Secret News")
    env = {"DATABASE_URL": database_url, "TELEGRAM_API_URL": sim.base_url}
    tokens = (NEW_TOKEN, REFUSED_TOKEN)
    code, out = await broadcast_cli("db", "upgrade", env=env, cwd=tmp_path)
    assert code == 0, out
    # -v: the root logger at DEBUG, the most a CLI run ever logs (plain runs log a subset).
    for verbose in (("-v",),):
        codename = "secret"
        code, out = await broadcast_cli(
            *verbose, "bots", "add", "--codename", codename, "--token", NEW_TOKEN, env=env, cwd=tmp_path
        )
        assert code == 0 and "added bot" in out, out
        assert secrets_in(out, tokens) == [], out
        code, out = await broadcast_cli(
            *verbose, "bots", "add", "--codename", "revoked", "--token", REFUSED_TOKEN, env=env, cwd=tmp_path
        )
        assert code == 1 and "refused" in out, out
        assert secrets_in(out, tokens) == [], out
        code, out = await broadcast_cli(*verbose, "bots", "list", env=env, cwd=tmp_path)
        assert code == 0 and codename in out, out
        assert secrets_in(out, tokens) == [], out
