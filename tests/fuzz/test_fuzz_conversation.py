"""Random conversations with the real control bot: it never crashes, and only a real Confirm acts.

Each Hypothesis example is a short sequence of updates (messages, commands, button presses) from
the admin and from strangers, fed through the simulator to the production dispatcher. The admin
mostly follows the buttons and questions on screen (so examples reach the summary card, the
send-now confirmation and the schedule echo) and sometimes types anything, presses stale buttons
or sends forged and garbage callback data. Strangers send anything. After every step:

- the dispatcher finished the update and nothing was logged at ERROR (aiogram logs a handler's
  exception instead of raising it);
- a button press was answered;
- a start was enqueued only for a campaign whose send-now Confirm the admin tapped in that
  step, a campaign became scheduled only by a tap on the Confirm shown under its time echo, and
  every other change matches the button tapped;
- a stranger's update changed nothing (database, queue, conversation state, the admin's chat)
  and got nothing but the refusals.

No worker runs: a start is visible as the arq job in this test's own queue.
"""

from __future__ import annotations

import enum
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiogram.filters.callback_data import CallbackData
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy import text as sql

from bot.callbacks import (
    CampaignAction,
    CampaignCallback,
    ComposeAction,
    ComposeCallback,
    ProgressAction,
    ProgressCallback,
    ScheduleAction,
    ScheduleCallback,
    SendNowAction,
    SendNowCallback,
)
from models import (
    UNSTARTED_CAMPAIGN_STATUSES,
    AuditEntry,
    BotTopic,
    Campaign,
    CampaignEvent,
    CampaignStatus,
    CampaignVariant,
    Delivery,
    DeliveryAction,
    Segment,
    TopicOptOut,
    utcnow,
)
from models import CampaignAction as CampaignActionRow
from models.tables import LinkClick, LinkTargetRow
from panel import texts
from panel.after_send import JOB_RECALL
from panel.content import MessageContent
from panel.keys import RedisKeys
from panel.queue import JOB_FINALIZE_CAMPAIGN, JOB_RESUME_CAMPAIGN, JOB_START_CAMPAIGN
from tests.fuzz.conftest import CHANNEL_POST_ID, READABLE_CHANNEL, UNREADABLE_CHANNEL
from tests.support.control import ADMIN_ID, CONTROL_TOKEN, STRANGER_ID, ControlBot
from tests.support.log_watch import LogWatch

