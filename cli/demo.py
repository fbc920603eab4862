"""`broadcast demo`: the whole product on one machine, with the simulator standing in for Telegram.

The demo wires the same parts production runs — the control bot's dispatcher, an arq worker,
the database and Redis — and points them at an in-process Bot API simulator. Then it plays an
admin's conversation with the control bot (or, with `--interactive`, lets you be the admin) and
shows in the terminal what the admin sees in Telegram.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.aiogram_bot import fetch_identity
from bot.app import create_control_bot, create_dispatcher, set_commands
from cli.common import fail
from cli.terminal import boxed, progress_bar, render_buttons, render_text, use_colour
from cli.users_import import import_users
from jobs.worker import close_worker, create_worker
from models import Campaign, CampaignStatus
from panel import texts
from panel.bots import add_bot
from panel.campaigns import delivery_counts, get_campaign, list_campaigns
from panel.db import create_engine, create_sessionmaker
from panel.migrations import upgrade
from panel.queue import connect
from panel.settings import Settings, SettingsError, load_settings
from tgsim.entities import parse_html
from tgsim.settings import FaultSettings, LimitSettings, SimSettings
from tgsim.simulator import ChatEntry, Simulator

logger = logging.getLogger(__name__)

CONTROL_TOKEN = "700000001:DEMO-control-bot-token-not-real"
TARGET_TOKEN = "700000002:DEMO-target-bot-token-not-real"
ADMIN_ID = 5550001
FIRST_CHAT_ID = 10_000_000

DEMO_MESSAGE_HTML = (
    "<b>Big news!</b> Version 2.0 is out 🎉\n\n"
    "• <i>twice as fast</i> on every device\n"
    "• a <u>dark theme</u> that finally matches your night\n"
    "• and a <tg-spoiler>secret feature</tg-spoiler> for early birds\n\n"
    'Read the <a href="https://example.com/changelog">changelog</a>.'
)


@dataclass(slots=True)
class Audience:
    """How the demo target bot's simulated users are made up."""

    size: int
    blocked_share: float = 0.08
    deactivated_share: float = 0.03
    never_started_share: float = 0.02


