"""What every job of one worker process shares: database, Redis, limiter, bots, heartbeat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sqlite3
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
from redis.asyncio import Redis
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from jobs.engine.eventloop import StallWatch
from jobs.engine.ratelimit import TokenRateLimiter
from jobs.engine.route import RouteWatch
from jobs.engine.sendclient import BotAPI
from panel.keys import RedisKeys
from panel.secrets import open_token
from panel.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

DB_RETRY_LIMIT_S = 120.0
FINISH_WAIT_S = 5.0
"""A stopping worker waits this long at most for its batches' last database writes."""
READING_KEPT_S = 60.0
"""Shared answers (a campaign's status) older than this are dropped: the worker keeps none for life."""


def new_worker_id() -> str:
    """A worker id unique across hosts and restarts."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_transient_db_error(exc: BaseException) -> bool:
    """Whether a database error is worth retrying: lock contention, a lost connection, a restart.

    Decided by exception types and driver codes, never by words in the message (a schema error
    naming a column `connection_id` is no lost connection): a transient SQLSTATE anywhere in
    the chain (`_TRANSIENT_SQLSTATE_CLASSES`, `_TRANSIENT_SQLSTATES`), a connection SQLAlchemy
    saw invalidated, an `InterfaceError` (SQLAlchemy's or asyncpg's: the driver lost the
    connection), SQLite's BUSY and LOCKED codes, or a network error from the socket. A server
    that answered with any other SQLSTATE (syntax, a missing table) or a constraint violation
    is final.
    """
    if isinstance(exc, IntegrityError):
        return False
    chain = _error_chain(exc)
    states = [state for state in (_sqlstate(error) for error in chain) if state]
    if any(_is_transient_sqlstate(state) for state in states):
        return True
    if states:
        return False  # the server answered, definitely: retrying cannot help
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return any(
        isinstance(error, InterfaceError | asyncpg.InterfaceError | OSError) or _is_sqlite_contention(error)
        for error in chain
    )


def _error_chain(exc: BaseException) -> list[BaseException]:
    """`exc`, its DBAPI error (`orig`) and their causes and contexts, each once."""
    found: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or any(current is seen for seen in found):
            continue
        found.append(current)
        orig = getattr(current, "orig", None)
        pending.extend(
            [orig if isinstance(orig, BaseException) else None, current.__cause__, current.__context__]
        )
    return found


def _sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a PostgreSQL driver error (asyncpg's `sqlstate`, psycopg's `pgcode`)."""
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return state if isinstance(state, str) else None


def _is_transient_sqlstate(state: str) -> bool:
    """Connection exceptions, resources exhausted, a shutdown or start-up, a lost race to retry."""
    return state.startswith(_TRANSIENT_SQLSTATE_CLASSES) or state in _TRANSIENT_SQLSTATES


_TRANSIENT_SQLSTATE_CLASSES = (
    "08",  # connection exception: the connection failed or was lost
    "53",  # insufficient resources: too many connections, out of memory or disk
)
_TRANSIENT_SQLSTATES = frozenset(
    {
        "57P01",  # admin_shutdown: terminating connection due to administrator command
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now: the database system is shutting down / starting up
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
    }
)


def _is_sqlite_contention(error: BaseException) -> bool:
    """SQLite's "database is locked" / "table is locked": another connection holds the lock.

    The primary result code is the low byte of the extended one (SQLITE_BUSY_SNAPSHOT is BUSY).
    """
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


SLOW_TOKEN_RATE = 30
"""A token this slow keeps one batch per worker process: one alone keeps its few requests in
flight, and a second added only its own claims, flushes and status reads (twenty 30/s bots on
two workers ran 80 batches where 40 do the same sends)."""