# 250 examples of 5-15 steps feed about 2,400 updates in 45-70 s on SQLite (about twice that on
# PostgreSQL). The PostgreSQL pass runs 100: what it adds is the other database under the same
# handlers, while the conversations themselves are explored by the SQLite pass.
EXAMPLES = int(
    os.environ.get("FUZZ_EXAMPLES")
    or (100 if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql") else 250)
)
# Shrinking replays whole conversations and takes minutes; the failing steps are printed anyway.
PHASES = tuple(Phase) if os.environ.get("FUZZ_SHRINK") else (Phase.explicit, Phase.reuse, Phase.generate)
STRANGERS = (STRANGER_ID, STRANGER_ID + 1)
COMMANDS = (
    "/new",
    "/campaigns",
    "/schedule",
    "/sendnow",
    "/cancel",
    "/help",
    "/start",
    "/segments",
    "/segments new",
)

# ---------------------------------------------------------------- what users type

TIMES = [
    "in 2 hours",
    "tomorrow 9:00",
    "18:30",
    "mon 10am",
    "2026-12-01 18:30",
    "in 5 minutes",
    "yesterday 10:00",
    "2021-06-01 09:00",
    "25:99",
    "2026-02-30 10:00",
    "in 0 minutes",
    "in 999999 hours",
    "tomorrow",
    "next year",
    "6:30pm",
    "00:00",
    "in -3 hours",
    "now",
]
HTMLISH = [
    "<b>bold</b>",
    "<a href='https://x.y'>link</a>",
    "&amp; &lt;b&gt;",
    "<script>alert(1)</script>",
    "</i><i>",
    "<pre><code class='python'>x</code></pre>",
    "<tg-spoiler>s</tg-spoiler>",
    "<<>>",
    "*bold* _it_ `code` [l](http://a)",
    "\\",
    "{campaign_id} {name}",
    "%s %d",
]
GREETINGS = [
    "Hi {first_name|friend}!",
    "{full_name}",
    "Dear {username} {{ok}}",
    "Hi {frist_name}",
    "lone } brace",
    "{first_name|} and {last_name|😀}",
    "{{{first_name}}}",
]
BUTTON_GRIDS = [
    "Read - https://example.com | Shop - https://shop.example",
    "Channel - https://t.me/news\nApp - tg://resolve?domain=x",
    "Shop -",
    "htp - htp://x",
    " - https://example.com",
    "A - https://a.example | " * 9,
    "L" * 65 + " - https://example.com",
    "\n".join(f"B{i} - https://e.example/{i}" for i in range(101)),
]
UNICODE = ["😀", "👨‍👩‍👧‍👦", "🇺🇦", "مرحبا", "שלום", "漢字", "e\u0301", "\u200b", "\u202e", "𝕏", "\ufeff"]


def _huge(unit: str) -> str:
    return unit * (4200 // len(unit) + 1)


plain_text = st.text(min_size=1, max_size=80).filter(lambda s: s.strip("\x00") != "")
texts_typed = st.one_of(
    plain_text,
    st.sampled_from(HTMLISH),
    st.lists(st.sampled_from(UNICODE + HTMLISH + ["a", " ", "\n"]), min_size=1, max_size=30).map("".join),
    st.sampled_from(["a", "😀", "<b>x</b> ", "ab\n"]).map(_huge),
    st.sampled_from([" ", "\n", "\t", " \n "]),
    st.sampled_from(TIMES),
    st.integers().map(str),
    st.sampled_from(GREETINGS),
    st.sampled_from(BUTTON_GRIDS),
    st.lists(
        st.sampled_from([*GREETINGS, *UNICODE, " - https://x.example", " | ", "\n"]), min_size=1, max_size=8
    ).map("".join),
)
ids = st.one_of(
    st.integers(min_value=-3, max_value=40),
    st.sampled_from([0, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**20]),
)


def command_args(known: list[int]) -> st.SearchStrategy[str]:
    """What follows a command: nothing, a campaign number (real or not), or anything."""
    return st.one_of(
        st.just(""),
        any_id(known).map(str),
        any_id(known).map(lambda i: f"#{i}"),
        plain_text,
        st.sampled_from(["abc", "1 2", "-0", "+5", "1e3", "0x10", "１２", "²", "#①", "٣"]),
    )


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


ENTITY_TYPES = ["bold", "italic", "underline", "strikethrough", "spoiler", "code", "pre", "text_link"]


@st.composite
def entities_for(draw: st.DrawFn, text: str) -> list[dict[str, Any]] | None:
    """No entities, valid ones (inside the text), or random ones (any offsets and types)."""
    size = utf16_len(text)
    kind = draw(st.sampled_from(["none", "none", "valid", "random"]))
    if kind == "none":
        return None
    found: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 3))):
        if kind == "valid" and size > 0:
            offset = draw(st.integers(0, size - 1))
            entity: dict[str, Any] = {
                "type": draw(st.sampled_from(ENTITY_TYPES)),
                "offset": offset,
                "length": draw(st.integers(1, size - offset)),
            }
            if entity["type"] == "text_link":
                entity["url"] = "https://example.org/"
        else:
            entity = {
                "type": draw(st.sampled_from([*ENTITY_TYPES, "bogus", "custom_emoji", "text_mention", ""])),
                "offset": draw(st.integers(-5, 5000)),
                "length": draw(st.integers(-5, 5000)),
            }
        found.append(entity)
    return found


def any_id(known: list[int]) -> st.SearchStrategy[int]:
    """A campaign or bot id: one that exists now, or any other (negative, huge, missing)."""
    return st.one_of(st.sampled_from(known), ids) if known else ids