@dataclass(slots=True)
class Stack:
    """Every running part of the demo."""

    sim: Simulator
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    pool: ArqRedis
    control_bot: Bot
    dispatcher: Dispatcher
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `demo`."""
    demo = subparsers.add_parser(
        "demo",
        help="see the whole product work, with no token and no Telegram",
        description=(
            "Run Broadcast Panel end to end on a SQLite file, the local Redis and the Telegram "
            "simulator: an admin composes an announcement in the control bot, confirms it, and "
            "watches it reach a few thousand simulated users."
        ),
    )
    demo.add_argument(
        "--interactive", action="store_true", help="be the admin: chat with the control bot yourself"
    )
    demo.add_argument(
        "--users", type=int, default=2000, help="simulated users of the demo bot (default 2000)"
    )
    demo.add_argument("--rate", type=int, default=30, help="the demo bot's send rate per second (default 30)")
    demo.add_argument(
        "--database", type=Path, default=Path("var") / "demo.sqlite3", help="SQLite file, recreated each run"
    )
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    if args.users < 10:
        fail("--users: at least 10")
    if not 1 <= args.rate <= 1000:
        fail("--rate: between 1 and 1000")
    logging.getLogger().setLevel(logging.WARNING)
    try:
        return asyncio.run(_run(args))
    except SettingsError as exc:
        fail(f"configuration error: {exc}", code=2)
    except TimeoutError as exc:
        fail(f"the demo stopped: {exc} (the admin's chat so far is above)")
    except KeyboardInterrupt:
        fail("interrupted", code=130)


async def _run(args: argparse.Namespace) -> int:
    colour = use_colour()
    say = _Printer(colour)
    started = time.monotonic()
    say.step("Starting the Telegram simulator, the database, the control bot and a worker…")
    async with _stack(args) as stack:
        say.step(
            f"Demo bot @demo_news_bot has {args.users:,} simulated users "
            f"(some blocked or deleted); the admin is user {ADMIN_ID}."
        )
        if args.interactive:
            return await _interactive(stack, say)
        code = await _scripted(stack, say, args)
    say.step(f"Everything stopped. The demo took {time.monotonic() - started:.0f} s.")
    return code


@contextlib.asynccontextmanager
async def _stack(args: argparse.Namespace) -> AsyncIterator[Stack]:
    sim_settings = SimSettings(
        seed=7,
        limits=LimitSettings(global_rate=30, paid_rate=1000),
        faults=FaultSettings(),
    )
    async with Simulator(sim_settings) as sim:
        sim.add_bot(CONTROL_TOKEN, username="broadcast_panel_bot", first_name="Broadcast Panel")
        sim.add_bot(
            TARGET_TOKEN,
            username="demo_news_bot",
            first_name="Demo News",
            paid_broadcast=args.rate > 30,
            # A real network: 80 ms ± 10 ms per request (the jitter the default pacing is sized for), and one answer in 200 is a 502.
            faults=FaultSettings(latency_mean_s=0.08, latency_jitter_s=0.01, server_error_share=0.005),
        )
        sim.add_user(CONTROL_TOKEN, ADMIN_ID, first_name="Ada", username="ada_admin", language_code="en")
        # Ada has started the demo bot (so "Test to me" reaches her) but is not in its audience.
        sim.add_user(TARGET_TOKEN, ADMIN_ID, first_name="Ada", username="ada_admin", language_code="en")
        audience = Audience(size=args.users)
        chat_ids = _populate(sim, audience)

        database: Path = args.database
        _fresh_sqlite_file(database)
        settings = load_settings(
            bot_token=CONTROL_TOKEN,
            admin_ids=str(ADMIN_ID),
            database_url=f"sqlite+aiosqlite:///{database}",
            telegram_api_url=sim.base_url,
            queue_name=f"broadcast:demo:{uuid.uuid4().hex[:8]}",
        )
        engine = create_engine(settings.database_url)
        await upgrade(engine)
        sessionmaker = create_sessionmaker(engine)
        identity = await fetch_identity(TARGET_TOKEN, api_url=sim.base_url)
        async with sessionmaker.begin() as session:
            target = await add_bot(
                session,
                codename="demo-news",
                token=TARGET_TOKEN,
                identity=identity,
                rate_per_s=args.rate,
                paid_broadcast=args.rate > 30,
            )
        with tempfile.TemporaryDirectory() as tmp:
            csv_path = Path(tmp) / "users.csv"
            csv_path.write_text(
                "chat_id,first_name,language_code\n"
                + "".join(f"{chat_id},User{chat_id % 10_000},en\n" for chat_id in chat_ids),
                encoding="utf-8",
            )
            await import_users(engine, csv_path, bot_id=target.id)

        redis: Redis = Redis.from_url(settings.redis_url)
        try:
            await redis.ping()
        except OSError as exc:
            raise SettingsError(f"REDIS_URL: Redis at {settings.redis_url} does not answer ({exc})") from None
        pool = await connect(settings.redis_url)
        control_bot = create_control_bot(CONTROL_TOKEN, api_url=sim.base_url)
        dispatcher = create_dispatcher(settings, sessionmaker=sessionmaker, arq_pool=pool, redis=redis)
        stack = Stack(sim, settings, engine, sessionmaker, redis, pool, control_bot, dispatcher)
        worker = create_worker(settings)
        try:
            await set_commands(control_bot)
            stack.tasks.append(
                asyncio.create_task(
                    dispatcher.start_polling(control_bot, handle_signals=False, polling_timeout=1)
                )
            )
            stack.tasks.append(asyncio.create_task(worker.async_run()))
            yield stack
        finally:
            with contextlib.suppress(Exception):
                await dispatcher.stop_polling()
            await close_worker(worker)
            for task in stack.tasks:
                task.cancel()
            await asyncio.gather(*stack.tasks, return_exceptions=True)
            await control_bot.session.close()
            await pool.aclose()
            await _forget_demo_keys(redis, settings)
            await redis.aclose()
            await engine.dispose()


def _fresh_sqlite_file(database: Path) -> None:
    database.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


async def _forget_demo_keys(redis: Redis, settings: Settings) -> None:
    """Leave the shared Redis as the demo found it: every key of the demo lives under its queue name."""
    with contextlib.suppress(Exception):
        keys = [key async for key in redis.scan_iter(match=f"{settings.queue_name}*", count=1000)]
        if keys:
            await redis.delete(*keys)


def _populate(sim: Simulator, audience: Audience) -> list[int]:
    """Add the demo bot's users to the simulator, some blocked, deleted or never started."""
    rng = random.Random(2026)
    chat_ids = list(range(FIRST_CHAT_ID, FIRST_CHAT_ID + audience.size))
    states: dict[str, list[int]] = {"active": [], "blocked": [], "deactivated": [], "not_started": []}
    for chat_id in chat_ids:
        roll = rng.random()
        if roll < audience.blocked_share:
            states["blocked"].append(chat_id)
        elif roll < audience.blocked_share + audience.deactivated_share:
            states["deactivated"].append(chat_id)
        elif roll < audience.blocked_share + audience.deactivated_share + audience.never_started_share:
            states["not_started"].append(chat_id)
        else:
            states["active"].append(chat_id)
    for state, ids in states.items():
        sim.add_users(TARGET_TOKEN, ids, state=state)
    return chat_ids