@dataclass
class EngineContext:
    """The shared clients of one worker process (stored in arq's ctx as `engine`)."""

    settings: Settings
    db: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    limiter: TokenRateLimiter
    worker_id: str
    control_bot: BotAPI | None
    target_bots: dict[str, BotAPI] = field(default_factory=dict)
    leases: set[str] = field(default_factory=set)
    active_batches: Counter[str] = field(default_factory=Counter)
    """Batches running in this process, per rate-limit key (they share the claim budget)."""
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    finishing: set[asyncio.Task[Any]] = field(default_factory=set)
    """Batches' last writes (results, rows back to pending) that shutdown waits for (`finish`)."""
    heartbeat_task: asyncio.Task[None] | None = None
    stall_watch: StallWatch | None = None
    _batch_rooms: dict[str, asyncio.Semaphore] = field(default_factory=dict)
    campaign_rate_keys: dict[int, str] = field(default_factory=dict)
    """The rate key of each campaign this process has sent (a campaign's bot never changes)."""
    watched_campaigns: dict[int, float] = field(default_factory=dict)
    """Campaigns whose status this process's batches watch, and when each last asked."""
    _readings: dict[Any, tuple[float, Any]] = field(default_factory=dict)
    _reading: dict[Any, asyncio.Task[Any]] = field(default_factory=dict)
    _readings_pruned_at: float = 0.0
    _tokens: dict[str, str] = field(default_factory=dict)
    keys: RedisKeys = field(init=False)
    """Every Redis key of this deployment (under `settings.queue_name`)."""
    route: RouteWatch = field(init=False)
    """Whether Telegram can be reached, per token (outages, `jobs.engine.route`)."""

    def __post_init__(self) -> None:
        self.keys = RedisKeys(self.settings.queue_name)
        self.route = RouteWatch(self.redis, self.keys)

    def batch_room(self, rate_key: str, rate_per_s: float | None = None) -> asyncio.Semaphore:
        """Room for this process's batches of one token: `batches_per_token` at once, one for a
        token of at most SLOW_TOKEN_RATE (`rate_per_s`, when the room is first made)."""
        room = self._batch_rooms.get(rate_key)
        if room is None:
            slow = rate_per_s is not None and rate_per_s <= SLOW_TOKEN_RATE
            size = 1 if slow else self.settings.batches_per_token
            room = self._batch_rooms[rate_key] = asyncio.Semaphore(size)
        return room

    async def shared_read(self, key: Any, max_age_s: float, read: Callable[[], Awaitable[T]]) -> T:
        """`read()`'s answer, shared by every job of this process that asks within `max_age_s`
        (ten batches of one campaign read its status once, not ten times)."""
        loop = asyncio.get_running_loop()
        cached = self._readings.get(key)
        if cached is not None and loop.time() - cached[0] < max_age_s:
            value: T = cached[1]
            return value
        task = self._reading.get(key)
        if task is None:
            started = loop.time()

            async def run() -> T:
                try:
                    result = await read()
                    self._forget_old_readings(started)
                    self._readings[key] = (started, result)
                    return result
                finally:
                    self._reading.pop(key, None)

            task = self._reading[key] = asyncio.ensure_future(run())
        shared: T = await asyncio.shield(task)
        return shared

    def _forget_old_readings(self, now: float) -> None:
        """Drop answers older than READING_KEPT_S (campaigns long over), at most once a minute."""
        if now - self._readings_pruned_at < READING_KEPT_S:
            return
        self._readings_pruned_at = now
        for key, (read_at, _) in list(self._readings.items()):
            if now - read_at > READING_KEPT_S:
                del self._readings[key]

    def open_token(self, sealed_token: str) -> str:
        """A target bot's stored token, decrypted (once per process) for the calls to Telegram."""
        token = self._tokens.get(sealed_token)
        if token is None:
            token = self._tokens[sealed_token] = open_token(self.settings, sealed_token)
        return token

    def rate_key(self, sealed_token: str) -> str:
        """The Redis key of a target bot's limit, shared by every process sending with its token."""
        return self.limiter.key_for(self.open_token(sealed_token))

    def target_bot(self, sealed_token: str) -> BotAPI:
        """The Bot API client of a target bot (one connection pool per token and process)."""
        token = self.open_token(sealed_token)
        bot = self.target_bots.get(token)
        if bot is None:
            limit = self.settings.send_concurrency * self.settings.batches_per_token
            bot = BotAPI(
                token,
                api_url=self.settings.telegram_api_url,
                timeout_s=self.settings.request_timeout_s,
                limit=limit,
            )
            self.target_bots[token] = bot
        return bot

    def spawn(self, coroutine: Awaitable[Any]) -> None:
        """Run `coroutine` in the background, kept referenced until done; errors are logged."""

        async def guarded() -> None:
            try:
                await coroutine
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("background task failed")

        task = asyncio.ensure_future(guarded())
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def finish(self, coroutine: Awaitable[T]) -> T:
        """Await `coroutine` to its end even if the caller is cancelled (a job cut short by a
        shutdown): closing waits for it, so a stopped worker leaves its rows recorded or pending."""
        task = asyncio.ensure_future(coroutine)
        self.finishing.add(task)
        task.add_done_callback(self.finishing.discard)
        return await asyncio.shield(task)

    async def in_transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in one transaction, retrying the whole of it on transient database errors."""
        delay = 0.05
        waited = 0.0
        while True:
            try:
                async with self.sessionmaker.begin() as session:
                    return await work(session)
            except Exception as exc:
                if not is_transient_db_error(exc) or waited >= DB_RETRY_LIMIT_S:
                    raise
                logger.warning("database hiccup (%s); retrying in %.2f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                waited += delay
                delay = min(delay * 2, 2.0)

    async def heartbeat(self) -> None:
        """Keep this worker's and its running batches' leases alive until cancelled."""
        lease_ms = int(self.settings.worker_lease_s * 1000)
        period_s = self.settings.worker_lease_s / 3
        while True:
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.set(self.keys.worker(self.worker_id), b"1", px=lease_ms)
                    for job_id in list(self.leases):
                        pipe.set(self.keys.lease(job_id), self.worker_id, px=lease_ms)
                    await pipe.execute()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarting: keep trying, the lease is generous
                logger.warning("heartbeat failed: %s", exc)
            await asyncio.sleep(period_s)

    async def hold_lease(self, job_id: str) -> None:
        """Mark a batch job as running here (refreshed by the heartbeat)."""
        self.leases.add(job_id)
        with contextlib.suppress(Exception):
            await self.redis.set(
                self.keys.lease(job_id), self.worker_id, px=int(self.settings.worker_lease_s * 1000)
            )

    async def drop_lease(self, job_id: str) -> None:
        """The batch job ended here."""
        self.leases.discard(job_id)
        with contextlib.suppress(Exception):
            await self.redis.delete(self.keys.lease(job_id))

    async def close(self) -> None:
        """Stop the heartbeat and background work, close clients, give up this worker's lease."""
        if self.stall_watch is not None:
            self.stall_watch.stop()
        if self.limiter.collector is not None:
            self.limiter.collector.disable()  # CPython collects again (a worker inside a test run)
        if self.finishing:  # batches cut short record what they did, for a few seconds at most
            _, late = await asyncio.wait(list(self.finishing), timeout=FINISH_WAIT_S)
            if late:
                logger.warning("%s batches did not record their results in time", len(late))
        if self.heartbeat_task is not None:
            self.heartbeat_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.heartbeat_task
        for task in list(self.background):
            task.cancel()
        if self.background:
            await asyncio.gather(*self.background, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.redis.delete(self.keys.worker(self.worker_id))
        for bot in self.target_bots.values():
            await bot.close()
        if self.control_bot is not None:
            await self.control_bot.close()
        await self.db.dispose()