def forged_data(admin: bool, known: list[int]) -> st.SearchStrategy[str]:
    """Callback data built with the real CallbackData classes, any action, any ids.

    The admin's forged data leaves out send-now Confirm: Telegram only delivers callback data of
    a button on the message, so an admin's `snd:ok:<id>` always comes from a Confirm button
    (current or stale, both fuzzed). A stranger may send anything.
    """
    send_actions = (
        list(SendNowAction) if not admin else [a for a in SendNowAction if a is not SendNowAction.CONFIRM]
    )
    ids = any_id(known)
    # `model_construct` skips validation: forged data may carry ids and pages the classes refuse.
    builders = st.one_of(
        st.builds(
            lambda a, i: ComposeCallback.model_construct(action=a, bot_id=i),
            st.sampled_from(list(ComposeAction)),
            ids,
        ),
        st.builds(
            lambda a, i: SendNowCallback.model_construct(action=a, campaign_id=i),
            st.sampled_from(send_actions),
            ids,
        ),
        st.builds(
            lambda a, i: ScheduleCallback.model_construct(action=a, campaign_id=i),
            st.sampled_from(list(ScheduleAction)),
            ids,
        ),
        st.builds(
            lambda a, i, p: CampaignCallback.model_construct(action=a, campaign_id=i, page=p),
            st.sampled_from(list(CampaignAction)),
            ids,
            st.one_of(st.integers(-2, 5), st.sampled_from([2**31, 10**6, 2**63])),
        ),
        st.builds(
            lambda a, i: ProgressCallback.model_construct(action=a, campaign_id=i),
            st.sampled_from(list(ProgressAction)),
            ids,
        ),
    )
    return builders.map(_pack)


def _pack(data: CallbackData) -> str:
    try:
        return data.pack()
    except ValueError:  # longer than 64 bytes: send it anyway, as a broken client might
        return data.__prefix__ + ":" + ":".join(str(v) for v in data.model_dump(mode="json").values())


garbage_data = st.one_of(
    st.text(max_size=64),
    st.text(min_size=65, max_size=200),
    st.sampled_from(
        ["cpg", "cpg:", "snd:ok:", "snd:ok:abc", "sch:ok:1:2", "cmp:bot:x", "pg:pause:-", "cmp::"]
    ),
    st.tuples(st.sampled_from(["cpg", "snd", "sch", "cmp", "pg"]), st.text(max_size=20)).map(":".join),
)


# ---------------------------------------------------------------- the model of one example


class Actor(enum.StrEnum):
    ADMIN = "admin"
    STRANGER = "stranger"


@dataclass(frozen=True)
class Tap:
    """A button press with `data` and whether that data was on a button the bot showed the admin."""

    data: str
    shown: bool


@dataclass(frozen=True)
class Upload:
    """A photo, video, file or sticker the user sends, with a caption."""

    kind: str
    data: bytes
    caption: str | None
    file_name: str | None = None


@dataclass(frozen=True)
class Album:
    """Photos, videos or files the user sends as one album (one update per item)."""

    items: tuple[Upload, ...]


@dataclass(frozen=True)
class Forward:
    """The user forwards a channel's post."""

    channel_id: int


albums = st.builds(
    Album,
    st.lists(
        st.builds(
            Upload,
            st.sampled_from(["photo", "photo", "video", "document"]),
            st.sampled_from([b"\xff\xd8 small", b"%PDF-1.7"]),
            st.one_of(st.none(), st.sampled_from(["Caption", "Hi {first_name|friend}", "{frist}", ""])),
        ),
        min_size=2,
        max_size=10,
    ).map(tuple),
)
forwards = st.builds(Forward, st.sampled_from([READABLE_CHANNEL, UNREADABLE_CHANNEL]))
Action = str | Tap | Upload | Album | Forward

uploads = st.builds(
    Upload,
    st.sampled_from(["photo", "photo", "video", "document", "sticker"]),
    st.sampled_from([b"\xff\xd8 small", b"%PDF-1.7", b"\0" * 2048]),
    st.one_of(st.none(), st.sampled_from(["Caption", "😀 new", ""]), plain_text, st.just("c" * 1025)),
    st.one_of(st.none(), st.sampled_from(["a.pdf", "noext", "ünï.txt"])),
)


@dataclass
class Snapshot:
    """What a step may change: campaign rows, queued jobs, conversation state, the admin's chat."""

    campaigns: dict[int, tuple[Any, ...]]
    jobs: Counter[tuple[str, tuple[Any, ...]]]
    redis: dict[bytes, Any]
    admin_chat: list[tuple[int, str | None, Any, int]]
    segments: list[tuple[str, str]]
    audit_entries: int