class _Printer:
    """Writes the demo's narration and the admin's chat to the terminal."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour
        self.bar_shown = False
        self.bar_printed_at = 0.0

    def step(self, text: str) -> None:
        self.end_bar()
        marker = "\033[1;35m▶\033[0m" if self.colour else ">"
        print(f"{marker} {text}", flush=True)

    def admin_says(self, text: str, entities: list[dict[str, Any]] | None = None) -> None:
        self.end_bar()
        body = render_text(text, entities or [], colour=self.colour)
        print(boxed("Ada (admin) →", body, [], colour=self.colour), flush=True)

    def admin_taps(self, button: str) -> None:
        self.end_bar()
        print(f"  Ada taps [{button}]", flush=True)

    def show(self, who: str, entry: ChatEntry, *, numbered: bool = False) -> None:
        """Print a bot message the first time, and again whenever its text or keyboard changes."""
        self.end_bar()
        body = render_text(
            entry.text or entry.caption or "", entry.entities or entry.caption_entities, colour=self.colour
        )
        buttons = (
            render_buttons(entry.reply_markup)
            if numbered
            else [" ".join(f"[{text}]" for text, _ in entry.buttons)]
            if entry.buttons
            else []
        )
        title = f"{who} (message {entry.message_id}{', edited' if entry.edit_count else ''})"
        print(boxed(title, body, buttons, colour=self.colour), flush=True)

    def bar(self, done: int, total: int, suffix: str) -> None:
        line = f"  {progress_bar(done, total)} {done:,}/{total:,} {suffix}"
        if sys.stdout.isatty():
            print(f"\r\033[K{line}", end="", flush=True)
            self.bar_shown = True
        elif time.monotonic() - self.bar_printed_at >= BAR_LINE_INTERVAL_S or done >= total:
            # A log file gets a line every few seconds, not a redraw every half second.
            self.bar_printed_at = time.monotonic()
            print(line, flush=True)

    def end_bar(self) -> None:
        if self.bar_shown:
            print(flush=True)
            self.bar_shown = False


class _ChatMirror:
    """Prints the admin's chat with the control bot as it changes: new messages and edits."""

    def __init__(self, sim: Simulator, say: _Printer, *, numbered: bool = False) -> None:
        self.sim = sim
        self.say = say
        self.numbered = numbered
        self.seen: dict[tuple[str, int], tuple[str, str]] = {}

    def refresh(self) -> list[ChatEntry]:
        fresh = []
        for token, who in ((CONTROL_TOKEN, "Broadcast Panel"), (TARGET_TOKEN, "Demo News bot")):
            for entry in self.sim.chat(token, ADMIN_ID).bot_messages:
                fingerprint = (entry.text or entry.caption or "", repr(entry.reply_markup))
                if self.seen.get((token, entry.message_id)) != fingerprint:
                    self.seen[(token, entry.message_id)] = fingerprint
                    self.say.show(who, entry, numbered=self.numbered and token == CONTROL_TOKEN)
                    fresh.append(entry)
        return fresh

    async def wait_for(self, predicate: Callable[[ChatEntry], bool], *, timeout_s: float = 20.0) -> ChatEntry:
        """The newest bot message matching `predicate`, printing everything on the way."""

        def probe() -> ChatEntry | None:
            self.refresh()
            matches = [e for e in self.sim.chat(CONTROL_TOKEN, ADMIN_ID).bot_messages if predicate(e)]
            return matches[-1] if matches else None

        try:
            return await self.sim.wait_until(probe, timeout_s=timeout_s)
        except TimeoutError:
            raise TimeoutError(f"the control bot did not answer within {timeout_s:.0f} s") from None


