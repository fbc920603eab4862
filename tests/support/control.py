"""The control bot as production runs it: the real dispatcher polling the simulator, real Redis and DB.

`ControlBot` is the admin's side of the control bot's chat; the tokens and ids name the bots and
people of the simulated world the bot tests run in.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import StorageKey
from arq.connections import ArqRedis
from arq.worker import Worker
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import create_control_bot, create_dispatcher, set_commands
from jobs.worker import close_worker, create_worker
from models import Campaign, TargetBot, User
from panel import actions, texts
from panel.audit import CLI
from panel.campaigns import create_campaign
from panel.content import MessageContent
from panel.settings import Settings
from tests.support.keys import sealed
from tests.support.sim import SimWorld
from tgsim.settings import LimitSettings, SimSettings
from tgsim.simulator import ChatEntry, Simulator
from tgsim.world import CallbackAnswer

CONTROL_TOKEN = "200001:AAcontrolBotTokenForTests"
NEWS_TOKEN = "300001:AAnewsTargetBotTokenForTests"
SHOP_TOKEN = "300002:AAshopTargetBotTokenForTests"
ADMIN_ID = 7001
STRANGER_ID = 9001
NEWS_USERS = list(range(50_001, 50_013))  # 12 recipients


def add_control_world(simulator: Simulator) -> None:
    """The control bot with the admin and a stranger; the news bot with its recipients; the shop bot."""
    simulator.add_bot(CONTROL_TOKEN, username="panel_bot", first_name="Panel")
    simulator.add_bot(NEWS_TOKEN, username="news_bot", first_name="News")
    simulator.add_bot(SHOP_TOKEN, username="shop_bot", first_name="Shop")
    simulator.add_user(CONTROL_TOKEN, ADMIN_ID, first_name="Ada", username="ada")
    simulator.add_user(CONTROL_TOKEN, STRANGER_ID, first_name="Eve", username="eve")
    simulator.add_users(NEWS_TOKEN, NEWS_USERS)
    simulator.add_user(NEWS_TOKEN, ADMIN_ID, first_name="Ada", username="ada")


def control_world() -> SimWorld:
    """The world of the control bot's tests, with flood limits out of the way of conversations."""
    fast = LimitSettings(
        global_rate=1000, chat_burst=1000, chat_refill_per_s=1000, edit_burst=1000, edit_refill_per_s=1000
    )
    return SimWorld(SimSettings(seed=3, limits=fast), add_control_world)


@dataclass
class ControlBot:
    """The running control bot and the admin's side of its chat."""

    sim: Simulator
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    arq_pool: ArqRedis
    bot: Bot | None = None
    dispatcher: Dispatcher | None = None
    polling: asyncio.Task[None] | None = None
    bots: dict[str, int] = field(default_factory=dict)

    async def start(self) -> None:
        """Build the dispatcher with the production factory and poll the simulator."""
        self.bot = create_control_bot(CONTROL_TOKEN, api_url=self.settings.telegram_api_url)
        self.dispatcher = create_dispatcher(
            self.settings, sessionmaker=self.sessionmaker, arq_pool=self.arq_pool, redis=self.redis
        )
        await set_commands(self.bot)
        self.polling = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot, polling_timeout=1, handle_signals=False, close_bot_session=True
            )
        )

    async def stop(self) -> None:
        """Stop polling and close the bot's session (a process exit, as far as the bot can tell)."""
        if self.dispatcher is not None and self.polling is not None:
            with contextlib.suppress(RuntimeError):
                await self.dispatcher.stop_polling()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self.polling, 10)
        if self.bot is not None:
            await self.bot.session.close()
        self.dispatcher = self.polling = self.bot = None

    def send(self, text: str | None = None, *, user: int = ADMIN_ID, **kwargs: Any) -> int:
        """The user writes to the control bot; returns the message id."""
        return int(self.sim.send_message(CONTROL_TOKEN, user, text, **kwargs)["message_id"])

    async def say(
        self, text: str, *, user: int = ADMIN_ID, expect: str | None = None, **kwargs: Any
    ) -> ChatEntry:
        """Write, and wait for the bot's first reply after it (containing `expect`, if given)."""
        sent = self.send(text, user=user, **kwargs)
        return await self.reply(after_id=sent, expect=expect, user=user)

    async def reply(
        self,
        *,
        after_id: int,
        expect: str | None = None,
        user: int = ADMIN_ID,
        where: Callable[[ChatEntry], bool] | None = None,
        timeout_s: float = 10.0,
    ) -> ChatEntry:
        """The first bot message after `after_id` (containing `expect` and matching `where`)."""

        def matches(entry: ChatEntry) -> bool:
            text = entry.text or ""
            return (expect is None or expect in text) and (where is None or where(entry))

        return await self.sim.wait_for_message(
            CONTROL_TOKEN, user, matches, after_id=after_id, timeout_s=timeout_s
        )

    async def skip_buttons(self, *, after_id: int, user: int = ADMIN_ID) -> ChatEntry:
        """Past the buttons step of /new (after the message `after_id`): Skip; the name question."""
        prompt = await self.reply(after_id=after_id, expect=texts.ASK_BUTTONS, user=user)
        await self.press(prompt.message_id, texts.BTN_SKIP, user=user)
        return await self.reply(after_id=prompt.message_id, expect=texts.ASK_NAME, user=user)

    async def press(self, message_id: int, button: str, *, user: int = ADMIN_ID) -> CallbackAnswer:
        """Tap a button by its text and wait for the bot's callback answer."""
        query_id = self.sim.press_button(CONTROL_TOKEN, user, message_id, text=button)
        return await self.sim.wait_for_callback_answer(CONTROL_TOKEN, query_id, timeout_s=10.0)

    async def wait_text(self, message_id: int, contains: str, *, user: int = ADMIN_ID) -> ChatEntry:
        """The message once its text (edited in place) contains `contains`."""

        def probe() -> ChatEntry | None:
            entry = self.message(message_id, user)
            return entry if contains in (entry.text or "") else None

        return await self.sim.wait_until(probe, timeout_s=10.0)

    async def wait_buttons(self, message_id: int, contains: str, *, user: int = ADMIN_ID) -> ChatEntry:
        """The message once it has a button with the text `contains`."""

        def probe() -> ChatEntry | None:
            entry = self.message(message_id, user)
            return entry if contains in [text for text, _ in entry.buttons] else None

        return await self.sim.wait_until(probe, timeout_s=10.0)

    def last_id(self, user: int = ADMIN_ID) -> int:
        """The id of the last message in the chat (0 when empty)."""
        messages = self.sim.chat(CONTROL_TOKEN, user).messages
        return messages[-1].message_id if messages else 0

    def message(self, message_id: int, user: int = ADMIN_ID) -> ChatEntry:
        """One message of the chat as the user sees it now."""
        return next(m for m in self.sim.chat(CONTROL_TOKEN, user).messages if m.message_id == message_id)