@dataclass
class Conversation:
    """One example: the running bot and what the admin has been shown so far."""

    control: ControlBot
    watch: LogWatch
    first_message_id: int
    shown: set[str] = field(default_factory=set)
    keyboards_seen: dict[int, set[str]] = field(default_factory=dict)
    known_ids: list[int] = field(default_factory=list)
    steps: int = 0
    admin_id: int = ADMIN_ID
    """Who the admin is: the configured owner, or an admin with a role (tests/fuzz/test_fuzz_roles.py)."""

    @property
    def sim(self) -> Any:
        return self.control.sim

    def admin_messages(self) -> list[Any]:
        return [
            m
            for m in self.sim.chat(CONTROL_TOKEN, self.admin_id).bot_messages
            if m.message_id >= self.first_message_id
        ]

    def remember_keyboards(self) -> None:
        for message in self.admin_messages():
            for _, data in message.buttons:
                if data is not None:
                    self.shown.add(data)
                    self.keyboards_seen.setdefault(message.message_id, set()).add(data)

    async def snapshot(self) -> Snapshot:
        async with self.control.sessionmaker() as session:
            rows = (await session.execute(select(Campaign))).scalars().all()
            campaigns = {
                c.id: (
                    c.status,
                    c.scheduled_at,
                    c.progress_chat_id,
                    c.name,
                    c.content,
                    c.status_reason,
                    c.updated_at,
                )
                for c in rows
            }
            segments = [(row.name, row.expression) for row in (await session.scalars(select(Segment))).all()]
            audit_entries = await session.scalar(select(func.count()).select_from(AuditEntry)) or 0
        jobs = await self.control.arq_pool.queued_jobs(queue_name=self.control.settings.queue_name)
        redis = self.control.redis
        state: dict[bytes, Any] = {}
        refused = RedisKeys(self.control.settings.queue_name).claim("refused:").encode()
        for key in await redis.keys("*"):
            if key.startswith(refused):
                continue  # the stranger refusal throttle: the one thing a stranger may set
            kind = await redis.type(key)
            if kind == b"string":
                state[key] = await redis.get(key)
            elif kind == b"zset":
                state[key] = await redis.zrange(key, 0, -1)
            else:
                state[key] = kind
        chat = [
            (m.message_id, m.text, m.reply_markup, m.edit_count)
            for m in self.sim.chat(CONTROL_TOKEN, self.admin_id).messages
        ]
        return Snapshot(
            campaigns=campaigns,
            jobs=Counter((job.function, tuple(job.args)) for job in jobs),
            redis=state,
            admin_chat=chat,
            segments=sorted(segments),
            audit_entries=audit_entries,
        )

    async def step(
        self, actor: Actor, user: int, action: Action, entities: list[dict[str, Any]] | None
    ) -> None:
        """Feed one update, wait until it is handled, and check every property."""
        self.steps += 1
        self.watch.errors.clear()
        before = await self.snapshot()
        query_id: str | None = None
        if isinstance(action, Tap):
            # With no bot message in the chat, the press lands on message 1, one the bot never sent.
            message_id = self._message_for(action.data, user) or 1
            query_id, update_id = self.sim.push_callback(CONTROL_TOKEN, user, message_id, action.data)
        elif isinstance(action, Album):
            items = [(item.kind, item.data, item.caption) for item in action.items]
            self.sim.send_album(CONTROL_TOKEN, user, items)
            last = self.sim.world.bots[CONTROL_TOKEN].next_update_id - 1
            for earlier in range(last - len(items) + 1, last):
                await self.watch.wait_handled(earlier)
            update_id = last
        elif isinstance(action, Forward):
            self.sim.forward_channel_post(CONTROL_TOKEN, user, action.channel_id, CHANNEL_POST_ID)
            update_id = self.sim.world.bots[CONTROL_TOKEN].next_update_id - 1
        elif isinstance(action, Upload):
            self.sim.send_message(
                CONTROL_TOKEN,
                user,
                media=(action.kind, action.data),
                caption=action.caption,
                entities=entities,
                file_name=action.file_name,
            )
            update_id = self.sim.world.bots[CONTROL_TOKEN].next_update_id - 1
        else:
            self.sim.send_message(CONTROL_TOKEN, user, action, entities=entities)
            update_id = self.sim.world.bots[CONTROL_TOKEN].next_update_id - 1
        await self.watch.wait_handled(update_id)
        errors = self.watch.errors
        assert not errors, f"the bot logged errors after {action!r}:\n" + "\n\n".join(errors)
        if query_id is not None:
            answer = self.sim.callback_answer(CONTROL_TOKEN, query_id)
            assert answer is not None, f"button {action!r} was not answered"
        after = await self.snapshot()
        self.known_ids = sorted(set(self.known_ids) | after.campaigns.keys())
        if actor is Actor.STRANGER:
            self._check_stranger(user, before, after, query_id)
        else:
            self._check_admin(action, before, after)
            self.remember_keyboards()

    def _message_for(self, data: str, user: int) -> int | None:
        """The message a press happens on: one that had this data, else the newest bot message."""
        if user == self.admin_id:
            for message_id, seen in sorted(self.keyboards_seen.items(), reverse=True):
                if data in seen:
                    return message_id
        messages = self.sim.chat(CONTROL_TOKEN, user).bot_messages
        return messages[-1].message_id if messages else None

    def _check_stranger(self, user: int, before: Snapshot, after: Snapshot, query_id: str | None) -> None:
        assert after == before, (
            "a stranger's update changed the database, the queue, Redis or the admin's chat"
        )
        chat = self.sim.chat(CONTROL_TOKEN, user)
        assert {m.text for m in chat.bot_messages} <= {texts.NOT_ALLOWED}
        assert all(not m.buttons for m in chat.bot_messages)
        assert {a.text for a in chat.callback_answers} <= {texts.NOT_ALLOWED_ANSWER}
        if query_id is not None:
            answer = self.sim.callback_answer(CONTROL_TOKEN, query_id)
            assert answer is not None and answer.text == texts.NOT_ALLOWED_ANSWER

    def _check_admin(self, action: Action, before: Snapshot, after: Snapshot) -> None:
        tap = action if isinstance(action, Tap) else None

        def tapped(*prefixes: str) -> bool:
            return tap is not None and any(tap.data == p or tap.data.startswith(p + ":") for p in prefixes)

        new_jobs = after.jobs - before.jobs
        for (function, args), _ in new_jobs.items():
            (campaign_id,) = args
            if function == JOB_RECALL:
                # A recall's job carries the recall's id: the confirm on a card, or Resume on its progress.
                assert tapped("cpg:recall_yes", "rcl:resume"), (function, action)
            elif function == JOB_START_CAMPAIGN:
                confirm = SendNowCallback(action=SendNowAction.CONFIRM, campaign_id=campaign_id).pack()
                assert tap is not None and tap.data == confirm and tap.shown, (
                    f"campaign #{campaign_id} was started by {action!r}, not by a Confirm shown for it"
                )
            elif function == JOB_RESUME_CAMPAIGN:
                assert tapped(f"cpg:resume:{campaign_id}", f"pg:resume:{campaign_id}"), (function, action)
            elif function == JOB_FINALIZE_CAMPAIGN:
                # A cancel settles the campaign at once rather than at the next reconcile; a recall
                # of a campaign still sending cancels it first.
                assert tapped(
                    f"cpg:cancel_yes:{campaign_id}",
                    f"pg:cancel_yes:{campaign_id}",
                    f"cpg:recall_yes:{campaign_id}",
                ), (
                    function,
                    action,
                )
            else:
                raise AssertionError(f"unexpected job {function}{args} after {action!r}")
        for campaign_id, row in after.campaigns.items():
            old = before.campaigns.get(campaign_id)
            status, scheduled_at, progress_chat_id = row[0], row[1], row[2]
            if old is None:
                assert status is CampaignStatus.DRAFT, (campaign_id, status, action)
                assert progress_chat_id is None
                assert tapped("cmp:save", "cmp:send", "cmp:sched") or tapped(
                    *(f"cpg:dup:{other}" for other in before.campaigns)
                ), f"campaign #{campaign_id} appeared after {action!r}"
                continue
            if row == old:
                continue
            assert row[3:5] == old[3:5], f"#{campaign_id}'s name or message changed by {action!r}"
            confirm_time = ScheduleCallback(action=ScheduleAction.CONFIRM, campaign_id=campaign_id).pack()
            if status is CampaignStatus.SCHEDULED and (old[0] is not status or old[1] != scheduled_at):
                assert tap is not None and tap.data == confirm_time and tap.shown, (
                    f"campaign #{campaign_id} was scheduled by {action!r}, not by the Confirm shown for it"
                )
            if progress_chat_id != old[2]:
                start = SendNowCallback(action=SendNowAction.CONFIRM, campaign_id=campaign_id).pack()
                assert tap is not None and tap.data in (start, confirm_time) and tap.shown, (
                    campaign_id,
                    action,
                )
            if status is not old[0]:
                expected = {
                    CampaignStatus.SCHEDULED: (confirm_time,),
                    CampaignStatus.DRAFT: (f"cpg:unsched:{campaign_id}",),
                    CampaignStatus.PAUSED: (f"cpg:pause:{campaign_id}", f"pg:pause:{campaign_id}"),
                    CampaignStatus.SENDING: (f"cpg:resume:{campaign_id}", f"pg:resume:{campaign_id}"),
                    CampaignStatus.CANCELLED: (
                        f"cpg:cancel_yes:{campaign_id}",
                        f"pg:cancel_yes:{campaign_id}",
                        f"cpg:recall_yes:{campaign_id}",
                    ),
                }.get(status, ())
                assert tapped(*expected), f"#{campaign_id} went {old[0]} → {status} after {action!r}"
        for campaign_id in before.campaigns.keys() - after.campaigns.keys():
            assert before.campaigns[campaign_id][0] is CampaignStatus.DRAFT
            assert tapped(f"cpg:del_yes:{campaign_id}"), f"#{campaign_id} vanished after {action!r}"