def _has_button(label: str) -> Callable[[ChatEntry], bool]:
    return lambda entry: any(text == label for text, _ in entry.buttons)


# A person reads before they type or tap; Telegram's per-chat limit (about one message a second)
# expects as much, and the transcript is easier to follow.
READING_PAUSE_S = 1.2
BAR_LINE_INTERVAL_S = 3.0


async def _tap(sim: Simulator, say: _Printer, entry: ChatEntry, label: str) -> None:
    await asyncio.sleep(READING_PAUSE_S)
    say.admin_taps(label)
    query_id = sim.press_button(CONTROL_TOKEN, ADMIN_ID, entry.message_id, text=label)
    await sim.wait_for_callback_answer(CONTROL_TOKEN, query_id, timeout_s=20)


async def _scripted(stack: Stack, say: _Printer, args: argparse.Namespace) -> int:
    sim = stack.sim
    mirror = _ChatMirror(sim, say)

    say.step("Ada opens the control bot.")
    say.admin_says("/start")
    sim.send_message(CONTROL_TOKEN, ADMIN_ID, "/start")
    await mirror.wait_for(lambda e: True)

    say.step("Ada composes an announcement with /new.")
    await asyncio.sleep(READING_PAUSE_S)
    say.admin_says("/new")
    before = _last_id(sim)
    sim.send_message(CONTROL_TOKEN, ADMIN_ID, "/new")
    await mirror.wait_for(lambda e: e.message_id > before)

    text, entities = parse_html(DEMO_MESSAGE_HTML)
    await asyncio.sleep(READING_PAUSE_S)
    say.admin_says(text, entities)
    sim.send_message(CONTROL_TOKEN, ADMIN_ID, text, entities=entities)
    name_prompt = await mirror.wait_for(_has_button(texts.BTN_SKIP))
    await _tap(sim, say, name_prompt, texts.BTN_SKIP)
    card = await mirror.wait_for(_has_button(texts.BTN_SEND_NOW))

    say.step("Ada sends a test to herself first; it arrives through the demo bot:")
    await _tap(sim, say, card, texts.BTN_TEST)
    test_copy = await sim.wait_for_message(TARGET_TOKEN, ADMIN_ID, timeout_s=20)
    mirror.refresh()
    if test_copy.text != text or test_copy.entities != entities:
        say.step("The test message differs from what Ada composed: the formatting was not kept.")
        return 1
    mirror.refresh()

    say.step("Ada taps Send now and confirms.")
    card = await mirror.wait_for(_has_button(texts.BTN_SEND_NOW))
    await _tap(sim, say, card, texts.BTN_SEND_NOW)
    confirm = await mirror.wait_for(_has_button(texts.BTN_CONFIRM))
    await _tap(sim, say, confirm, texts.BTN_CONFIRM)

    say.step("The workers deliver it; the progress message in Ada's chat is edited as they go:")
    campaign = await _wait_started(stack)
    final = await _watch(stack, mirror, say, campaign.id)
    mirror.refresh()
    return await _report(stack, say, final)


async def _wait_started(stack: Stack, timeout_s: float = 30.0) -> Campaign:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        async with stack.sessionmaker() as session:
            campaigns, _ = await list_campaigns(session, limit=1)
        if campaigns and campaigns[0].status is not CampaignStatus.DRAFT:
            return campaigns[0]
        await asyncio.sleep(0.2)
    raise TimeoutError("the campaign did not start within 30 s")