@contextlib.asynccontextmanager
async def engine_worker_running(settings: Settings) -> AsyncIterator[Worker]:
    """The engine's worker, built by its own factory, running in this process for the block."""
    worker = create_worker(settings, handle_signals=False)
    running = asyncio.create_task(worker.async_run())
    try:
        yield worker
    finally:
        await close_worker(worker)
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


def control_settings(sim: Simulator, database_url: str, redis_url: str, **overrides: Any) -> Settings:
    """Settings as an operator would write them, pointed at the simulator."""
    values: dict[str, Any] = {
        "bot_token": CONTROL_TOKEN,
        "admin_ids": (ADMIN_ID,),
        "database_url": database_url,
        "redis_url": redis_url,
        "telegram_api_url": sim.base_url,
        "timezone": "Europe/Berlin",
        "progress_interval_s": 0.2,
        "batch_size": 5,
        "request_timeout_s": 5.0,
        # Its own queue: other suites sharing this Redis must not run (or take) our jobs.
        "queue_name": f"bot-test:{uuid.uuid4().hex[:8]}",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


async def add_target_bots(
    sessionmaker: async_sessionmaker[AsyncSession], *, with_shop: bool
) -> dict[str, int]:
    """The news bot with its 12 users (plus one unavailable) and, optionally, an empty shop bot."""
    async with sessionmaker() as session, session.begin():
        news = TargetBot(
            codename="news", sealed_token=sealed(NEWS_TOKEN), username="news_bot", title="News", rate_per_s=30
        )
        session.add(news)
        await session.flush()
        session.add_all(User(bot_id=news.id, chat_id=chat_id) for chat_id in NEWS_USERS)
        session.add(User(bot_id=news.id, chat_id=59_999, is_unavailable=True, unavailable_reason="blocked"))
        ids = {"news": news.id}
        if with_shop:
            shop = TargetBot(
                codename="shop",
                sealed_token=sealed(SHOP_TOKEN),
                username="shop_bot",
                title="Shop",
                rate_per_s=30,
            )
            session.add(shop)
            await session.flush()
            ids["shop"] = shop.id
    return ids


async def fsm_state(control: ControlBot) -> str | None:
    """The conversation state the dispatcher keeps for the admin's chat (None when idle)."""
    assert control.dispatcher is not None
    key = StorageKey(bot_id=int(CONTROL_TOKEN.split(":")[0]), chat_id=ADMIN_ID, user_id=ADMIN_ID)
    return await control.dispatcher.storage.get_state(key)


async def sent_campaign(control: ControlBot, name: str, *, text: str = "Wrong price") -> int:
    """A campaign of `text` sent to the news bot's 12 users by a worker (one must be running)."""
    async with control.sessionmaker() as session, session.begin():
        campaign = await create_campaign(
            session, bot_id=control.bots["news"], content=MessageContent(text=text), name=name
        )
        campaign_id = campaign.id
    outcome = await actions.start(
        control.sessionmaker, control.arq_pool, campaign_id, queue_name=control.settings.queue_name, actor=CLI
    )
    assert outcome is actions.StartOutcome.STARTED

    async def completed() -> Campaign | None:
        async with control.sessionmaker() as session:
            campaign = await session.get(Campaign, campaign_id)
        return campaign if campaign is not None and campaign.summary_sent_at is not None else None

    for _ in range(300):
        if await completed():
            break
        await asyncio.sleep(0.05)
    finished = await completed()
    assert finished is not None and finished.successful_sents == len(NEWS_USERS)
    return campaign_id


async def open_card(control: ControlBot, campaign_id: int, name: str) -> ChatEntry:
    """The campaign's card, opened from /campaigns."""
    listing = await control.say("/campaigns", expect="Campaigns")
    await control.press(listing.message_id, f"#{campaign_id} {name}")
    return await control.wait_text(listing.message_id, f"#{campaign_id} {name}\n")