# ---------------------------------------------------------------- choosing the next step


def _context_text(prompt: str) -> st.SearchStrategy[str]:
    """What an admin would type after the bot's last message."""
    if prompt.startswith("When should") or "can't read" in prompt or "passed" in prompt:
        return st.sampled_from(TIMES)
    if prompt.startswith("Give it a name") or "name" in prompt.lower():
        return st.one_of(st.sampled_from(["Greeting", "x", "Ünïcödé 😀"]), plain_text)
    return texts_typed


@st.composite
def admin_step(draw: st.DrawFn, conversation: Conversation) -> tuple[Action, list[dict[str, Any]] | None]:
    messages = conversation.admin_messages()
    with_buttons = [m for m in messages if any(data for _, data in m.buttons)]
    stale = [
        data
        for message_id, seen in conversation.keyboards_seen.items()
        for data in sorted(seen)
        if data not in {d for m in messages if m.message_id == message_id for _, d in m.buttons}
    ]
    choices = ["type", "command", "upload", "album", "forward"]
    weights = [25, 15, 5, 2, 2]
    if messages:  # Telegram delivers presses only on messages the chat holds
        choices += ["forged", "garbage"]
        weights += [6, 4]
    if with_buttons:
        choices.append("tap")
        weights.append(45)
    if stale:
        choices.append("stale")
        weights.append(6)
    kind = draw(st.sampled_from(_weighted(choices, weights)))
    if kind == "tap":
        message = with_buttons[-1] if draw(st.integers(0, 9)) < 7 else draw(st.sampled_from(with_buttons))
        data = draw(st.sampled_from([d for _, d in message.buttons if d]))
        return Tap(data, shown=True), None
    if kind == "stale":
        return Tap(draw(st.sampled_from(stale)), shown=True), None
    if kind == "forged":
        data = draw(forged_data(admin=True, known=conversation.known_ids))
        return Tap(data, shown=data in conversation.shown), None
    if kind == "garbage":
        data = draw(garbage_data)
        return Tap(data, shown=data in conversation.shown), None
    if kind == "command":
        text = f"{draw(st.sampled_from(COMMANDS))} {draw(command_args(conversation.known_ids))}".rstrip()
        return text, draw(entities_for(text))
    if kind == "upload":
        upload = draw(uploads)
        return upload, draw(entities_for(upload.caption or ""))
    if kind == "album":
        return draw(albums), None
    if kind == "forward":
        return draw(forwards), None
    last = (messages[-1].text or "") if messages else ""
    text = draw(_context_text(last)) if draw(st.integers(0, 9)) < 7 else draw(texts_typed)
    return text, draw(entities_for(text))