async def _watch(stack: Stack, mirror: _ChatMirror, say: _Printer, campaign_id: int) -> Campaign:
    """Mirror the chat and draw a progress bar from the database until the campaign ends."""
    final_statuses = {CampaignStatus.COMPLETED, CampaignStatus.FAILED, CampaignStatus.CANCELLED}
    started = time.monotonic()
    while True:
        mirror.refresh()
        async with stack.sessionmaker() as session:
            campaign = await get_campaign(session, campaign_id)
        assert campaign is not None
        done = campaign.finished_count
        elapsed = max(time.monotonic() - started, 0.001)
        say.bar(done, campaign.total_recipients, f"· {done / elapsed:,.0f}/s · {campaign.status.value}")
        if campaign.status in final_statuses:
            # The summary message follows the final status; give it a moment to arrive.
            with contextlib.suppress(TimeoutError):
                await mirror.wait_for(lambda e: e.text is not None and "🏁" in e.text, timeout_s=10)
            return campaign
        await asyncio.sleep(0.5)


async def _report(stack: Stack, say: _Printer, campaign: Campaign) -> int:
    async with stack.sessionmaker() as session:
        rows = await delivery_counts(session, campaign.id)
    stats = stack.sim.stats(TARGET_TOKEN)
    say.step("What the database says about the campaign:")
    print(f"  status {campaign.status.value}; {campaign.total_recipients:,} recipients")
    print(
        f"  counters: sent {campaign.successful_sents:,} · unavailable {campaign.unavailable_count:,} · "
        f"failed {campaign.failed_sents:,} · unconfirmed {campaign.unconfirmed_count:,} · "
        f"cancelled {campaign.cancelled_count:,}"
    )
    print(
        "  delivery rows: "
        + " · ".join(f"{status.value} {count:,}" for status, count in sorted(rows.items()))
    )
    print(
        f"  the simulated Telegram saw {stats.delivered_total:,} messages delivered, "
        f"{stats.duplicates:,} duplicates, {stats.too_many_requests:,} answers 429, "
        f"at most {stats.peak_per_second:,} messages in any one second"
    )
    say.step(
        "Where to look next: `broadcast demo --interactive` to be the admin yourself; README.md to go live."
    )
    agree = campaign.finished_count == sum(rows.values()) and campaign.status is CampaignStatus.COMPLETED
    return 0 if agree and stats.duplicates == 0 else 1


def _last_id(sim: Simulator) -> int:
    messages = sim.chat(CONTROL_TOKEN, ADMIN_ID).bot_messages
    return messages[-1].message_id if messages else 0


async def _interactive(stack: Stack, say: _Printer) -> int:
    """The terminal is Ada's chat with the control bot."""
    sim = stack.sim
    mirror = _ChatMirror(sim, say, numbered=True)
    say.step(
        "You are Ada, an admin. Type messages and commands (/new, /campaigns, /help…); HTML like "
        "<b>bold</b> is sent as formatting. A number taps that button of the latest message with "
        "buttons. Ctrl-D or :q quits."
    )
    sim.send_message(CONTROL_TOKEN, ADMIN_ID, "/start")
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    async def mirror_forever() -> None:
        while not stop.is_set():
            mirror.refresh()
            await asyncio.sleep(0.3)

    watcher = asyncio.create_task(mirror_forever())
    try:
        while True:
            line = await loop.run_in_executor(None, _read_line)
            if line is None or line.strip() == ":q":
                return 0
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if line.strip().isdigit():
                _press_numbered(sim, say, int(line.strip()))
                continue
            try:
                text, entities = parse_html(line)
            except Exception:
                text, entities = line, []
            sim.send_message(CONTROL_TOKEN, ADMIN_ID, text, entities=entities or None)
            await asyncio.sleep(0.3)
    finally:
        stop.set()
        await watcher


def _read_line() -> str | None:
    try:
        return input()
    except EOFError:
        return None


def _press_numbered(sim: Simulator, say: _Printer, number: int) -> None:
    with_buttons = [e for e in sim.chat(CONTROL_TOKEN, ADMIN_ID).bot_messages if e.buttons]
    if not with_buttons:
        say.step("No message has buttons yet.")
        return
    entry = with_buttons[-1]
    if not 1 <= number <= len(entry.buttons):
        say.step(f"The latest message has buttons 1 to {len(entry.buttons)}.")
        return
    label, data = entry.buttons[number - 1]
    say.admin_taps(label)
    sim.press_button(CONTROL_TOKEN, ADMIN_ID, entry.message_id, data=data)