@st.composite
def stranger_step(draw: st.DrawFn, known: list[int]) -> tuple[Action, list[dict[str, Any]] | None]:
    kind = draw(
        st.sampled_from(
            ["type", "command", "command", "forged", "forged", "garbage", "upload", "album", "forward"]
        )
    )
    if kind == "album":
        return draw(albums), None
    if kind == "forward":
        return draw(forwards), None
    if kind == "upload":
        upload = draw(uploads)
        return upload, draw(entities_for(upload.caption or ""))
    if kind == "forged":
        return Tap(draw(forged_data(admin=False, known=known)), shown=False), None
    if kind == "garbage":
        return Tap(draw(garbage_data), shown=False), None
    if kind == "command":
        text = f"{draw(st.sampled_from(COMMANDS))} {draw(command_args(known))}".rstrip()
    else:
        text = draw(texts_typed)
    return text, draw(entities_for(text))


def _weighted(choices: list[str], weights: list[int]) -> list[str]:
    return [choice for choice, weight in zip(choices, weights, strict=True) for _ in range(weight)]


# ---------------------------------------------------------------- the test


async def reset(control: ControlBot) -> None:
    """A fresh start for one example: no conversation, no chats, no jobs, campaigns in many states."""
    await control.redis.flushdb()
    for bot in control.sim.world.bots.values():  # chats start empty, so every step stays cheap
        bot.chats.clear()
        bot.callback_queries.clear()
    news, shop = control.bots["news"], control.bots["shop"]
    now = utcnow()
    async with control.sessionmaker() as session, session.begin():
        # Ids must start from 1 in every example: they are typed into commands, so the draws that
        # follow depend on their length, and Hypothesis replays an example expecting the same draws.
        # SQLite reuses ids after a delete; PostgreSQL's sequences go on unless restarted.
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(
                sql(
                    "TRUNCATE delivery_actions, campaign_actions, deliveries, campaign_variants, "
                    "campaign_events, campaigns, segments, link_clicks, link_targets, bot_topics, "
                    "user_topic_optouts "
                    "RESTART IDENTITY"
                )
            )
        else:
            for table in (
                DeliveryAction,
                CampaignActionRow,
                Delivery,
                CampaignVariant,
                CampaignEvent,
                Campaign,
                Segment,
                LinkClick,
                LinkTargetRow,
                BotTopic,
                TopicOptOut,
            ):
                await session.execute(delete(table))
        for bot_id, status, name in (
            (news, CampaignStatus.DRAFT, "Spring sale"),
            (shop, CampaignStatus.DRAFT, None),
            (news, CampaignStatus.SCHEDULED, "Later"),
            (news, CampaignStatus.SENDING, "Going out"),
            (news, CampaignStatus.PAUSED, "On hold"),
            (news, CampaignStatus.COMPLETED, "Done"),
        ):
            session.add(
                Campaign(
                    bot_id=bot_id,
                    content=MessageContent(f"Hello from {name or 'nobody'}").to_json(),
                    name=name,
                    status=status,
                    scheduled_at=now + timedelta(days=1) if status is CampaignStatus.SCHEDULED else None,
                    started_at=now if status not in UNSTARTED_CAMPAIGN_STATUSES else None,
                    total_recipients=12 if status not in UNSTARTED_CAMPAIGN_STATUSES else 0,
                    created_by=ADMIN_ID,
                )
            )


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=PHASES,
    database=None,
    derandomize=bool(os.environ.get("FUZZ_DERANDOMIZE")),
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
"""How the conversation fuzzes run (tests/fuzz/test_fuzz_roles.py sets its own example count)."""


@FUZZ_SETTINGS
@given(data=st.data())
async def test_random_conversations_never_crash_and_only_confirm_acts(
    fuzz_control: ControlBot, log_watch: LogWatch, data: st.DataObject
) -> None:
    await reset(fuzz_control)
    log_watch.errors.clear()
    conversation = Conversation(fuzz_control, log_watch, first_message_id=fuzz_control.last_id() + 1)
    conversation.known_ids = sorted((await conversation.snapshot()).campaigns)
    assert conversation.known_ids == [1, 2, 3, 4, 5, 6], "ids must not depend on earlier examples"
    for _ in range(data.draw(st.integers(5, 15), label="steps")):
        if data.draw(st.integers(0, 9), label="actor") < 8:
            action, entities = data.draw(admin_step(conversation), label="admin")
            await conversation.step(Actor.ADMIN, ADMIN_ID, action, entities)
        else:
            user = data.draw(st.sampled_from(STRANGERS), label="stranger")
            action, entities = data.draw(stranger_step(conversation.known_ids), label="stranger step")
            await conversation.step(Actor.STRANGER, user, action, entities)
